// A gateway outage for a window: every OST call is answered as a gateway that is down answers, not as OST does.
// - '503':    HTTP 503 with an HTML page (no OST JSON), the connection closed;
// - 'reset':  the connection destroyed before any answer (ECONNRESET at the client);
// - 'refuse': nothing listens on the port (ECONNREFUSED): the server stops accepting and drops its connections.
// 503 and reset alternate call by call when both are given; 'refuse' stands alone (no call arrives to alternate).
// Calls in flight when the window opens finish normally. Started by `OstEmulator.outage()`, the control
// `POST /__emulator/outage` and `ost-forward emulator --outage SECONDS`.
import type { IncomingMessage, ServerResponse } from 'node:http';

export type OutageMode = '503' | 'reset' | 'refuse';
export const OUTAGE_MODES: readonly OutageMode[] = ['503', 'reset', 'refuse'];
/** The longest window one request may open: a day. */
export const MAX_OUTAGE_MS = 86_400_000;

export interface OutageSpec {
  /** Length of the window, milliseconds from now. */
  ms: number;
  /** Default ['503', 'reset'] (alternating). */
  modes?: OutageMode[];
}

export interface OutageStatus {
  active: boolean;
  modes: OutageMode[];
  /** Epoch ms the window ends (the last window's, once over). */
  until?: number;
  /** Calls answered 503 and calls reset since start. */
  answered503: number;
  resets: number;
  /** Windows in which the port refused connections. */
  refusals: number;
}

export class OutageError extends Error {
  readonly code = 'EMULATOR_BAD_OUTAGE';
  constructor(message: string) { super(message); this.name = 'OutageError'; }
}

/** Validates a window from code or JSON (`ms` or `seconds`, `modes`). */
export function normalizeOutage(input: unknown): OutageSpec {
  if (!input || typeof input !== 'object' || Array.isArray(input)) throw new OutageError('an outage must be an object with ms or seconds');
  const r = input as Record<string, unknown>;
  for (const k of Object.keys(r)) if (!['ms', 'seconds', 'modes'].includes(k)) throw new OutageError(`unknown outage field '${k}'`);
  const ms = r.ms !== undefined ? r.ms : typeof r.seconds === 'number' ? r.seconds * 1000 : undefined;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0 || ms > MAX_OUTAGE_MS) throw new OutageError(`an outage lasts more than 0 and at most ${MAX_OUTAGE_MS} ms`);
  const modes = r.modes === undefined ? ['503', 'reset'] : r.modes;
  if (!Array.isArray(modes) || modes.length === 0 || !modes.every((m) => OUTAGE_MODES.includes(m as OutageMode))) {
    throw new OutageError(`outage modes must be a non-empty list of ${OUTAGE_MODES.join(', ')}`);
  }
  if (modes.includes('refuse') && modes.length > 1) throw new OutageError(`'refuse' cannot be combined with other outage modes`);
  return { ms, modes: [...new Set(modes as OutageMode[])] };
}

const PAGE = '<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n</body>\r\n</html>\r\n';

/** How the server lets a 'refuse' window stop and resume accepting connections. */
export interface Listening {
  stop(): void;
  resume(): Promise<void>;
}

export class Outage {
  private until = 0;
  private modes: OutageMode[] = ['503', 'reset'];
  private next = 0;
  private timer: NodeJS.Timeout | undefined;
  private refusing = false;
  private readonly counts = { answered503: 0, resets: 0, refusals: 0 };

  constructor(private readonly listening: Listening, private readonly now: () => number = Date.now) {}

  /** Opens a window from now (replacing one that is open). */
  start(input: OutageSpec | unknown): OutageStatus {
    const spec = normalizeOutage(input);
    this.stop();
    this.modes = spec.modes!;
    this.until = this.now() + spec.ms;
    this.next = 0;
    if (this.modes[0] === 'refuse') {
      this.refusing = true;
      this.counts.refusals += 1;
      this.listening.stop();
    }
    this.timer = setTimeout(() => this.stop(), spec.ms);
    this.timer.unref();
    return this.status();
  }

  /** Ends the window now (the port listens again after a refusal). */
  stop(): OutageStatus {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.until > this.now()) this.until = this.now();
    if (this.refusing) {
      this.refusing = false;
      void this.listening.resume();
    }
    return this.status();
  }

  active(): boolean {
    return this.now() < this.until;
  }

  status(): OutageStatus {
    return { active: this.active(), modes: [...this.modes], ...(this.until ? { until: this.until } : {}), ...this.counts };
  }

  /**
   * During a window, answers the call as a gateway that is down and returns how ('503' or 'reset'); otherwise
   * returns undefined and leaves the request alone.
   */
  intercept(req: IncomingMessage, res: ServerResponse): '503' | 'reset' | undefined {
    if (!this.active() || this.refusing) return undefined;
    const mode = this.modes[this.next++ % this.modes.length] as '503' | 'reset';
    if (mode === 'reset') {
      this.counts.resets += 1;
      req.socket.resetAndDestroy();
      return 'reset';
    }
    this.counts.answered503 += 1;
    req.on('error', () => undefined);
    req.resume();
    res.writeHead(503, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(PAGE), connection: 'close' });
    res.end(PAGE);
    return '503';
  }
}
