// One set of transient AWS error names (lib/core/aws-errors.ts), and every classifier of AWS failures agrees with it.
import { awsCall, AwsTransientError, isTransientAwsError, TRANSIENT_AWS_ERROR_NAMES } from '../lib/core/aws-errors';
import { mapS3Error } from '../lib/sources/s3';
import { SourceReadError } from '../lib/ost/errors';
import { startFailure } from '../lib/intake/batch';
import { admissionErrorFrom, AdmissionConfigError, AdmissionUnavailableError } from '../lib/admission/errors';

/** An SDK error as the service answers it: a name and a 4xx status (so only the name can make it transient). */
const answered = (name: string, status = 400): Error => Object.assign(new Error('m'), { name, $metadata: { httpStatusCode: status } });

describe('the transient AWS error names', () => {
  it('are read the same by the source reads, the records, the intake and the admission table', async () => {
    expect(TRANSIENT_AWS_ERROR_NAMES.size).toBeGreaterThan(20);
    for (const name of TRANSIENT_AWS_ERROR_NAMES) {
      const err = answered(name);
      expect({ name, source: mapS3Error(err, 'GetObject') instanceof SourceReadError }).toEqual({ name, source: true });
      expect({ name, records: isTransientAwsError(err) }).toEqual({ name, records: true });
      await expect(awsCall('PutObject', () => Promise.reject(err))).rejects.toBeInstanceOf(AwsTransientError);
      expect({ name, intake: startFailure(err).transient }).toEqual({ name, intake: true });
      expect({ name, admission: admissionErrorFrom(err, { operation: 'acquire' }) instanceof AdmissionUnavailableError }).toEqual({ name, admission: true });
    }
  });

  it('leave an answered refusal alone: AccessDenied fails loudly everywhere', async () => {
    const err = answered('AccessDenied', 403);
    expect(mapS3Error(err, 'GetObject')).toBe(err);
    expect(isTransientAwsError(err)).toBe(false);
    await expect(awsCall('PutObject', () => Promise.reject(err))).rejects.toBe(err);
    expect(startFailure(err).transient).toBe(false);
    expect(admissionErrorFrom(err, { operation: 'acquire' })).toBeInstanceOf(AdmissionConfigError);
  });
});
