import {
  GetMicrovmCommand,
  InsufficientCapacityException,
  InternalServerException,
  LambdaMicrovmsClient,
  ListMicrovmsCommand,
  RunMicrovmCommand,
  ServiceQuotaExceededException,
  SuspendMicrovmCommand,
  TerminateMicrovmCommand,
  ThrottlingException,
} from '@aws-sdk/client-lambda-microvms';
import { clientFor, rejectionOf } from './helpers';
import { DEFAULT_RATE_LIMITS, EmulatorOptions, MicrovmEmulator } from '../../src/local';
import { FaultInjector, SeededRandom } from '../../src/local/faults';

const T0 = Date.UTC(2026, 0, 1);

let emulator: MicrovmEmulator;
let client: LambdaMicrovmsClient;
let imageArn: string;

async function start(options: EmulatorOptions = {}, memoryMiB = 2048): Promise<void> {
  emulator = await MicrovmEmulator.start({ clock: () => T0, ...options });
  imageArn = emulator.registerImage({ name: 'sandbox', memoryMiB });
  client = clientFor(emulator);
}

afterEach(async () => {
  client?.destroy();
  await emulator?.stop();
});

const run = (clientToken?: string) => client.send(new RunMicrovmCommand({ imageIdentifier: imageArn, clientToken }));

/** Outcome names of sequential calls: the SDK exception name, or 'ok'. */
async function outcomes(count: number, call: () => Promise<unknown>): Promise<string[]> {
  const result: string[] = [];
  for (let i = 0; i < count; i++) {
    try {
      await call();
      result.push('ok');
    } catch (error) {
      result.push((error as Error).name);
    }
  }
  return result;
}

describe('rate limits', () => {
  test('the defaults are the service TPS', async () => {
    // GIVEN
    await start();

    // THEN
    expect(DEFAULT_RATE_LIMITS).toMatchObject({
      RunMicrovm: 5,
      ResumeMicrovm: 5,
      SuspendMicrovm: 2,
      TerminateMicrovm: 10,
      GetMicrovm: 100,
      CreateMicrovmAuthToken: 50,
      CreateMicrovmShellAuthToken: 5,
      ListMicrovms: 20,
    });
  });

  test('a burst over the RunMicrovm rate is throttled with ThrottlingException and its fields', async () => {
    // GIVEN a frozen clock, so no token refills during the test
    await start();

    // WHEN
    const results = await outcomes(7, () => run());
    const error = await rejectionOf(run());

    // THEN
    expect(results).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ThrottlingException', 'ThrottlingException']);
    expect(error).toBeInstanceOf(ThrottlingException);
    expect(error.$metadata.httpStatusCode).toBe(429);
    // the bucket is empty: one token comes back in 1/5 s, the Retry-After hint.
    expect(error.retryAfterSeconds).toBe(0.2);
    expect(error.quotaCode).toEqual(expect.any(String));
    expect(emulator.listVms()).toHaveLength(5);
    expect(emulator.errorCounts().RunMicrovm).toEqual({ ThrottlingException: 3 });
    expect(emulator.callCounts().RunMicrovm).toBe(8);
  });

  test('buckets refill with emulated time, per operation', async () => {
    // GIVEN
    await start();
    const [id] = emulator.seedVms(1, { imageArn });
    await outcomes(2, () => client.send(new SuspendMicrovmCommand({ microvmIdentifier: id })));
    const throttled = await rejectionOf(client.send(new SuspendMicrovmCommand({ microvmIdentifier: id })));

    // WHEN
    emulator.advanceTime(500);
    const get = await client.send(new GetMicrovmCommand({ microvmIdentifier: id }));
    const refilled = await rejectionOf(client.send(new SuspendMicrovmCommand({ microvmIdentifier: id })));

    // THEN the refilled token is spent on a real answer: a conflict, since the VM is already suspended
    expect(throttled).toBeInstanceOf(ThrottlingException);
    expect(get.state).toBe('SUSPENDED');
    expect(refilled.name).toBe('ConflictException');
  });

  test('custom limits merge over the defaults, and false disables them', async () => {
    // GIVEN
    await start({ rateLimits: { RunMicrovm: 1 } });

    // WHEN
    const limited = await outcomes(2, () => run());
    emulator.setRateLimits(false);
    const unlimited = await outcomes(20, () => run());

    // THEN
    expect(limited).toEqual(['ok', 'ThrottlingException']);
    expect(unlimited.every((r) => r === 'ok')).toBe(true);
  });

  test('with SDK retries, throttled launches converge (same clientToken, one VM each)', async () => {
    // GIVEN a real clock, the default limits and a client that retries
    emulator = await MicrovmEmulator.start({ seed: 7, faults: { throttleRate: 0.3 } });
    imageArn = emulator.registerImage({ name: 'sandbox' });
    client = clientFor(emulator, 10);

    // WHEN
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => run(`session-${i}`)));

    // THEN
    expect(new Set(results.map((r) => r.microvmId)).size).toBe(5);
    expect(emulator.listVms()).toHaveLength(5);
    expect(emulator.errorCounts().RunMicrovm?.ThrottlingException).toBeGreaterThan(0);
    expect(results.some((r) => r.$metadata.attempts! > 1)).toBe(true);
  });
});

