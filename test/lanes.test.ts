// The test lanes (test/support/lanes.js): every test file in exactly one, and the unit lane as fast as it promises,
// read from the imports: nothing a unit test loads, directly or through the code it tests, starts a local stand-in,
// a child process or a bundler.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const { lanes, TEST_DIR } = require('./support/lanes.js') as { lanes: () => Record<string, string[]>; TEST_DIR: string };

const ROOT = resolve(TEST_DIR, '..');
/** Packages that start something: a process, a bundler, the serverless CLI, or one of the local AWS stand-ins. */
const STARTERS = ['child_process', 'node:child_process', 'esbuild', 'serverless', 's3rver', 'dynalite', 'aws-local-stepfunctions'];

function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)].map((m) => m[1]!);
}

function resolveFile(from: string, spec: string): string | undefined {
  const base = resolve(dirname(from), spec);
  return [`${base}.ts`, join(base, 'index.ts'), base, `${base}.js`].find((p) => existsSync(p) && statSync(p).isFile());
}

/** Why a test file is not a unit test (`a -> b -> child_process`), or undefined. */
function whyNotUnit(testFile: string): string | undefined {
  const seen = new Set<string>();
  const walk = (file: string, chain: string[]): string | undefined => {
    if (seen.has(file)) return undefined;
    seen.add(file);
    const here = [...chain, relative(ROOT, file)];
    if (relative(ROOT, file).startsWith('local/')) return here.join(' -> ');
    for (const spec of specifiers(file)) {
      if (STARTERS.includes(spec)) return [...here, spec].join(' -> ');
      if (!spec.startsWith('.')) continue;
      const next = resolveFile(file, spec);
      const why = next && /\.(ts|js|cjs)$/.test(next) ? walk(next, here) : undefined;
      if (why) return why;
    }
    return undefined;
  };
  return walk(testFile, []);
}

describe('the test lanes', () => {
  it('put every test file in exactly one lane, and name only files that exist', () => {
    const all = Object.values(lanes()).flat();
    expect(all.length).toBe(new Set(all).size);
    for (const name of all) expect({ name, exists: existsSync(join(TEST_DIR, `${name}.test.ts`)) }).toEqual({ name, exists: true });
    expect(lanes().unit!.length).toBeGreaterThan(20);
  });

  it('keep the unit lane free of local stand-ins, child processes and bundlers, through every import', () => {
    const found = lanes().unit!.map((name) => whyNotUnit(join(TEST_DIR, `${name}.test.ts`))).filter((why) => why !== undefined);
    expect(found).toEqual([]);
  });

  it('find a test that reaches the local stack through the code it imports', () => {
    expect(whyNotUnit(join(TEST_DIR, 'bench-fleet-cost.test.ts'))).toMatch(/^test\/bench-fleet-cost\.test\.ts -> bench\/fleet\.ts -> local\//);
    expect(whyNotUnit(join(TEST_DIR, 'cli-put.test.ts'))).toMatch(/child_process|local\//);
  });
});
