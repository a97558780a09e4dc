import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaMicrovmsClient, RunMicrovmCommand } from '@aws-sdk/client-lambda-microvms';
import { BatchWriteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { MicrovmEmulator, startDynalite, type EmulatorOptions, type LocalDynamo, type VmSnapshot } from '../../../src/local';
import { createSessionsTable } from '../../../src/local/sessions-table';
import { AdmissionCounter } from '../../../src/orchestrator/runtime/admission-counter';
import type { SessionEvents } from '../../../src/orchestrator/runtime/session-events';
import type { SweepCheckpoints } from '../../../src/orchestrator/runtime/sweep-checkpoints';
import { Sweeper } from '../../../src/orchestrator/runtime/sweeper';
import { SweeperConfig } from '../../../src/orchestrator/runtime/sweeper-config';
import { clientTokenFor, sha256Hex } from '../../../src/orchestrator/runtime/table/schema';
import { VersionPruner } from '../../../src/orchestrator/runtime/version-pruner';
import { TABLE } from '../../../src/shared/contract';

/** Test start time on the emulated clock (frozen unless a test advances it). */
export const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);
export const GRACE_SECONDS = 600;
export const MAX_DURATION_SECONDS = 3600;
export const OWNER = sha256Hex('arn:aws:iam::123456789012:user/alice');
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };

export interface Fixture {
  readonly emulator: MicrovmEmulator;
  readonly dynamo: LocalDynamo;
  readonly microvms: LambdaMicrovmsClient;
  readonly documentClient: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly imageArn: string;
  readonly otherImageArn: string;
  stop(): Promise<void>;
}

/** A sweeper fixture over a session-API rig's emulator and table, so both sides see the same world. */
export function fixtureOf(rig: Pick<Fixture, 'emulator' | 'dynamo' | 'microvms' | 'documentClient' | 'tableName' | 'imageArn'> & { stop(): Promise<void> }): Fixture {
  return {
    emulator: rig.emulator,
    dynamo: rig.dynamo,
    microvms: rig.microvms,
    documentClient: rig.documentClient,
    tableName: rig.tableName,
    imageArn: rig.imageArn,
    otherImageArn: rig.imageArn,
    stop: () => rig.stop(),
  };
}

let tableCounter = 0;

/**
 * The emulator (frozen clock at T0, no rate limits unless asked) and dynalite, with a fresh sessions table,
 * both reached by the real SDK clients over HTTP.
 */
export async function startFixture(options: EmulatorOptions = {}): Promise<Fixture> {
  const emulator = await MicrovmEmulator.start({ clock: () => T0, rateLimits: false, seed: 7, ...options });
  const dynamo = await startDynalite();
  const ddb = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials });
  const tableName = `sessions-${++tableCounter}`;
  await createSessionsTable(ddb, tableName);
  const microvms = new LambdaMicrovmsClient({ endpoint: emulator.endpoint, region: emulator.region, credentials });
  return {
    emulator,
    dynamo,
    microvms,
    documentClient: DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } }),
    tableName,
    imageArn: emulator.registerImage({ name: 'sandbox' }),
    otherImageArn: emulator.registerImage({ name: 'someone-elses' }),
    stop: async () => {
      microvms.destroy();
      ddb.destroy();
      await emulator.stop();
      await dynamo.stop();
    },
  };
}

export function quietLogger(): Logger {
  return new Logger({ serviceName: 'sweeper-test', logLevel: 'SILENT' });
}

export function quietMetrics(): Metrics {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  return new Metrics({ namespace: 'SweeperTest', serviceName: 'sweeper-test' });
}

export interface SweeperExtras {
  readonly metrics?: Metrics;
  readonly clock?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** The SDK client's own attempts (default: the SDK default, 3). */
  readonly sdkMaxAttempts?: number;
  /** The sweeper's attempts per call, on top of the SDK's. */
  readonly maxAttempts?: number;
  /** Version pruning after a complete list. */
  readonly pruner?: VersionPruner;
  readonly logger?: Logger;
  /** Where the sweep's lifecycle events go. */
  readonly events?: SessionEvents;
  /** Saves before the end. */
  readonly checkpoints?: SweepCheckpoints;
}

/** A sweeper's configuration for a test; `admissionCounter` gives it the `maxSessions` counter, as the handler does when it is set. */
export type SweeperSetup = Partial<SweeperConfig> & { readonly admissionCounter?: boolean };

/** Test support: the `maxSessions` counter's value (0 when never used). */
export async function slotsInUse(fx: Pick<Fixture, 'documentClient' | 'tableName'>): Promise<number> {
  return (await AdmissionCounter.of(fx.documentClient, fx.tableName).read())?.count ?? 0;
}

export function newSweeper(fx: Fixture, setup: SweeperSetup = {}, extra: SweeperExtras = {}): Sweeper {
  const { admissionCounter, ...config } = setup;
  const microvms = extra.sdkMaxAttempts === undefined
    ? fx.microvms
    : new LambdaMicrovmsClient({ endpoint: fx.emulator.endpoint, region: fx.emulator.region, credentials, maxAttempts: extra.sdkMaxAttempts });
  return new Sweeper({
    microvms,
    documentClient: fx.documentClient,
    config: {
      tableName: fx.tableName,
      imageArn: fx.imageArn,
      orphanGracePeriodSeconds: GRACE_SECONDS,
      maxSessionDurationSeconds: MAX_DURATION_SECONDS,
      budget: {},
      rates: { listPerSecond: 100_000, terminatePerSecond: 100_000, getPerSecond: 100_000 },
      ...config,
    },
    logger: extra.logger ?? quietLogger(),
    metrics: extra.metrics ?? quietMetrics(),
    pruner: extra.pruner,
    events: extra.events,
    checkpoints: extra.checkpoints,
    admission: admissionCounter ? AdmissionCounter.of(fx.documentClient, fx.tableName) : undefined,
    now: () => fx.emulator.now(),
    clock: extra.clock,
    sleep: extra.sleep,
    backoff: { baseDelayMs: 1, maxDelayMs: 5, maxAttempts: extra.maxAttempts ?? 8 },
  });
}

