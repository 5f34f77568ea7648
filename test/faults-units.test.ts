// The fixes the fault suite led to, each proven on its own (the suite proves them again end to end):
// - the OST client's retries and timeouts come from the environment (the suite needs short ones);
// - a complete whose answer was lost, then 10005, is OstCompleteUncertainError (never a restart);
// - Complete's attempt marker: a conditional PutObject the embedded S3 honours like S3 (If-None-Match: *).
import { loadOstTuning } from '../lib/settings';

describe('OST client tuning from the environment', () => {
  it('is empty by default (the client keeps its defaults) and read when set', () => {
    expect(loadOstTuning({})).toEqual({ retry: { attempts: undefined, baseDelayMs: undefined, maxDelayMs: undefined, throttledBaseDelayMs: undefined }, timeouts: { connectMs: undefined, headersMs: undefined, bodyMs: undefined } });
    expect(loadOstTuning({ OST_RETRY_ATTEMPTS: '3', OST_RETRY_BASE_MS: '10', OST_RETRY_MAX_DELAY_MS: '100', OST_RETRY_THROTTLED_BASE_MS: '40', OST_RESPONSE_TIMEOUT_MS: '1500', OST_CONNECT_TIMEOUT_MS: '900' })).toEqual({
      retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 100, throttledBaseDelayMs: 40 }, timeouts: { connectMs: 900, headersMs: 1500, bodyMs: 1500 },
    });
  });
  it.each([['OST_RETRY_ATTEMPTS', '0'], ['OST_RETRY_BASE_MS', 'x'], ['OST_RESPONSE_TIMEOUT_MS', '0']])('refuses %s=%j naming it', (name, value) => {
    expect(() => loadOstTuning({ [name]: value })).toThrow(expect.objectContaining({ name: 'ConfigError', setting: name }));
  });
});

