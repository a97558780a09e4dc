import type { Context } from 'aws-lambda';
import { Fixture, getSession, putSession, seedVms, slotsInUse, startFixture, stateOf, T0 } from './sweeper-fixture';
import { AdmissionCounter } from '../../../src/orchestrator/runtime/admission-counter';
import { ConfigError } from '../../../src/orchestrator/runtime/config';
import { countsAdmission, DEFAULT_ORPHAN_GRACE_SECONDS, deadlineFor, parseSweeperConfig } from '../../../src/orchestrator/runtime/sweeper-config';
import { ENV } from '../../../src/shared/contract';

const IMAGE = 'arn:aws:lambda:us-east-1:123456789012:microvm-image:sandbox';

describe('parseSweeperConfig', () => {
  test('reads the shared ENV names', () => {
    // GIVEN the environment the construct sets
    const env = {
      [ENV.TABLE_NAME]: 'sessions',
      [ENV.IMAGE_ARN]: IMAGE,
      [ENV.ORPHAN_GRACE_SECONDS]: '900',
      [ENV.MAX_DURATION_SECONDS]: '3600',
      [ENV.MAX_SESSIONS]: '50',
      [ENV.EVENT_BUS_NAME]: 'arn:aws:events:us-east-1:123456789012:event-bus/default',
      [ENV.BASELINE_MEMORY_MIB]: '2048',
      [ENV.USAGE_PRICING]: '{"perGbSecond":0.00001,"perVcpuSecond":0.00002,"currency":"EUR"}',
    };

    // WHEN / THEN
    expect(parseSweeperConfig(env)).toEqual({
      tableName: 'sessions',
      imageArn: IMAGE,
      orphanGracePeriodSeconds: 900,
      maxSessionDurationSeconds: 3600,
      events: {
        eventBusName: 'arn:aws:events:us-east-1:123456789012:event-bus/default',
        memoryMiB: 2048,
        pricing: { perGbSecond: 0.00001, perVcpuSecond: 0.00002, currency: 'EUR' },
      },
    });
    expect(countsAdmission(env)).toBe(true);
  });

  test('defaults the grace period and leaves the max duration and slot release off', () => {
    expect(parseSweeperConfig({ [ENV.TABLE_NAME]: 't', [ENV.IMAGE_ARN]: IMAGE })).toEqual({
      tableName: 't',
      imageArn: IMAGE,
      orphanGracePeriodSeconds: DEFAULT_ORPHAN_GRACE_SECONDS,
      maxSessionDurationSeconds: undefined,
      events: {},
    });
    expect(countsAdmission({ [ENV.TABLE_NAME]: 't', [ENV.IMAGE_ARN]: IMAGE })).toBe(false);
  });

  test.each([
    [{ [ENV.IMAGE_ARN]: IMAGE }, /SESSIONS_TABLE_NAME must be set/],
    [{ [ENV.TABLE_NAME]: 't', [ENV.IMAGE_ARN]: 'sandbox' }, /MICROVM_IMAGE_ARN must be a colon-form MicroVM image ARN.*got "sandbox"/],
    [{ [ENV.TABLE_NAME]: 't', [ENV.IMAGE_ARN]: IMAGE, [ENV.ORPHAN_GRACE_SECONDS]: '1.5' }, /MICROVM_ORPHAN_GRACE_SECONDS must be a whole number/],
    [{ [ENV.TABLE_NAME]: 't', [ENV.IMAGE_ARN]: IMAGE, [ENV.USAGE_PRICING]: '{"perGbSecond":-1,"perVcpuSecond":0,"currency":"USD"}' },
      /MICROVM_USAGE_PRICING must be empty or a JSON object \{perGbSecond, perVcpuSecond/],
    [{ [ENV.TABLE_NAME]: 't', [ENV.IMAGE_ARN]: IMAGE, [ENV.USAGE_PRICING]: 'cheap' }, /MICROVM_USAGE_PRICING must be empty or a JSON object/],
    [{ [ENV.TABLE_NAME]: 't', [ENV.IMAGE_ARN]: IMAGE, [ENV.BASELINE_MEMORY_MIB]: '2GB' }, /MICROVM_BASELINE_MEMORY_MIB must be a whole number of MiB/],
    [{ [ENV.TABLE_NAME]: 't', [ENV.IMAGE_ARN]: IMAGE, [ENV.MAX_DURATION_SECONDS]: '99999' }, /MICROVM_MAX_DURATION_SECONDS must be .* to 28800/],
    [{ [ENV.TABLE_NAME]: 't', [ENV.IMAGE_ARN]: IMAGE, [ENV.KEEP_VERSIONS]: '0' }, /MICROVM_KEEP_VERSIONS must be a whole number of versions from 1 to 49/],
  ])('fails if the environment is invalid (%#)', (env, message) => {
    expect(() => parseSweeperConfig(env)).toThrow(ConfigError);
    expect(() => parseSweeperConfig(env)).toThrow(message);
  });

  test('the deadline leaves a margin of 10%, at least 10 s', () => {
    expect([deadlineFor(300_000), deadlineFor(60_000), deadlineFor(5_000)]).toEqual([270_000, 50_000, 1_000]);
  });
});

describe('sweeper.lambda handler', () => {
  const saved = { ...process.env };
  let fx: Fixture;
  beforeEach(async () => {
    // the handler uses the system clock: fake Date only (timers stay real), and share it with the emulator.
    jest.useFakeTimers({
      now: T0,
      doNotFake: ['hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate',
        'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'],
    });
    fx = await startFixture({ clock: () => Date.now() });
  });
  afterEach(async () => {
    process.env = { ...saved };
    jest.resetModules();
    jest.useRealTimers();
    await fx.stop();
  });

  function loadHandler(env: Record<string, string>): (event: unknown, context?: Context) => Promise<any> {
    process.env = {
      ...saved,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_ENDPOINT_URL_LAMBDA_MICROVMS: fx.emulator.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: fx.dynamo.endpoint,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      ...env,
    };
    let handler: any;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      handler = require('../../../src/orchestrator/sweeper.lambda').handler;
    });
    return handler;
  }

  const context = { getRemainingTimeInMillis: () => 300_000, functionName: 'sweeper', awsRequestId: 'req-1' } as unknown as Context;

  test('default SDK clients follow AWS_ENDPOINT_URL_*: two invocations end an orphan and repair a row', async () => {
    // GIVEN an orphan, a row of a dead VM and an admission counter, and the handler loaded with the shared ENV names
    const [orphan] = seedVms(fx, 1, 3600);
    const [dead] = seedVms(fx, 1, 600);
    await putSession(fx, { sessionId: 'ending', microvmId: dead, status: 'ENDING' });
    fx.emulator.terminateExternally(dead);
    await AdmissionCounter.of(fx.documentClient, fx.tableName, 10).acquire(new Date().toISOString());
    const handler = loadHandler({
      [ENV.TABLE_NAME]: fx.tableName,
      [ENV.IMAGE_ARN]: fx.imageArn,
      [ENV.ORPHAN_GRACE_SECONDS]: '600',
      [ENV.MAX_DURATION_SECONDS]: '3600',
      [ENV.MAX_SESSIONS]: '10',
    });

    // WHEN it is invoked twice, two minutes apart, with any event
    const first = await handler({ 'detail-type': 'Scheduled Event' }, context);
    jest.setSystemTime(Date.now() + 120_000);
    const second = await handler({}, context);

    // THEN the orphan is suspected then terminated, the ENDING row removed with its slot given back
    expect(first).toMatchObject({ suspectsRecorded: 1, rowsRepaired: 1, errors: 0 });
    expect(second).toMatchObject({ orphansTerminated: 1, errors: 0 });
    expect(stateOf(fx, orphan)).toBe('TERMINATED');
    expect(await getSession(fx, 'ending')).toBeUndefined();
    expect(await slotsInUse(fx)).toBe(0);
  });

  test('fails the invocation if the environment is invalid', async () => {
    // GIVEN a handler without an image ARN
    const handler = loadHandler({ [ENV.TABLE_NAME]: fx.tableName });

    // WHEN / THEN
    await expect(handler({}, context)).rejects.toThrow(/sweeper misconfigured: MICROVM_IMAGE_ARN must be set/);
    expect(fx.emulator.callCounts()).toEqual({});
  });

  test('prunes with MICROVM_KEEP_VERSIONS and protects MICROVM_IMAGE_VERSION; without it, does not prune', async () => {
    // GIVEN an image of 15 versions, the orchestrator launching version 2
    const imageArn = fx.emulator.registerImage({ name: 'pruned', versions: Array.from({ length: 15 }, (_, i) => String(i + 1)) });
    const env = { [ENV.TABLE_NAME]: fx.tableName, [ENV.IMAGE_ARN]: imageArn, [ENV.IMAGE_VERSION]: '2' };

    // WHEN the handler runs without, then with keepVersions 12
    const off = await loadHandler(env)({}, context);
    const on = await loadHandler({ ...env, [ENV.KEEP_VERSIONS]: '12' })({}, context);

    // THEN only the second run deletes: versions 1 and 3 (2 is launched, 4-15 are the newest 12)
    expect(off).toMatchObject({ pruning: 'off', versionsDeleted: [], liveVmsByVersion: { 2: 0 } });
    expect(on).toMatchObject({ pruning: 'done', versionsDeleted: ['1', '3'], errors: 0 });
  });
});
