// Answers that are not HTTP 200 through the whole local pipeline: a JSON body with an OST code under a 4xx/5xx
// status (seen on the sibling ost-api: HTTP 500 + 10401, HTTP 400 + 20304; docs/ost-api.md) is read by its code,
// whatever the status; an HTML page (a proxy in front of the service) by its status alone.
import { createHash, randomBytes } from 'node:crypto';
import { startLocalStack, type LocalStack } from '../local/stack';
import { MiB, sha256Url } from './support/files';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** The file OST serves for a forwarded result, hashed. */
async function served(r: { url?: string }): Promise<string | undefined> {
  return r.url ? (await sha256Url(r.url)).sha256 : undefined;
}

describe('non-200 answers through the pipeline', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack({ env: { SLICE_SIZE: String(5 * MiB), SIMPLE_THRESHOLD: String(6 * MiB) } });
  });
  afterAll(() => stack?.close());
  let seq0 = 0;
  beforeEach(() => { seq0 = stack.emulator!.stats().calls; });
  afterEach(() => stack.emulator!.clearFaults());
  const calls = () => stack.emulator!.calls.filter((c) => c.seq > seq0);

  it('HTTP 500 with {"code":10002} at a slice, twice: retried as the transient code it is; forwarded byte-exact', async () => {
    stack.emulator!.inject({ call: 'slice', sliceId: 2, status: 500, code: 10002, times: 2 });
    const content = randomBytes(11 * MiB);
    const r = await stack.forwardObject('http/500-json.bin', content);
    expect(r).toMatchObject({ status: 'forwarded', slices: 3 });
    expect(await served(r)).toBe(sha256(content));
    expect(calls().filter((c) => c.fault && c.httpStatus === 500)).toHaveLength(2);
  });

  it('HTTP 400 with {"code":10001} at init: failed by its OST code (not retried), not as an HTTP error', async () => {
    stack.emulator!.inject({ call: 'init', status: 400, code: 10001, times: Infinity });
    const r = await stack.forwardObject('http/400-json.bin', randomBytes(11 * MiB));
    expect(r).toMatchObject({ status: 'failed', error: { code: 'OST_INVALID_REQUEST', ostCode: 10001 } });
    expect(calls().filter((c) => c.call === 'init' && c.fault)).toHaveLength(1);
  });

  it('HTTP 400 with {"code":20304} (the sibling API\'s media error) at the simple upload: failed, the code kept', async () => {
    stack.emulator!.inject({ call: 'upload', status: 400, code: 20304, times: Infinity });
    const r = await stack.forwardObject('http/400-20304.bin', randomBytes(1000));
    expect(r.status).toBe('failed');
    expect(r.error).toMatchObject({ ostCode: 20304 });
  });

  it('HTTP 500 with {"code":10401} at complete, once: an HTTP error, retried; forwarded byte-exact', async () => {
    stack.emulator!.inject({ call: 'complete', status: 500, code: 10401, times: 1 });
    const content = randomBytes(11 * MiB);
    const r = await stack.forwardObject('http/500-10401.bin', content);
    expect(r.status).toBe('forwarded');
    expect(await served(r)).toBe(sha256(content));
  });

  it('an HTML 502 page at a slice, twice: retried; forwarded byte-exact', async () => {
    stack.emulator!.inject({ call: 'slice', sliceId: 1, status: 502, html: true, times: 2 });
    const content = randomBytes(11 * MiB);
    const r = await stack.forwardObject('http/502-html.bin', content);
    expect(r.status).toBe('forwarded');
    expect(await served(r)).toBe(sha256(content));
    expect(calls().filter((c) => c.fault?.html)).toHaveLength(2);
  });

  it('an HTML 403 page at the simple upload: failed as an authorization error, not retried', async () => {
    stack.emulator!.inject({ call: 'upload', status: 403, html: true, times: Infinity });
    const r = await stack.forwardObject('http/403-html.bin', randomBytes(1000));
    expect(r).toMatchObject({ status: 'failed', error: { code: 'OST_AUTH' } });
    expect(r.error!.message).toContain('HTTP 403');
    expect(calls().filter((c) => c.call === 'upload')).toHaveLength(1);
  });
});
