// `ost-forward emulator [--port N] [--dir DIR]`: runs the OST emulator in the foreground with fixed demo
// credentials, prints ready-to-paste OST_* exports, logs one line per call to stderr, stops on SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { DEFAULT_EMULATOR_PORT, EMULATOR_DEMO_CREDENTIALS, startEmulator } from '../emulator';

const usage = `usage: ost-forward emulator [--port N] [--dir DIR]
  --port N    port on 127.0.0.1 (default ${DEFAULT_EMULATOR_PORT}; 0 picks a free one)
  --dir DIR   keep slices and served files in DIR (default: a temporary directory removed on exit)
Accepts app_id "${EMULATOR_DEMO_CREDENTIALS.appId}", api_key "${EMULATOR_DEMO_CREDENTIALS.apiKey}", api_secret "${EMULATOR_DEMO_CREDENTIALS.apiSecret}".`;

function shellQuote(value: string): string {
  return /^[A-Za-z0-9_.:/@%+=-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

export async function run(argv: string[]): Promise<number> {
  let values: { port?: string; dir?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { port: { type: 'string' }, dir: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: false,
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`ost-forward emulator: ${err instanceof Error ? err.message : String(err)}\n${usage}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const port = values.port === undefined ? DEFAULT_EMULATOR_PORT : Number(values.port);
  if (!/^\d+$/.test(values.port ?? '0') || !Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`ost-forward emulator: --port must be an integer 0..65535, got '${values.port}'\n`);
    return 2;
  }

  let emulator;
  try {
    emulator = await startEmulator({
      port,
      dir: values.dir,
      ...EMULATOR_DEMO_CREDENTIALS,
      log: (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? `port ${port} is in use (try --port 0)` : err instanceof Error ? err.message : String(err);
    process.stderr.write(`ost-forward emulator: cannot start: ${why}\n`);
    return 1;
  }

  const { appId, apiKey, apiSecret } = emulator.credentials;
  process.stdout.write(
    `${emulator.banner}\n` +
    `# In another terminal (local demo credentials; the emulator accepts nothing else):\n` +
    `export OST_ENDPOINT=${shellQuote(emulator.endpoint)} OST_APP_ID=${shellQuote(appId)} ` +
    `OST_API_KEY=${shellQuote(apiKey)} OST_API_SECRET=${shellQuote(apiSecret)}\n` +
    `# Controls: GET ${emulator.endpoint}/__emulator/calls | /__emulator/uploads; POST/DELETE ${emulator.endpoint}/__emulator/faults\n` +
    `Press Ctrl-C to stop.\n`,
  );

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (s: NodeJS.Signals): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(s);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  process.stderr.write(`ost-forward emulator: ${signal}, stopping\n`);
  await emulator.close();
  const orphans = emulator.orphans().length;
  if (orphans > 0) process.stderr.write(`ost-forward emulator: ${orphans} upload(s) were left neither completed nor cancelled\n`);
  return 0;
}
