// A throwaway one-node Ceph + radosgw (scripts/radosgw-up.sh) for the real-S3 tests, when its binaries are installed.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { promisify } from 'node:util';
import type { S3Connection } from '../../local/aws/s3';

const ROOT = resolve(__dirname, '..', '..');

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
