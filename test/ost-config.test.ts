import { ConfigError } from '../lib/core/errors';
import { DEFAULT_ENDPOINT, isLoopbackHost, OstClient, parseEndpoint } from '../lib/ost/client';
import { ostClientOptionsFromEnv } from '../lib/config/ost-options';

const creds = { OST_APP_ID: 'app', OST_API_KEY: 'key', OST_API_SECRET: 'secret' };

function configError(fn: () => unknown): ConfigError {
  try { fn(); } catch (e) { if (e instanceof ConfigError) return e; throw e; }
  throw new Error('no ConfigError');
}

describe('client settings', () => {
  it('reads the endpoint, credentials and cloud id from the environment', () => {
    expect(ostClientOptionsFromEnv(creds)).toEqual({ endpoint: DEFAULT_ENDPOINT, appId: 'app', apiKey: 'key', apiSecret: 'secret' });
    expect(DEFAULT_ENDPOINT).toBe('https://upload-ost-api.xfyun.cn');
    expect(ostClientOptionsFromEnv({ ...creds, OST_ENDPOINT: 'http://127.0.0.1:9000', OST_CLOUD_ID: '0' }))
      .toMatchObject({ endpoint: 'http://127.0.0.1:9000', cloudId: '0' });
  });

  it.each(['OST_APP_ID', 'OST_API_KEY', 'OST_API_SECRET'])('names a missing %s', (name) => {
    const env: Record<string, string> = { ...creds };
    delete env[name];
    const err = configError(() => ostClientOptionsFromEnv(env));
    expect(err.setting).toBe(name);
    expect(err.message).toContain(name);
    const blank = configError(() => ostClientOptionsFromEnv({ ...creds, [name]: '  ' }));
    expect(blank.setting).toBe(name);
  });

  it('does not echo the secret in any settings error', () => {
    const err = configError(() => ostClientOptionsFromEnv({ ...creds, OST_API_SECRET: 'TOPSECRET', OST_ENDPOINT: 'http://evil.example' }));
    expect(err.message).not.toContain('TOPSECRET');
  });

  it.each([
    'http://example.com',
    'http://10.0.0.1:8080',
    'http://128.0.0.1',
    'http://localhost.example.com',
    'ftp://127.0.0.1',
    'not a url',
    'https://user:pw@upload-ost-api.xfyun.cn',
  ])('rejects the endpoint %s naming OST_ENDPOINT', (endpoint) => {
    const err = configError(() => ostClientOptionsFromEnv({ ...creds, OST_ENDPOINT: endpoint }));
    expect(err.setting).toBe('OST_ENDPOINT');
    expect(err.message).toMatch(/^OST_ENDPOINT: /);
    expect(() => new OstClient({ endpoint, appId: 'a', apiKey: 'k', apiSecret: 's' })).toThrow(ConfigError);
  });

  it.each([
    'https://upload-ost-api.xfyun.cn',
    'https://proxy.example.com:8443/ost',
    'http://127.0.0.1:8088',
    'http://127.1.2.3',
    'http://localhost:8088',
    'http://[::1]:8088',
  ])('accepts the endpoint %s', (endpoint) => {
    expect(() => parseEndpoint(endpoint)).not.toThrow();
  });

  it('knows the loopback hosts', () => {
    expect(['127.0.0.1', '127.255.0.9', 'localhost', 'LOCALHOST', '::1', '[::1]'].every(isLoopbackHost)).toBe(true);
    expect(['10.0.0.1', '0.0.0.0', 'example.com', '::2', '127.0.0.1.nip.io'].some(isLoopbackHost)).toBe(false);
  });

  it('requires credentials when constructed directly', async () => {
    expect(configError(() => new OstClient({ endpoint: DEFAULT_ENDPOINT, appId: '', apiKey: 'k', apiSecret: 's' })).setting).toBe('OST_APP_ID');
    expect(configError(() => new OstClient({ endpoint: DEFAULT_ENDPOINT, appId: 'a', apiKey: 'k', apiSecret: '' })).setting).toBe('OST_API_SECRET');
    const c = new OstClient({ endpoint: 'https://proxy.example.com/ost/', appId: 'a', apiKey: 'k', apiSecret: 's' });
    expect(c.endpoint).toBe('https://proxy.example.com/ost');
    expect(c.multipartDigest).toBe('empty');
    await c.close();
  });
});
