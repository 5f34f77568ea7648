// The semaphore table's shape, described once: the local stack creates it from here, and the deployed
// template's table must match (a string partition key named SEMAPHORE_KEY, on-demand billing).
import {
  CreateTableCommand,
  DescribeTableCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { SEMAPHORE_KEY } from './semaphore';
import { admissionErrorFrom } from './errors';

export function semaphoreTableInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    AttributeDefinitions: [{ AttributeName: SEMAPHORE_KEY, AttributeType: 'S' }],
    KeySchema: [{ AttributeName: SEMAPHORE_KEY, KeyType: 'HASH' }],
    BillingMode: 'PAY_PER_REQUEST',
  };
}

/** Creates the table unless it exists, and waits until it is ACTIVE. */
export async function ensureSemaphoreTable(client: Pick<DynamoDBClient, 'send'>, tableName: string, timeoutMs = 30_000): Promise<void> {
  try {
    await client.send(new CreateTableCommand(semaphoreTableInput(tableName)));
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name !== 'ResourceInUseException') throw admissionErrorFrom(err, { table: tableName, operation: 'create' });
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (res.Table?.TableStatus === 'ACTIVE') return;
    if (Date.now() > deadline) throw admissionErrorFrom(Object.assign(new Error(`table is ${res.Table?.TableStatus} after ${timeoutMs} ms`), { name: 'TimeoutError' }), { table: tableName, operation: 'create' });
    await new Promise((r) => setTimeout(r, 20));
  }
}
