// One unsigned GET of the endpoint, to tell apart what a signed call cannot: is it reachable, does its TLS hold
// (protocol, certificate expiry), and what its clock says (the Date header). Any HTTP answer counts as reachable:
// the gateway answers an unknown route 404. Plain http only to loopback, as for the client (endpoint.ts).
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { ConfigError } from '../core/errors';
import { isLoopbackAddress, LoopbackResolutionError, loopbackOnlyLookup, parseEndpoint, type ResolveAll } from './endpoint';
import { OstTlsError, TransportError } from './errors';
import { describeCause, errorCode, TLS_CODES } from './transport-errors';

export interface ProbeResult {
  status: number;
  /** The Date header as sent, if any. */
  date?: string;
  ms: number;
  /** For https: the negotiated protocol and the certificate's expiry. */
  tls?: { protocol: string; validTo?: string };
}

export interface ProbeOptions {
  timeoutMs?: number;
  resolveAll?: ResolveAll;
}

/** GETs the endpoint's base path; throws OstTlsError, TransportError or ConfigError (a bad endpoint). */
export function probeEndpoint(endpoint: string, opts: ProbeOptions = {}): Promise<ProbeResult> {
  const url = parseEndpoint(endpoint);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const https = url.protocol === 'https:';
  const started = Date.now();
  const details = { endpoint: url.origin };
  return new Promise<ProbeResult>((resolve, reject) => {
    let tls: ProbeResult['tls'];
    const fail = (err: unknown): void => {
      if (err instanceof LoopbackResolutionError) {
        return reject(new ConfigError('OST_ENDPOINT', err.message.replace(/^OST_ENDPOINT: /, '')));
      }
      const code = errorCode(err);
      if (code && TLS_CODES.test(code)) return reject(new OstTlsError(`TLS with ${url.host} failed: ${describeCause(err)}`, { ...details, cause: err }));
      reject(new TransportError(`${url.host} could not be reached: ${describeCause(err)}`, { ...details, cause: err }));
    };
    const onResponse = (res: IncomingMessage): void => {
      const date = typeof res.headers.date === 'string' ? res.headers.date : undefined;
      res.destroy(); // the body says nothing the status does not
      resolve({ status: res.statusCode ?? 0, ...(date ? { date } : {}), ms: Date.now() - started, ...(tls ? { tls } : {}) });
    };
    const options = {
      method: 'GET',
      headers: { accept: '*/*' },
      timeout: timeoutMs,
      ...(!https && !isLoopbackAddress(url.hostname) ? { lookup: loopbackOnlyLookup(opts.resolveAll) } : {}),
    };
    const target = `${url.origin}${url.pathname}`;
    const req = https ? httpsRequest(target, options, onResponse) : httpRequest(target, options, onResponse);
    req.on('socket', (socket) => {
      if (!https) return;
      socket.once('secureConnect', () => {
        const s = socket as TLSSocket;
        const cert = s.getPeerCertificate();
        tls = { protocol: s.getProtocol() ?? 'unknown', ...(cert?.valid_to ? { validTo: cert.valid_to } : {}) };
      });
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', fail);
    req.end();
  });
}
