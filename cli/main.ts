// ost-forward: the command-line entry. Each command lives in cli/commands/<name>.ts and exports `run(argv)`
// returning the process exit code. Errors print one line; an unexpected one says so, and prints its stack only
// with OST_FORWARD_DEBUG=1 (a stack is noise to a user, and can carry more than the message).
import { ConfigError } from '../lib/core/errors';
import { cliSettings } from './settings';
import { run as settings } from './commands/settings';
import { EXIT, exitCodeOf, isUsageError, oneLine } from './exit';
import { run as put } from './commands/put';
import { run as emulator } from './commands/emulator';
import { run as local } from './commands/local';
import { run as demo } from './commands/demo';
import { run as redrive } from './commands/redrive';
import { run as backfill } from './commands/backfill';
import { run as status } from './commands/status';
import { run as check } from './commands/check';

const commands: Record<string, (argv: string[]) => Promise<number>> = { put, check, emulator, local, demo, redrive, backfill, status, settings };

const usage = `usage: ost-forward <command> [options]
  put <file|s3://bucket/key> [--endpoint URL] [--slice-size BYTES] [--threshold BYTES] [--concurrency N] [--json]
  check [--stage STAGE] [--endpoint URL]
                          endpoint, TLS, clock, credentials (a signed init and cancel); with --stage the SSM
                          parameters and the stack's outputs: run it before the first forward and after rotating keys
  emulator [--port N] [--dir DIR] [--strict] [--max-concurrency N] [--max-qps N]
  local <file...> [--slice-size BYTES] [--threshold BYTES] [--concurrency N] [--key-prefix P] [--existing] [--json]
  demo [file...]          (what \`npm start\` runs)
  redrive [--intake] [--queue-url URL] [--to-url URL] [--stage S [--region R]] [--max N] [--dry-run]
                          dead letters back into the intake queue: the trigger's (events it could not queue), or
                          with --intake the intake's (what the trigger could not read stays, with its reason)
  backfill s3://bucket[/prefix] [--since ISO-DATE] [--suffix .wav,...] [--failed-only] [--dry-run] [--max N] [--json]
                          forward the objects no event announced (existing files, earlier failures)
  status [s3://results-bucket/prefix] [--since ISO-DATE] [--failed] [--json]
                          what happened to the files: counts and bytes per day, failures by error, slowest
  settings [--markdown [--write FILE]]
                          each setting's effective value (secrets never shown); --markdown: the table of settings`;

async function main(): Promise<number> {
  const [name, ...rest] = process.argv.slice(2);
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage + '\n');
    return name ? EXIT.ok : EXIT.usage;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`ost-forward: unknown command '${name}'\n${usage}\n`);
    return EXIT.usage;
  }
  return command(rest);
}

main().then(
  (code) => { process.exitCode = code; },
  (err) => {
    // A command returns its own exit code for the failures it expects (cli/exit.ts); what reaches here is one
    // it did not: still one line, and the same code the mapping gives.
    if (err instanceof ConfigError || isUsageError(err)) {
      process.stderr.write(`ost-forward: ${oneLine((err as Error).message)}\n`);
    } else {
      const line = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      const debug = cliSettings().debug && err instanceof Error && err.stack ? `\n${err.stack}` : ' (OST_FORWARD_DEBUG=1 shows the stack)';
      process.stderr.write(`ost-forward: unexpected error: ${oneLine(line)}${debug}\n`);
    }
    process.exitCode = exitCodeOf(err);
  },
);
