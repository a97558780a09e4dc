// a development helper: the SDK is a development dependency of this package, loaded only when called.
/* eslint-disable import/no-extraneous-dependencies, @typescript-eslint/no-require-imports */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TABLE } from '../shared/contract';

/**
 * Creates the sessions table for tests and local development, with the schema the construct gives the real one
 * (`TABLE`), and waits until it is ACTIVE. TTL is enabled where the endpoint supports it (dynalite does not).
 * The SDK is loaded when called: it is a development dependency of this package, as for the dev server.
 */
export async function createSessionsTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const sdk = require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb');
  await client.send(new sdk.CreateTableCommand({
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: TABLE.PARTITION_KEY, AttributeType: 'S' },
      { AttributeName: TABLE.SORT_KEY, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: TABLE.PARTITION_KEY, KeyType: 'HASH' },
      { AttributeName: TABLE.SORT_KEY, KeyType: 'RANGE' },
    ],
  }));
  for (let attempt = 0; attempt < 600; attempt++) {
    const described = await client.send(new sdk.DescribeTableCommand({ TableName: tableName }));
    if (described.Table?.TableStatus === 'ACTIVE') break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  try {
    await client.send(new sdk.UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: TABLE.TTL_ATTRIBUTE, Enabled: true },
    }));
  } catch {
    // local endpoints such as dynalite lack UpdateTimeToLive; rows then simply never expire.
  }
}
