import { body, CREDENTIALS, event, Rig, startRig } from './harness';
import { ENV } from '../../../src/shared/contract';

// the real entry point: module-scope SDK clients with default configuration, redirected to the
// local emulator and dynalite by the standard AWS_ENDPOINT_URL_<SERVICE> variables.
let rig: Rig;
const saved = { ...process.env };

beforeAll(async () => {
  rig = await startRig({ rateLimits: false });
});

afterAll(async () => {
  await rig.stop();
});

afterEach(() => {
  process.env = { ...saved };
});

function loadHandler(env: Record<string, string | undefined>): (e: ReturnType<typeof event>) => Promise<any> {
  process.env = {
    ...saved,
    AWS_REGION: rig.emulator.region,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_LAMBDA_MICROVMS: rig.emulator.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: rig.dynamo.endpoint,
    [ENV.TABLE_NAME]: rig.tableName,
    [ENV.IMAGE_ARN]: rig.imageArn,
    [ENV.METRICS_NAMESPACE]: 'HandlerTest',
    ...env,
  };
  let handler: any;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    handler = require('../../../src/orchestrator/orchestrator.lambda').handler;
  });
  return handler;
}

describe('orchestrator.lambda handler', () => {
  test('serves the session API through default-configured SDK clients and flushes EMF metrics', async () => {
    // GIVEN
    const handler = loadHandler({});
    const linesBefore = rig.capture.lines.length;

    // WHEN
    const created = await handler(event('PUT', '/sessions/handler-1'));
    const warm = await handler(event('PUT', '/sessions/handler-1'));

    // THEN
    expect(created.statusCode).toBe(201);
    expect(warm.statusCode).toBe(200);
    expect(rig.emulator.getVm(body(created).microvmId)).toBeDefined();
    const emf = rig.capture.lines.slice(linesBefore).filter((line) => line.includes('"_aws"')).map((line) => JSON.parse(line));
    expect(emf.length).toBeGreaterThanOrEqual(2);
    expect(emf[0]._aws.CloudWatchMetrics[0].Namespace).toBe('HandlerTest');
    expect(emf[0].SessionsCreated).toBe(1);
  });

  test('fails closed with a 503 and a log line naming the variable when misconfigured', async () => {
    // GIVEN
    const linesBefore = rig.capture.lines.length;
    const vmsBefore = rig.emulator.listVms().length;
    const handler = loadHandler({ [ENV.APP_PORTS]: '[8080, 9000]', [ENV.HOOKS_PORT]: '9000' });

    // WHEN
    const res = await handler(event('PUT', '/sessions/handler-2'));

    // THEN
    expect(res.statusCode).toBe(503);
    expect(body(res).error.code).toBe('Misconfigured');
    expect(res.headers['retry-after']).toBeDefined();
    const log = rig.capture.lines.slice(linesBefore).join('');
    expect(log).toContain('MICROVM_APP_PORTS must not include the hooks port 9000');
    expect(rig.emulator.listVms().length).toBe(vmsBefore);
  });
});
