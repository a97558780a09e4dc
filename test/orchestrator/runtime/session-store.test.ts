import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CREDENTIALS } from './harness';
import { slotsInUse as slotsOf } from './sweeper-fixture';
import { LocalDynamo, startDynalite } from '../../../src/local';
import { createSessionsTable } from '../../../src/local/sessions-table';
import { AdmissionCounter } from '../../../src/orchestrator/runtime/admission-counter';
import { clientTokenFor, SessionItem, sha256Hex } from '../../../src/orchestrator/runtime/table/schema';
import { InvalidNextTokenError, SessionStore } from '../../../src/orchestrator/runtime/table/session-store';

let dynamo: LocalDynamo;
let client: DynamoDBClient;
let store: SessionStore;
const OWNER = sha256Hex('arn:aws:iam::111111111111:user/alice');

function launching(sessionId: string, overrides: Partial<SessionItem> = {}): SessionItem {
  return {
    owner: OWNER,
    sessionId,
    ownerArn: 'arn:aws:iam::111111111111:user/alice',
    generation: 1,
    status: 'LAUNCHING',
    leaseId: `lease-${sessionId}`,
    leaseExpiresAt: 1_000,
    clientToken: clientTokenFor(OWNER, sessionId, 1),
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

const VM = { microvmId: 'mvm-1', endpoint: 'https://mvm-1.example', vmState: 'PENDING', imageVersion: '1', startedAt: '2026-01-01T00:00:00.000Z', expiresAt: '2026-01-01T01:00:00.000Z', updatedAt: 'u', ttl: 1 };

beforeAll(async () => {
  dynamo = await startDynalite();
  client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: CREDENTIALS });
  await createSessionsTable(client, 'sessions');
  store = new SessionStore(DynamoDBDocumentClient.from(client), 'sessions');
});

function slotsInUse(): Promise<number> {
  return slotsOf({ documentClient: DynamoDBDocumentClient.from(client), tableName: 'sessions' });
}

afterAll(async () => {
  client.destroy();
  await dynamo.stop();
});

describe('createSessionsTable', () => {
  test('creates the contract schema: owner hash key, sessionId range key, on demand', async () => {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: 'sessions' }));
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.KeySchema).toEqual([{ AttributeName: 'owner', KeyType: 'HASH' }, { AttributeName: 'sessionId', KeyType: 'RANGE' }]);
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
  });
});

describe('clientTokenFor', () => {
  test('is the 64-hex SHA-256 of owner/session/generation', () => {
    expect(clientTokenFor('o', 's', 2)).toBe(sha256Hex('o/s/2'));
    expect(clientTokenFor('o', 's', 2)).toMatch(/^[0-9a-f]{64}$/);
    expect(clientTokenFor('o', 's', 3)).not.toBe(clientTokenFor('o', 's', 2));
  });
});

describe('SessionStore', () => {
  test('createLaunching succeeds once per session', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store.createLaunching(launching('once', { leaseId: `l${i}` }))));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  test('exactly one of many racing takeovers of an expired lease wins', async () => {
    // GIVEN
    await store.createLaunching(launching('race'));
    const row = (await store.get(OWNER, 'race'))!;

    // WHEN
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) =>
      store.beginLaunch(row, { generation: 1, leaseId: `new-${i}`, leaseExpiresAt: 5_000, clientToken: row.clientToken, updatedAt: 'u' })));

    // THEN
    const winners = results.filter((r) => r !== undefined);
    expect(winners).toHaveLength(1);
    expect((await store.get(OWNER, 'race'))!.leaseId).toBe(winners[0]!.leaseId);
  });

  test('finishLaunch only succeeds for the lease holder and clears the lease', async () => {
    // GIVEN
    await store.createLaunching(launching('finish'));
    const row = (await store.get(OWNER, 'finish'))!;

    // WHEN
    const stale = await store.finishLaunch({ ...row, leaseId: 'someone-else' }, VM);
    const done = await store.finishLaunch(row, VM);

    // THEN
    expect(stale).toBeUndefined();
    expect(done).toMatchObject({ status: 'ACTIVE', microvmId: 'mvm-1', imageVersion: '1' });
    expect(done!.leaseId).toBeUndefined();
    expect(done!.leaseExpiresAt).toBeUndefined();
  });

  test('a relaunch from ACTIVE is conditional on the observed generation', async () => {
    // GIVEN
    await store.createLaunching(launching('relaunch'));
    const active = (await store.finishLaunch((await store.get(OWNER, 'relaunch'))!, VM))!;
    const next = { generation: 2, leaseId: 'g2', leaseExpiresAt: 9, clientToken: clientTokenFor(OWNER, 'relaunch', 2), updatedAt: 'u' };

    // WHEN
    const first = await store.beginLaunch(active, next);
    const second = await store.beginLaunch(active, { ...next, leaseId: 'g2-late' });

    // THEN
    expect(first).toMatchObject({ status: 'LAUNCHING', generation: 2, leaseId: 'g2', microvmId: 'mvm-1' });
    expect(second).toBeUndefined();
  });

  test('releaseLease keeps the generation and clientToken, and deleteSession needs the lease', async () => {
    await store.createLaunching(launching('release'));
    const row = (await store.get(OWNER, 'release'))!;
    expect(await store.releaseLease(row, 'u')).toBe(true);
    expect(await store.get(OWNER, 'release')).toMatchObject({ leaseExpiresAt: 0, generation: 1, clientToken: row.clientToken });
    expect(await store.deleteSession({ ...row, leaseId: 'other' })).toBe(false);
    expect(await store.deleteSession(row)).toBe(true);
    expect(await store.get(OWNER, 'release')).toBeUndefined();
  });

  test('lists an owner\'s sessions in pages with an opaque, validated nextToken', async () => {
    // GIVEN
    const owner = sha256Hex('lister');
    for (const id of ['p1', 'p2', 'p3']) await store.createLaunching(launching(id, { owner }));
    await store.createLaunching(launching('other-owner', { owner: sha256Hex('other') }));

    // WHEN
    const first = await store.listByOwner(owner, 2);
    const second = await store.listByOwner(owner, 2, first.nextToken);

    // THEN
    expect(first.items.map((i) => i.sessionId)).toEqual(['p1', 'p2']);
    expect(first.nextToken).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(second.items.map((i) => i.sessionId)).toEqual(['p3']);
    await expect(store.listByOwner(sha256Hex('other'), 2, first.nextToken)).rejects.toThrow(InvalidNextTokenError);
    await expect(store.listByOwner(owner, 2, 'e30')).rejects.toThrow(InvalidNextTokenError);
    expect(await store.countByOwner(owner)).toBe(3);
  });

  test('the admission counter never passes its maximum under concurrency and never goes below zero', async () => {
    const counter = AdmissionCounter.of(DynamoDBDocumentClient.from(client), 'sessions', 5);
    const results = await Promise.all(Array.from({ length: 12 }, () => counter.acquire('u')));
    expect(results.filter(Boolean)).toHaveLength(5);
    expect(await slotsInUse()).toBe(5);
    for (let i = 0; i < 7; i++) await counter.release();
    expect(await slotsInUse()).toBe(0);
  });
});
