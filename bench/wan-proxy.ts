// A WAN on loopback: a TCP proxy that makes one loopback hop look like a long-distance link, so the WAN bench
// (bench/wan.ts) can measure what round trips and per-connection rate caps do to forwarding.
//
// Each accepted connection gets its own upstream connection and, per direction, a link:
//   source socket → token bucket (the per-connection rate cap) → delay line (RTT/2) → destination socket.
// - Delay: every byte reaches the other side RTT/2 after it left the bucket, both ways, so a request/response
//   costs one RTT on top of the transfer time.
// - Handshakes: the client's socket connects at once on loopback, but on a WAN its first byte could only leave
//   after the TCP (and TLS) handshakes. Client→server bytes therefore do not leave before `handshakeRoundTrips`
//   RTTs after the accept: a new connection pays its handshakes, a kept-alive one does not.
// - Backpressure, never an unbounded buffer: a link holds at most about `windowBytes` (bytes waiting for tokens +
//   bytes in the delay line + bytes the destination socket has not flushed); above that the source socket is
//   paused, so a sender that outruns the cap (or a receiver that stops reading) is held back by TCP itself, as
//   on a real link.
// Not modelled: loss, jitter, slow start, a shared bottleneck between connections (each has its own cap).
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface WanLinkOptions {
  /** Round-trip time added by the link, in ms; each direction is delayed by half of it. */
  rttMs: number;
  /** Rate cap of each connection, each direction, in bytes per second. */
  bytesPerSecond: number;
  /** RTTs a new connection waits before its first client→server byte leaves (1 = TCP; 2 = TCP + TLS 1.3). Default 1. */
  handshakeRoundTrips?: number;
  /** Token bucket depth (the largest burst above the cap). Default max(64 KiB, 25 ms of the rate). */
  burstBytes?: number;
  /** Bytes a link may hold before it pauses its source. Default max(64 KiB, rate × RTT) + burst. */
  windowBytes?: number;
}

export interface WanProxyOptions extends WanLinkOptions {
  /** Where the proxy forwards to: a loopback host and port. */
  target: { host: string; port: number };
}

export interface WanConnectionStats {
  id: number;
  openedAt: number;
  closedAt?: number;
  bytesUp: number;
  bytesDown: number;
  /** Largest number of bytes either of the connection's links held at once. */
  maxBufferedBytes: number;
}

export interface WanProxyStats {
  /** Connections accepted since the last reset. */
  connections: number;
  open: number;
  /** Most connections open at once since the last reset. */
  maxOpen: number;
  bytesUp: number;
  bytesDown: number;
  /** Largest number of bytes any one link held at once since the last reset. */
  maxBufferedBytes: number;
  /** The connections accepted since the last reset (bounded: the most recent 1,000). */
  perConnection: WanConnectionStats[];
}

export interface WanProxy {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  port: number;
  /** The link each connection gets, defaults filled in. */
  link: Required<WanLinkOptions>;
  stats(): WanProxyStats;
  resetStats(): void;
  close(): Promise<void>;
}

const KiB = 1024;
/** Bytes moved from the bucket to the delay line at a time: small, so a bucket refill is never wasted. */
const PIECE_BYTES = 16 * KiB;
const MAX_KEPT_CONNECTIONS = 1000;

