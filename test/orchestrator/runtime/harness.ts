// shared test rig: the real SessionApi with real SDK clients over HTTP, against the local MicroVM
// emulator and dynalite. Not a test file itself (jest only picks up *.test.ts).
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { LambdaMicrovmsClient } from '@aws-sdk/client-lambda-microvms';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2WithIAMAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { EmulatorOptions, MicrovmEmulator, startDynalite, LocalDynamo } from '../../../src/local';
import { createSessionsTable } from '../../../src/local/sessions-table';
import { OrchestratorConfig, parseConfig } from '../../../src/orchestrator/runtime/config';
import { SessionApi, SessionApiProps } from '../../../src/orchestrator/runtime/session-api';
import { ENV } from '../../../src/shared/contract';

export const CREDENTIALS = { accessKeyId: 'AKIDLOCALTESTING0000', secretAccessKey: 'local-testing-secret' };
export const ALICE = 'arn:aws:iam::111111111111:user/alice';
export const BOB = 'arn:aws:sts::111111111111:assumed-role/dev/bob';

/** Captured stdout/stderr lines (Powertools writes there), kept off the test output. */
export class OutputCapture {
  readonly lines: string[] = [];
  private restore: Array<() => void> = [];

  start(): void {
    for (const stream of [process.stdout, process.stderr]) {
      const original = stream.write.bind(stream);
      stream.write = ((chunk: unknown, ...rest: unknown[]) => {
        this.lines.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
        const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
        callback?.();
        return true;
      }) as typeof stream.write;
      this.restore.push(() => { stream.write = original; });
    }
  }

  stop(): void {
    this.restore.forEach((r) => r());
    this.restore = [];
  }

  get text(): string {
    return this.lines.join('');
  }
}

export interface Rig {
  readonly emulator: MicrovmEmulator;
  readonly dynamo: LocalDynamo;
  readonly dynamoClient: DynamoDBClient;
  readonly documentClient: DynamoDBDocumentClient;
  readonly microvms: LambdaMicrovmsClient;
  readonly imageArn: string;
  readonly tableName: string;
  /** DynamoDB commands sent, by name (e.g. GetItemCommand), counted by a client middleware. */
  readonly dynamoCalls: Record<string, number>;
  readonly metricsSeen: string[];
  readonly capture: OutputCapture;
  clock: { offsetMs: number };
  config(overrides?: Record<string, string | undefined>): OrchestratorConfig;
  api(overrides?: Record<string, string | undefined>, props?: Partial<SessionApiProps>): SessionApi;
  resetCounts(): void;
  tableItems(): Promise<Array<Record<string, unknown>>>;
  stop(): Promise<void>;
}

let tableSeq = 0;

