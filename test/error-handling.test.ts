// One list of errors: every class declares its name and handling once (lib/core/error-handling.ts); isRetryable and
// the state machine's name lists derive from it. That the names survive minification: test/bundles.test.ts.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { handlingOf } from '../lib/core/error-handling';
import { FATAL_ERROR_NAMES, isRetryable, OST_ERRORS, RESTART_ERROR_NAMES, RETRYABLE_ERROR_NAMES } from '../lib/ost/errors';
import { ADMISSION_FATAL_ERROR_NAMES, ADMISSION_RETRYABLE_ERROR_NAMES } from '../lib/admission/errors';
import { AWS_RETRYABLE_ERROR_NAMES } from '../lib/core/aws-errors';
import { BATCH_FATAL_ERROR_NAMES, BATCH_RETRYABLE_ERROR_NAMES } from '../lib/workflow/batch-errors';

const ROOT = join(__dirname, '..');
const libFiles = (dir = join(ROOT, 'lib')): string[] => readdirSync(dir, { withFileTypes: true })
  .flatMap((d) => (d.isDirectory() ? libFiles(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : []));

describe('the list of errors', () => {
  it('gives every OST error class a stable name, a code and one handling', () => {
    for (const C of OST_ERRORS as unknown as Array<(new (m: string) => Error & { code: string }) & { errorName: string; handling: string }>) {
      const e = new C('m');
      expect([C.errorName, e.name]).toEqual([C.errorName, C.errorName]);
      expect(e.code).toMatch(/^[A-Z_]+$/);
      expect(handlingOf(e)).toBe(C.handling);
      expect(isRetryable(e)).toBe(C.handling === 'retry');
    }
    const all = [...RETRYABLE_ERROR_NAMES, ...FATAL_ERROR_NAMES, ...RESTART_ERROR_NAMES];
    expect(new Set(all).size).toBe(OST_ERRORS.length);
    expect(ADMISSION_RETRYABLE_ERROR_NAMES).toEqual(['AdmissionUnavailableError']);
    expect(ADMISSION_FATAL_ERROR_NAMES).toEqual(['AdmissionConfigError', 'AdmissionInputError']);
    expect(AWS_RETRYABLE_ERROR_NAMES).toEqual(['AwsTransientError', 'EventPublishError']);
    expect(BATCH_RETRYABLE_ERROR_NAMES).toEqual(['BatchCutShortError']);
    expect(BATCH_FATAL_ERROR_NAMES).toEqual(['SliceTooSlowError']);
  });

  it('declares every error class lib/ throws with its name and handling (a class no other class extends)', () => {
    const classes = libFiles().flatMap((file) => {
      const text = readFileSync(file, 'utf8');
      return [...text.matchAll(/^export class (\w+) extends (\w+)/gm)].map((m) => ({ file, name: m[1]!, base: m[2]!, body: text.slice(m.index!, text.indexOf('\n}', m.index!)) }));
    });
    const errors = classes.filter((c) => /Error$/.test(c.base));
    const bases = new Set(errors.map((c) => c.base));
    const undeclared = errors.filter((c) => !bases.has(c.name))
      .filter((c) => !c.body.includes(`static readonly errorName = '${c.name}'`) || !/static readonly handling: ErrorHandling = '(retry|restart|fatal)'/.test(c.body))
      .map((c) => `${relative(ROOT, c.file)}: ${c.name}`);
    expect(errors.length).toBeGreaterThan(20);
    expect(undeclared).toEqual([]);
  });

});
