// The Lambda bundles as serverless-esbuild builds them (scripts/lambda-esbuild.cjs): each handler carries only what
// it calls. The trigger and Report never call OST (no undici, no SSM client); no bundle carries undici's fetch,
// WebSocket or mock agents; none is over 1 MB (the cold-start goal); the error names the state machine matches survive
// minification.
import { build, type Metafile } from 'esbuild';
import { join } from 'node:path';
import { HANDLERS } from '../bench/cold-start';

const ROOT = join(__dirname, '..');
const { options } = require(join(ROOT, 'scripts', 'lambda-esbuild.cjs')) as { options: Record<string, unknown> };
const { exclude: _exclude, packager: _packager, ...esbuildOptions } = options;

const bundles = new Map<string, { bytes: number; inputs: string[] }>();

beforeAll(async () => {
  for (const h of HANDLERS) {
    const r = await build({ ...esbuildOptions, absWorkingDir: ROOT, entryPoints: [join(ROOT, h.file)], outfile: join(ROOT, '.bundle-test', `${h.fn}.js`), write: false, metafile: true, logLevel: 'error' });
    const [, out] = Object.entries((r.metafile as Metafile).outputs).find(([k]) => k.endsWith('.js'))!;
    bundles.set(h.fn, { bytes: out.bytes, inputs: Object.keys(out.inputs) });
  }
}, 120_000);

const has = (fn: string, path: string) => bundles.get(fn)!.inputs.some((i) => i.includes(path));

it('is minified from the dependencies\' ES module builds, with the source map outside the bundle', () => {
  expect(esbuildOptions).toMatchObject({ minify: true, sourcemap: 'external', target: 'node22', format: 'cjs', mainFields: ['module', 'main'] });
});

it('leaves undici and the SSM client out of the handler that never calls OST', () => {
  for (const fn of ['report']) {
    expect({ fn, undici: has(fn, 'node_modules/undici/') }).toEqual({ fn, undici: false });
    expect({ fn, ssm: has(fn, '@aws-sdk/client-ssm') }).toEqual({ fn, ssm: false });
    expect({ fn, ost: has(fn, 'lib/ost/client.ts') }).toEqual({ fn, ost: false });
  }
  expect(has('trigger', '@aws-sdk/client-s3')).toBe(false);
  // the trigger calls OST only for the breaker's recovery probe (init + cancel)
  for (const fn of ['trigger', 'prepare', 'uploadWhole', 'uploadSlices', 'complete', 'cancel']) expect({ fn, ost: has(fn, 'lib/ost/client.ts') }).toEqual({ fn, ost: true });
});

it('takes only the undici Pool (no fetch, WebSocket, mock agents or cache stores)', () => {
  for (const fn of ['prepare', 'uploadSlices']) {
    expect(has(fn, 'undici/lib/dispatcher/pool.js')).toBe(true);
    // (lib/web/fetch/body.js and its helpers come with api/readable.js, the response body)
    for (const part of ['undici/lib/web/websocket/', 'undici/lib/web/fetch/index.js', 'undici/lib/mock/', 'undici/lib/cache/', 'undici/index.js']) expect({ fn, part, in: has(fn, part) }).toEqual({ fn, part, in: false });
  }
});

it('keeps every bundle at most 1 MB of JS (Report under 0.6 MB, prepare with its media parser 1.25 MB)', () => {
  for (const [fn, b] of bundles) {
    const limit = fn === 'report' ? 600_000 : fn === 'prepare' ? 1_250_000 : 1_000_000;
    expect({ fn, under: b.bytes <= limit, bytes: b.bytes }).toEqual({ fn, under: true, bytes: b.bytes });
  }
});

it('keeps the declared error names in a minified Lambda bundle (the state machine matches them)', async () => {
  const { minify, target, platform, format } = options as { minify: boolean; target: string; platform: 'node'; format: 'cjs' };
  const out = await build({
    bundle: true, minify, target, platform, format, write: false, logLevel: 'silent',
    stdin: {
      contents: "const e = require('./lib/ost/errors'); const a = require('./lib/admission/errors'); const w = require('./lib/core/aws-errors'); const c = require('./lib/core/errors');"
        + " const b = require('./lib/workflow/batch-errors');"
        + " module.exports = [new e.OstServerError('x').name, new e.SourceChangedError('x').name, new a.AdmissionUnavailableError('x').name, new w.AwsTransientError('x').name, new c.ConfigError('X', 'y').name,"
        + " new b.BatchCutShortError(1, 1, 1).name, new b.SliceTooSlowError(1, 1).name];",
      resolveDir: ROOT, loader: 'ts',
    },
  } as Parameters<typeof build>[0]);
  const mod = { exports: [] as string[] };
  new Function('module', 'exports', 'require', out.outputFiles![0]!.text)(mod, mod.exports, require);
  expect(mod.exports).toEqual(['OstServerError', 'SourceChangedError', 'AdmissionUnavailableError', 'AwsTransientError', 'ConfigError', 'BatchCutShortError', 'SliceTooSlowError']);
});