describe('memory quota', () => {
  test('fails with ServiceQuotaExceededException (402) when RUNNING and SUSPENDED VMs hold the quota', async () => {
    // GIVEN a quota of three 2 GiB VMs, one of them suspended
    await start({ rateLimits: false, memoryQuotaMiB: 3 * 2048 });
    const first = await run();
    await run();
    await client.send(new SuspendMicrovmCommand({ microvmIdentifier: first.microvmId }));
    await run();

    // WHEN
    const error = await rejectionOf(run());

    // THEN
    expect(error).toBeInstanceOf(ServiceQuotaExceededException);
    expect(error.$metadata.httpStatusCode).toBe(402);
    expect(error).toMatchObject({ serviceCode: 'lambda', quotaCode: expect.any(String), resourceType: expect.any(String) });
    expect(emulator.listVms()).toHaveLength(3);
  });

  test('terminated VMs free their memory, and the quota can change at run time', async () => {
    // GIVEN
    await start({ rateLimits: false, memoryQuotaMiB: 4096 }, 4096);
    const first = await run();
    const refused = await rejectionOf(run());

    // WHEN
    await client.send(new TerminateMicrovmCommand({ microvmIdentifier: first.microvmId }));
    const afterTerminate = await run();
    emulator.setMemoryQuotaMiB(0);
    const exhausted = await rejectionOf(run());

    // THEN
    expect(refused).toBeInstanceOf(ServiceQuotaExceededException);
    expect(afterTerminate.state).toBe('PENDING');
    expect(exhausted).toBeInstanceOf(ServiceQuotaExceededException);
  });

  test('the default quota is 400 GiB', async () => {
    // GIVEN 200 VMs of 2 GiB
    await start({ rateLimits: false });
    emulator.seedVms(200, { imageArn });

    // WHEN
    const error = await rejectionOf(run());

    // THEN
    expect(error).toBeInstanceOf(ServiceQuotaExceededException);
  });
});

