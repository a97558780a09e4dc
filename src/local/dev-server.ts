// `npm run local`: the real session API handler behind a local HTTP port, against the MicroVM emulator and
// dynalite, so the API can be driven with curl and no AWS account. Development tool only: it loads the
// handler's build-time packages (AWS SDK, Powertools, dynalite) at run time, so it is not exported from the
// dependency-free barrel `src/local/index.ts`.
/* eslint-disable import/no-extraneous-dependencies, @typescript-eslint/no-require-imports */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2WithIAMAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { startDynalite, type LocalDynamo } from './dynalite';
import { MicrovmEmulator } from './emulator';
import { LocalEventBus } from './event-bus';
import { readBody } from './http-body';
import { createSessionsTable } from './sessions-table';
import type { EmulatorOptions } from './types';
import { ENV } from '../shared/contract';

/** Credential scope of a SigV4 header: the access key id and the signing name. */
const SIGV4 = /^AWS4-HMAC-SHA256\s+Credential=([A-Za-z0-9]{1,128})\/\d{8}\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request\s*,/;
const MAX_BODY_BYTES = 6 * 1024 * 1024;

/** Options of {@link startDevServer}. */
export interface DevServerOptions {
  /** Port of the session API on 127.0.0.1. @default 8787 (0 picks a free port) */
  readonly port?: number;
  /** Account id of the emulated account and of the callers' ARNs. @default '123456789012' */
  readonly accountId?: string;
  /** Options of the MicroVM emulator. @default the emulator's defaults with a 1 s launch delay */
  readonly emulator?: EmulatorOptions;
  /** Orchestrator environment overrides (names from `ENV`). @default none */
  readonly environment?: Record<string, string>;
}

/** A running local session API. */
export interface DevServer {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly emulator: MicrovmEmulator;
  readonly dynamo: LocalDynamo;
  readonly imageArn: string;
  readonly tableName: string;
  /** The local stand-in for EventBridge the session lifecycle events go to (`AWS_ENDPOINT_URL_EVENTBRIDGE`). */
  readonly eventBus: LocalEventBus;
  stop(): Promise<void>;
}

type Handler = (event: APIGatewayProxyEventV2WithIAMAuthorizer) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * Starts the emulator, dynalite and the sessions table, points the orchestrator's SDK clients at them through
 * `AWS_ENDPOINT_URL_LAMBDA_MICROVMS` / `AWS_ENDPOINT_URL_DYNAMODB`, and serves the real `handler` of
 * `orchestrator.lambda.ts` as a Function URL with AWS_IAM auth would: each request becomes a payload 2.0 event
 * whose caller is `arn:aws:iam::<account>:user/<access key id>` from the SigV4 header. Unsigned requests get 403.
 * Signatures are not verified (any secret works).
 *
 * The handler reads its environment once, when first loaded: start one dev server per process.
 */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const accountId = options.accountId ?? '123456789012';
  const emulator = await MicrovmEmulator.start({ accountId, launchDelayMs: 1000, ...options.emulator });
  const dynamo = await startDynalite();
  const eventBus = await LocalEventBus.start();
  const imageArn = emulator.registerImage({ name: 'local-sandbox', hooksPort: 9000 });
  const tableName = 'local-sessions';
  const credentials = { accessKeyId: 'AKIDLOCALDEVSERVER00', secretAccessKey: 'local-dev-server-secret' };

  const { DynamoDBClient } = require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb');
  const dynamoClient = new DynamoDBClient({ endpoint: dynamo.endpoint, region: emulator.region, credentials });
  try {
    await createSessionsTable(dynamoClient, tableName);
  } finally {
    dynamoClient.destroy();
  }

  Object.assign(process.env, {
    AWS_ENDPOINT_URL_LAMBDA_MICROVMS: emulator.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_EVENTBRIDGE: eventBus.endpoint,
    AWS_REGION: emulator.region,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    [ENV.TABLE_NAME]: tableName,
    [ENV.IMAGE_ARN]: imageArn,
    [ENV.APP_PORTS]: '[8080]',
    [ENV.HOOKS_PORT]: '9000',
    [ENV.SERVICE_NAME]: 'microvm-orchestrator-local',
    [ENV.EVENT_BUS_NAME]: 'default',
    [ENV.BASELINE_MEMORY_MIB]: '2048',
    ...options.environment,
  });
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  // loaded only now: the handler creates its SDK clients from the environment when its module loads.
  const { handler } = require('../orchestrator/orchestrator.lambda') as { handler: Handler };

  const server = http.createServer((req, res) => void serve(handler, accountId, req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8787, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    emulator,
    dynamo,
    imageArn,
    tableName,
    eventBus,
    stop: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await emulator.stop();
      await dynamo.stop();
      await eventBus.stop();
    },
  };
}

