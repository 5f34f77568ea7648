// Fault suite, part 5: versioned buckets. Suspended versioning (HeadObject and the event say version
// "null", which pins nothing): an overwrite during a transfer — multipart, simple, or before a 10005 restart's HEAD —
// must fail the old version loudly (If-Match on the planned ETag) and forward the new one once, never mixed bytes or
// the new bytes under the old record. Enabled versioning: the old version stays readable by its id, so both
// versions are forwarded byte-exact.
import { bytesFor, defineFaultSuite, MiB, KiB, type Scenario, type ScenarioResult } from './support/faults';

const MULTI = 12 * MiB;
const SIMPLE = 64 * KiB;
const SLICE2 = 5 * MiB;

const cancelled = (r: ScenarioResult) => (r.versions.some((v) => v.record?.status === 'failed' && v.record.cancelled === true) ? [] : ['the failed version was not cancelled']);
const forwards = (n: number) => (r: ScenarioResult) => (r.forwards.length === n ? [] : [`${r.forwards.length} forwards, expected ${n}`]);

function suspended(): Scenario[] {
  return [
    { name: 'suspended: multipart forwarded byte-exact', size: MULTI, expect: 'forwarded', verify: forwards(1) },
    { name: 'suspended: simple forwarded byte-exact', size: SIMPLE, expect: 'forwarded', verify: forwards(1) },
    {
      name: 'suspended: overwritten before slice 2: old fails (412 on its ETag) and is cancelled, new forwarded once', size: MULTI, expect: 'mixed', error: 'SourceChangedError',
      s3: (c) => [{ method: 'GET', key: c.key, rangeStart: SLICE2, before: () => c.put(bytesFor(MULTI, `${c.key} v2`)) }],
      verify: (r) => [...cancelled(r), ...forwards(1)(r)],
    },
    {
      name: 'suspended: simple upload overwritten before its read: old fails, new forwarded once', size: SIMPLE, expect: 'mixed', error: 'SourceChangedError',
      s3: (c) => [{ method: 'GET', key: c.key, before: () => c.put(bytesFor(SIMPLE + 1, `${c.key} v2`)) }],
      verify: forwards(1),
    },
    {
      name: 'suspended: 10005 at complete, overwritten before the restart: the restart refuses the new bytes, new forwarded once', size: MULTI, expect: 'mixed', error: 'SourceChangedError',
      ost: [{ call: 'complete', code: 10005 }],
      s3: (c) => [{ method: 'HEAD', key: c.key, skip: 1, before: () => c.put(bytesFor(MULTI, `${c.key} v2`)) }],
      verify: forwards(1),
    },
  ];
}

function enabled(): Scenario[] {
  return [
    {
      name: 'enabled: overwritten before slice 2: the old version is read by its id, both forwarded byte-exact', size: MULTI, expect: 'forwarded',
      s3: (c) => [{ method: 'GET', key: c.key, rangeStart: SLICE2, before: () => c.put(bytesFor(MULTI, `${c.key} v2`)) }],
      verify: forwards(2),
    },
    {
      name: 'enabled: simple upload overwritten before its read: both forwarded byte-exact', size: SIMPLE, expect: 'forwarded',
      s3: (c) => [{ method: 'GET', key: c.key, before: () => c.put(bytesFor(SIMPLE + 1, `${c.key} v2`)) }],
      verify: forwards(2),
    },
    {
      name: 'enabled: 10005 at complete, overwritten before the restart: the restart stays on its version, both forwarded', size: MULTI, expect: 'forwarded',
      ost: [{ call: 'complete', code: 10005 }],
      s3: (c) => [{ method: 'HEAD', key: c.key, skip: 1, before: () => c.put(bytesFor(MULTI, `${c.key} v2`)) }],
      verify: forwards(2),
    },
  ];
}

describe('fault suite: versioning suspended', () => {
  defineFaultSuite('suspended', suspended, { versioning: 'Suspended' });
});
describe('fault suite: versioning enabled', () => {
  defineFaultSuite('enabled', enabled, { versioning: 'Enabled' });
});
