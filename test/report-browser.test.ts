// `status --report out.html` opened in a real headless browser (Debian's chromium, driven by playwright-core; no
// browser is downloaded): the page loads with no console error and no script error, shows the totals, the chart of
// forwards per day, the day table, the failures grouped by error and the slowest files in that order, renders a
// hostile key as text (no element, no script), and its screenshot has each part laid out where the page says.
// `status --report out.csv`: one row per record, formulas neutralised. Skipped, visibly, when chromium is missing.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { chromium, type BrowserContext } from 'playwright-core';
import { run as status } from '../cli/commands/status';
import { startEmbeddedS3, type EmbeddedS3 } from '../local/aws/s3';
import { tempDir } from './support/files';

const CHROMIUM = '/usr/bin/chromium';
const missing = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} not found (apt-get install chromium)`;
if (missing) console.warn(`chromium not installed: skipping the report's browser test (${missing})`);
const describeBrowser = missing ? describe.skip : describe;

const HOSTILE = 'evil/<script>document.title="pwned"</script>\x1b[2J.wav';

function record(status: 'forwarded' | 'failed' | 'skipped', key: string, day: string, extra: Record<string, unknown> = {}) {
  return JSON.stringify({
    status, bucket: 'src', key, versionId: null, etag: 'e1', bytes: 1_000_000, mode: 'simple', slices: 1,
    url: status === 'forwarded' ? 'https://ost.example/f' : null, sid: 'ost0001@x', uploadId: null, durationMs: 1500,
    executionName: `n-${key.length}`, restarts: 0, finishedAt: `${day}T10:00:00.000Z`, ...extra,
  });
}

