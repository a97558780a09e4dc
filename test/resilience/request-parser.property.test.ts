import type { APIGatewayProxyEventV2WithIAMAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import * as fc from 'fast-check';
import { ALICE, BOB, event, liveVms, rows, startWorld, World } from './support';
import { ENV } from '../../src/shared/contract';

// fixed seeds and bounded runs: the same inputs every CI run.
const SEED = 4242;
const API_STATUSES = [200, 201, 202, 204, 400, 403, 404, 405, 409, 413, 415, 429, 503];

const weird = fc.constantFrom('', '.', '..', '%2F', 'a b', 'ü', 'a/b', '\u0000', '😀', 'x'.repeat(129), 'A'.repeat(128), '-', '_.-');
const sessionId = fc.oneof(fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/), fc.string({ maxLength: 40, unit: 'binary' }), weird);
const path = fc.oneof(
  fc.constantFrom('/sessions', '/sessions/', '/', '', '/sessions//token', '/SESSIONS', '/sessions?x=1', '/sessions/a/token/extra'),
  fc.tuple(
    fc.constantFrom('/sessions/', '/session/', '//sessions/', '/sessions/x/'),
    sessionId,
    fc.constantFrom('', '/token', '/suspend', '/resume', '/x', '/', '/token/'),
  ).map(([a, b, c]) => `${a}${b}${c}`),
  fc.string({ maxLength: 60, unit: 'binary' }),
);
const method = fc.oneof(fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'put', ''), fc.string({ maxLength: 8 }));
const anything = fc.oneof(fc.jsonValue(), fc.constant(undefined));
const jsonBody = fc.record({
  payload: fc.oneof(fc.string({ maxLength: 50 }), fc.string({ minLength: 4090, maxLength: 4200 }), anything),
  ports: fc.oneof(fc.constant([8080]), fc.constant([8080, 8443]), fc.constant([9000]),
    fc.array(fc.integer({ min: -5, max: 70000 }), { maxLength: 4 }), anything),
  ttlSeconds: fc.oneof(fc.integer({ min: -10, max: 4000 }), fc.double(), anything),
  extra: anything,
}, { requiredKeys: [] }).map((b) => JSON.stringify(b));
const rawBody = fc.oneof(
  fc.constant(undefined),
  jsonBody,
  fc.json({ maxDepth: 3 }),
  fc.string({ maxLength: 100, unit: 'binary' }),
  fc.constant('x'.repeat(40_000)),
  fc.constant('{"payload":'),
);
const contentType = fc.option(fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/vnd.x+json', '', '*/*'), { nil: undefined });
const caller = fc.oneof(fc.constantFrom<string | null>(ALICE, BOB, ALICE, null, ''), fc.string({ maxLength: 30 }));
const query = fc.option(fc.dictionary(fc.constantFrom('limit', 'nextToken', 'X-Amz-Date', 'other'), fc.string({ maxLength: 20 }), { maxKeys: 3 }), { nil: undefined });

const request = fc.record({ method, path, rawBody, contentType, caller, query, base64: fc.boolean() });
type Request = typeof request extends fc.Arbitrary<infer R> ? R : never;

function toEvent(r: Request): APIGatewayProxyEventV2WithIAMAuthorizer {
  const body = r.rawBody !== undefined && r.base64 ? Buffer.from(r.rawBody, 'utf8').toString('base64') : r.rawBody;
  const e = event(r.method, r.path, { caller: r.caller, rawBody: body, isBase64Encoded: r.base64, query: r.query });
  const headers: Record<string, string> = r.contentType === undefined ? {} : { 'content-type': r.contentType };
  return { ...e, headers };
}

/** The contract every answer keeps: a known status, a JSON error body with code and message, Retry-After when retryable. */
function contractBreaches(res: APIGatewayProxyStructuredResultV2): string[] {
  const out: string[] = [];
  const status = res.statusCode ?? -1;
  if (!API_STATUSES.includes(status)) out.push(`status ${status}`);
  if (status >= 400) {
    let parsed: any;
    try {
      parsed = JSON.parse(res.body ?? '');
    } catch {
      out.push('error body is not JSON');
    }
    if (typeof parsed?.error?.code !== 'string' || typeof parsed?.error?.message !== 'string') out.push('error body lacks code/message');
    if (/\n\s+at /.test(res.body ?? '')) out.push('stack trace in the body');
  }
  if ((status === 429 || status === 503) && !(Number((res.headers as Record<string, string>)?.['retry-after']) >= 1)) out.push('no Retry-After');
  return out;
}

async function stateOf(world: World): Promise<string> {
  return JSON.stringify({ rows: await rows(world), vms: liveVms(world).map((vm) => vm.microvmId) });
}

describe('request parser (property)', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld({ memoryQuotaMiB: 10_000_000 });
  });
  afterAll(async () => world.stop());

  test('random methods, paths, headers, queries and bodies never produce a 500, and a rejected request never changes state', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        // GIVEN the table and the emulator as they are now
        const before = await stateOf(world);

        // WHEN the random request is handled
        const res = await world.api.handle(toEvent(r));

        // THEN the answer keeps the contract, and a 4xx left everything as it was
        expect(contractBreaches(res)).toEqual([]);
        if ((res.statusCode ?? 0) >= 400) expect(await stateOf(world)).toBe(before);
      }),
      { seed: SEED, numRuns: 150, endOnFailure: true },
    );
  });

  test('the checks catch a 500 and a missing Retry-After', () => {
    // GIVEN answers that break the contract
    const internal = { statusCode: 500, body: JSON.stringify({ error: { code: 'InternalError', message: 'x' } }) };
    const noRetry = { statusCode: 503, headers: {}, body: JSON.stringify({ error: { code: 'X', message: 'y' } }) };

    // THEN each is reported
    expect(contractBreaches(internal)).toEqual(['status 500']);
    expect(contractBreaches(noRetry)).toEqual(['no Retry-After']);
  });
});

describe('request parser through the Lambda entry point (property)', () => {
  let world: World;
  let handler: (e: APIGatewayProxyEventV2WithIAMAuthorizer) => Promise<APIGatewayProxyStructuredResultV2>;
  const saved = { ...process.env };

  beforeAll(async () => {
    world = await startWorld({ memoryQuotaMiB: 10_000_000 });
    // the handler builds its clients with default configuration: the standard endpoint variables redirect them.
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_LAMBDA_MICROVMS: world.rig.emulator.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: world.rig.dynamo.endpoint,
      AWS_REGION: world.rig.emulator.region,
      AWS_ACCESS_KEY_ID: 'AKIDLOCALTESTING0000',
      AWS_SECRET_ACCESS_KEY: 'local-testing-secret',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      [ENV.TABLE_NAME]: world.rig.tableName,
      [ENV.IMAGE_ARN]: world.rig.imageArn,
      [ENV.APP_PORTS]: '[8080,8443]',
      [ENV.HOOKS_PORT]: '9000',
    });
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      handler = require('../../src/orchestrator/orchestrator.lambda').handler;
    });
  });
  afterAll(async () => {
    process.env = saved;
    await world.stop();
  });

  test('the real handler export answers random input without a 500 and reaches the local services', async () => {
    // GIVEN a valid PUT works end to end through the handler (so the fuzzing below reaches real code)
    const created = await handler(event('PUT', '/sessions/through-handler'));
    expect(created.statusCode).toBe(201);

    // WHEN random requests arrive
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const res = await handler(toEvent(r));

        // THEN every answer keeps the contract
        expect(contractBreaches(res)).toEqual([]);
      }),
      { seed: SEED + 1, numRuns: 100, endOnFailure: true },
    );
  });
});
