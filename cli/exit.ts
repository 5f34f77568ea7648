// The one mapping from how a command ended to its exit code, for every command: a bad command line exits 2 and
// prints the usage; any other failure (a bad setting, a failed transfer, an AWS error) exits 1 with one line; a
// signal exits 128 + its number. A ConfigError is a failure, not a usage error: the command line was right, the
// environment was not.
import { escapeControlCharacters } from '../lib/core/text';
import { UsageError } from './args';

export const EXIT = { ok: 0, failure: 1, usage: 2, SIGINT: 130, SIGTERM: 143 } as const;

/** A usage error: ours, or node:util parseArgs' (unknown flag, missing value). */
export function isUsageError(err: unknown): boolean {
  return err instanceof UsageError || Boolean((err as { code?: string } | undefined)?.code?.startsWith?.('ERR_PARSE_ARGS'));
}

export function exitCodeOf(err: unknown): number {
  return isUsageError(err) ? EXIT.usage : EXIT.failure;
}

/** One line, made safe for a terminal and bounded (a message can quote a key or a server's answer). */
export function oneLine(text: string, max = 1000): string {
  const line = escapeControlCharacters(text.split('\n')[0]!);
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/**
 * Prints a command's failure — `ost-forward <command>: <line>`, and the usage after a usage error — and returns
 * its exit code. `line` is the command's own wording of the failure; the error's message by default.
 */
export function reportFailure(command: string, err: unknown, usage: string, line = (err as Error)?.message ?? String(err)): number {
  const code = exitCodeOf(err);
  process.stderr.write(`ost-forward ${command}: ${oneLine(line)}\n${code === EXIT.usage ? `${usage}\n` : ''}`);
  return code;
}