export function linkDefaults(o: WanLinkOptions): Required<WanLinkOptions> {
  if (!(o.rttMs >= 0) || !Number.isFinite(o.rttMs)) throw new RangeError(`rttMs must be a non-negative number, got ${o.rttMs}`);
  if (!(o.bytesPerSecond > 0) || !Number.isFinite(o.bytesPerSecond)) throw new RangeError(`bytesPerSecond must be a positive number, got ${o.bytesPerSecond}`);
  const handshakeRoundTrips = o.handshakeRoundTrips ?? 1;
  if (!Number.isInteger(handshakeRoundTrips) || handshakeRoundTrips < 0) throw new RangeError(`handshakeRoundTrips must be a non-negative integer, got ${handshakeRoundTrips}`);
  const burstBytes = Math.round(o.burstBytes ?? Math.max(64 * KiB, o.bytesPerSecond * 0.025));
  if (!(burstBytes >= PIECE_BYTES)) throw new RangeError(`burstBytes must be at least ${PIECE_BYTES}, got ${burstBytes}`);
  const windowBytes = Math.round(o.windowBytes ?? Math.max(64 * KiB, (o.bytesPerSecond * o.rttMs) / 1000) + burstBytes);
  if (!(windowBytes >= burstBytes)) throw new RangeError(`windowBytes must be at least burstBytes (${burstBytes}), got ${windowBytes}`);
  return { rttMs: o.rttMs, bytesPerSecond: o.bytesPerSecond, handshakeRoundTrips, burstBytes, windowBytes };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** One direction of one connection: bucket, then delay line, then the destination socket. */
class Link {
  /** Bytes waiting for tokens, with the time each chunk arrived. */
  #queue: Array<{ at: number; buf: Buffer }> = [];
  #queued = 0;
  #line: Array<{ due: number; buf: Buffer }> = [];
  #lineHead = 0;
  #lineBytes = 0;
  /**
   * The token bucket in virtual time: the instant at which it would hold zero tokens. Departures are computed from
   * it, not from when a timer happened to fire, so a late timer (a busy machine) delays a write but never lowers
   * the link's rate.
   */
  #emptyAt: number;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #ended = false;
  #finished = false;
  maxBuffered = 0;
  bytes = 0;

  constructor(
    private readonly src: Socket,
    private readonly dst: Socket,
    private readonly o: Required<WanLinkOptions>,
    /** performance.now() before which no byte leaves (the handshakes). */
    private readonly gateAt: number,
  ) {
    this.#emptyAt = gateAt - o.burstBytes / (o.bytesPerSecond / 1000); // full at the gate
    src.on('data', (chunk: Buffer) => {
      this.#queue.push({ at: performance.now(), buf: chunk });
      this.#queued += chunk.length;
      this.bytes += chunk.length;
      this.#pump();
    });
    src.on('end', () => { this.#ended = true; this.#pump(); });
    dst.on('drain', () => this.#pump());
  }

  buffered(): number {
    return this.#queued + this.#lineBytes + (this.dst.destroyed ? 0 : this.dst.writableLength);
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue = [];
    this.#line = [];
    this.#queued = this.#lineBytes = this.#lineHead = 0;
  }

  #pump(): void {
    if (this.dst.destroyed || this.#finished) return;
    const now = performance.now();
    const rate = this.o.bytesPerSecond / 1000; // bytes per ms
    const oneWay = this.o.rttMs / 2;
    // Bucket → line, a piece at a time, each at the instant the bucket let it leave (which may be in the past).
    let nextDeparture = Infinity;
    while (this.#queued > 0) {
      const head = this.#queue[0]!;
      const n = Math.min(head.buf.length, PIECE_BYTES);
      const departs = Math.max(head.at, this.gateAt, this.#emptyAt + n / rate);
      if (departs > now) { nextDeparture = departs; break; }
      const tokens = Math.min(this.o.burstBytes, (departs - this.#emptyAt) * rate);
      this.#emptyAt = departs - (tokens - n) / rate;
      const piece = head.buf.subarray(0, n);
      if (n === head.buf.length) this.#queue.shift(); else head.buf = head.buf.subarray(n);
      this.#queued -= n;
      this.#line.push({ due: departs + oneWay, buf: piece });
      this.#lineBytes += n;
    }
    // Line → destination, everything that is due.
    while (this.#lineHead < this.#line.length && this.#line[this.#lineHead]!.due <= now) {
      const { buf } = this.#line[this.#lineHead++]!;
      this.#lineBytes -= buf.length;
      this.dst.write(buf);
    }
    if (this.#lineHead > 1024 && this.#lineHead * 2 > this.#line.length) {
      this.#line = this.#line.slice(this.#lineHead);
      this.#lineHead = 0;
    }
    const buffered = this.buffered();
    this.maxBuffered = Math.max(this.maxBuffered, buffered);
    // Hysteresis: pause above the window, resume once a quarter of it has drained.
    if (buffered > this.o.windowBytes) this.src.pause();
    else if (this.src.isPaused() && buffered <= this.o.windowBytes * 0.75) this.src.resume();
    if (this.#ended && this.#queued === 0 && this.#lineHead === this.#line.length) {
      this.#finished = true;
      this.dst.end();
      return;
    }
    this.#schedule(now, nextDeparture, rate);
  }

  #schedule(now: number, nextDeparture: number, rate: number): void {
    let at = Infinity;
    if (this.#lineHead < this.#line.length) at = this.#line[this.#lineHead]!.due;
    // Wake for departures every few pieces (they are dated exactly whenever the timer fires), not once per piece.
    if (nextDeparture !== Infinity) at = Math.min(at, Math.max(nextDeparture, now + Math.min(this.#queued, 4 * PIECE_BYTES) / rate));
    if (at === Infinity || at >= this.#timerAt) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => { this.#timer = undefined; this.#timerAt = Infinity; this.#pump(); }, Math.max(0, Math.ceil(at - now)));
  }
}

interface Entry { row: WanConnectionStats; up: Link; down: Link }

/** Starts the proxy on 127.0.0.1 (an ephemeral port) in front of a loopback target. */
export async function startWanProxy(options: WanProxyOptions): Promise<WanProxy> {
  if (!isLoopback(options.target.host)) throw new Error(`the WAN proxy forwards to loopback only, got ${options.target.host}`);
  const link = linkDefaults(options);
  let stats = emptyStats();
  let open = 0;
  let nextId = 1;
  const sockets = new Set<Socket>();
  const live = new Set<Entry>();

  const server: Server = createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    const acceptedAt = performance.now();
    const upstream = connect({ host: options.target.host, port: options.target.port, allowHalfOpen: true, noDelay: true });
    sockets.add(client);
    sockets.add(upstream);
    open++;
    stats.connections++;
    stats.maxOpen = Math.max(stats.maxOpen, open);
    const row: WanConnectionStats = { id: nextId++, openedAt: Date.now(), bytesUp: 0, bytesDown: 0, maxBufferedBytes: 0 };
    stats.perConnection.push(row);
    if (stats.perConnection.length > MAX_KEPT_CONNECTIONS) stats.perConnection.shift();
    const up = new Link(client, upstream, link, acceptedAt + link.handshakeRoundTrips * link.rttMs);
    const down = new Link(upstream, client, link, acceptedAt);
    const entry: Entry = { row, up, down };
    live.add(entry);
    let closed = 0;
    const onClose = () => {
      if (++closed < 2) return;
      open--;
      live.delete(entry);
      settle(entry);
      entry.row.closedAt = Date.now();
      up.stop();
      down.stop();
    };
    // A reset or error on one side tears down the other (a WAN would deliver it too; we do not delay it).
    for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
      a.on('error', () => b.destroy());
      a.on('close', () => { sockets.delete(a); if (!b.destroyed && (a.errored || !a.readableEnded)) b.destroy(); onClose(); });
    }
  });
  server.on('error', () => undefined);
  const settle = (e: Entry) => {
    const dUp = e.up.bytes - e.row.bytesUp;
    const dDown = e.down.bytes - e.row.bytesDown;
    e.row.bytesUp = e.up.bytes;
    e.row.bytesDown = e.down.bytes;
    e.row.maxBufferedBytes = Math.max(e.up.maxBuffered, e.down.maxBuffered);
    stats.bytesUp += dUp;
    stats.bytesDown += dDown;
    stats.maxBufferedBytes = Math.max(stats.maxBufferedBytes, e.row.maxBufferedBytes);
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  const port = (server.address() as { port: number }).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    link,
    stats: () => {
      for (const e of live) settle(e);
      return { ...stats, open, perConnection: stats.perConnection.map((r) => ({ ...r })) };
    },
    resetStats: () => {
      for (const e of live) { settle(e); e.up.maxBuffered = 0; e.down.maxBuffered = 0; }
      stats = emptyStats();
      stats.maxOpen = open;
      // Connections still open are counted again from their current totals on.
      for (const e of live) {
        e.row = { ...e.row, bytesUp: e.up.bytes, bytesDown: e.down.bytes, maxBufferedBytes: 0 };
        stats.perConnection.push(e.row);
      }
    },
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

function emptyStats(): WanProxyStats {
  return { connections: 0, open: 0, maxOpen: 0, bytesUp: 0, bytesDown: 0, maxBufferedBytes: 0, perConnection: [] };
}