describe('fault injection', () => {
  test('a seeded 20% throttle and 20% error rate gives the same exact outcomes every time', async () => {
    // GIVEN
    const sequence = async () => {
      await start({ rateLimits: false, seed: 42, faults: { throttleRate: 0.2, errorRate: 0.2 } });
      const result = await outcomes(200, () => client.send(new ListMicrovmsCommand({})));
      client.destroy();
      await emulator.stop();
      return result;
    };

    // WHEN
    const first = await sequence();
    const second = await sequence();
    await start({ rateLimits: false });

    // THEN
    expect(second).toEqual(first);
    expect(first.filter((r) => r === 'ThrottlingException')).toHaveLength(48);
    expect(first.filter((r) => r === 'InternalServerException')).toHaveLength(18);
  });

  test('fault rates are honoured over many draws', () => {
    // GIVEN
    const injector = new FaultInjector(new SeededRandom(1), { throttleRate: 0.2, errorRate: 0.2 });

    // WHEN
    const counts = { throttle: 0, error: 0 };
    for (let i = 0; i < 20_000; i++) {
      const fault = injector.decide('ListMicrovms').fault;
      if (fault === 'throttle' || fault === 'error') counts[fault]++;
    }

    // THEN 20% throttled, then 20% of the remaining 80% failed
    expect(counts.throttle / 20_000).toBeCloseTo(0.2, 1);
    expect(counts.error / 20_000).toBeCloseTo(0.16, 1);
  });

  test('injected faults surface as the SDK exception classes and take no effect', async () => {
    // GIVEN
    await start({ rateLimits: false });
    emulator.setFaults({ operations: { RunMicrovm: { errorRate: 1 } } });
    const error = await rejectionOf(run());
    emulator.setFaults({ operations: { RunMicrovm: { capacityErrorRate: 1 } } });
    const capacity = await rejectionOf(run());

    // WHEN
    emulator.setFaults({});
    const ok = await run();

    // THEN
    expect(error).toBeInstanceOf(InternalServerException);
    expect(error.$metadata.httpStatusCode).toBe(500);
    expect(capacity).toBeInstanceOf(InsufficientCapacityException);
    expect(ok.state).toBe('PENDING');
    expect(emulator.listVms()).toHaveLength(1);
  });

  test('an injected throttle carries no Retry-After, and added latency still answers', async () => {
    // GIVEN
    await start({ rateLimits: false, seed: 1, faults: { latencyMs: { minMs: 1, maxMs: 5 } } });
    const slow = await run();
    emulator.setFaults({ throttleRate: 1, latencyMs: 2 });

    // WHEN
    const error = await rejectionOf(run());

    // THEN
    expect(slow.state).toBe('PENDING');
    expect(error).toBeInstanceOf(ThrottlingException);
    expect(error.retryAfterSeconds).toBeUndefined();
  });

  test('per-operation faults leave the other operations alone', async () => {
    // GIVEN
    await start({ rateLimits: false, faults: { operations: { GetMicrovm: { throttleRate: 1 } } } });

    // WHEN
    const launched = await run();
    const error = await rejectionOf(client.send(new GetMicrovmCommand({ microvmIdentifier: launched.microvmId })));

    // THEN
    expect(error).toBeInstanceOf(ThrottlingException);
    expect(emulator.errorCounts()).toEqual({ GetMicrovm: { ThrottlingException: 1 } });
  });

  test('an error after effect launches the VM; the retry with the same clientToken returns it', async () => {
    // GIVEN
    await start({ rateLimits: false, faults: { operations: { RunMicrovm: { errorAfterEffectRate: 1 } } } });
    const lost = await rejectionOf(run('token'));

    // WHEN
    emulator.setFaults({});
    const retried = await run('token');

    // THEN
    expect(lost).toBeInstanceOf(InternalServerException);
    expect(emulator.listVms().map((vm) => vm.microvmId)).toEqual([retried.microvmId]);
  });

  test('with SDK retries, 20% throttling and 5xx converge to one VM per token', async () => {
    // GIVEN
    await start({ rateLimits: false, seed: 3, faults: { throttleRate: 0.2, errorRate: 0.2 } });
    client.destroy();
    client = clientFor(emulator, 10);

    // WHEN
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => run(`t-${i}`)));

    // THEN
    expect(new Set(results.map((r) => r.microvmId)).size).toBe(20);
    expect(emulator.listVms()).toHaveLength(20);
    expect(emulator.callCounts().RunMicrovm).toBeGreaterThan(20);
  });

  test('call counts count every request per operation and reset', async () => {
    // GIVEN
    await start({ rateLimits: false });
    const { microvmId } = await run();
    await client.send(new GetMicrovmCommand({ microvmIdentifier: microvmId }));
    await client.send(new GetMicrovmCommand({ microvmIdentifier: microvmId }));
    const counted = emulator.callCounts();

    // WHEN
    emulator.resetCallCounts();

    // THEN
    expect(counted).toEqual({ RunMicrovm: 1, GetMicrovm: 2 });
    expect(emulator.callCounts()).toEqual({});
  });
});
