// The test lanes, by kind. jest.config.js makes each a jest project (`npm run test:<lane>`, `npm test` runs them all);
// test/lanes.test.ts holds the unit lane to its promise: nothing it loads starts a stack, a process or a bundler.
//   unit       pure logic in-process, AWS mocked at the SDK boundary: seconds
//   packaging  the serverless package and the Lambda bundles as esbuild builds them
//   faults     the fault suite (faults-*.test.ts): writes docs/faults.md
//   local      the rest: the OST emulator, the AWS stand-ins, the whole local stack, the CLI as a process
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const TEST_DIR = path.join(__dirname, '..');

const UNIT = [
  'attempt-markers', 'aws-errors', 'bench-cost', 'bench-outage-cost', 'cancel-lookup', 'definition',
  'definition-throttle', 'eligibility', 'error-handling', 'execution-end', 'handlers-trigger', 'intake', 'intake-outage', 'lanes', 'layout',
  'media-probe', 'ost-adaptive', 'ost-config', 'ost-multipart',
  'ost-retry', 'ost-send', 'ost-signing', 'plan', 'runtime-heap', 's3-event', 's3-source', 'settings',
  'settings-admission', 'settings-table', 'throttle-budget',
];
const PACKAGING = ['bundles', 'bundles-run', 'deploy-checks', 'package', 'security', 'template'];

/** Every test file's name (without `.test.ts`) by lane; a file no list names is in the local lane. */
function lanes() {
  const all = fs.readdirSync(TEST_DIR).filter((f) => f.endsWith('.test.ts')).map((f) => f.slice(0, -'.test.ts'.length)).sort();
  const faults = all.filter((f) => f.startsWith('faults-'));
  const named = new Set([...UNIT, ...PACKAGING, ...faults]);
  return { unit: UNIT, packaging: PACKAGING, faults, local: all.filter((f) => !named.has(f)) };
}

module.exports = { lanes, TEST_DIR };
