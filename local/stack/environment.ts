// The handlers are configured only through the environment they read on AWS (lib/config/settings.ts): the one the
// packaged template gives each function (local/template-config.ts, checked by test/parity.test.ts), with only
// LOCAL_DIFFERENCES changed; the stack builds it from its parts, sets it in process.env for its lifetime, and puts back what was there on close.
import { logLevelSetting } from '../../lib/config/settings';
import { logger, metrics } from '../../lib/runtime/logging';
import { resetRuntime } from '../../lib/runtime/reset';
import type { AwsServer } from '../aws/endpoint';
import { LOCAL_REGION } from '../aws/account';
import type { S3Connection } from '../aws/s3';
import type { OstTarget } from './ost';
import type { Started } from './pieces';

export interface EnvironmentParts {
  /** The functions' environments from the packaged template, bound to the local resources (their union). */
  template: Record<string, string>;
  aws: AwsServer;
  s3: S3Connection;
  ost: OstTarget;
  stateMachineArn: string;
  /** The admission's environment (the local endpoints of SQS and DynamoDB, the scaled backoff). */
  admission: Record<string, string>;
  /** Set over the rest; undefined removes a name. */
  overrides?: Record<string, string | undefined>;
}

/** The environment the handlers see, as the deployed stack would give it. */
export function handlerEnvironment(p: EnvironmentParts): Record<string, string> {
  const env: Record<string, string> = {
    ...p.template,
    ...p.aws.env(),
    AWS_ACCESS_KEY_ID: p.s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: p.s3.secretAccessKey,
    AWS_REGION: p.s3.region || LOCAL_REGION,
    AWS_ENDPOINT_URL_S3: p.s3.endpoint,
    S3_ENDPOINT: p.s3.endpoint,
    S3_FORCE_PATH_STYLE: 'true',
    // s3rver (and older radosgw) cannot read the aws-chunked bodies flexible checksums produce
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ?? 'true',
    OST_ENDPOINT: p.ost.endpoint,
    POWERTOOLS_LOG_LEVEL: logLevelSetting(process.env) ?? 'SILENT',
    POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
    POWERTOOLS_DEV: 'false',
    AWS_ENDPOINT_URL_DYNAMODB: p.admission.AWS_ENDPOINT_URL_DYNAMODB!,
    AWS_ENDPOINT_URL_SQS: p.admission.AWS_ENDPOINT_URL_SQS!,
    INTAKE_WAIT_BASE_SECONDS: p.admission.INTAKE_WAIT_BASE_SECONDS!,
    INTAKE_WAIT_MAX_SECONDS: p.admission.INTAKE_WAIT_MAX_SECONDS!,
    OUTAGE_PROBE_BASE_MS: p.admission.OUTAGE_PROBE_BASE_MS!,
    OUTAGE_PROBE_MAX_MS: p.admission.OUTAGE_PROBE_MAX_MS!,
  };
  if (env.STATE_MACHINE_ARN !== p.stateMachineArn) throw new Error(`the template's STATE_MACHINE_ARN ${env.STATE_MACHINE_ARN} is not the local state machine ${p.stateMachineArn}`);
  // what the caller gave wins (a param's variable included: its value is the template's by then anyway)
  for (const [k, v] of Object.entries(p.overrides ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export interface ProcessEnvironment extends Started {
  /** Sets `env` in process.env and applies it to the handlers' runtime, Logger and Metrics. */
  apply(env: Record<string, string>): Promise<void>;
}

/**
 * process.env and the handlers' runtime state, to be put back on close. Started first, so it closes last: nothing
 * still running in the stack ever sees the caller's environment.
 */
export function processEnvironment(): ProcessEnvironment {
  const saved: Record<string, string | undefined> = {};
  let restorePowertools: (() => void) | undefined;
  return {
    async apply(env) {
      for (const [k, v] of Object.entries(env)) {
        if (!(k in saved)) saved[k] = process.env[k];
        process.env[k] = v;
      }
      await resetRuntime();
      // lib/runtime/logging.ts built its Logger and Metrics at import, before this environment existed: apply it
      // now, so the handlers' JSON logs and EMF lines do not mix with a command's output (POWERTOOLS_LOG_LEVEL=INFO
      // shows them).
      const previousLevel = logger.getLevelName();
      logger.setLogLevel(logLevelSetting(env) ?? 'SILENT');
      const m = metrics as unknown as { disabled?: boolean };
      const previousDisabled = m.disabled;
      m.disabled = env.POWERTOOLS_METRICS_DISABLED !== 'false';
      restorePowertools ??= () => { logger.setLogLevel(previousLevel); m.disabled = previousDisabled; };
    },
    async close() {
      restorePowertools?.();
      restorePowertools = undefined;
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      await resetRuntime();
    },
  };
}
