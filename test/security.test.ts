// Security checks: the packaged CloudFormation template (least privilege, no secret), and the OST client's
// defences (no plain http off loopback, no header or part injection through a file name, the signature's date
// within the gateway's skew).
import { Readable } from 'node:stream';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { Busboy } from '@fastify/busboy';
import { CREATED_PARAMS, EXISTING_PARAMS, packaged, PACKAGING_API_KEY, PACKAGING_SECRET, type Packaged } from './support/package';
import { isLoopbackAddress, OstClient, parseEndpoint } from '../lib/ost/client';
import { silentLog } from '../lib/core/log';
import { ostClientOptionsFromEnv } from '../lib/config/ost-options';
import { multipartBody, multipartEnvelope } from '../lib/ost/multipart';
import { MAX_MESSAGE_CHARS, OstAuthError, OstError, OstInvalidRequestError, OstProtocolError, OstServerError, OstTlsError } from '../lib/ost/errors';
import { loadSecrets } from '../lib/runtime/secrets';
import { loadSettings } from '../lib/config/settings';
import { startAwsServer, type AwsServer } from '../local/aws/endpoint';
import { startEmulator, type OstEmulator } from '../local/emulator';

type Json = any;

describe('the packaged template', () => {
  let created: Packaged;
  let existing: Packaged;
  beforeAll(async () => {
    // the same params as test/package.test.ts: one packaging run serves both files
    created = await packaged(CREATED_PARAMS);
    existing = await packaged(EXISTING_PARAMS);
  }, 300_000);

  const statements = (t: Json) => Object.entries(t.Resources as Record<string, Json>)
    .filter(([, r]) => r.Type === 'AWS::IAM::Role')
    .flatMap(([role, r]) => (r.Properties.Policies ?? []).flatMap((p: Json) => p.PolicyDocument.Statement
      // a statement under Fn::If (a condition of the params) counts as its granting branch
      .map((s: Json) => (s['Fn::If'] ? [s['Fn::If'][1], s['Fn::If'][2]].find((b: Json) => !b.Ref) : s))
      .map((s: Json) => ({ role, ...s }))));

  it('grants no s3, states, events or ssm action on a wildcard resource, and no wildcard action', () => {
    for (const t of [created.template, existing.template]) {
      const bad: unknown[] = [];
      for (const s of statements(t)) {
        const actions = [s.Action].flat() as string[];
        // an ARN built with Fn::Sub is checked as its text (arn:${AWS::Partition}:…)
        const resources = [s.Resource].flat().map((r) => (typeof r === 'string' ? r : typeof r?.['Fn::Sub'] === 'string' ? r['Fn::Sub'] : JSON.stringify(r)));
        for (const a of actions) if (a === '*' || /^[a-z0-9-]+:\*$/.test(a)) bad.push({ role: s.role, action: a });
        for (const svc of ['s3', 'states', 'events', 'ssm']) {
          if (!actions.some((a) => a.startsWith(`${svc}:`))) continue;
          for (const r of resources) {
            // '*', a whole service (arn:aws:s3:::*), or a whole account/region (…:${AWS::AccountId}:*)
            if (r === '*' || /^"?arn:[^:"]+:[a-z0-9-]+:::\*"?$/.test(r) || /\$\{AWS::AccountId\}:\*"?\]?\}?$/.test(r) || /:\*"?$/.test(r) && !/:(execution|mapRun):/.test(r)) bad.push({ role: s.role, svc, resource: r });
          }
        }
      }
      expect(bad).toEqual([]);
    }
  });

  it('allows kms:Decrypt only through a service (kms:ViaService: SSM, or S3 for an SSE-KMS bucket)', () => {
    for (const t of [created.template, existing.template]) {
      for (const s of statements(t).filter((x: Json) => [x.Action].flat().includes('kms:Decrypt'))) {
        expect(s.Condition).toEqual({ StringEquals: { 'kms:ViaService': expect.anything() } });
      }
    }
  });

  it('holds neither the api_secret nor the api_key, in the template, the state or any Lambda environment', () => {
    for (const p of [created, existing]) {
      for (const text of [p.text, p.state]) {
        expect(text).not.toContain(PACKAGING_SECRET);
        expect(text).not.toContain(PACKAGING_API_KEY);
      }
      const fns = Object.values(p.template.Resources as Record<string, Json>).filter((r) => r.Type === 'AWS::Lambda::Function');
      expect(fns.length).toBeGreaterThanOrEqual(7);
      for (const f of fns) {
        const env = f.Properties.Environment?.Variables ?? {};
        for (const [k, v] of Object.entries(env)) {
          expect(k).not.toMatch(/^OST_API_(KEY|SECRET)$/);
          expect(JSON.stringify(v)).not.toContain(PACKAGING_SECRET);
        }
      }
    }
  });
});

