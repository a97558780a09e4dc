// 2. orchestrator overhead: warm and cold PUT through the real SessionApi (as the Lambda entry point wires it:
// INFO logging, metrics published after each request) against a baseline that makes the same SDK calls
// directly, both over HTTP to the emulator and dynalite with emulated service latencies. Iterations alternate
// which side goes first, so machine noise lands on both.
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { CreateMicrovmAuthTokenCommand, RunMicrovmCommand } from '@aws-sdk/client-lambda-microvms';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2WithIAMAuthorizer } from 'aws-lambda';
import { addTableLatency, dropCapturedLogs, round, summary, timed } from './support';
import type { OrchestratorConfig } from '../src/orchestrator/runtime/config';
import { SessionApi } from '../src/orchestrator/runtime/session-api';
import { clientTokenFor, sha256Hex } from '../src/orchestrator/runtime/table/schema';
import { ALICE, event, Rig, startRig } from '../test/orchestrator/runtime/harness';

/** Emulated service latencies (ms): what the requests wait for besides the local servers' own time. */
export const SERVICE_LATENCY_MS = { CreateMicrovmAuthToken: 15, RunMicrovm: 300, dynamodbPerCall: 4 };

export interface LatencyOptions {
  readonly warmIterations: number;
  readonly coldIterations: number;
  /** Emulated latencies. @default SERVICE_LATENCY_MS */
  readonly serviceLatencyMs?: typeof SERVICE_LATENCY_MS;
}

export interface Comparison {
  readonly iterations: number;
  readonly handlerMs: ReturnType<typeof summary>;
  readonly baselineMs: ReturnType<typeof summary>;
  /** p50(handler) / p50(baseline). */
  readonly ratioP50: number;
  readonly ratioP99: number;
  /** p50(handler) - p50(baseline), ms. */
  readonly overheadP50Ms: number;
  /** Handler answers other than the expected status (they would make the comparison meaningless). */
  readonly unexpectedStatuses: number;
}

export interface LatencyResult {
  readonly serviceLatencyMs: typeof SERVICE_LATENCY_MS;
  readonly warmPut: Comparison;
  /** Absent when no cold iterations were asked for. */
  readonly coldPut?: Comparison;
}

const ROW_RETENTION_SECONDS = 86_400;
const LEASE_MS = 30_000;

export async function measureLatency(options: LatencyOptions): Promise<LatencyResult> {
  const latency = options.serviceLatencyMs ?? SERVICE_LATENCY_MS;
  const rig = await startRig({
    rateLimits: false,
    memoryQuotaMiB: 100_000_000,
    faults: {
      operations: {
        CreateMicrovmAuthToken: { latencyMs: latency.CreateMicrovmAuthToken },
        RunMicrovm: { latencyMs: latency.RunMicrovm },
      },
    },
  });
  if (latency.dynamodbPerCall > 0) addTableLatency(rig, latency.dynamodbPerCall);
  // the sweeper fixture turns metrics off process-wide; the handler publishes them, so they stay on here.
  delete process.env.POWERTOOLS_METRICS_DISABLED;
  try {
    // the rig's environment: token TTL 300 s, app ports 8080 and 8443, an idle policy with auto-resume.
    const config = rig.config();
    const logger = new Logger({ serviceName: 'bench-orchestrator', logLevel: 'INFO' });
    const metrics = new Metrics({ namespace: 'Bench', serviceName: 'bench-orchestrator' });
    const api = new SessionApi({ microvms: rig.microvms, documentClient: rig.documentClient, config, logger, metrics });
    // what orchestrator.lambda.ts does around each request.
    const handler = async (e: APIGatewayProxyEventV2WithIAMAuthorizer) => {
      try {
        return await api.handle(e);
      } finally {
        if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
      }
    };
    const baseline = new Baseline(rig, config);

    // warm-up: module paths, connections and JIT for both sides, then the two warm sessions.
    for (let i = 0; i < 3; i++) {
      await handler(event('PUT', `/sessions/warmup-h-${i}`));
      await baseline.coldPut(`warmup-b-${i}`);
    }
    await handler(event('PUT', '/sessions/h-warm'));
    await baseline.coldPut('b-warm');
    for (let i = 0; i < 10; i++) {
      await handler(event('PUT', '/sessions/h-warm'));
      await baseline.warmPut('b-warm');
    }

    const warmPut = await compare(options.warmIterations, 200,
      async () => (await handler(event('PUT', '/sessions/h-warm'))).statusCode,
      () => baseline.warmPut('b-warm'),
      () => dropCapturedLogs(rig));
    const coldPut = options.coldIterations === 0 ? undefined : await compare(options.coldIterations, 201,
      async (i) => (await handler(event('PUT', `/sessions/h-cold-${i}`))).statusCode,
      (i) => baseline.coldPut(`b-cold-${i}`),
      () => dropCapturedLogs(rig));
    return { serviceLatencyMs: latency, warmPut, coldPut };
  } finally {
    await rig.stop();
  }
}

