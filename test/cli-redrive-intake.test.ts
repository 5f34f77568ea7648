// `ost-forward redrive --intake`: the intake's dead-letter queue goes back into the intake queue (local SQS), so a
// re-driven file waits for a slot like any other.
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { run } from '../cli/commands/redrive';
import { startLocalSqs, type LocalSqs } from '../local/aws/sqs';

let sqs: LocalSqs;
const saved = { ...process.env };
beforeAll(async () => { sqs = await startLocalSqs(); });
afterAll(async () => { await sqs.close(); process.env = saved; });

it('moves every dead-lettered notification back to the intake queue', async () => {
  const { queueUrl, dlqUrl } = sqs.createQueueWithDlq('intake', 10);
  for (let i = 0; i < 13; i++) await sqs.client.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: JSON.stringify({ Records: [{ i }] }) }));
  Object.assign(process.env, { AWS_ENDPOINT_URL_SQS: sqs.endpoint, AWS_REGION: sqs.region, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', INTAKE_QUEUE_URL: queueUrl });
  const out: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((s) => { out.push(String(s)); return true; });
  try {
    expect(await run(['--intake', '--queue-url', dlqUrl])).toBe(0);
  } finally {
    write.mockRestore();
  }
  expect(out.join('')).toContain('13 message(s) of 13 there, 13 moved');
  expect(sqs.stats(dlqUrl).visible).toBe(0);
  expect(sqs.stats(queueUrl).visible).toBe(13);
  const got = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1 }));
  expect(JSON.parse(got.Messages![0]!.Body!).Records).toHaveLength(1);
});

it('needs both queues', async () => {
  delete process.env.INTAKE_QUEUE_URL;
  delete process.env.INTAKE_DLQ_URL;
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    expect(await run(['--intake'])).toBe(2);
  } finally {
    err.mockRestore();
  }
});

/** Runs `ost-forward redrive …` in this process; its exit code and what it printed. */
async function redriveRun(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((s) => { out.push(String(s)); return true; });
  const ewrite = jest.spyOn(process.stderr, 'write').mockImplementation((s) => { err.push(String(s)); return true; });
  try {
    return { code: await run(args), out: out.join(''), err: err.join('') };
  } finally {
    write.mockRestore();
    ewrite.mockRestore();
  }
}

async function deadLetters(name: string, n: number): Promise<{ queueUrl: string; dlqUrl: string }> {
  const queues = sqs.createQueueWithDlq(name, 10);
  for (let i = 0; i < n; i++) await sqs.client.send(new SendMessageCommand({ QueueUrl: queues.dlqUrl, MessageBody: JSON.stringify({ Records: [{ i }] }) }));
  Object.assign(process.env, { AWS_ENDPOINT_URL_SQS: sqs.endpoint, AWS_REGION: sqs.region, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x' });
  delete process.env.INTAKE_QUEUE_URL;
  return queues;
}

it('refuses to move the dead-letter queue into itself, and leaves it as it was', async () => {
  const { dlqUrl } = await deadLetters('self', 3);
  const r = await redriveRun(['--intake', '--queue-url', dlqUrl, '--to-url', dlqUrl]);
  expect(r.code).toBe(1);
  expect(r.err).toMatch(/--to-url: is the queue the messages come from/);
  expect(sqs.stats(dlqUrl)).toMatchObject({ visible: 3, inFlight: 0 });
}, 20_000);

it('moves only the messages that were there when it began', async () => {
  const { queueUrl, dlqUrl } = await deadLetters('bounded', 5);
  // another writer keeps adding dead letters while the move runs: they wait for the next run
  const writer = setInterval(() => { void sqs.client.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: '{"Records":[]}' })); }, 2);
  let r;
  try {
    r = await redriveRun(['--intake', '--queue-url', dlqUrl, '--to-url', queueUrl]);
  } finally {
    clearInterval(writer);
  }
  const [, moved, there] = /(\d+) message\(s\) of (\d+) there, \1 moved to the intake queue/.exec(r.out) ?? [];
  expect(Number(moved)).toBeGreaterThanOrEqual(5);
  expect(moved).toBe(there);
  expect(sqs.stats(queueUrl).visible).toBe(Number(moved));
  expect(sqs.stats(dlqUrl).visible).toBeGreaterThan(0);
}, 20_000);

it('a dry run hides nothing: the real run right after moves everything', async () => {
  const { queueUrl, dlqUrl } = await deadLetters('dry', 3);
  const dry = await redriveRun(['--intake', '--dry-run', '--queue-url', dlqUrl, '--to-url', queueUrl]);
  expect(dry).toMatchObject({ code: 0 });
  expect(dry.out).toContain('3 message(s) there, 3 would move');
  const real = await redriveRun(['--intake', '--queue-url', dlqUrl, '--to-url', queueUrl]);
  expect(real.out).toContain('3 moved to the intake queue');
  expect(real.code).toBe(0);
  expect(sqs.stats(queueUrl).visible).toBe(3);
});

it('a run that cannot see the messages there (in flight elsewhere) says so and fails', async () => {
  const { queueUrl, dlqUrl } = await deadLetters('inflight', 3);
  await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }));
  const r = await redriveRun(['--intake', '--queue-url', dlqUrl, '--to-url', queueUrl]);
  expect(r.code).toBe(1);
  expect(r.out).toMatch(/0 message\(s\) of 3 there, 0 moved .*3 in flight .*run again once they are visible/);
  // the trigger's dead-letter queue the same way: a dry run only counts
  const trigger = await deadLetters('trigger-dlq', 2);
  const dry = await redriveRun(['--queue-url', trigger.dlqUrl, '--to-url', trigger.queueUrl, '--dry-run']);
  expect(dry.out).toContain('redrive --dry-run: 2 message(s) there, 2 would move');
  expect(sqs.stats(trigger.dlqUrl)).toMatchObject({ visible: 2, inFlight: 0 });
  await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: trigger.dlqUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }));
  const hidden = await redriveRun(['--queue-url', trigger.dlqUrl, '--to-url', trigger.queueUrl]);
  expect(hidden.code).toBe(1);
  expect(hidden.out).toMatch(/0 message\(s\) of 2 there.*2 in flight/);
});
