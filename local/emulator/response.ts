// How the emulator writes its JSON answers (shared by the OST calls, the controls and the served files).
import type { ServerResponse } from 'node:http';

export interface Answer { status: number; body: Record<string, unknown> }

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
