import { bodyDigest, EMPTY_DIGEST, httpDate, signRequest } from '../lib/ost/signing';

// Expected values computed once, independently of this code, with:
//   printf 'host: upload-ost-api.xfyun.cn\ndate: Tue, 24 Nov 2026 20:19:40 GMT\nPOST /file/mpupload/init HTTP/1.1\n
//   digest: SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' | openssl dgst -sha256 -hmac 'sec-0123456789abcdef' -binary | base64
//   printf '' | openssl dgst -sha256 -binary | base64
//   printf '{"request_id":"r1","app_id":"4CC5779A"}' | openssl dgst -sha256 -binary | base64
const VECTOR = {
  host: 'upload-ost-api.xfyun.cn',
  path: '/file/mpupload/init',
  date: 'Tue, 24 Nov 2026 20:19:40 GMT',
  digest: 'SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=',
  apiKey: 'key-abc',
  apiSecret: 'sec-0123456789abcdef',
};
const EXPECTED_SIGNATURE = 's1yXNbjdSuDg0twKGilAdDygydN8n5QVhSSly13GqRw=';

describe('signing', () => {
  it('digests the empty string as the vendor demo does', () => {
    expect(EMPTY_DIGEST).toBe('SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=');
    expect(bodyDigest(Buffer.alloc(0))).toBe(EMPTY_DIGEST);
  });

  it('digests a JSON body as SHA-256= + base64(sha256)', () => {
    expect(bodyDigest('{"request_id":"r1","app_id":"4CC5779A"}')).toBe('SHA-256=pASggP4Kjxv4Ujdsr88oKFOvkgI4QCZJlKlLNUXcfEk=');
  });

  it('signs host, date, request line and digest exactly as the reference', () => {
    const { authorization, signatureString } = signRequest(VECTOR);
    expect(signatureString).toBe(
      'host: upload-ost-api.xfyun.cn\n' +
        'date: Tue, 24 Nov 2026 20:19:40 GMT\n' +
        'POST /file/mpupload/init HTTP/1.1\n' +
        'digest: SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=',
    );
    expect(authorization).toBe(
      `api_key="key-abc", algorithm="hmac-sha256", headers="host date request-line digest", signature="${EXPECTED_SIGNATURE}"`,
    );
    expect(authorization).not.toContain(VECTOR.apiSecret);
    expect(signatureString).not.toContain(VECTOR.apiSecret);
  });

  it('changes the signature when any signed input changes', () => {
    const base = signRequest(VECTOR).authorization;
    for (const k of ['host', 'path', 'date', 'digest', 'apiSecret'] as const) {
      expect(signRequest({ ...VECTOR, [k]: VECTOR[k] + 'x' }).authorization).not.toBe(base);
    }
  });

  it('formats the date as RFC 1123 GMT', () => {
    expect(httpDate(new Date(Date.UTC(2026, 10, 24, 20, 19, 40)))).toBe('Tue, 24 Nov 2026 20:19:40 GMT');
    expect(httpDate()).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
  });
});
