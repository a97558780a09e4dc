import { ConditionalCheckFailedException, CreateTableCommand, DescribeTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { LocalDynamo, startDynalite } from '../../src/local';

let dynamo: LocalDynamo;
let client: DynamoDBClient;

beforeAll(async () => {
  dynamo = await startDynalite();
  client = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  client.destroy();
  await dynamo.stop();
});

describe('startDynalite', () => {
  test('serves DynamoDB on 127.0.0.1 with tables ACTIVE at once and conditional writes', async () => {
    // GIVEN
    expect(dynamo.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await client.send(new CreateTableCommand({
      TableName: 'sessions',
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'owner', AttributeType: 'S' }, { AttributeName: 'sessionId', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'owner', KeyType: 'HASH' }, { AttributeName: 'sessionId', KeyType: 'RANGE' }],
    }));
    const item = { owner: { S: 'o' }, sessionId: { S: 's' } };

    // WHEN
    const table = await client.send(new DescribeTableCommand({ TableName: 'sessions' }));
    await client.send(new PutItemCommand({ TableName: 'sessions', Item: item, ConditionExpression: 'attribute_not_exists(sessionId)' }));
    const second = client.send(new PutItemCommand({ TableName: 'sessions', Item: item, ConditionExpression: 'attribute_not_exists(sessionId)' }));

    // THEN
    expect(table.Table?.TableStatus).toBe('ACTIVE');
    await expect(second).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    const read = await client.send(new GetItemCommand({ TableName: 'sessions', Key: item }));
    expect(read.Item).toEqual(item);
  });
});
