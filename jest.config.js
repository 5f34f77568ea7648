/** Tests are transformed with SWC (fast, no type-check); `npm test` runs `tsc --noEmit` first for types. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }] },
  testTimeout: 120000,
  maxWorkers: 2,
  // jest's summary, then plain closing lines (`jest: N passed, N failed, N skipped` and the fault tally).
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
