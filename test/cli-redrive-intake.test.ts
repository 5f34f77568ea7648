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
  expect(out.join('')).toContain('13 message(s), 13 moved');
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