async function compare(
  iterations: number,
  expectedStatus: number,
  handler: (i: number) => Promise<number | undefined>,
  baseline: (i: number) => Promise<void>,
  afterEach: () => void,
): Promise<Comparison> {
  const handlerMs: number[] = [];
  const baselineMs: number[] = [];
  let unexpectedStatuses = 0;
  for (let i = 0; i < iterations; i++) {
    const runHandler = async () => {
      const { ms, value } = await timed(() => handler(i));
      handlerMs.push(ms);
      if (value !== expectedStatus) unexpectedStatuses++;
    };
    const runBaseline = async () => {
      baselineMs.push((await timed(() => baseline(i))).ms);
    };
    if (i % 2 === 0) {
      await runHandler();
      await runBaseline();
    } else {
      await runBaseline();
      await runHandler();
    }
    afterEach();
  }
  const h = summary(handlerMs);
  const b = summary(baselineMs);
  return {
    iterations,
    handlerMs: h,
    baselineMs: b,
    ratioP50: round(h.p50 / b.p50),
    ratioP99: round(h.p99 / b.p99),
    overheadP50Ms: round(h.p50 - b.p50),
    unexpectedStatuses,
  };
}

/** The same SDK calls the session API makes, with the same parameters, and nothing else. */
class Baseline {
  private readonly owner = sha256Hex(ALICE);

  constructor(private readonly rig: Rig, private readonly config: OrchestratorConfig) {}

  /** GetItem (strongly consistent) + CreateMicrovmAuthToken. */
  async warmPut(sessionId: string): Promise<void> {
    const row = await this.get(sessionId);
    await this.token(row?.microvmId as string);
  }

  /** GetItem (miss) + conditional PutItem + RunMicrovm + conditional UpdateItem + CreateMicrovmAuthToken. */
  async coldPut(sessionId: string): Promise<void> {
    const c = this.config;
    const now = Date.now();
    if (await this.get(sessionId)) throw new Error(`baseline session ${sessionId} exists already`);
    const leaseId = randomUUID();
    const clientToken = clientTokenFor(this.owner, sessionId, 1);
    await this.rig.documentClient.send(new PutCommand({
      TableName: c.tableName,
      Item: {
        owner: this.owner,
        sessionId,
        ownerArn: ALICE,
        status: 'LAUNCHING',
        createdAt: new Date(now).toISOString(),
        generation: 1,
        leaseId,
        leaseExpiresAt: now + LEASE_MS,
        clientToken,
        updatedAt: new Date(now).toISOString(),
        ttl: Math.floor(now / 1000) + c.maxDurationSeconds + ROW_RETENTION_SECONDS,
      },
      ConditionExpression: 'attribute_not_exists(sessionId)',
    }));
    const vm = await this.rig.microvms.send(new RunMicrovmCommand({
      imageIdentifier: c.imageArn,
      imageVersion: c.imageVersion,
      clientToken,
      egressNetworkConnectors: c.egressConnectors,
      ingressNetworkConnectors: c.ingressConnectors,
      executionRoleArn: c.executionRoleArn,
      logging: { disabled: {} },
      idlePolicy: c.idlePolicy ? { ...c.idlePolicy } : undefined,
      maximumDurationInSeconds: c.maxDurationSeconds,
    }));
    const expiresAt = Date.now() + c.maxDurationSeconds * 1000;
    await this.rig.documentClient.send(new UpdateCommand({
      TableName: c.tableName,
      Key: { owner: this.owner, sessionId },
      ConditionExpression: 'leaseId = :lid AND generation = :g',
      UpdateExpression: 'SET #status = :active, microvmId = :mid, endpoint = :ep, vmState = :vs, expiresAt = :exp, updatedAt = :u, #ttl = :ttl, imageVersion = :iv REMOVE leaseId, leaseExpiresAt',
      ExpressionAttributeNames: { '#status': 'status', '#ttl': 'ttl' },
      ExpressionAttributeValues: {
        ':lid': leaseId,
        ':g': 1,
        ':active': 'ACTIVE',
        ':mid': vm.microvmId,
        ':ep': `https://${vm.endpoint}`,
        ':vs': vm.state,
        ':exp': new Date(expiresAt).toISOString(),
        ':u': new Date().toISOString(),
        ':ttl': Math.floor(expiresAt / 1000) + ROW_RETENTION_SECONDS,
        ':iv': vm.imageVersion,
      },
      ReturnValues: 'ALL_NEW',
    }));
    await this.token(vm.microvmId as string);
  }

  private async get(sessionId: string): Promise<Record<string, unknown> | undefined> {
    const out = await this.rig.documentClient.send(new GetCommand({
      TableName: this.config.tableName,
      Key: { owner: this.owner, sessionId },
      ConsistentRead: true,
    }));
    return out.Item;
  }

  private async token(microvmIdentifier: string): Promise<void> {
    const out = await this.rig.microvms.send(new CreateMicrovmAuthTokenCommand({
      microvmIdentifier,
      expirationInMinutes: Math.ceil(this.config.tokenTtlSeconds / 60),
      allowedPorts: this.config.appPorts.map((port) => ({ port })),
    }));
    if (!out.authToken) throw new Error('baseline: no token');
  }
}
