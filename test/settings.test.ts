// What the handlers stand on: settings (read once, validated), batch sizing, S3 error mapping, step errors.
import { loadSettings, settings, resetSettings } from '../lib/config/settings';
import { batchSizing, sliceBatches } from '../lib/workflow/batches';
import { mapS3Error } from '../lib/sources/s3';
import { parseStepError, stepErrorMessage } from '../lib/workflow/step-errors';
import { toStepError } from '../lib/runtime/step';
import { OstThrottledError, SourceChangedError, SourceReadError } from '../lib/ost/errors';
import { MiB } from '../lib/ost/plan';

describe('loadSettings', () => {
  it('has documented defaults', () => {
    expect(loadSettings({})).toEqual({
      ostEndpoint: 'https://upload-ost-api.xfyun.cn', ostAppId: undefined, ostCloudId: undefined,
      apiKeyParam: undefined, apiSecretParam: undefined, secretsMaxAgeSeconds: 300, multipartDigest: 'empty',
      sliceSize: 16 * MiB, simpleThreshold: 30 * MiB, smallFileUpload: 'simple', consumer: 'none', minSliceSize: 5 * MiB, sliceConcurrency: 8, mapMaxConcurrency: 8,
      conservativeMBps: 1, uploadSlicesTimeoutSeconds: 900, resultsBucket: undefined, resultsPrefix: 'ost-forwarder/',
      eventBusName: 'default', keyPrefixes: [], keySuffixes: [], stateMachineArn: undefined, maxRestarts: 2,
      s3Endpoint: undefined, s3ForcePathStyle: false,
    });
  });

  it.each([
    ['SLICE_SIZE', 'abc'], ['SLICE_SIZE', '1024'], ['SLICE_CONCURRENCY', '0'], ['MAP_MAX_CONCURRENCY', '1.5'],
    ['CONSERVATIVE_MBPS', '-1'], ['MAX_RESTARTS', '11'], ['S3_FORCE_PATH_STYLE', 'maybe'], ['OST_ENDPOINT', 'http://example.com'],
    ['S3_ENDPOINT', 'not a url'], ['STATE_MACHINE_ARN', 'sm'], ['OST_MULTIPART_DIGEST', 'md5'], ['RESULTS_PREFIX', '/abs/'], ['SMALL_FILE_UPLOAD', 'single'], ['CONSUMER', 'long-transcription'],
  ])('throws a ConfigError naming %s for %j', (name, value) => {
    expect(() => loadSettings({ [name]: value })).toThrow(expect.objectContaining({ name: 'ConfigError', setting: name }));
  });

  it('parses lists, booleans and the local S3 endpoint', () => {
    const s = loadSettings({ KEY_SUFFIX_FILTER: '.wav, .mp3,', S3_ENDPOINT: 'http://127.0.0.1:4569', S3_FORCE_PATH_STYLE: 'true', MIN_SLICE_SIZE: '1024', SLICE_SIZE: '2048' });
    expect(s).toMatchObject({ keySuffixes: ['.wav', '.mp3'], s3Endpoint: 'http://127.0.0.1:4569', s3ForcePathStyle: true, sliceSize: 2048 });
  });

  it('is memoised until resetSettings()', () => {
    process.env.SLICE_CONCURRENCY = '5';
    resetSettings();
    expect(settings().sliceConcurrency).toBe(5);
    process.env.SLICE_CONCURRENCY = '6';
    expect(settings().sliceConcurrency).toBe(5);
    resetSettings();
    expect(settings().sliceConcurrency).toBe(6);
    delete process.env.SLICE_CONCURRENCY;
    resetSettings();
  });
});

describe('batches', () => {
  it('sizes a batch to half the timeout at the conservative throughput', () => {
    expect(batchSizing(16 * MiB, 10, 900)).toEqual({ slicesPerBatch: 281, budgetBytes: 4500 * MiB, fitsBudget: true });
    expect(batchSizing(5 * 1024 * MiB, 10, 900)).toMatchObject({ slicesPerBatch: 1, fitsBudget: false });
  });

  it('sizes for the streams of a batch at the per-stream rate (defaults: 8 x 1 MiB/s, 900 s = 225 slices of 16 MiB)', () => {
    expect(batchSizing(16 * MiB, 1, 900, 8)).toEqual({ slicesPerBatch: 225, budgetBytes: 3600 * MiB, fitsBudget: true });
    expect(batchSizing(16 * MiB, 1, 900, 8).slicesPerBatch * 16 / 8 / 1).toBeLessThanOrEqual(900 * 0.5);
  });

  it('covers 1..n with consecutive descriptors', () => {
    expect(sliceBatches(1, 281)).toEqual([[1, 1]]);
    expect(sliceBatches(7, 3)).toEqual([[1, 3], [4, 3], [7, 1]]);
    const b = sliceBatches(10_000, 281);
    expect(b.reduce((n, [, c]) => n + c, 0)).toBe(10_000);
    expect(b.at(-1)).toEqual([9836, 165]);
  });
});

describe('mapS3Error', () => {
  const err = (name: string, status?: number) => Object.assign(new Error(name), { name, ...(status ? { $metadata: { httpStatusCode: status } } : {}) });
  it.each([
    [err('UnknownError', 412), SourceChangedError],
    [err('PreconditionFailed', 412), SourceChangedError],
    [err('NoSuchKey', 404), SourceChangedError],
    [err('NoSuchVersion', 404), SourceChangedError],
    [err('InternalError', 500), SourceReadError],
    [err('SlowDown', 503), SourceReadError],
    [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), SourceReadError],
  ])('%s → %p', (e, cls) => {
    expect(mapS3Error(e, 'GetObject')).toBeInstanceOf(cls);
  });

  it('passes other errors (e.g. AccessDenied) through unchanged', () => {
    const denied = err('AccessDenied', 403);
    expect(mapS3Error(denied, 'GetObject')).toBe(denied);
  });
});

describe('step errors', () => {
  it('round-trips an OstError through the Catch format', () => {
    const e = new OstThrottledError('flow control "x"', { ostCode: 11202, status: 200, sid: 'sid 1'.replace(' ', '_'), call: 'init', requestId: 'r1' });
    const thrown = toStepError(e);
    expect(thrown.name).toBe('OstThrottledError');
    expect(thrown.message).toBe(stepErrorMessage(e));
    const info = parseStepError({ Error: thrown.name, Cause: JSON.stringify({ errorType: thrown.name, errorMessage: thrown.message, trace: [] }) });
    expect(info).toEqual({ error: 'OstThrottledError', message: 'flow control "x"', ostCode: 11202, httpStatus: 200, sid: 'sid_1', call: 'init', requestId: 'r1' });
  });

  it('reads plain causes and States.* errors', () => {
    expect(parseStepError({ Error: 'States.Timeout', Cause: 'Task timed out' })).toEqual({ error: 'States.Timeout', message: 'Task timed out' });
    expect(parseStepError({ Error: 'TypeError', Cause: JSON.stringify({ errorType: 'TypeError', errorMessage: 'x is undefined' }) })).toEqual({ error: 'TypeError', message: 'x is undefined' });
    expect(parseStepError(undefined)).toEqual({ error: 'Unknown', message: 'no error information' });
  });
});
