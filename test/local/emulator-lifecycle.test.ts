import {
  CreateMicrovmAuthTokenCommand,
  GetMicrovmCommand,
  LambdaMicrovmsClient,
  ListMicrovmsCommand,
  ResourceNotFoundException,
  ResumeMicrovmCommand,
  RunMicrovmCommand,
  RunMicrovmCommandInput,
  SuspendMicrovmCommand,
  TerminateMicrovmCommand,
} from '@aws-sdk/client-lambda-microvms';
import { clientFor, rejectionOf } from './helpers';
import { EmulatorOptions, MicrovmEmulator } from '../../src/local';

const T0 = Date.UTC(2026, 0, 1);
const SECOND = 1000;
const HOUR = 3600 * SECOND;

let emulator: MicrovmEmulator;
let client: LambdaMicrovmsClient;
let imageArn: string;

async function start(options: EmulatorOptions = {}): Promise<void> {
  // a frozen clock: only advanceTime moves emulated time, so every transition below is exact.
  emulator = await MicrovmEmulator.start({ clock: () => T0, rateLimits: false, ...options });
  imageArn = emulator.registerImage({ name: 'sandbox' });
  client = clientFor(emulator);
}

afterEach(async () => {
  client.destroy();
  await emulator.stop();
});

const run = async (input: Partial<RunMicrovmCommandInput> = {}) =>
  (await client.send(new RunMicrovmCommand({ imageIdentifier: imageArn, ...input }))).microvmId!;
const get = (microvmId: string) => client.send(new GetMicrovmCommand({ microvmIdentifier: microvmId }));
const stateOf = async (microvmId: string) => (await get(microvmId)).state;

describe('transitions on the emulated clock', () => {
  test('PENDING becomes RUNNING after the launch delay', async () => {
    // GIVEN
    await start({ launchDelayMs: 2 * SECOND });
    const id = await run();

    // WHEN / THEN
    expect(await stateOf(id)).toBe('PENDING');
    emulator.advanceTime(1999);
    expect(await stateOf(id)).toBe('PENDING');
    emulator.advanceTime(1);
    expect(await stateOf(id)).toBe('RUNNING');
  });

  test('suspend goes through SUSPENDING; a resuming VM reports SUSPENDED until the resume hook is done', async () => {
    // GIVEN
    await start({ suspendDelayMs: SECOND, resumeDelayMs: 500 });
    const id = await run();

    // WHEN / THEN
    await client.send(new SuspendMicrovmCommand({ microvmIdentifier: id }));
    expect(await stateOf(id)).toBe('SUSPENDING');
    emulator.advanceTime(SECOND);
    expect(await get(id)).toMatchObject({ state: 'SUSPENDED', stateReason: 'Suspended by SuspendMicrovm.' });
    await client.send(new ResumeMicrovmCommand({ microvmIdentifier: id }));
    expect(await stateOf(id)).toBe('SUSPENDED');
    emulator.advanceTime(500);
    expect(await stateOf(id)).toBe('RUNNING');
  });

  test('terminate goes through TERMINATING and records terminatedAt', async () => {
    // GIVEN
    await start({ terminateDelayMs: 3 * SECOND });
    const id = await run();

    // WHEN
    await client.send(new TerminateMicrovmCommand({ microvmIdentifier: id }));
    const terminating = await get(id);
    emulator.advanceTime(3 * SECOND);
    const terminated = await get(id);

    // THEN
    expect(terminating.state).toBe('TERMINATING');
    expect(terminating.terminatedAt).toBeUndefined();
    expect(terminated.state).toBe('TERMINATED');
    expect(terminated.terminatedAt?.getTime()).toBe(T0 + 3 * SECOND);
  });

  test('maximumDurationInSeconds counts suspended time and terminates the VM', async () => {
    // GIVEN
    await start();
    const id = await run({ maximumDurationInSeconds: 600 });
    emulator.advanceTime(100 * SECOND);
    await client.send(new SuspendMicrovmCommand({ microvmIdentifier: id }));

    // WHEN
    emulator.advanceTime(499 * SECOND);
    const before = await get(id);
    emulator.advanceTime(SECOND);
    const after = await get(id);

    // THEN
    expect(before.state).toBe('SUSPENDED');
    expect(after.state).toBe('TERMINATED');
    expect(after.stateReason).toMatch(/Maximum duration of 600 seconds/);
    expect(after.terminatedAt?.getTime()).toBe(T0 + 600 * SECOND);
  });

  test('the default lifetime is 8 hours', async () => {
    // GIVEN
    await start();
    const id = await run();

    // WHEN
    emulator.advanceTime(8 * HOUR);

    // THEN
    expect(await stateOf(id)).toBe('TERMINATED');
  });

  test('an idle VM is suspended after maxIdle and terminated after suspendedDuration', async () => {
    // GIVEN
    await start();
    const id = await run({ idlePolicy: { maxIdleDurationSeconds: 60, suspendedDurationSeconds: 120, autoResumeEnabled: true } });

    // WHEN / THEN
    emulator.advanceTime(59 * SECOND);
    expect(await stateOf(id)).toBe('RUNNING');
    emulator.advanceTime(SECOND);
    expect(await get(id)).toMatchObject({ state: 'SUSPENDED', stateReason: expect.stringMatching(/idle/) });
    emulator.advanceTime(120 * SECOND);
    expect(await get(id)).toMatchObject({ state: 'TERMINATED', terminatedAt: new Date(T0 + 180 * SECOND) });
  });

  test('recorded traffic restarts the idle clock', async () => {
    // GIVEN
    await start();
    const id = await run({ idlePolicy: { maxIdleDurationSeconds: 60, suspendedDurationSeconds: 0, autoResumeEnabled: false } });
    emulator.advanceTime(50 * SECOND);

    // WHEN
    emulator.recordTraffic(id);
    emulator.advanceTime(50 * SECOND);

    // THEN
    expect(await stateOf(id)).toBe('RUNNING');
  });

  test('traffic auto-resumes a suspended VM only when the idle policy allows it', async () => {
    // GIVEN
    await start({ resumeDelayMs: 700 });
    const idle = { maxIdleDurationSeconds: 60, suspendedDurationSeconds: 3600 };
    const auto = await run({ idlePolicy: { ...idle, autoResumeEnabled: true } });
    const manual = await run({ idlePolicy: { ...idle, autoResumeEnabled: false } });
    emulator.advanceTime(60 * SECOND);

    // WHEN
    const autoServed = emulator.recordTraffic(auto);
    const manualServed = emulator.recordTraffic(manual);
    emulator.advanceTime(700);

    // THEN
    expect([autoServed, manualServed]).toEqual([true, false]);
    expect(await stateOf(auto)).toBe('RUNNING');
    expect(await stateOf(manual)).toBe('SUSPENDED');
  });

  test('transitions are computed in time order when time jumps far ahead', async () => {
    // GIVEN
    await start({ launchDelayMs: SECOND });
    const id = await run({ idlePolicy: { maxIdleDurationSeconds: 60, suspendedDurationSeconds: 60, autoResumeEnabled: true } });

    // WHEN
    emulator.advanceTime(HOUR);

    // THEN
    expect(emulator.getVm(id)?.history.map((h) => [h.state, h.at - T0])).toEqual([
      ['PENDING', 0],
      ['RUNNING', SECOND],
      ['SUSPENDING', 61 * SECOND],
      ['SUSPENDED', 61 * SECOND],
      ['TERMINATING', 121 * SECOND],
      ['TERMINATED', 121 * SECOND],
    ]);
  });
});