describe('status --report', () => {
  let s3: EmbeddedS3;
  let tmp: ReturnType<typeof tempDir>;
  const saved = { ...process.env };
  beforeAll(async () => {
    tmp = tempDir();
    s3 = await startEmbeddedS3({ buckets: ['results'] });
    Object.assign(process.env, { S3_ENDPOINT: s3.endpoint, AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, AWS_REGION: 'us-east-1' });
    const put = (key: string, body: string) => s3.client.send(new PutObjectCommand({ Bucket: 'results', Key: key, Body: body }));
    let n = 0;
    for (const [day, forwarded] of [['2026-11-27', 3], ['2026-11-28', 5], ['2026-11-29', 2], ['2026-11-30', 4]] as const) {
      for (let i = 0; i < forwarded; i++) { n++; await put(`p/forwarded/f${n}.wav/n${n}.json`, record('forwarded', `f${n}.wav`, day, { durationMs: 1000 * n })); }
    }
    await put('p/failed/q1.wav/n1.json', record('failed', 'q1.wav', '2026-11-29', { error: { error: 'OstQuotaError', message: '<img src=x onerror=alert(1)>', ostCode: 11200, sid: 'sid-9' } }));
    await put('p/failed/q2.wav/n2.json', record('failed', 'q2.wav', '2026-11-30', { error: { error: 'OstQuotaError', message: 'licence exhausted', ostCode: 11200, sid: 'sid-10' } }));
    // the slowest file has a hostile key
    await put('p/forwarded/evil/n99.json', record('forwarded', HOSTILE, '2026-11-30', { durationMs: 99_000 }));
    await put('p/failed/t.wav/n3.json', record('failed', 't.wav', '2026-11-30', { error: { error: 'SourceChangedError', message: 'ETag changed' } }));
    await put('p/skipped/long.wav/n4.json', record('skipped', '=cmd|long.wav', '2026-11-30', { mode: null, slices: 0, skip: { consumer: 'speed-transcription', rule: 'max-duration', reason: '21600 s long' } }));
  });
  afterAll(async () => {
    process.env = saved;
    await s3?.close();
    tmp?.cleanup();
  });

  it('writes one CSV row per record, skipped included, with a formula-looking key neutralised', async () => {
    const out = join(tmp.dir, 'report.csv');
    expect(await status(['s3://results/p', '--report', out])).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\r\n');
    expect(lines[0]).toBe('status,key,bytes,contentType,container,durationSeconds,url,sid,durationMs,finishedAt,error,ostCode,skipRule,record');
    expect(lines).toHaveLength(1 + 15 + 3 + 1);
    expect(lines.find((l) => l.startsWith('skipped'))).toContain(",'=cmd|long.wav,");
    expect(lines.find((l) => l.startsWith('skipped'))).toContain('max-duration: 21600 s long');
  });

  it('refuses a report name that is neither .html nor .csv (exit 2)', async () => {
    expect(await status(['s3://results/p', '--report', join(tmp.dir, 'report.pdf')])).toBe(2);
  });

  describeBrowser('the HTML page in headless chromium', () => {
    let browser: BrowserContext;
    let profile: string;
    beforeAll(async () => {
      profile = mkdtempSync(join(tmpdir(), 'ost-forwarder-chromium-'));
      // a fresh profile (--user-data-dir) per run: playwright passes it for a persistent context
      browser = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        viewport: { width: 1000, height: 900 },
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
          '--disable-component-update', '--disable-sync'],
      });
    }, 60_000);
    afterAll(async () => {
      await browser?.close();
      rmSync(profile, { recursive: true, force: true });
    });

    it('loads with no console or script error and shows totals, chart, days, failures by error and the slowest files', async () => {
      const out = join(tmp.dir, 'report.html');
      expect(await status(['s3://results/p', '--report', out])).toBe(0);
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`); });
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      page.on('request', (r) => { if (!r.url().startsWith('file:')) problems.push(`request: ${r.url()}`); });
      await page.goto(pathToFileURL(out).href, { waitUntil: 'load' });

      expect(await page.title()).toBe('ost-forwarder report: s3://results/p/');
      expect(await page.textContent('#total-forwarded')).toContain('15');
      expect(await page.textContent('#total-failed')).toContain('3');
      expect(await page.textContent('#total-skipped')).toContain('1');
      expect(await page.locator('#chart rect.forwarded').count()).toBe(4);
      expect(await page.locator('#chart rect.failed').count()).toBe(2);
      expect(await page.locator('#days tbody tr').count()).toBe(4);
      expect(await page.locator('#errors tbody tr').count()).toBe(2);
      expect(await page.textContent('#errors tbody tr:first-child')).toMatch(/^2\s*OstQuotaError code 11200/);
      expect(await page.locator('#slowest tbody tr').count()).toBe(5);
      expect(await page.textContent('#slowest tbody tr:nth-child(2)')).toContain('f14.wav');
      // the hostile key and message are text: no script, no image, the title untouched
      expect(await page.locator('script, img').count()).toBe(0);
      expect(await page.textContent('#slowest tbody tr:first-child')).toContain('<script>document.title="pwned"</script>\\x1b[2J.wav');
      expect(await page.textContent('#errors')).toContain('<img src=x onerror=alert(1)>');

      // the screenshot, compared by its structure: every part visible, in the page's order, none collapsed
      const shot = await page.screenshot({ fullPage: true });
      expect(shot.subarray(1, 4).toString()).toBe('PNG');
      const parts = ['h1', '.totals', '#chart', '#days', '#errors', '#slowest'];
      const boxes = await Promise.all(parts.map((sel) => page.locator(sel).boundingBox()));
      for (const [i, b] of boxes.entries()) expect({ part: parts[i], visible: !!b && b.width > 100 && b.height > 10 }).toEqual({ part: parts[i], visible: true });
      const tops = boxes.map((b) => b!.y);
      expect([...tops].sort((a, b) => a - b)).toEqual(tops);
      const height = shot.readUInt32BE(20);
      expect(height).toBeGreaterThanOrEqual(Math.ceil(boxes[5]!.y + boxes[5]!.height));
      expect(problems).toEqual([]);
      await page.close();
    }, 60_000);
  });
});
