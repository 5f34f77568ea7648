// How the emulator writes its JSON answers (shared by the OST calls, the controls and the served files).
import type { ServerResponse } from 'node:http';

/** A JSON body, or (`html`) a page in its place, as a proxy in front of the service answers. */
export interface Answer { status: number; body: Record<string, unknown>; html?: string }

/** JSON that keeps `times: Infinity` readable. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (v === Infinity ? 'Infinity' : v));
}

export function sendJson(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = toJson(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...extra });
  res.end(text);
}

export function sendAnswer(res: ServerResponse, answer: Answer, extra: Record<string, string> = {}): void {
  if (answer.html === undefined) return sendJson(res, answer.status, answer.body, extra);
  if (res.headersSent || res.destroyed) return;
  res.writeHead(answer.status, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(answer.html), ...extra });
  res.end(answer.html);
}

/** An error page like the one nginx writes. */
export function htmlPage(status: number, reason: string): string {
  const title = `${status} ${reason}`;
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n`
    + '<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';
}
