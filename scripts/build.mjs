// Bundles the CLI and the benchmark into dist/ (CommonJS, Node 22: engines). Lambda bundles are made by serverless-esbuild.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';

const entries = { cli: 'cli/main.ts', bench: 'bench/bench.ts' };
const entryPoints = Object.fromEntries(Object.entries(entries).filter(([, f]) => existsSync(f)));
await build({
  entryPoints,
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  sourcemap: 'linked',
  // s3rver and aws-local-stepfunctions are kept external: they load files relative to their own package.
  packages: 'external',
  logLevel: 'warning',
});