async function serve(handler: Handler, accountId: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  try {
    const body = await readBody(req, MAX_BODY_BYTES);
    if (body === undefined) {
      // what a Function URL answers to a payload over its 6 MB limit.
      reply(res, 413, { 'content-type': 'application/json' }, JSON.stringify({ Message: `Request must be smaller than ${MAX_BODY_BYTES} bytes` }));
      return;
    }
    const auth = SIGV4.exec(req.headers.authorization ?? '');
    if (!auth) {
      // what a Function URL with AWS_IAM auth answers to an unsigned request.
      reply(res, 403, { 'content-type': 'application/json', 'x-amzn-errortype': 'AccessDeniedException' }, '{"Message":"Forbidden"}');
      return;
    }
    const event = toEvent(req, body, auth[1], accountId);
    const result = await handler(event);
    const payload = result.body === undefined ? '' : result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
    reply(res, result.statusCode ?? 200, headers, payload);
  } catch (error) {
    reply(res, 502, { 'content-type': 'application/json' }, JSON.stringify({ Message: `handler failed: ${(error as Error).message}` }));
  }
}

/** A Function URL payload 2.0 event, as Lambda builds it for an IAM-authenticated caller. */
export function toEvent(
  req: http.IncomingMessage,
  body: Buffer,
  accessKeyId: string,
  accountId: string,
): APIGatewayProxyEventV2WithIAMAuthorizer {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && name !== 'cookie') headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = query[name] === undefined ? value : `${query[name]},${value}`;
  const contentType = headers['content-type'] ?? '';
  const text = body.length === 0 || contentType === '' || /json|text|xml|x-www-form-urlencoded/i.test(contentType);
  const now = new Date();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    cookies: req.headers.cookie ? req.headers.cookie.split(';').map((c) => c.trim()) : undefined,
    headers,
    queryStringParameters: Object.keys(query).length > 0 ? query : undefined,
    requestContext: {
      accountId,
      apiId: 'local',
      domainName: headers.host ?? '127.0.0.1',
      domainPrefix: 'local',
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
      authorizer: {
        iam: {
          accessKey: accessKeyId,
          accountId,
          callerId: accessKeyId,
          cognitoIdentity: null as never,
          principalOrgId: null as never,
          userArn: `arn:aws:iam::${accountId}:user/${accessKeyId}`,
          userId: accessKeyId,
        },
      },
    },
    body: body.length === 0 ? undefined : text ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: body.length > 0 && !text,
  } as APIGatewayProxyEventV2WithIAMAuthorizer;
}

function reply(res: http.ServerResponse, status: number, headers: Record<string, string>, body: string | Buffer): void {
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** What to try, printed at start. */
export function usage(server: DevServer): string {
  const sign = '--aws-sigv4 "aws:amz:us-east-1:lambda" --user AKIDALICE:any-secret';
  const url = server.url;
  return [
    `session API:       ${url}  (caller = arn:aws:iam::<account>:user/<access key id>; any secret works)`,
    `MicroVM emulator:  ${server.emulator.endpoint}  (image ${server.imageArn})`,
    `DynamoDB (dynalite): ${server.dynamo.endpoint}  (table ${server.tableName})`,
    '',
    'try:',
    `  curl -s ${sign} -X PUT ${url}/sessions/demo -H 'content-type: application/json' -d '{"payload":"hello"}'`,
    `  curl -s ${sign} ${url}/sessions`,
    `  curl -s ${sign} ${url}/sessions/demo`,
    `  curl -s ${sign} -X POST ${url}/sessions/demo/token -H 'content-type: application/json' -d '{"ttlSeconds":300}'`,
    `  curl -s ${sign} -X POST ${url}/sessions/demo/suspend`,
    `  curl -s ${sign} -X POST ${url}/sessions/demo/resume`,
    `  curl -s ${sign} -X DELETE ${url}/sessions/demo`,
    `  curl -s --aws-sigv4 "aws:amz:us-east-1:lambda" --user AKIDBOB:x ${url}/sessions/demo   # another caller: 404`,
    `  curl -s -i ${url}/sessions   # unsigned: 403`,
    '',
    `  AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=y aws lambda-microvms list-microvms --region us-east-1 --endpoint-url ${server.emulator.endpoint}`,
    '',
    'Ctrl-C stops everything (all state is in memory).',
  ].join('\n');
}

/** Entry point: `node <bundle of this file> [--port N]` (or PORT=N). */
export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const flag = argv.indexOf('--port');
  const port = Number(flag >= 0 ? argv[flag + 1] : process.env.PORT ?? 8787);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0-65535, got ${argv[flag + 1] ?? process.env.PORT}`);
  const server = await startDevServer({ port });
  process.stdout.write(`${usage(server)}\n`);
  const shutdown = () => void server.stop().then(() => process.exit(0));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  });
}
