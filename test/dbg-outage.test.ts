import { startHarness, bytesFor, KiB, MiB } from './support/faults';
jest.setTimeout(120_000);
it('dbg', async () => {
  const h = await startHarness({ env: { MAX_FILES_IN_FLIGHT: '8', CONSERVATIVE_MBPS: '10', SLICE_CONCURRENCY: '1' }, stack: { fleet: { maxFilesInFlight: 8, lambdaConcurrency: 64 }, retryIntervalScale: 0.01 } });
  const emu = h.stack.emulator!;
  const put = (k: string, b: Buffer) => h.stack.s3.client.send(new (require('@aws-sdk/client-s3').PutObjectCommand)({ Bucket: h.stack.bucket, Key: k, Body: b, ContentLength: b.length }));
  try {
    emu.inject({ call: 'slice', delayMs: 300, times: Infinity });
    for (let i = 0; i < 2; i++) await put(`dbg/b${i}.bin`, bytesFor(12 * MiB + i, 'b' + i));
    while (emu.uploads().filter((u) => u.state === 'open' && u.sliceIds.length >= 1).length < 2) await new Promise((r) => setTimeout(r, 10));
    emu.outage({ ms: 2400, modes: ['503', 'reset'] });
    for (let i = 0; i < 10; i++) await put(`dbg/s${i}.bin`, bytesFor(64 * KiB + i, 'x' + i));
    for (let t = 0; t < 15; t++) {
      await new Promise((r) => setTimeout(r, 1000));
      const q = h.stack.fleet!.sqs.stats(h.stack.fleet!.queueUrl);
      const ex = [...h.stack.executor.executions.values()].filter((e) => !e.parentArn);
      require('fs').appendFileSync('/tmp/dbg23.log', `t=${t} q=${JSON.stringify(q)} ex=${ex.map((e) => e.status).join(',')} calls=${emu.calls.length} outage=${JSON.stringify(emu.outageStatus())}\n`);
      if (t === 6) require('fs').appendFileSync('/tmp/dbg23.log', h.capture.text().split('\n').filter((l) => /admission|outage|probe|failed/i.test(l)).slice(-15).join('\n').slice(0, 4000) + '\n');
    }
  } finally { await h.close(); }
});
