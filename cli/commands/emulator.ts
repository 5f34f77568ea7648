// `ost-forward emulator [--port N] [--dir DIR] [--strict] [--max-concurrency N] [--max-qps N] [--outage S]`: runs the OST
// emulator in the foreground with fixed demo credentials, prints ready-to-paste OST_* exports and the control
// token, logs one line per call to stderr, stops on SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { CONTROL_TOKEN_HEADER, DEFAULT_EMULATOR_PORT, EMULATOR_DEMO_CREDENTIALS, OutageError, startEmulator } from '../../local/emulator';
import { normalizeOutage, type OutageSpec } from '../../local/emulator/outage';

const usage = `usage: ost-forward emulator [--port N] [--dir DIR] [--strict] [--max-concurrency N] [--max-qps N]
                            [--outage SECONDS [--outage-modes 503,reset|refuse]]
  --port N              port on 127.0.0.1 (default ${DEFAULT_EMULATOR_PORT}; 0 picks a free one)
  --dir DIR             keep slices and served files in DIR (default: a temporary directory removed on exit)
  --strict              require the digest header to be SHA-256=<base64> of the body (the empty string's is
                        also accepted on multipart calls); by default it is only signed, like the live service
  --max-concurrency N   gateway flow control: calls beyond N in flight get code 11202 (no effect)
  --max-qps N           gateway flow control: calls beyond N per second get code 11203 (no effect)
  --outage SECONDS      start with the gateway down for SECONDS: HTTP 503 with an HTML page and connection
                        resets, alternating (POST /__emulator/outage opens another window later)
  --outage-modes LIST   503, reset (alternating, the default), or refuse (nothing listens on the port)
Accepts app_id "${EMULATOR_DEMO_CREDENTIALS.appId}", api_key "${EMULATOR_DEMO_CREDENTIALS.apiKey}", api_secret "${EMULATOR_DEMO_CREDENTIALS.apiSecret}".`;

function shellQuote(value: string): string {
  return /^[A-Za-z0-9_.:/@%+=-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

export async function run(argv: string[]): Promise<number> {
  let values: { port?: string; dir?: string; strict?: boolean; 'max-concurrency'?: string; 'max-qps'?: string; outage?: string; 'outage-modes'?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' }, dir: { type: 'string' }, strict: { type: 'boolean' },
        'max-concurrency': { type: 'string' }, 'max-qps': { type: 'string' }, outage: { type: 'string' }, 'outage-modes': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
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
  const limits: { maxConcurrency?: number; maxQps?: number } = {};
  for (const [flag, key] of [['max-concurrency', 'maxConcurrency'], ['max-qps', 'maxQps']] as const) {
    const raw = values[flag];
    if (raw === undefined) continue;
    if (!/^\d{1,9}$/.test(raw) || Number(raw) < 1) {
      process.stderr.write(`ost-forward emulator: --${flag} must be a positive integer, got '${raw}'\n`);
      return 2;
    }
    limits[key] = Number(raw);
  }
  let outage: OutageSpec | undefined;
  if (values['outage-modes'] !== undefined && values.outage === undefined) {
    process.stderr.write('ost-forward emulator: --outage-modes needs --outage SECONDS\n');
    return 2;
  }
  if (values.outage !== undefined) {
    try {
      if (!/^\d+(\.\d+)?$/.test(values.outage)) throw new OutageError(`--outage must be a number of seconds, got '${values.outage.slice(0, 40)}'`);
      outage = normalizeOutage({ seconds: Number(values.outage), ...(values['outage-modes'] ? { modes: values['outage-modes'].split(',').map((m) => m.trim()) } : {}) });
    } catch (err) {
      process.stderr.write(`ost-forward emulator: ${(err as Error).message}\n`);
      return 2;
    }
  }

  let emulator;
  try {
    emulator = await startEmulator({
      port,
      dir: values.dir,
      strict: values.strict === true,
      ...limits,
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
  if (outage) {
    emulator.outage(outage);
    process.stderr.write(`ost-forward emulator: gateway down for ${outage.ms / 1000} s (${outage.modes!.join(', ')})\n`);
  }
  process.stdout.write(
    `${emulator.banner}\n` +
    `# In another terminal (local demo credentials; the emulator accepts nothing else):\n` +
    `export OST_ENDPOINT=${shellQuote(emulator.endpoint)} OST_APP_ID=${shellQuote(appId)} ` +
    `OST_API_KEY=${shellQuote(apiKey)} OST_API_SECRET=${shellQuote(apiSecret)}\n` +
    `# Controls need the header "${CONTROL_TOKEN_HEADER}: ${emulator.controlToken}" (this run only), e.g.\n` +
    `#   curl -H '${CONTROL_TOKEN_HEADER}: ${emulator.controlToken}' ${emulator.endpoint}/__emulator/stats\n` +
    `# GET /__emulator/calls | /__emulator/uploads | /__emulator/orphans | /__emulator/stats; POST/DELETE /__emulator/faults\n` +
    `# POST /__emulator/outage {"seconds":240,"modes":["503","reset"]} | DELETE /__emulator/outage\n` +
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
