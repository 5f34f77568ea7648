// The one description of the settings (lib/config/table.ts): docs/configuration.md's table is generated from it,
// each variable is described once, and the template's params and variables are the ones it describes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { effectiveSettings, SETTINGS, settingsMarkdown } from '../lib/config/table';
import { TABLE_BEGIN, TABLE_END, withSettingsTable } from '../cli/commands/settings';

const ROOT = join(__dirname, '..');

describe('the table of settings', () => {
  it('is what docs/configuration.md shows (regenerate: node dist/cli.js settings --markdown --write docs/configuration.md)', () => {
    const page = readFileSync(join(ROOT, 'docs', 'configuration.md'), 'utf8');
    expect(page).toContain(TABLE_BEGIN);
    expect(page).toContain(TABLE_END);
    expect(withSettingsTable(page)).toBe(page);
    expect(page).toContain(settingsMarkdown());
  });

  it('describes each variable and param once, and every variable the template sets', () => {
    const variables = SETTINGS.flatMap((s) => (s.variable ? [s.variable] : []));
    const params = SETTINGS.flatMap((s) => (s.param ? [s.param] : []));
    expect(new Set(variables).size).toBe(variables.length);
    expect(new Set(params).size).toBe(params.length);
    const template = parse(readFileSync(join(ROOT, 'serverless.yml'), 'utf8').replace(/!(Sub|Ref|GetAtt|Join|If|Equals|Not|Select|Split)\b/g, ''), { strict: false, uniqueKeys: false }) as {
      params: { default: Record<string, unknown> }; provider: { environment: Record<string, unknown> };
    };
    const ours = Object.keys(template.provider.environment).filter((v) => !/^(AWS_|NODE_|LAMBDA_|POWERTOOLS_(SERVICE|METRICS))/.test(v));
    expect(ours.filter((v) => !variables.includes(v))).toEqual([]);
    for (const p of params) if (p !== 'alarmTopicArn' && p !== 'resultsBucket') expect([p, p in template.params.default]).toEqual([p, true]);
  });

  it('shows effective values without secrets', () => {
    const rows = effectiveSettings({ OST_API_SECRET: 'TOPSECRET', OST_API_KEY: 'KEYVALUE', SLICE_SIZE: 'abc', OST_RETRY_ATTEMPTS: '3' });
    const text = JSON.stringify(rows);
    expect(text).not.toContain('TOPSECRET');
    expect(text).not.toContain('KEYVALUE');
    expect(rows.find((r) => r.variable === 'SLICE_SIZE')).toMatchObject({ ok: false, value: expect.stringContaining('SLICE_SIZE') });
    expect(rows.find((r) => r.variable === 'OST_RETRY_ATTEMPTS')).toMatchObject({ ok: true, value: '3' });
  });
});