/** Starts the emulator, dynalite and a sessions table. `now` of every API shares the rig's clock. */
export async function startRig(options: EmulatorOptions = {}): Promise<Rig> {
  const clock = { offsetMs: 0 };
  const now = () => Date.now() + clock.offsetMs;
  const emulator = await MicrovmEmulator.start({ seed: 42, clock: Date.now, ...options });
  const dynamo = await startDynalite();
  const imageArn = emulator.registerImage({ name: 'sandbox', versions: ['1', '2'], hooksPort: 9000 });
  const dynamoClient = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: CREDENTIALS });
  const dynamoCalls: Record<string, number> = {};
  dynamoClient.middlewareStack.add((next, context) => async (args) => {
    const name = String(context.commandName);
    dynamoCalls[name] = (dynamoCalls[name] ?? 0) + 1;
    return next(args);
  }, { step: 'initialize', name: 'countCalls' });
  const documentClient = DynamoDBDocumentClient.from(dynamoClient);
  const microvms = new LambdaMicrovmsClient({ endpoint: emulator.endpoint, region: emulator.region, credentials: CREDENTIALS });
  const tableName = `sessions-${++tableSeq}`;
  await createSessionsTable(dynamoClient, tableName);
  const capture = new OutputCapture();
  capture.start();
  const metricsSeen: string[] = [];
  const env = (overrides: Record<string, string | undefined> = {}) => ({
    [ENV.TABLE_NAME]: tableName,
    [ENV.IMAGE_ARN]: imageArn,
    [ENV.APP_PORTS]: '[8080,8443]',
    [ENV.HOOKS_PORT]: '9000',
    [ENV.TOKEN_TTL_SECONDS]: '300',
    [ENV.MAX_DURATION_SECONDS]: '3600',
    [ENV.EGRESS_CONNECTORS]: JSON.stringify([`arn:aws:lambda:${emulator.region}:123456789012:network-connector:isolated`]),
    [ENV.INGRESS_CONNECTORS]: JSON.stringify([`arn:aws:lambda:${emulator.region}:aws:network-connector:aws-network-connector:HTTP_INGRESS`]),
    [ENV.IDLE_POLICY]: JSON.stringify({ maxIdleDurationSeconds: 600, suspendedDurationSeconds: 3600, autoResumeEnabled: true }),
    ...overrides,
  });
  const rig: Rig = {
    emulator,
    dynamo,
    dynamoClient,
    documentClient,
    microvms,
    imageArn,
    tableName,
    dynamoCalls,
    metricsSeen,
    capture,
    clock,
    config: (overrides) => parseConfig(env(overrides)),
    api: (overrides, props) => {
      const logger = new Logger({ serviceName: 'orchestrator-test', logLevel: 'DEBUG' });
      const metrics = new Metrics({ namespace: 'Test', serviceName: 'orchestrator-test' });
      const add = metrics.addMetric.bind(metrics);
      metrics.addMetric = (name, unit, value, resolution) => {
        metricsSeen.push(name);
        return add(name, unit, value, resolution);
      };
      return new SessionApi({
        microvms, documentClient, config: parseConfig(env(overrides)), logger, metrics, now, launchWaitMilliseconds: 500, ...props,
      });
    },
    resetCounts: () => {
      for (const key of Object.keys(dynamoCalls)) delete dynamoCalls[key];
      emulator.resetCallCounts();
      metricsSeen.length = 0;
    },
    tableItems: async () => {
      const out = await dynamoClient.send(new ScanCommand({ TableName: tableName, ConsistentRead: true }));
      return (out.Items ?? []).map((item) => JSON.parse(JSON.stringify(item)));
    },
    stop: async () => {
      capture.stop();
      dynamoClient.destroy();
      microvms.destroy();
      await emulator.stop();
      await dynamo.stop();
    },
  };
  return rig;
}

export interface EventOptions {
  readonly caller?: string | null;
  readonly body?: unknown;
  readonly rawBody?: string;
  readonly isBase64Encoded?: boolean;
  readonly headers?: Record<string, string>;
  readonly query?: Record<string, string>;
}

/** A Function URL (payload 2.0) event as AWS_IAM auth delivers it. */
export function event(method: string, path: string, options: EventOptions = {}): APIGatewayProxyEventV2WithIAMAuthorizer {
  const caller = options.caller === undefined ? ALICE : options.caller;
  const payload = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: new URLSearchParams(options.query ?? {}).toString(),
    headers: { 'content-type': 'application/json', ...options.headers },
    queryStringParameters: options.query,
    body: payload,
    isBase64Encoded: options.isBase64Encoded ?? false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'url-id',
      domainName: 'url-id.lambda-url.us-east-1.on.aws',
      domainPrefix: 'url-id',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'req',
      routeKey: '$default',
      stage: '$default',
      time: '',
      timeEpoch: 0,
      authorizer: caller === null ? undefined : {
        iam: {
          accessKey: 'AKID',
          accountId: '111111111111',
          callerId: 'AIDA',
          cognitoIdentity: null as any,
          principalOrgId: null as any,
          userArn: caller,
          userId: 'AIDA',
        },
      },
    } as any,
  };
}

/** The JSON body of a response. */
export function body(res: APIGatewayProxyStructuredResultV2): any {
  return res.body ? JSON.parse(res.body) : undefined;
}

/** Sends until the answer is not one of `retryOn` (retryable 503/429), at most `attempts` times. */
export async function untilSettled(
  send: () => Promise<APIGatewayProxyStructuredResultV2>,
  attempts = 60,
  retryOn: number[] = [503, 429],
): Promise<APIGatewayProxyStructuredResultV2> {
  let res = await send();
  for (let i = 1; i < attempts && retryOn.includes(res.statusCode as number); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50 + Math.floor(Math.random() * 100)));
    res = await send();
  }
  return res;
}
