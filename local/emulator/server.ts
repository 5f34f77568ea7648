// The OST calls of the emulator over HTTP: routing, body streaming, the gateway checks, fault injection and the
// answers; the field checks live in call-fields.ts, the controls in controls.ts, the served files in served-files.ts.
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import { Transform, Writable } from 'node:stream';
import { Busboy, type BusboyHeaders, type BusboyInstance } from '@fastify/busboy';
import { OST_PATHS } from '../../lib/ost/errors';
import { HMAC_DIGEST_REJECTED, HMAC_REJECTED, checkSignature, digestAgrees } from './auth';
import { JsonBody, consume, parseJson, writeDataPart } from './body';
import { clip } from './bounds';
import { CallFields, type DataPart } from './call-fields';
import { control } from './controls';
import { FaultQueue } from './faults';
import { Gateway, THROTTLE_CODES, type GatewayLimits } from './gateway';
import { htmlPage, sendAnswer, sendJson, type Answer } from './response';
import { serveFile } from './served-files';
import { MESSAGES, invalid, type OstResult, type UploadStore } from './store';
import type { CallLogEntry, EmulatorCredentials, EmulatorStats, FaultRule, OstCall } from './types';

const CALL_BY_PATH = new Map<string, OstCall>(Object.entries(OST_PATHS).map(([call, path]) => [path, call as OstCall]));
const NO_ROUTE = { message: 'no Route matched with those values' };

export interface ServiceSettings {
  credentials: EmulatorCredentials;
  maxSkewSeconds: number;
  maxSlices: number;
  /** Strict digest checks (see auth.ts); default false, like the live service. */
  strict: boolean;
  /** Flow control; no limits by default. */
  limits: GatewayLimits;
  /** The value the controls need in CONTROL_TOKEN_HEADER. */
  controlToken: string;
  /** Most entries kept in the call log; older ones are dropped (counted in stats). */
  maxCallLog: number;
}

export class OstService {
  readonly calls: CallLogEntry[] = [];
  readonly faults = new FaultQueue();
  readonly gateway: Gateway;
  private droppedCalls = 0;
  private readonly sleepers = new Set<() => void>();
  /** Requests that sent `Expect: 100-continue`: told to go on only once they passed the gateway. */
  private readonly expectsContinue = new WeakSet<IncomingMessage>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly fields: CallFields;
  private seq = 0;
  private sidCounter = 0x10000;
  private closing = false;

  constructor(
    private readonly store: UploadStore,
    private readonly settings: ServiceSettings,
    private readonly onCall: (entry: CallLogEntry) => void,
  ) {
    this.gateway = new Gateway(settings.limits);
    this.fields = new CallFields(store, settings);
  }

  stats(): EmulatorStats {
    return {
      calls: this.seq,
      callsKept: this.calls.length,
      callsDropped: this.droppedCalls,
      ...this.gateway.stats(),
      limits: { ...this.settings.limits },
      strict: this.settings.strict,
    };
  }

  private logCall(entry: CallLogEntry): void {
    this.calls.push(entry);
    const excess = this.calls.length - this.settings.maxCallLog;
    if (excess > 0) {
      this.calls.splice(0, excess);
      this.droppedCalls += excess;
    }
  }

  /** The node:http request listener. */
  readonly listener = (req: IncomingMessage, res: ServerResponse): void => {
    const p = this.route(req, res).catch((err: unknown) => {
      sendJson(res, 500, { message: `emulator error: ${err instanceof Error ? err.message : String(err)}` });
    });
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  };

  /** The node:http 'checkContinue' listener: the 100 Continue is sent by the call itself, after the gateway. */
  readonly checkContinue = (req: IncomingMessage, res: ServerResponse): void => {
    this.expectsContinue.add(req);
    this.listener(req, res);
  };

  /** Ends pending delays at once; the server then closes the sockets and drain() waits for the handlers. */
  shutdown(): void {
    this.closing = true;
    for (const wake of [...this.sleepers]) wake();
  }

