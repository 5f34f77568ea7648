// The one description of the settings (lib/config/table.ts): docs/configuration.md's table is generated from it,
// each variable is described once, and the template's params and variables are the ones it describes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { effectiveSettings, EXECUTION_TIMEOUT_SECONDS, paramProblem, SETTINGS, settingDefault, settingsMarkdown, specKey } from '../lib/config/table';
import { DEFAULT_MAX_FILES_IN_FLIGHT } from '../lib/config/settings';
import { DEFAULT_INTAKE_POLICY } from '../lib/intake/batch';
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

  it('is the one place a default is written: serverless.yml\'s param defaults and the module constants read the same', () => {
    const yml = parse(readFileSync(join(ROOT, 'serverless.yml'), 'utf8').replace(/!(Sub|Ref|GetAtt|Join|If|Equals|Not|Select|Split)\b/g, ''), { strict: false, uniqueKeys: false }) as { params: { default: Record<string, string> } };
    const compared: string[] = [];
    for (const spec of SETTINGS) {
      const given = spec.param ? yml.params.default[spec.param] : undefined;
      if (!spec.read || given === undefined || String(given).includes('${')) continue;
      // the param's default, read as the function reads it, is what the function assumes when the variable is unset
      // (unset = a library's own default, e.g. Powertools' log level: the table's written default is that one)
      const got = spec.read({ [specKey(spec)]: String(given) });
      const unset = spec.read({});
      expect([spec.param, got]).toEqual([spec.param, unset === undefined && got !== undefined ? spec.default.replace(/`/g, '') : unset]);
      compared.push(spec.param!);
    }
    expect(compared).toEqual(expect.arrayContaining(['maxFilesInFlight', 'slotLeaseSeconds', 'intakeMaxReceiveCount', 'triggerMaxConcurrency', 'sliceSize', 'mapMaxConcurrency', 'resultsPrefix']));
    expect(DEFAULT_MAX_FILES_IN_FLIGHT).toBe(settingDefault('MAX_FILES_IN_FLIGHT'));
    expect(DEFAULT_INTAKE_POLICY).toMatchObject({ maxReceiveCount: settingDefault('INTAKE_MAX_RECEIVE_COUNT'), waitBaseSeconds: settingDefault('INTAKE_WAIT_BASE_SECONDS'), waitMaxSeconds: settingDefault('INTAKE_WAIT_MAX_SECONDS') });
    // the lease outlasts the state machine's own timeout
    const definition = parse(readFileSync(join(ROOT, 'statemachine', 'definition.yml'), 'utf8')) as { TimeoutSeconds: number };
    expect(definition.TimeoutSeconds).toBe(EXECUTION_TIMEOUT_SECONDS);
    expect(settingDefault<number>('SLOT_LEASE_SECONDS')).toBeGreaterThan(EXECUTION_TIMEOUT_SECONDS);
  });

  it('refuses a param value the functions would refuse, in one line naming the param and its variable', () => {
    expect(paramProblem('maxFilesInFlight', '0')).toBe('param maxFilesInFlight (MAX_FILES_IN_FLIGHT): must be between 1 and 1000, got 0');
    expect(paramProblem('intakeMaxReceiveCount', '2')).toBe('param intakeMaxReceiveCount (INTAKE_MAX_RECEIVE_COUNT): must be between 3 and 1000, got 2');
    expect(paramProblem('slotLeaseSeconds', '60')).toBe(`param slotLeaseSeconds (SLOT_LEASE_SECONDS): must be between ${EXECUTION_TIMEOUT_SECONDS} and 31622400, got 60`);
    expect(paramProblem('triggerMaxConcurrency', '1')).toMatch(/^param triggerMaxConcurrency: must be between 2 and 1000/);
    expect(paramProblem('existingBucket', 'yes')).toMatch(/^param existingBucket: must be 'true' or 'false'/);
    expect(paramProblem('maxFilesInFlight', '32')).toBeUndefined();
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
