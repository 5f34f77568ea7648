/**
 * Tests are transformed with SWC (fast, no type-check); `npm test` runs `tsc --noEmit` first for types. One jest
 * project per lane (test/support/lanes.js): `npm run test:unit` is the seconds-long one, `npm test` runs them all.
 */
const { lanes } = require('./test/support/lanes.js');

/** Packages published only as ES modules (music-metadata and what it imports). */
const ESM_ONLY = ['music-metadata', 'file-type', 'strtok3', 'token-types', '@tokenizer', '@borewit', 'uint8array-extras', 'win-guid', 'content-type', 'media-typer'];

const project = (name, files) => ({
  displayName: name,
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: files.map((f) => `<rootDir>/test/${f}.test.ts`),
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }],
    // The media parser and its dependencies ship only ES modules: SWC turns them into CommonJS for jest.
    '^.+\\.js$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'ecmascript' } }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_ONLY.join('|')})/)`],
  // Its `exports` name only the import and module-sync conditions, which jest's resolver does not try.
  moduleNameMapper: { '^music-metadata$': '<rootDir>/node_modules/music-metadata/lib/index.js' },
});

module.exports = {
  projects: Object.entries(lanes()).map(([name, files]) => project(name, files)),
  testTimeout: 120000,
  maxWorkers: 2,
  // jest's summary, then plain closing lines (`jest: N passed, N failed, N skipped` and the fault tally).
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
