// Lambda-like invocation of a step handler: the context a handler receives and the shape a thrown error takes
// on the way to the state machine (errorType / errorMessage / trace, as the Lambda service reports it).
import type { Context as LambdaContext } from 'aws-lambda';
import { localFunctionArn } from './definition';

export const DEFAULT_FUNCTION_TIMEOUT_SECONDS = 900;

export type LambdaHandler = (event: any, context: LambdaContext) => Promise<unknown> | unknown;

export class LambdaTaskError extends Error {
  constructor(readonly errorType: string, readonly errorMessage: string, readonly trace: string[]) {
    super(JSON.stringify({ errorType, errorMessage, trace }));
    this.name = errorType;
  }
}

/** A terminal error: States.ALL does not match it, Retry never retries it (AWS: States.DataLimitExceeded). */
export class TerminalStatesError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
  get isRetryable(): boolean { return false; }
  get isCatchable(): boolean { return false; }
}

export function lambdaError(err: unknown): LambdaTaskError {
  if (err instanceof LambdaTaskError) return err;
  if (err instanceof Error) {
    const trace = (err.stack ?? '').split('\n').map((l) => l.trim()).filter(Boolean);
    return new LambdaTaskError(err.name || 'Error', err.message, trace);
  }
  return new LambdaTaskError('Error', typeof err === 'string' ? err : JSON.stringify(err), []);
}

export function lambdaContext(fnKey: string, requestId: string, deadline: number, memoryMb: number): LambdaContext {
  const functionName = `ost-forwarder-local-${fnKey}`;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: localFunctionArn(fnKey),
    memoryLimitInMB: String(memoryMb),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `${new Date().toISOString().slice(0, 10).replace(/-/g, '/')}/[$LATEST]${requestId.replace(/-/g, '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
