// The /__emulator/ control routes: stats, the call log, uploads, orphans and fault rules, for out-of-process users.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { readSmall } from './body';
import { FaultRuleError, type FaultQueue } from './faults';
import { OutageError, type Outage } from './outage';
import type { Gateway } from './gateway';
import { sendJson } from './response';
import type { UploadStore } from './store';
import type { CallLogEntry, EmulatorStats } from './types';

/** Header the /__emulator/ controls require, carrying the per-start token (a web page cannot know or set it). */
export const CONTROL_TOKEN_HEADER = 'x-emulator-token';

/** What the controls read and change. */
export interface ControlTarget {
  controlToken: string;
  stats(): EmulatorStats;
  calls: CallLogEntry[];
  gateway: Gateway;
  faults: FaultQueue;
  store: UploadStore;
  outage?: Outage;
}

function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

function tokenMatches(given: string | string[] | undefined, token: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Controls for out-of-process users: loopback callers only, and only with the per-start token in the
 * x-emulator-token header. A web page can neither know the token nor send a custom header cross-site without a
 * CORS preflight, which is never granted, so a page the user visits cannot install faults or read the log.
 */
export async function control(req: IncomingMessage, res: ServerResponse, path: string, target: ControlTarget): Promise<void> {
  if (!isLoopback(req.socket.remoteAddress)) { req.resume(); return sendJson(res, 403, { message: 'emulator controls are loopback only' }); }
  if (!tokenMatches(req.headers[CONTROL_TOKEN_HEADER], target.controlToken)) {
    req.resume();
    return sendJson(res, 403, { message: `emulator controls need the ${CONTROL_TOKEN_HEADER} header with the token printed at start` });
  }
  const route = `${req.method} ${path.replace(/\/+$/, '')}`;
  switch (route) {
    case 'GET /__emulator/stats': req.resume(); return sendJson(res, 200, target.stats());
    case 'DELETE /__emulator/stats': req.resume(); target.gateway.reset(); return sendJson(res, 200, target.stats());
    case 'GET /__emulator/calls': req.resume(); return sendJson(res, 200, target.calls);
    case 'GET /__emulator/uploads': req.resume(); return sendJson(res, 200, target.store.list());
    case 'GET /__emulator/orphans':
      req.resume();
      return sendJson(res, 200, target.store.list().filter((u) => u.state === 'open' || u.state === 'expired'));
    case 'GET /__emulator/faults': req.resume(); return sendJson(res, 200, target.faults.list());
    case 'DELETE /__emulator/faults': req.resume(); target.faults.clear(); return sendJson(res, 200, target.faults.list());
    case 'GET /__emulator/outage': req.resume(); return sendJson(res, target.outage ? 200 : 404, target.outage?.status() ?? { message: 'no outage control' });
    case 'DELETE /__emulator/outage': req.resume(); return sendJson(res, target.outage ? 200 : 404, target.outage?.stop() ?? { message: 'no outage control' });
    case 'POST /__emulator/outage': {
      const raw = await readSmall(req, 4 * 1024);
      if (raw === undefined) return sendJson(res, 413, { message: 'body too large' });
      if (!target.outage) return sendJson(res, 404, { message: 'no outage control' });
      try {
        return sendJson(res, 200, target.outage.start(JSON.parse(raw.toString('utf8'))));
      } catch (err) {
        return sendJson(res, 400, { message: err instanceof OutageError || err instanceof SyntaxError ? err.message : String(err) });
      }
    }
    case 'POST /__emulator/faults': {
      const raw = await readSmall(req, 64 * 1024);
      if (raw === undefined) return sendJson(res, 413, { message: 'body too large' });
      try {
        const parsed: unknown = JSON.parse(raw.toString('utf8'));
        const rules = Array.isArray(parsed) ? parsed : [parsed];
        for (const r of rules) target.faults.add(r); // validated one by one; earlier ones stay if a later one is bad
        return sendJson(res, 200, target.faults.list());
      } catch (err) {
        const message = err instanceof FaultRuleError || err instanceof SyntaxError ? err.message : String(err);
        return sendJson(res, 400, { message });
      }
    }
    default:
      req.resume();
      return sendJson(res, 404, { message: 'unknown emulator control' });
  }
}
