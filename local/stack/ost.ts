// The stack's OST: the emulator, or a real or external endpoint given with its credentials (nothing to stop then).
import { startEmulator, type OstEmulator } from '../emulator';
import type { LocalStackOptions } from './types';
import type { Started } from './pieces';

export type OstTarget = NonNullable<LocalStackOptions['ost']>;

export interface StackOst extends Started {
  ost: OstTarget;
  emulator?: OstEmulator;
}

export async function startOst(o: Pick<LocalStackOptions, 'ost' | 'emulator'>): Promise<StackOst> {
  if (o.ost) return { ost: o.ost, close: async () => undefined };
  const emulator = await startEmulator({ ...o.emulator });
  return { ost: { endpoint: emulator.endpoint, ...emulator.credentials }, emulator, close: () => emulator.close() };
}
