// The heap's bounds are logged once per process, at the first invocation of any handler: what the first real
// deploy reads to settle which heap flags the Lambda bootstrap and the exec wrapper left in force.
import { getHeapStatistics } from 'node:v8';
import { logger } from '../lib/runtime/logging';
import { heapBounds } from '../lib/runtime/memory';
import { step } from '../lib/runtime/step';

describe('the runtime heap report', () => {
  it('gives node\'s command-line flags, NODE_OPTIONS and the V8 heap limit, each text bounded', () => {
    const saved = process.env.NODE_OPTIONS;
    process.env.NODE_OPTIONS = `--max-semi-space-size=1 ${'x'.repeat(5000)}`;
    try {
      const b = heapBounds();
      expect(b.execArgv).toEqual(process.execArgv.slice(0, 20).map((a) => (a.length > 200 ? `${a.slice(0, 199)}…` : a)));
      expect(b.heapLimitMb).toBe(Math.round(getHeapStatistics().heap_size_limit / 1048576));
      expect(b.nodeOptions!.startsWith('--max-semi-space-size=1 ')).toBe(true);
      expect(b.nodeOptions!.length).toBe(200);
    } finally {
      if (saved === undefined) delete process.env.NODE_OPTIONS; else process.env.NODE_OPTIONS = saved;
    }
  });

  it('is logged once per process, by the first handler invocation', async () => {
    const info = jest.spyOn(logger, 'info').mockImplementation(() => undefined);
    try {
      const handler = step('probe', async (n: number) => n + 1);
      expect(await handler(1)).toBe(2);
      expect(await handler(2)).toBe(3);
      const reports = info.mock.calls.filter(([m]) => m === 'runtime heap');
      expect(reports).toHaveLength(1);
      const report = reports[0]![1] as unknown as ReturnType<typeof heapBounds>;
      expect(Array.isArray(report.execArgv)).toBe(true);
      expect(report.heapLimitMb).toBe(heapBounds().heapLimitMb);
    } finally {
      info.mockRestore();
    }
  });
});
