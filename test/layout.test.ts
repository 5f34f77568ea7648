// The house's rules, read from the code's own imports: lib/ is folders of one concern each, stacked in one order
// (a folder imports only the folders below it), lib/ost/ knows nothing of AWS, and no source file outgrows a reader.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');

/** lib/'s folders from the ground up: each may import itself and the folders before it, never one after it. */
const LIB_FLOORS = ['core', 'ost', 'config', 'admission', 'workflow', 'sources', 'intake', 'runtime'] as const;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' || name === 'dist' ? [] : sourceFiles(path);
    return /\.(ts|mjs|cjs|js)$/.test(name) ? [path] : [];
  });
}

/** Every module a file names: static and dynamic imports, re-exports, require() and jest.mock(). */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found = [...text.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)];
  return found.map((m) => m[1]);
}

function libFolderOf(path: string): string | undefined {
  const rel = relative(join(ROOT, 'lib'), path);
  return rel.startsWith('..') ? undefined : rel.split(/[\\/]/)[0];
}

const libFiles = sourceFiles(join(ROOT, 'lib'));

/** Why `spec`, imported by `file` in lib/, breaks the floor order; undefined when it does not. */
function wrongWay(file: string, spec: string): string | undefined {
  const target = resolve(dirname(file), spec);
  const folder = libFolderOf(target);
  if (folder === undefined) return `${relative(ROOT, file)} -> ${spec} (outside lib/)`;
  const own = LIB_FLOORS.indexOf(libFolderOf(file) as (typeof LIB_FLOORS)[number]);
  const floor = LIB_FLOORS.indexOf(folder as (typeof LIB_FLOORS)[number]);
  return floor > own ? `${relative(ROOT, file)} -> ${relative(ROOT, target)}` : undefined;
}

describe('the layout of lib/', () => {
  it('keeps nothing at lib/ root: every file lives in a concern folder named in the floor order', () => {
    const loose = libFiles.filter((f) => dirname(f) === join(ROOT, 'lib')).map((f) => relative(ROOT, f));
    expect(loose).toEqual([]);
    const folders = new Set(libFiles.map((f) => libFolderOf(f)));
    expect([...folders].sort()).toEqual([...LIB_FLOORS].sort());
  });

  it('imports only downward: a lib/ folder names itself or a folder below it, never one above', () => {
    const found = libFiles.flatMap((file) => specifiers(file).filter((s) => s.startsWith('.'))
      .map((spec) => wrongWay(file, spec)).filter((why): why is string => why !== undefined));
    expect(found).toEqual([]);
  });

  it('finds a wrong-way import when there is one', () => {
    expect(wrongWay(join(ROOT, 'lib/core/errors.ts'), '../runtime/step')).toBe('lib/core/errors.ts -> lib/runtime/step');
    expect(wrongWay(join(ROOT, 'lib/ost/client.ts'), '../../cli/output')).toMatch(/outside lib/);
    expect(wrongWay(join(ROOT, 'lib/runtime/step.ts'), '../core/errors')).toBeUndefined();
  });

  it('keeps lib/ost/ and lib/core/ free of AWS: no AWS SDK, Powertools or Lambda types', () => {
    const aws = libFiles
      .filter((f) => ['ost', 'core'].includes(libFolderOf(f) ?? ''))
      .flatMap((f) => specifiers(f).filter((s) => /^(@aws-sdk|@aws-lambda-powertools|aws-lambda)/.test(s))
        .map((s) => `${relative(ROOT, f)} -> ${s}`));
    expect(aws).toEqual([]);
  });

});

describe('the size of a room', () => {
  it('has no source file over 400 lines outside test/', () => {
    const tooLong = ['lib', 'functions', 'cli', 'local', 'bench', 'scripts', 'statemachine']
      .flatMap((d) => sourceFiles(join(ROOT, d)))
      .map((f) => ({ file: relative(ROOT, f), lines: readFileSync(f, 'utf8').split('\n').length }))
      .filter((x) => x.lines > 400);
    expect(tooLong).toEqual([]);
  });
});
