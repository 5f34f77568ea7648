// Security checks: the packaged CloudFormation template (least privilege, no secret), and the OST client's
// defences (no plain http off loopback, no header or part injection through a file name, the signature's date
// within the gateway's skew).
import { Readable } from 'node:stream';
import { Busboy } from '@fastify/busboy';
import { CREATED_PARAMS, EXISTING_PARAMS, packaged, PACKAGING_API_KEY, PACKAGING_SECRET, type Packaged } from './support/package';
import { OstClient, parseEndpoint } from '../lib/ost/client';
import { multipartBody, multipartEnvelope } from '../lib/ost/multipart';
import { OstAuthError } from '../lib/ost/errors';
import { loadSettings } from '../lib/settings';
import { startEmulator, type OstEmulator } from '../local/emulator';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

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
