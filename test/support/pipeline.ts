// Helpers for the local-pipeline and real-S3 tests: generated sample files, sha256 of files and served URLs, and a
// throwaway radosgw cluster (scripts/radosgw-up.sh) when its binaries are installed.
import { createHash, randomBytes } from 'node:crypto';
import { execFile, execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { promisify } from 'node:util';
import type { S3Connection } from '../../local/aws/s3';

export const MiB = 1024 * 1024;
export const KiB = 1024;
const ROOT = resolve(__dirname, '..', '..');
// The SDK's notice about Node versions it will stop supporting is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export async function tempDir(prefix = 'ost-forwarder-test-'): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Writes `size` pseudo-random bytes (seeded per file, so slices differ from each other and a misplaced slice
 * changes the hash) and returns the path and its sha256.
 */
export async function sampleFile(dir: string, name: string, size: number): Promise<{ path: string; size: number; sha256: string }> {
  const path = join(dir, name);
  const out = createWriteStream(path);
  const hash = createHash('sha256');
  const block = randomBytes(Math.min(size, 1 * MiB) || 1);
  let written = 0;
  let n = 0;
  while (written < size) {
    const len = Math.min(block.length, size - written);
    // vary each block cheaply: a counter stamped into its first bytes
    const chunk = Buffer.from(block.subarray(0, len));
    if (len >= 4) chunk.writeUInt32BE(n >>> 0, 0);
    n++;
    hash.update(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
    written += len;
  }
  out.end();
  await once(out, 'finish');
  return { path, size, sha256: hash.digest('hex') };
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const c of createReadStream(path)) hash.update(c as Buffer);
  return hash.digest('hex');
}

/** Streams a URL and returns its sha256 and length. */
export async function sha256Url(url: string): Promise<{ sha256: string; bytes: number; status: number }> {
  const res = await fetch(url);
  const hash = createHash('sha256');
  let bytes = 0;
  if (res.body) {
    for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) { hash.update(c); bytes += c.length; }
  }
  return { sha256: hash.digest('hex'), bytes, status: res.status };
}

export function sha256(buf: Buffer | string): string {
  return createHash('sha256').update(buf).digest('hex');
}

async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  srv.close();
  await once(srv, 'close');
  return port;
}

/** Why radosgw cannot run here, or undefined when it can. */
export function radosgwUnavailable(): string | undefined {
  for (const bin of ['radosgw', 'ceph-mon', 'ceph-osd', 'radosgw-admin', 'monmaptool', 'curl']) {
    try { execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }); } catch { return `${bin} not found on PATH`; }
  }
  if (process.getuid && process.getuid() !== 0) return 'not running as root (the daemons run --setuser root)';
  if (!existsSync(join(ROOT, 'scripts', 'radosgw-up.sh'))) return 'scripts/radosgw-up.sh missing';
  return undefined;
}

export interface Radosgw extends S3Connection { dir: string; stop(): Promise<void> }

/** Starts a throwaway one-node Ceph + radosgw on a free loopback port (about 1 s). */
export async function startRadosgw(): Promise<Radosgw> {
  const base = await mkdtemp(join(tmpdir(), 'ost-forwarder-rgw-'));
  const dir = join(base, 'cluster');
  const run = promisify(execFile);
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      await run(join(ROOT, 'scripts', 'radosgw-up.sh'), [dir, String(port)], { timeout: 120_000 });
      return {
        endpoint: `http://127.0.0.1:${port}`,
        region: 'us-east-1',
        accessKeyId: 'test',
        secretAccessKey: 'testsecret',
        dir,
        async stop() {
          await run(join(ROOT, 'scripts', 'radosgw-down.sh'), [dir], { timeout: 60_000 }).catch(() => undefined);
          await rm(base, { recursive: true, force: true });
        },
      };
    } catch (err) {
      lastError = err;
      await run(join(ROOT, 'scripts', 'radosgw-down.sh'), [dir], { timeout: 60_000 }).catch(() => undefined);
    }
  }
  await rm(base, { recursive: true, force: true });
  throw lastError;
}