describe('eventual consistency and retention', () => {
  test('GetMicrovm lags by staleReadMs while ListMicrovms and the emulator see the current state', async () => {
    // GIVEN
    await start({ staleReadMs: 5 * SECOND });
    const id = await run();
    emulator.advanceTime(10 * SECOND);
    await client.send(new TerminateMicrovmCommand({ microvmIdentifier: id }));

    // WHEN
    const stale = await get(id);
    emulator.advanceTime(5 * SECOND);
    const caughtUp = await get(id);

    // THEN
    expect(stale.state).toBe('RUNNING');
    expect(stale.terminatedAt).toBeUndefined();
    expect(emulator.getVm(id)?.state).toBe('TERMINATED');
    expect(caughtUp.state).toBe('TERMINATED');
  });

  test('TERMINATED VMs stay listed and readable for the retention, then disappear', async () => {
    // GIVEN
    await start({ terminatedRetentionMs: HOUR });
    const id = await run();
    await client.send(new TerminateMicrovmCommand({ microvmIdentifier: id }));

    // WHEN
    emulator.advanceTime(HOUR - 1);
    const listedBefore = await client.send(new ListMicrovmsCommand({}));
    const readBefore = await get(id);
    emulator.advanceTime(1);
    const listedAfter = await client.send(new ListMicrovmsCommand({}));
    const readAfter = await rejectionOf(get(id));

    // THEN
    expect(listedBefore.items).toEqual([expect.objectContaining({ microvmId: id, state: 'TERMINATED' })]);
    expect(readBefore.state).toBe('TERMINATED');
    expect(listedAfter.items).toEqual([]);
    expect(readAfter).toBeInstanceOf(ResourceNotFoundException);
  });

  test('TERMINATED VMs are listed for one day by default', async () => {
    // GIVEN
    await start();
    const [id] = emulator.seedVms(1, { imageArn, state: 'TERMINATED' });

    // WHEN
    emulator.advanceTime(24 * HOUR - 1);
    const before = emulator.getVm(id);
    emulator.advanceTime(1);

    // THEN
    expect(before?.state).toBe('TERMINATED');
    expect(emulator.getVm(id)).toBeUndefined();
  });
});