  async drain(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  private sid(): string {
    this.sidCounter += 1;
    return `ost${this.sidCounter.toString(16).padStart(8, '0')}@dx${Date.now().toString(16)}${randomBytes(4).toString('hex').slice(0, 7)}`;
  }

  /** Resolves true after ms, or false at once if the emulator closes meanwhile. */
  private sleep(ms: number): Promise<boolean> {
    if (this.closing) return Promise.resolve(false);
    return new Promise((resolve) => {
      const wake = (): void => { clearTimeout(timer); this.sleepers.delete(wake); resolve(false); };
      const timer = setTimeout(() => { this.sleepers.delete(wake); resolve(true); }, ms);
      this.sleepers.add(wake);
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const call = CALL_BY_PATH.get(path);
    if (call && req.method === 'POST') return this.ostCall(req, res, call, path);
    if (this.expectsContinue.has(req)) res.writeContinue();
    if (path.startsWith('/__emulator/')) return control(req, res, path, {
      controlToken: this.settings.controlToken, stats: () => this.stats(), calls: this.calls, gateway: this.gateway, faults: this.faults, store: this.store,
    });
    if (path.startsWith('/files/') && (req.method === 'GET' || req.method === 'HEAD')) return serveFile(req, res, path, this.store);
    req.resume();
    sendJson(res, 404, NO_ROUTE);
  }

  // ---------------------------------------------------------------------------------------------------------
  // OST calls

  private async ostCall(req: IncomingMessage, res: ServerResponse, call: OstCall, path: string): Promise<void> {
    const hold: { release?: () => void } = {};
    try {
      await this.serveCall(req, res, call, path, hold);
    } finally {
      hold.release?.(); // the call is over, even if it failed unexpectedly: it is no longer in flight
    }
  }

  private async serveCall(req: IncomingMessage, res: ServerResponse, call: OstCall, path: string, hold: { release?: () => void }): Promise<void> {
    const entry: CallLogEntry = { seq: ++this.seq, call, path, bytes: 0, outcome: 'pending', startedAt: Date.now() };
    this.logCall(entry);
    const end = (outcome: CallLogEntry['outcome']): void => {
      if (entry.outcome !== 'pending') return;
      hold.release?.();
      entry.outcome = outcome;
      entry.endedAt = Date.now();
      this.onCall(entry);
    };

    // Faults act in front of the service. A slice rule naming a slice id waits until slice_id is read.
    let fault: FaultRule | undefined;
    let waitingForSliceId = call === 'slice' && this.faults.mustWaitForSliceId(call);
    let resetDone = false;
    const contentLength = Number(req.headers['content-length']);
    const midBody = Number.isFinite(contentLength) && contentLength > 1 ? Math.floor(contentLength / 2) : 1;
    const reset = (): void => {
      if (resetDone) return;
      resetDone = true;
      req.socket.resetAndDestroy();
      end('reset'); // logged at once: the client may look at the log as soon as it sees the reset
    };
    const maybeReset = (): void => {
      if (fault?.reset === 'before-body' || (fault?.reset === 'mid-body' && entry.bytes >= midBody)) reset();
    };
    const applyFault = (rule: FaultRule | undefined): void => {
      if (!rule) return;
      fault = rule;
      entry.fault = { ...rule };
      maybeReset();
    };
    const decideSliceFault = (sliceId: number | undefined): void => {
      if (!waitingForSliceId) return;
      waitingForSliceId = false;
      applyFault(this.faults.take('slice', sliceId));
    };
    if (!waitingForSliceId) applyFault(this.faults.take(call));
    if (resetDone) return end('reset');

    const strict = this.settings.strict;
    // A pure delay lets the call through to the service (it takes effect), so the gateway checks it as any other.
    const reachesGateway = !fault || isPureDelay(fault);
    if (reachesGateway) {
      // The gateway: the signature is checked on the headers alone, and a request that fails it is answered at
      // once; its body is read and thrown away, never parsed or stored.
      const authError = checkSignature('POST', req.url ?? path, req.headers, {
        apiKey: this.settings.credentials.apiKey,
        apiSecret: this.settings.credentials.apiSecret,
        maxSkewSeconds: this.settings.maxSkewSeconds,
        strict,
      });
      if (authError) return this.rejectEarly(req, res, entry, { status: 401, body: { message: authError } }, end);
    }
    // Flow control, for calls that got past the signature check (a faulted call never reaches the gateway, except
    // a pure delay, and a slice rule still waiting for its slice id, which is decided later).
    let throttled: keyof typeof THROTTLE_CODES | undefined;
    if (reachesGateway) {
      const verdict = this.gateway.admit();
      if (typeof verdict === 'string') throttled = verdict;
      else hold.release = verdict;
    }
    if (throttled) entry.throttled = throttled;

    const bodyHash = strict ? createHash('sha256') : undefined;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        bodyHash?.update(chunk);
        entry.bytes += chunk.length;
        maybeReset();
        cb(null, chunk);
      },
    });

    const multipart = call === 'upload' || call === 'slice';
    let json: JsonBody | undefined;
    const fields: Record<string, string> = {};
    let data: DataPart | undefined;
    let dataAsField = false;
    let parseError: string | undefined;

    let sink: Writable;
    if (multipart) {
      let bb: BusboyInstance | undefined;
      try {
        bb = Busboy({
          headers: req.headers as BusboyHeaders,
          isPartAFile: (_name, _type, filename) => filename !== undefined,
          limits: { fieldSize: 64 * 1024, fields: 100, parts: 200 },
        });
      } catch {
        parseError = 'content-type must be multipart/form-data with a boundary';
      }
      if (bb) {
        bb.on('field', (name: string, value: string) => {
          if (name === 'data') { dataAsField = true; return; }
          if (name in fields) return;
          fields[name] = value;
          if (name === 'request_id') entry.requestId = clip(value);
          if (name === 'upload_id') entry.uploadId = clip(value);
          if (name === 'slice_id') {
            const id = /^\d{1,15}$/.test(value) ? Number(value) : undefined;
            if (id !== undefined) entry.sliceId = id;
            decideSliceFault(id);
          }
        });
        bb.on('file', (name: string, stream: NodeJS.ReadableStream, filename: string) => {
          // A throttled call's data is read and thrown away: it must not take effect.
          if (name !== 'data' || data || resetDone || throttled) { stream.resume(); return; }
          data = writeDataPart(stream, filename, this.store.tmpPath());
        });
        sink = bb;
      } else {
        sink = new Writable({ write(_c, _e, cb) { cb(); } });
      }
    } else {
      sink = json = new JsonBody();
    }

    const dropData = async (): Promise<void> => {
      if (!data) return;
      const d = data;
      data = undefined;
      d.stream.destroy();
      await unlink(d.tmp).catch(() => undefined);
    };

    if (this.expectsContinue.has(req) && !res.destroyed) res.writeContinue();
    const read = await consume(req, meter, sink);
    if (read !== 'ok') {
      await dropData();
      if (read === 'aborted' || resetDone) return end(resetDone ? 'reset' : 'aborted');
      parseError = `malformed multipart body: ${read.message}`;
    }
    if (data) {
      try {
        await data.done;
        entry.dataBytes = data.size;
      } catch (err) {
        await dropData();
        if (resetDone || this.closing) return end(resetDone ? 'reset' : 'aborted');
        parseError = `could not store data: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
    decideSliceFault(entry.sliceId);
    if (resetDone) { await dropData(); return end('reset'); }
    // Parsed before the fault checks so that the log names the request and upload of every call.
    const parsedJson = multipart ? undefined : parseJson(json?.raw, json?.tooLarge ?? false);
    if (parsedJson && typeof parsedJson !== 'string') {
      if (typeof parsedJson.request_id === 'string' && parsedJson.request_id !== '') entry.requestId = clip(parsedJson.request_id);
      if (typeof parsedJson.upload_id === 'string' && parsedJson.upload_id !== '') entry.uploadId = clip(parsedJson.upload_id);
    }
    if (fault?.hang) {
      await dropData();
      return end('hang');
    }

    let answer: Answer;
    if (fault && (fault.code !== undefined || fault.status !== undefined)) {
      await dropData();
      answer = this.faultAnswer(fault);
    } else if (throttled) {
      await dropData();
      const code = THROTTLE_CODES[throttled];
      answer = { status: 200, body: { code, message: MESSAGES[code], sid: this.sid() } };
    } else if (strict && bodyHash && !digestAgrees(String(req.headers.digest), bodyHash.digest(), multipart)) {
      await dropData();
      answer = { status: 401, body: { message: HMAC_DIGEST_REJECTED } };
    } else {
      let result: OstResult;
      if (parseError) {
        await dropData();
        result = invalid(parseError);
      } else if (multipart) {
        const part = data;
        data = undefined; // the store owns the file now (or it is removed below)
        result = await this.fields.multipartCall(call, fields, part, dataAsField, entry);
        if (part && result.code !== 0) await unlink(part.tmp).catch(() => undefined);
      } else {
        result = typeof parsedJson === 'string' ? invalid(parsedJson) : await this.fields.jsonCall(call, parsedJson!, entry);
      }
      answer = { status: 200, body: { code: result.code, message: result.message, sid: this.sid(), ...(result.data ? { data: result.data } : {}) } };
    }

    if (fault?.delayMs !== undefined && fault.delayMs > 0) {
      if (!(await this.sleep(fault.delayMs))) return end('aborted');
    }
    if (res.destroyed || req.socket.destroyed) return end('aborted');
    this.record(entry, answer);
    sendAnswer(res, answer);
    end('answered');
  }

  private record(entry: CallLogEntry, answer: Answer): void {
    entry.httpStatus = answer.status;
    if (typeof answer.body.code === 'number') entry.code = answer.body.code;
    if (typeof answer.body.message === 'string') entry.message = clip(answer.body.message);
    if (typeof answer.body.sid === 'string') entry.sid = answer.body.sid;
  }

  /**
   * Answers before reading the body (a gateway rejection), then reads the rest of the body and throws it away so
   * the client can finish sending and read the answer; nothing of it is parsed or stored.
   */
  private rejectEarly(
    req: IncomingMessage, res: ServerResponse, entry: CallLogEntry, answer: Answer, end: (o: CallLogEntry['outcome']) => void,
  ): void {
    req.on('data', (chunk: Buffer) => { entry.bytes += chunk.length; });
    req.on('error', () => undefined);
    req.resume();
    this.record(entry, answer);
    // A client waiting for 100 Continue never sends the body: the connection cannot be reused, so it is closed.
    sendJson(res, answer.status, answer.body, this.expectsContinue.has(req) ? { connection: 'close' } : {});
    end('answered');
  }

  private faultAnswer(rule: FaultRule): Answer {
    const status = rule.status ?? 200;
    if (rule.html) return { status, body: {}, html: htmlPage(status, STATUS_CODES[status] ?? 'Error') };
    if (rule.code !== undefined) {
      return { status, body: { code: rule.code, message: MESSAGES[rule.code] ?? 'injected fault', sid: this.sid() } };
    }
    if (status >= 500) return { status, body: { code: status, message: STATUS_CODES[status] ?? 'Server Error', sid: this.sid() } };
    if (status === 401) return { status, body: { message: HMAC_REJECTED } };
    return { status, body: { message: STATUS_CODES[status] ?? 'error' } };
  }
}

function isPureDelay(rule: FaultRule): boolean {
  return rule.code === undefined && rule.status === undefined && !rule.reset && !rule.hang;
}
