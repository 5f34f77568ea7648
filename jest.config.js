/**
 * Tests are transformed with SWC (fast, no type-check); `npm test` runs `tsc --noEmit` first for types. One jest
 * project per lane (test/support/lanes.js): `npm run test:unit` is the seconds-long one, `npm test` runs them all.
 */
const { lanes } = require('./test/support/lanes.js');

const project = (name, files) => ({
  displayName: name,
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: files.map((f) => `<rootDir>/test/${f}.test.ts`),
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }] },
});

module.exports = {
  projects: Object.entries(lanes()).map(([name, files]) => project(name, files)),
  testTimeout: 120000,
  maxWorkers: 2,
  // jest's summary, then plain closing lines (`jest: N passed, N failed, N skipped` and the fault tally).
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