describe('stuck launches and external termination', () => {
  test('stickPending(1) keeps the next launch in PENDING until released', async () => {
    // GIVEN
    await start();
    emulator.stickPending(1);
    const stuck = await run();
    const normal = await run();

    // WHEN
    emulator.advanceTime(HOUR);
    const stuckState = await stateOf(stuck);
    emulator.releasePending(stuck);

    // THEN
    expect(stuckState).toBe('PENDING');
    expect(await stateOf(normal)).toBe('RUNNING');
    expect(await stateOf(stuck)).toBe('RUNNING');
  });

  test('a predicate selects which launches stick', async () => {
    // GIVEN
    await start();
    emulator.stickPending((request) => request.runHookPayload === 'stick');

    // WHEN
    const stuck = await run({ runHookPayload: 'stick' });
    const normal = await run({ runHookPayload: 'go' });

    // THEN
    expect(await stateOf(stuck)).toBe('PENDING');
    expect(await stateOf(normal)).toBe('RUNNING');
    expect(emulator.getVm(stuck)?.stuckPending).toBe(true);
  });

  test('terminateExternally ends a live VM with a reason', async () => {
    // GIVEN
    await start();
    const id = await run();

    // WHEN
    const known = emulator.terminateExternally(id, 'Host failure.');
    const unknown = emulator.terminateExternally('mvm-nope');

    // THEN
    expect(known).toBe(true);
    expect(unknown).toBe(false);
    expect(await get(id)).toMatchObject({ state: 'TERMINATED', stateReason: 'Host failure.' });
  });
});

describe('verifyToken', () => {
  test('accepts a token for its ports until it expires or the VM ends', async () => {
    // GIVEN
    await start();
    const id = await run();
    const { authToken } = await client.send(new CreateMicrovmAuthTokenCommand({
      microvmIdentifier: id,
      expirationInMinutes: 5,
      allowedPorts: [{ port: 8080 }, { range: { startPort: 3000, endPort: 3010 } }],
    }));
    const token = authToken!['X-aws-proxy-auth'];

    // WHEN / THEN
    expect(emulator.verifyToken(token)?.microvmId).toBe(id);
    expect(emulator.verifyToken(token, 3005)).toBeDefined();
    expect(emulator.verifyToken(token, 9000)).toBeUndefined();
    expect(emulator.verifyToken('forged')).toBeUndefined();
    emulator.advanceTime(5 * 60 * SECOND);
    expect(emulator.verifyToken(token)).toBeUndefined();
  });

  test('a token stops working when its VM is terminated', async () => {
    // GIVEN
    await start();
    const id = await run();
    const { authToken } = await client.send(new CreateMicrovmAuthTokenCommand({
      microvmIdentifier: id,
      expirationInMinutes: 60,
      allowedPorts: [{ allPorts: {} }],
    }));

    // WHEN
    emulator.terminateExternally(id);

    // THEN
    expect(emulator.verifyToken(authToken!['X-aws-proxy-auth'], 1)).toBeUndefined();
  });
});

describe('seedVms', () => {
  test('creates VMs in the given state and start time, in launch order', async () => {
    // GIVEN
    await start();

    // WHEN
    const ids = emulator.seedVms(3, { imageArn, state: 'SUSPENDED', startedAt: new Date(T0 - HOUR) });

    // THEN
    expect(emulator.listVms().map((vm) => [vm.microvmId, vm.state, vm.startedAt])).toEqual(ids.map((id) => [id, 'SUSPENDED', T0 - HOUR]));
    expect(emulator.callCounts()).toEqual({});
  });

  test('seeded PENDING VMs follow the launch delay, or stay PENDING when stuck', async () => {
    // GIVEN
    await start({ launchDelayMs: 2 * SECOND });
    const [launching] = emulator.seedVms(1, { imageArn, state: 'PENDING' });
    const [stuck] = emulator.seedVms(1, { imageArn, state: 'PENDING', stuckPending: true });

    // WHEN
    emulator.advanceTime(2 * SECOND);

    // THEN
    expect(emulator.getVm(launching)?.state).toBe('RUNNING');
    expect(emulator.getVm(stuck)?.state).toBe('PENDING');
  });

  test('10,000 VMs are listed in exactly 200 pages', async () => {
    // GIVEN
    await start();
    emulator.seedVms(10_000, { imageArn });

    // WHEN
    let pages = 0;
    let items = 0;
    let nextToken: string | undefined;
    do {
      const page = await client.send(new ListMicrovmsCommand({ imageIdentifier: imageArn, nextToken }));
      pages++;
      items += page.items!.length;
      nextToken = page.nextToken;
    } while (nextToken);

    // THEN
    expect(pages).toBe(200);
    expect(items).toBe(10_000);
    expect(emulator.callCounts().ListMicrovms).toBe(200);
  });

  test('fails if the image is not registered', async () => {
    // GIVEN
    await start();

    // THEN
    expect(() => emulator.seedVms(1, { imageArn: 'arn:aws:lambda:us-east-1:123456789012:microvm-image:nope' })).toThrow(/not found/);
  });
});