export interface SessionSeed {
  readonly sessionId: string;
  readonly microvmId?: string;
  readonly status?: 'LAUNCHING' | 'ACTIVE' | 'ENDING';
  readonly generation?: number;
  readonly leaseId?: string;
  readonly leaseExpiresAt?: number;
  readonly vmState?: string;
  readonly expiresAt?: string;
  readonly updatedAt?: string;
}

/** A session row as the session API writes it. */
export function sessionItem(fx: Fixture, seed: SessionSeed): Record<string, unknown> {
  const generation = seed.generation ?? 1;
  const now = new Date(fx.emulator.now()).toISOString();
  return {
    owner: OWNER,
    sessionId: seed.sessionId,
    ownerArn: 'arn:aws:iam::123456789012:user/alice',
    generation,
    status: seed.status ?? 'ACTIVE',
    leaseId: seed.leaseId,
    leaseExpiresAt: seed.leaseExpiresAt,
    microvmId: seed.microvmId,
    endpoint: seed.microvmId ? `${seed.microvmId}.lambda-microvm.us-east-1.on.aws` : undefined,
    vmState: seed.vmState ?? (seed.microvmId ? 'RUNNING' : undefined),
    imageVersion: '1',
    createdAt: now,
    expiresAt: seed.expiresAt ?? new Date(fx.emulator.now() + MAX_DURATION_SECONDS * 1000).toISOString(),
    clientToken: clientTokenFor(OWNER, seed.sessionId, generation),
    updatedAt: seed.updatedAt ?? now,
  };
}

export async function putSession(fx: Fixture, seed: SessionSeed): Promise<void> {
  await fx.documentClient.send(new PutCommand({ TableName: fx.tableName, Item: sessionItem(fx, seed) }));
}

/** Writes many rows with BatchWriteItem (25 a call), retrying unprocessed items. */
export async function putSessions(fx: Fixture, seeds: SessionSeed[]): Promise<void> {
  for (let i = 0; i < seeds.length; i += 25) {
    let requests: any[] = seeds.slice(i, i + 25).map((s) => ({ PutRequest: { Item: sessionItem(fx, s) } }));
    while (requests.length > 0) {
      const out = await fx.documentClient.send(new BatchWriteCommand({ RequestItems: { [fx.tableName]: requests } }));
      requests = out.UnprocessedItems?.[fx.tableName] ?? [];
    }
  }
}

export async function getSession(fx: Fixture, sessionId: string): Promise<Record<string, any> | undefined> {
  const out = await fx.documentClient.send(new GetCommand({ TableName: fx.tableName, Key: { owner: OWNER, sessionId }, ConsistentRead: true }));
  return out.Item;
}

export async function suspects(fx: Fixture): Promise<Record<string, any>[]> {
  const items: Record<string, any>[] = [];
  let start: Record<string, any> | undefined;
  do {
    const out = await fx.documentClient.send(new QueryCommand({
      TableName: fx.tableName,
      KeyConditionExpression: '#o = :o',
      ExpressionAttributeNames: { '#o': 'owner' },
      ExpressionAttributeValues: { ':o': TABLE.ORPHAN_PARTITION },
      ConsistentRead: true,
      ExclusiveStartKey: start,
    }));
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

/** Seeds RUNNING VMs of the sweeper's image that started `ageSeconds` ago. */
export function seedVms(fx: Fixture, count: number, ageSeconds: number, imageArn = fx.imageArn): string[] {
  return fx.emulator.seedVms(count, { imageArn, startedAt: fx.emulator.now() - ageSeconds * 1000 });
}

/** Launches a VM the way the session API does (real RunMicrovm call with the session's clientToken). */
export async function runVm(fx: Fixture, sessionId: string, generation = 1): Promise<string> {
  const out = await fx.microvms.send(new RunMicrovmCommand({
    imageIdentifier: fx.imageArn,
    clientToken: clientTokenFor(OWNER, sessionId, generation),
    maximumDurationInSeconds: MAX_DURATION_SECONDS,
  }));
  return out.microvmId!;
}

/** Number of times the VM entered TERMINATING: more than one would mean a second termination took effect. */
export function terminations(vm: VmSnapshot | undefined): number {
  return (vm?.history ?? []).filter((h) => h.state === 'TERMINATING').length;
}

export function stateOf(fx: Fixture, id: string): string | undefined {
  return fx.emulator.getVm(id)?.state;
}

/**
 * Virtual time for pacing: sleeps return at once and move the clock to the end of the longest sleep in flight,
 * so a run's paced duration is measured without waiting for it.
 */
export function virtualTime(): { clock: () => number; sleep: (ms: number) => Promise<void> } {
  let now = 0;
  return {
    clock: () => now,
    sleep: async (ms: number) => {
      // sleepers started in the same tick wake at their own deadline, not one after another.
      const until = now + ms;
      await Promise.resolve();
      now = Math.max(now, until);
    },
  };
}