describe('the OST client', () => {
  it.each(['http://example.com', 'http://10.0.0.1:8088', 'http://192.168.1.2', 'http://[::ffff:7f00:1]', 'http://127.0.0.1.nip.io', 'ftp://127.0.0.1', 'http://user:pw@127.0.0.1'])('refuses %s', (endpoint) => {
    expect(() => parseEndpoint(endpoint)).toThrow(expect.objectContaining({ name: 'ConfigError', setting: 'OST_ENDPOINT' }));
    expect(() => new OstClient({ endpoint, appId: 'a', apiKey: 'k', apiSecret: 's' })).toThrow(/OST_ENDPOINT/);
    expect(() => loadSettings({ OST_ENDPOINT: endpoint })).toThrow(/OST_ENDPOINT/);
  });
  it.each(['https://upload-ost-api.xfyun.cn', 'http://127.0.0.1:8088', 'http://127.8.9.10', 'http://localhost:1', 'http://[::1]:8088'])('accepts %s', (endpoint) => {
    expect(() => parseEndpoint(endpoint)).not.toThrow();
  });

  it('a file name cannot inject a header or a part', async () => {
    const evil = 'a.wav"\r\nContent-Type: text/html\r\n\r\n<x>\r\n------ostforwardX\r\nContent-Disposition: form-data; name="upload_id"\r\n\r\nup_evil\r\n--';
    const envelope = multipartEnvelope([['upload_id', 'up_1'], ['slice_id', '1']], { field: 'data', filename: evil, size: 3 });
    const headLines = envelope.head.toString('utf8').split('\r\n');
    const disposition = headLines.filter((l) => l.startsWith('Content-Disposition: form-data; name="data"'));
    expect(disposition).toHaveLength(1);
    expect(disposition[0]).not.toMatch(/[\r\n]/);
    // parse it as the service would
    const chunks: Buffer[] = [];
    for await (const c of multipartBody(envelope, Readable.from([Buffer.from('abc')]))) chunks.push(Buffer.from(c));
    const fields: Record<string, string[]> = {};
    const files: Array<{ name: string; filename: string; bytes: string }> = [];
    await new Promise<void>((resolve, reject) => {
      const bb = Busboy({ headers: { 'content-type': envelope.contentType } });
      bb.on('field', (n: string, v: string) => { (fields[n] ??= []).push(v); });
      bb.on('file', (n: string, stream: NodeJS.ReadableStream, filename: string) => {
        const got: Buffer[] = [];
        stream.on('data', (d: Buffer) => got.push(d));
        stream.on('end', () => files.push({ name: n, filename, bytes: Buffer.concat(got).toString() }));
      });
      bb.on('finish', () => resolve());
      bb.on('error', reject);
      bb.end(Buffer.concat(chunks));
    });
    expect(fields).toEqual({ upload_id: ['up_1'], slice_id: ['1'] });
    expect(files).toHaveLength(1);
    expect(files[0]).toMatchObject({ name: 'data', bytes: 'abc' });
    expect(files[0]!.filename).not.toMatch(/[\r\n"]/);
  });

  describe('signature date skew (the gateway allows 300 s)', () => {
    let emu: OstEmulator;
    beforeAll(async () => { emu = await startEmulator(); });
    afterAll(() => emu.close());
    const initAt = (skewSeconds: number) => {
      const c = new OstClient({ endpoint: emu.endpoint, ...emu.credentials, retry: { attempts: 1 }, now: () => new Date(Date.now() + skewSeconds * 1000) });
      return c.init().finally(() => c.close());
    };
    it.each([299, -299])('accepts a date %i s off', async (skew) => {
      await expect(initAt(skew)).resolves.toMatchObject({ uploadId: expect.any(String) });
    });
    it.each([301, -301])('rejects a date %i s off with OstAuthError (401), not retried', async (skew) => {
      const before = emu.calls.length;
      await expect(initAt(skew)).rejects.toBeInstanceOf(OstAuthError);
      expect(emu.calls.slice(before)).toEqual([expect.objectContaining({ call: 'init', httpStatus: 401 })]);
    });
  });
});

// --- hostile input and unlucky users ---------------------------------------------------------------------------

/** A stand-in for OST (or a gateway in front of it) that answers every call with `answer(path, headers)`. */
async function fakeOst(answer: (path: string, headers: IncomingHttpHeaders) => { status?: number; body: unknown }): Promise<{ endpoint: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const a = answer(req.url ?? '', req.headers);
      const text = typeof a.body === 'string' ? a.body : JSON.stringify(a.body);
      res.writeHead(a.status ?? 200, { 'content-type': 'application/json' }).end(text);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

const KEY = 'hostile-api-key-0123456789';
const SECRET = 'hostile-api-secret-abcdefghij';

describe('secrets never leave the client', () => {
  it('a gateway error echoing the authorization header is redacted in the retry WARN log and in the error', async () => {
    const ost = await fakeOst((_p, headers) => ({ status: 500, body: { code: 10002, message: `bad header: authorization: ${headers.authorization}`, sid: `sid-${headers.authorization}` } }));
    const warnings: string[] = [];
    const log = { ...silentLog, warn: (m: string, f?: Record<string, unknown>) => { warnings.push(`${m} ${JSON.stringify(f)}`); } };
    const client = new OstClient({ endpoint: ost.endpoint, appId: 'app', apiKey: KEY, apiSecret: SECRET, retry: { attempts: 3, baseDelayMs: 0 }, log });
    const err = await client.init().catch((e: unknown) => e) as OstError;
    await client.close();
    await ost.close();
    expect(err).toBeInstanceOf(OstServerError);
    expect(warnings).toHaveLength(2);
    for (const text of [...warnings, err.describe(), JSON.stringify(err.toJSON())]) {
      expect(text).not.toContain(KEY);
      expect(text).not.toContain(SECRET);
      expect(text).toContain('[redacted]');
    }
  });
});

describe('plain http only to loopback, proven at connect time', () => {
  it('isLoopbackAddress: literal loopback addresses only', () => {
    expect(['127.0.0.1', '127.3.2.1', '::1', '[::1]', '::ffff:127.0.0.1'].every(isLoopbackAddress)).toBe(true);
    expect(['localhost', 'ost.localhost', '10.0.0.1', '::ffff:7f00:1x', '0.0.0.0', '::'].some(isLoopbackAddress)).toBe(false);
  });

  it('http://ost.localhost that resolves to a public address is refused before connecting (ConfigError naming OST_ENDPOINT)', async () => {
    const resolveAll = (_h: string, _o: unknown, cb: (e: null, a: Array<{ address: string; family: number }>) => void) => cb(null, [{ address: '127.0.0.1', family: 4 }, { address: '203.0.113.9', family: 4 }]);
    const client = new OstClient({ endpoint: 'http://ost.localhost:9', appId: 'app', apiKey: KEY, apiSecret: SECRET, retry: { attempts: 3, baseDelayMs: 0 }, timeouts: { connectMs: 2000 }, resolveAll });
    const err = await client.init().catch((e: unknown) => e) as Error;
    await client.close();
    expect(err).toMatchObject({ name: 'ConfigError', setting: 'OST_ENDPOINT' });
    expect(err.message).toMatch(/203\.0\.113\.9.*not a loopback/);
  });

  it('http://localhost (resolving to loopback) still works', async () => {
    const ost = await fakeOst(() => ({ body: { code: 0, sid: 's1', data: { upload_id: 'up1' } } }));
    const client = new OstClient({ endpoint: ost.endpoint.replace('127.0.0.1', 'localhost'), appId: 'app', apiKey: KEY, apiSecret: SECRET });
    await expect(client.init()).resolves.toEqual({ uploadId: 'up1', sid: 's1' });
    await client.close();
    await ost.close();
  });
});

describe('server-provided fields', () => {
  let answer: { body: unknown };
  let ost: Awaited<ReturnType<typeof fakeOst>>;
  let client: OstClient;
  beforeAll(async () => {
    ost = await fakeOst(() => answer);
    client = new OstClient({ endpoint: ost.endpoint, appId: 'app', apiKey: KEY, apiSecret: SECRET, retry: { attempts: 1 } });
  });
  afterAll(async () => { await client.close(); await ost.close(); });
  const source = { size: 3, name: 'a.bin', open: async () => Readable.from([Buffer.from('abc')]) };

  it.each([
    ['a newline', 'https://x.example/a\nFAKE LINE'],
    ['an ANSI escape', 'https://x.example/\u001b[31mred'],
    ['a javascript: URL', 'javascript:alert(1)'],
    ['a relative URL', '/files/1'],
    ['a C1 control', 'https://x.example/\u009b31m'],
    ['an endless URL', `https://x.example/${'a'.repeat(10_000)}`],
  ])('data.url with %s is OstProtocolError', async (_n, url) => {
    answer = { body: { code: 0, sid: 's', data: { url } } };
    const err = await client.upload(source).catch((e: unknown) => e) as OstError;
    expect(err).toBeInstanceOf(OstProtocolError);
    expect(err.describe()).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(err.describe().length).toBeLessThan(2_000);
  });

  it('accepts a plain https URL', async () => {
    answer = { body: { code: 0, sid: 's', data: { url: 'https://x.example/files/1/a.bin?sig=1' } } };
    await expect(client.upload(source)).resolves.toEqual({ url: 'https://x.example/files/1/a.bin?sig=1', sid: 's' });
  });

  it.each([['CR/LF', 'up\r\nslice_id: 9'], ['a space', 'up 1'], ['1,000 characters', 'u'.repeat(1000)]])('an upload_id with %s from init is OstProtocolError', async (_n, uploadId) => {
    answer = { body: { code: 0, sid: 's', data: { upload_id: uploadId } } };
    await expect(client.init()).rejects.toBeInstanceOf(OstProtocolError);
  });

  it('a sid or message with line breaks and escapes is quoted in describe(), and both are bounded', async () => {
    answer = { body: { code: 10001, sid: 'sid\r\nx=1 \u001b[2J', message: `bad\n\u001b[31m${'m'.repeat(50_000)}` } };
    const err = await client.init().catch((e: unknown) => e) as OstError;
    expect(err).toBeInstanceOf(OstInvalidRequestError);
    const line = err.describe();
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(line.length).toBeLessThan(2 * MAX_MESSAGE_CHARS + 500);
    expect(err.message.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
    expect(line).toContain('sid="sid\\r\\nx=1 \\u001b[2J"');
  });
});

describe('TLS failures are one-line OstTlsError, not retried', () => {
  it('an https endpoint that speaks plain http (wrong version number)', async () => {
    const ost = await fakeOst(() => ({ body: {} }));
    const client = new OstClient({ endpoint: ost.endpoint.replace('http:', 'https:'), appId: 'app', apiKey: KEY, apiSecret: SECRET, retry: { attempts: 3, baseDelayMs: 0 } });
    const err = await client.init().catch((e: unknown) => e) as OstError;
    await client.close();
    await ost.close();
    expect(err).toBeInstanceOf(OstTlsError);
    expect(err.describe()).toMatch(/^OstTlsError message=".*(wrong version number|SSL)/i);
  });

  it('a self-signed certificate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ost-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
    } catch { return; /* no openssl: nothing to test with */ }
    const server = createHttpsServer({ key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) }, (_q, s) => s.end('{}'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const client = new OstClient({ endpoint: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, appId: 'app', apiKey: KEY, apiSecret: SECRET, retry: { attempts: 3, baseDelayMs: 0 } });
    const err = await client.init().catch((e: unknown) => e) as OstError;
    await client.close();
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
    expect(err).toBeInstanceOf(OstTlsError);
    expect(err.describe()).toMatch(/SELF_SIGNED|self.signed/i);
  });
});

describe('credentials and settings with control characters', () => {
  it.each(['OST_API_KEY', 'OST_APP_ID', 'OST_API_SECRET'])('%s holding a newline is a ConfigError naming it', (name) => {
    const env = { OST_APP_ID: 'app', OST_API_KEY: 'key', OST_API_SECRET: 'secret', [name]: 'ab\ncd' };
    expect(() => ostClientOptionsFromEnv(env)).toThrow(expect.objectContaining({ name: 'ConfigError', setting: name }));
  });
  it('OST_APP_ID with an escape in the Lambda settings is a ConfigError naming it', () => {
    expect(() => loadSettings({ OST_APP_ID: 'a\u001bb' })).toThrow(expect.objectContaining({ setting: 'OST_APP_ID' }));
  });
  it('POWERTOOLS_LOG_LEVEL must be a level Powertools knows', () => {
    expect(() => loadSettings({ POWERTOOLS_LOG_LEVEL: 'verbose' })).toThrow(expect.objectContaining({ setting: 'POWERTOOLS_LOG_LEVEL' }));
    expect(loadSettings({ POWERTOOLS_LOG_LEVEL: 'debug' }).logLevel).toBe('DEBUG');
  });
  const provider = (values: Record<string, string>) => ({ get: async (name: string) => values[name] }) as never;
  const s = loadSettings({ OST_API_KEY_PARAM: '/k', OST_API_SECRET_PARAM: '/s' });
  it('an SSM api_key ending in a newline (put-parameter --value file://) is trimmed', async () => {
    await expect(loadSecrets(provider({ '/k': 'the-key\n', '/s': 'the-secret\r\n' }), s)).resolves.toEqual({ apiKey: 'the-key', apiSecret: 'the-secret' });
  });
  it('an SSM api_key with a line break inside is refused naming OST_API_KEY_PARAM and the parameter, not the value', async () => {
    const err = await loadSecrets(provider({ '/k': 'zz-key\nqq', '/s': 'x' }), s).catch((e: unknown) => e) as Error;
    expect(err).toMatchObject({ name: 'ConfigError', setting: 'OST_API_KEY_PARAM' });
    expect(err.message).toContain('/k');
    expect(err.message).not.toMatch(/zz-key|qq/);
  });
});

describe('the loopback AWS endpoint answers only this run', () => {
  let aws: AwsServer;
  beforeAll(async () => {
    aws = await startAwsServer({
      parameters: { '/ost/api-secret': SECRET },
      stepFunctions: {
        startExecution: () => ({ executionArn: 'arn:aws:states:us-east-1:000000000000:execution:sm:n', startDate: new Date() }),
        describeExecution: () => { throw new Error('no'); },
      },
    });
  });
  afterAll(() => aws.close());

  it.each([
    ['AmazonSSM.GetParameter', { Name: '/ost/api-secret', WithDecryption: true }],
    ['AmazonSSM.GetParameters', { Names: ['/ost/api-secret'], WithDecryption: true }],
    ['AWSStepFunctions.StartExecution', { stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:sm', input: '{}' }],
    ['AWSStepFunctions.DescribeExecution', { executionArn: 'arn:x' }],
    ['AWSStepFunctions.ListExecutions', {}],
    ['AWSEvents.PutEvents', { Entries: [{ Source: 's', DetailType: 'd', Detail: '{}' }] }],
  ])('%s without the per-run token is refused (403) and reveals nothing', async (target, body) => {
    const before = aws.events.length;
    for (const path of ['/', `/${'0'.repeat(32)}/`, '/../']) {
      const res = await fetch(aws.origin + path, { method: 'POST', headers: { 'x-amz-target': target, 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify(body) });
      const text = await res.text();
      expect(res.status).toBe(403);
      expect(text).not.toContain(SECRET);
    }
    expect(aws.events.length).toBe(before);
  });

  it('the SDK pointed at the endpoint (which holds the token) is answered', async () => {
    const ssm = new SSMClient({ endpoint: aws.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
    const p = await ssm.send(new GetParameterCommand({ Name: '/ost/api-secret', WithDecryption: true }));
    ssm.destroy();
    expect(p.Parameter?.Value).toBe(SECRET);
    expect(aws.origin).not.toContain(aws.endpoint.split('/').pop());
  });
});
