// GET/HEAD /files/<id>/<name>: the files the emulator stored, served back by their id and name.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createReadStream } from 'node:fs';
import { sendJson } from './response';
import type { UploadStore } from './store';

export function serveFile(req: IncomingMessage, res: ServerResponse, path: string, store: UploadStore): void {
  req.resume();
  const [, , id, encodedName, ...rest] = path.split('/');
  let name: string | undefined;
  try { name = decodeURIComponent(encodedName ?? ''); } catch { name = undefined; }
  const file = id && rest.length === 0 ? store.file(id) : undefined;
  if (!file || file.name !== name) return sendJson(res, 404, { message: 'file not found' });
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': file.size });
  if (req.method === 'HEAD') { res.end(); return; }
  const input = createReadStream(file.path);
  input.on('error', () => res.destroy());
  input.pipe(res);
}
