// The OST emulator: a loopback HTTP server that behaves like iFlytek's upload-ost-api as docs/ost-api.md describes
// it (signing, fields, slice rules, 10001/10005, expiry, gateway flow control), each behaviour resting on the
// evidence tabled there, plus fault injection and a call log for tests. Start it with startEmulator();
// `ost-forward emulator` wraps it.
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { mkdtempSync, realpathSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { formatCall } from './call-line';
import { OstService } from './server';
import { Outage } from './outage';
import { UploadStore } from './store';
import type { CallLogEntry, EmulatorCredentials, EmulatorOptions, FaultRule, OstEmulator } from './types';

export type {
  CallLogEntry, CallOutcome, EmulatorCredentials, EmulatorOptions, EmulatorStats, FaultRule, OstCall, OstEmulator, UploadInfo,
  UploadState,
} from './types';
export { CONTROL_TOKEN_HEADER } from './controls';
export { formatCall } from './call-line';
export { THROTTLE_CODES } from './gateway';
export { FaultRuleError } from './faults';
export { OutageError, OUTAGE_MODES, type OutageMode, type OutageSpec, type OutageStatus } from './outage';

const MiB = 1024 * 1024;
export const DEFAULT_MIN_SLICE_SIZE = 5 * MiB;
export const DEFAULT_MAX_SLICES = 10_000;
export const DEFAULT_UPLOAD_TTL_MS = 60 * 60 * 1000;
export const DEFAULT_MAX_SKEW_SECONDS = 300;
export const DEFAULT_MAX_CALL_LOG = 10_000;
/** Port of `ost-forward emulator` when --port is not given. */
export const DEFAULT_EMULATOR_PORT = 8088;
/** Fixed credentials of `ost-forward emulator`, so a second terminal can use them. Local demo values only. */
export const EMULATOR_DEMO_CREDENTIALS: Readonly<EmulatorCredentials> = Object.freeze({
  appId: 'emulator',
  apiKey: 'emulator-api-key',
  apiSecret: 'emulator-api-secret',
});

/** Random credentials shaped like iFlytek's: 8-hex app id, 32-hex key, 32-char secret. */
export function randomCredentials(): EmulatorCredentials {
  return {
    appId: randomBytes(4).toString('hex'),
    apiKey: randomBytes(16).toString('hex'),
    apiSecret: randomBytes(24).toString('base64').replace(/[+/]/g, 'x').slice(0, 32),
  };
}

function positive(name: string, value: number | undefined, fallback: number, integer = true): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0) || (integer && !Number.isInteger(value))) {
    throw new RangeError(`startEmulator: ${name} must be a positive ${integer ? 'integer' : 'number'}, got ${value}`);
  }
  return value;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<OstEmulator> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`startEmulator: port must be 0..65535, got ${port}`);
  const settings = Object.freeze({
    uploadTtlMs: positive('uploadTtlMs', opts.uploadTtlMs, DEFAULT_UPLOAD_TTL_MS, false),
    maxSkewSeconds: positive('maxSkewSeconds', opts.maxSkewSeconds, DEFAULT_MAX_SKEW_SECONDS, false),
    minSliceSize: positive('minSliceSize', opts.minSliceSize, DEFAULT_MIN_SLICE_SIZE),
    maxSlices: positive('maxSlices', opts.maxSlices, DEFAULT_MAX_SLICES),
    strict: opts.strict === true,
    maxConcurrency: opts.maxConcurrency === undefined ? undefined : positive('maxConcurrency', opts.maxConcurrency, 0),
    maxQps: opts.maxQps === undefined ? undefined : positive('maxQps', opts.maxQps, 0),
    maxCallLog: positive('maxCallLog', opts.maxCallLog, DEFAULT_MAX_CALL_LOG),
  });
  if (opts.strict !== undefined && typeof opts.strict !== 'boolean') throw new TypeError(`startEmulator: strict must be a boolean, got ${String(opts.strict)}`);
  if (opts.controlToken !== undefined && (typeof opts.controlToken !== 'string' || !/^[\x21-\x7e]{16,256}$/.test(opts.controlToken))) {
    throw new RangeError('startEmulator: controlToken must be 16..256 printable ASCII characters without spaces');
  }
  const controlToken = opts.controlToken ?? randomBytes(16).toString('hex');
  const generated = randomCredentials();
  const credentials: EmulatorCredentials = Object.freeze({
    appId: opts.appId ?? generated.appId,
    apiKey: opts.apiKey ?? generated.apiKey,
    apiSecret: opts.apiSecret ?? generated.apiSecret,
  });
  const log = opts.log ?? ((): void => undefined);
  const ownsDir = opts.dir === undefined;
  const dir = ownsDir ? realpathSync(mkdtempSync(join(tmpdir(), 'ost-emulator-'))) : resolve(opts.dir!);

  let endpoint = '';
  const store = new UploadStore(dir, settings, (id, name) => `${endpoint}/files/${id}/${encodeURIComponent(name)}`);
  const onCall = (entry: CallLogEntry): void => {
    opts.onCall?.(entry);
    if (opts.log) log(`ost-emulator: ${formatCall(entry)}`);
  };
  const limits = {
    ...(settings.maxConcurrency !== undefined ? { maxConcurrency: settings.maxConcurrency } : {}),
    ...(settings.maxQps !== undefined ? { maxQps: settings.maxQps } : {}),
  };
  const service = new OstService(store, {
    credentials, maxSkewSeconds: settings.maxSkewSeconds, maxSlices: settings.maxSlices, strict: settings.strict, limits,
    controlToken, maxCallLog: settings.maxCallLog,
  }, onCall);

  const server: Server = createServer(service.listener);
  server.on('checkContinue', service.checkContinue);
  server.requestTimeout = 0; // a slow multi-GiB slice must not be cut off; close() ends everything anyway
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  try {
    await new Promise<void>((resolveListen, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => { server.off('error', reject); resolveListen(); });
    });
  } catch (err) {
    if (ownsDir) await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  endpoint = `http://${urlHost(host)}:${boundPort}`;

  // An outage that refuses connections stops accepting (and drops the open ones) until its window ends.
  let closed = false;
  service.outage = new Outage({
    stop() {
      server.close();
      for (const socket of sockets) socket.destroy();
    },
    async resume() {
      if (closed || server.listening) return;
      await new Promise<void>((r) => {
        const done = (): void => { server.off('error', done); r(); };
        server.once('error', done);
        server.listen(boundPort, host, done);
      });
    },
  });

  const sweepEvery = Math.min(60_000, Math.max(50, Math.floor(settings.uploadTtlMs / 2)));
  const sweeper = setInterval(() => store.sweep(), sweepEvery);
  sweeper.unref();

  const lines = [
    `OST emulator listening on ${endpoint}`,
    `  app_id ${credentials.appId}; files in ${dir}${ownsDir ? ' (removed on exit)' : ''}`,
    `  slices 1..${settings.maxSlices}, at least ${settings.minSliceSize} bytes but the last; idle uploads expire after ${settings.uploadTtlMs} ms; date skew up to ${settings.maxSkewSeconds} s`,
    settings.strict
      ? '  strict mode: the digest header must be SHA-256=<base64> of the body (or of the empty string, on multipart calls)'
      : '  digest header: signed as sent, not compared with the body (like the live service; --strict checks it)',
  ];
  if (settings.maxConcurrency !== undefined || settings.maxQps !== undefined) {
    const parts = [];
    if (settings.maxConcurrency !== undefined) parts.push(`more than ${settings.maxConcurrency} in flight get 11202`);
    if (settings.maxQps !== undefined) parts.push(`more than ${settings.maxQps} per second get 11203`);
    lines.push(`  flow control: ${parts.join('; ')}`);
  }
  if (settings.minSliceSize < DEFAULT_MIN_SLICE_SIZE) {
    const notice = `tiny-slice mode: the minimum slice size is lowered to ${settings.minSliceSize} bytes (the real service requires ${DEFAULT_MIN_SLICE_SIZE})`;
    lines.push(`  ${notice}`);
    log(`ost-emulator: ${notice}`);
  }
  const banner = lines.join('\n');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      clearInterval(sweeper);
      closed = true;
      service.outage?.stop();
      service.shutdown();
      store.markClosed();
      const stopped = new Promise<void>((r) => (server.listening ? server.close(() => r()) : r()));
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await stopped;
      await service.drain();
      await store.close();
      if (ownsDir) await rm(dir, { recursive: true, force: true });
    })();
    return closing;
  };

  return {
    endpoint,
    port: boundPort,
    credentials,
    dir,
    banner,
    settings,
    controlToken,
    calls: service.calls,
    stats: () => service.stats(),
    resetStats: () => service.gateway.reset(),
    inject: (rule: FaultRule) => { service.faults.add(rule); },
    clearFaults: () => service.faults.clear(),
    outageStatus: () => service.outage!.status(),
    outage: (spec) => (spec === false ? service.outage!.stop() : service.outage!.start(spec)),
    faults: () => service.faults.list(),
    uploads: () => store.list(),
    orphans: () => store.list().filter((u) => u.state === 'open' || u.state === 'expired'),
    close,
  };
}
