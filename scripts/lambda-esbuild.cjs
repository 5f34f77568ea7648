// esbuild options of the Lambda bundles: serverless-esbuild reads them (serverless.yml custom.esbuild.config), and
// the cold-start bench (bench/cold-start.ts) builds the same bundles with them.
// Minified, and the source map beside the bundle without a sourceMappingURL comment: Node never reads it (no
// --enable-source-maps), a stack trace is mapped offline with the .map from the package.
'use strict';

const options = {
  bundle: true,
  minify: true,
  sourcemap: 'external',
  target: 'node22',
  platform: 'node',
  format: 'cjs',
  // Bundle the AWS SDK too: the versions tested here are the versions deployed.
  exclude: [],
  packager: 'npm',
  // The ES module builds of the dependencies first (the AWS SDK's dist-es): esbuild tree-shakes them, which it
  // cannot do with the CommonJS builds (a third of every bundle).
  mainFields: ['module', 'main'],
  // Only the undici Pool (scripts/undici-pool.cjs): a quarter of every OST-calling bundle otherwise.
  alias: { undici: './scripts/undici-pool.cjs' },
};

module.exports = () => ({ ...options });
module.exports.options = options;
