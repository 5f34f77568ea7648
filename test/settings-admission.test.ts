// The admission settings block of lib/config/settings.ts: defaults, bounds, and ConfigError naming the variable.
import { loadAdmissionSettings } from '../lib/config/settings';

it('has the documented defaults', () => {
  expect(loadAdmissionSettings({})).toEqual({
    maxFilesInFlight: 32, slotTable: undefined, slotLeaseSeconds: 90_000, intakeQueueUrl: undefined, intakeDlqUrl: undefined,
    intakeMaxReceiveCount: 10, intakeWaitBaseSeconds: 20, intakeWaitMaxSeconds: 300, throttleBudgetSeconds: 1800,
    outage: { budgetSeconds: 14_400, threshold: 5, windowMs: 60_000, probeBaseMs: 30_000, probeMaxMs: 300_000, rounds: 3, readmitDelaySeconds: 300 },
  });
});

it('reads the outage settings, a probe ceiling never below its base, and names a bad one', () => {
  const o = loadAdmissionSettings({ OUTAGE_THRESHOLD: '3', OUTAGE_WINDOW_SECONDS: '10', OUTAGE_PROBE_BASE_MS: '500', OUTAGE_PROBE_MAX_MS: '100', OUTAGE_ROUNDS: '0' }).outage;
  expect(o).toMatchObject({ threshold: 3, windowMs: 10_000, probeBaseMs: 500, probeMaxMs: 500, rounds: 0 });
  expect(() => loadAdmissionSettings({ OUTAGE_READMIT_DELAY_SECONDS: '901' })).toThrow(/OUTAGE_READMIT_DELAY_SECONDS/);
});

it('reads and bounds every variable', () => {
  expect(loadAdmissionSettings({ MAX_FILES_IN_FLIGHT: '16', SLOT_TABLE: ' slots ', INTAKE_WAIT_BASE_SECONDS: '5', INTAKE_WAIT_MAX_SECONDS: '5' }))
    .toMatchObject({ maxFilesInFlight: 16, slotTable: 'slots', intakeWaitBaseSeconds: 5, intakeWaitMaxSeconds: 5 });
  expect(() => loadAdmissionSettings({ MAX_FILES_IN_FLIGHT: '0' })).toThrow(/MAX_FILES_IN_FLIGHT/);
  expect(() => loadAdmissionSettings({ MAX_FILES_IN_FLIGHT: '1001' })).toThrow(/MAX_FILES_IN_FLIGHT/);
  expect(() => loadAdmissionSettings({ INTAKE_MAX_RECEIVE_COUNT: '2' })).toThrow(/INTAKE_MAX_RECEIVE_COUNT/);
  expect(() => loadAdmissionSettings({ INTAKE_WAIT_BASE_SECONDS: '30', INTAKE_WAIT_MAX_SECONDS: '20' })).toThrow(/INTAKE_WAIT_MAX_SECONDS/);
  expect(() => loadAdmissionSettings({ SLOT_TABLE: 'a\u0007b' })).toThrow(/SLOT_TABLE/);
});
