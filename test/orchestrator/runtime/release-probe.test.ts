// The deploy-time smoke test's logic with the real SDK client against the emulator, whose data plane serves each
// probe VM's endpoint with the apps a test registers per image version.
import { GetMicrovmImageVersionCommand, LambdaMicrovmsClient, RunMicrovmCommand } from '@aws-sdk/client-lambda-microvms';
import { DataPlaneApps, EmulatorOptions, MicrovmEmulator } from '../../../src/local';
import { POLL_DELAYS_MS, ProbeFailed, ProbeInput, ReleaseProbe } from '../../../src/orchestrator/runtime/release-probe';
import { clientFor } from '../../local/helpers';

const T0 = Date.UTC(2026, 0, 1);
const SECRET_PAYLOAD_MARKER = 'probe-payload-7f3a';

let emulator: MicrovmEmulator;
let client: LambdaMicrovmsClient;
let imageArn: string;
let logs: string[];

async function start(options: EmulatorOptions = {}, maxAttempts = 1): Promise<void> {
  // a frozen clock that only the probe's own sleeps move: launches and deadlines are deterministic.
  emulator = await MicrovmEmulator.start({ clock: () => T0, rateLimits: false, launchDelayMs: 2000, appTimeoutMs: 50, ...options });
  imageArn = emulator.registerImage({ name: 'sandbox', versions: ['1', '2', '3'], hooksPort: 9000 });
  emulator.registerApp(imageArn, '1', DataPlaneApps.healthy());
  emulator.registerApp(imageArn, '2', DataPlaneApps.healthy());
  emulator.registerApp(imageArn, '3', DataPlaneApps.healthy());
  client = clientFor(emulator, maxAttempts);
  logs = [];
}

afterEach(async () => {
  client.destroy();
  await emulator.stop();
});

function probe(): ReleaseProbe {
  return new ReleaseProbe(client, {
    endpointUrl: (endpoint) => emulator.endpointUrl(endpoint),
    now: () => emulator.now(),
    sleep: async (ms) => emulator.advanceTime(ms),
    log: (message, fields) => logs.push(JSON.stringify({ message, ...fields })),
  });
}

function input(overrides: Partial<ProbeInput> = {}): ProbeInput {
  return {
    imageArn,
    imageVersion: '3',
    egressConnectors: ['arn:aws:lambda:us-east-1:123456789012:network-connector:isolated'],
    ingressConnectors: ['arn:aws:lambda:us-east-1:aws:network-connector:aws-network-connector:HTTP_INGRESS'],
    port: 8080,
    path: '/health',
    expectedStatus: 200,
    timeoutSeconds: 5,
    payload: JSON.stringify({ task: SECRET_PAYLOAD_MARKER }),
    ...overrides,
  };
}

async function statusOf(version: string): Promise<string | undefined> {
  return (await client.send(new GetMicrovmImageVersionCommand({ imageIdentifier: imageArn, imageVersion: version }))).status;
}

/** every VM the emulator ever launched is ending or ended: the probe left nothing running. */
function expectNoProbeLeft(): void {
  const vms = emulator.listVms();
  expect(vms.length).toBeGreaterThan(0);
  for (const vm of vms) expect(['TERMINATING', 'TERMINATED']).toContain(vm.state);
}

async function failureOf(promise: Promise<unknown>): Promise<ProbeFailed> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ProbeFailed);
    return err as ProbeFailed;
  }
  throw new Error('expected the smoke test to fail');
}

describe('a good version', () => {
  test('passes: one Run, Gets at the backoff until RUNNING, one token, one health call, one Terminate', async () => {
    // GIVEN
    await start();
    // WHEN
    const result = await probe().run(input());
    // THEN
    expect(result).toMatchObject({ imageVersion: '3', status: 200 });
    const gets = result.calls.filter((c) => c === 'GetMicrovm').length;
    // a 2 s launch: RUNNING is seen after the polls whose delays first add up to 2 s.
    let waited = 0;
    let expectedGets = 1;
    while (waited < 2000) waited += POLL_DELAYS_MS[expectedGets++ - 1];
    expect(gets).toBe(expectedGets);
    expect(result.calls).toEqual(['RunMicrovm', ...Array(gets).fill('GetMicrovm'), 'CreateMicrovmAuthToken', 'health', 'TerminateMicrovm']);
    expectNoProbeLeft();
    expect(await statusOf('3')).toBe('ACTIVE');
  });

  test('launches with the run configuration and the payload it is given, and a token for the check port only', async () => {
    // GIVEN
    await start();
    // WHEN
    const result = await probe().run(input());
    // THEN
    const vm = emulator.getVm(result.microvmId)!;
    expect(vm).toMatchObject({ imageVersion: '3', runHookPayload: JSON.stringify({ task: SECRET_PAYLOAD_MARKER }) });
    const tokens = emulator.issuedTokens().filter((t) => t.microvmId === result.microvmId);
    expect(tokens).toHaveLength(1);
    expect(tokens[0].allowedPorts).toEqual([{ port: 8080 }]);
  });

  test('an empty version is resolved to the latest ACTIVE one, which it reports', async () => {
    // GIVEN
    await start();
    // WHEN
    const result = await probe().run(input({ imageVersion: '' }));
    // THEN
    expect(result.imageVersion).toBe('3');
    expect(result.calls[0]).toBe('GetMicrovmImage');
  });

  test('never logs the token or the payload', async () => {
    // GIVEN
    await start();
    // WHEN
    const result = await probe().run(input());
    // THEN
    const token = emulator.issuedTokens().find((t) => t.microvmId === result.microvmId)!.token;
    const text = logs.join('\n');
    expect(text).toContain(result.microvmId);
    expect(text).not.toContain(token);
    expect(text).not.toContain(SECRET_PAYLOAD_MARKER);
  });
});

describe('a broken version fails with what happened, is set INACTIVE, and its probe is terminated', () => {
  test('/run fails: the VM ends before it runs, with its stateReason', async () => {
    // GIVEN
    await start();
    emulator.failRunHook(imageArn, '3', 'The /run hook failed (HTTP 500).');
    // WHEN
    const failure = await failureOf(probe().run(input()));
    // THEN
    expect(failure.message).toMatch(/of version 3 ended TERMINAT(ING|ED) before it ran \(stateReason: The \/run hook failed \(HTTP 500\)\.\) after \d+\.\d s/);
    expect(failure.message).toContain('Version 3 was set INACTIVE; running sessions are untouched.');
    expect(failure.versionAtFault).toBe(true);
    expect(await statusOf('3')).toBe('INACTIVE');
    expectNoProbeLeft();
  });

  test('the app answers a wrong status: fails at once with the status and the start of the body', async () => {
    // GIVEN
    await start();
    emulator.registerApp(imageArn, '3', DataPlaneApps.failing(500));
    // WHEN
    const failure = await failureOf(probe().run(input()));
    // THEN
    expect(failure.message).toMatch(/^GET \/health on port 8080 of version 3 answered HTTP 500, expected 200; body starts "\{.*"\./);
    expect(await statusOf('3')).toBe('INACTIVE');
    expectNoProbeLeft();
    // and nothing launches it any more.
    await expect(client.send(new RunMicrovmCommand({ imageIdentifier: imageArn, imageVersion: '3' }))).rejects.toThrow(/not runnable/);
  });

  test('the app never answers on the port (nothing listens): 502 until the timeout', async () => {
    // GIVEN
    await start();
    emulator.registerApp(imageArn, '3', { 3000: DataPlaneApps.healthy() });
    // WHEN
    const failure = await failureOf(probe().run(input({ timeoutSeconds: 4 })));
    // THEN
    expect(failure.message).toMatch(/^GET \/health on port 8080 of version 3 did not answer 200 within 4 s \(last: HTTP 502/);
    expect(await statusOf('3')).toBe('INACTIVE');
    expectNoProbeLeft();
  });

  test('the app accepts and never answers: a timeout', async () => {
    // GIVEN
    await start();
    emulator.registerApp(imageArn, '3', DataPlaneApps.unresponsive());
    // WHEN
    const failure = await failureOf(probe().run(input({ timeoutSeconds: 3 })));
    // THEN
    expect(failure.message).toMatch(/did not answer 200 within 3 s/);
    expect(await statusOf('3')).toBe('INACTIVE');
    expectNoProbeLeft();
  });

  test('the version the orchestrator runs already stays ACTIVE when it fails (a rollback lands on it)', async () => {
    // GIVEN
    await start();
    emulator.registerApp(imageArn, '3', DataPlaneApps.failing(503 + 1));
    // WHEN
    const failure = await failureOf(probe().run(input({ promotedVersion: '3' })));
    // THEN
    expect(failure.message).toContain('Version 3 is the one the orchestrator runs now, so it stays ACTIVE.');
    expect(await statusOf('3')).toBe('ACTIVE');
  });
});

describe('faults of the service are not the version\'s fault', () => {
  test('a launch that stays PENDING fails the deployment without judging the version', async () => {
    // GIVEN
    await start();
    emulator.stickPending(1);
    // WHEN
    const failure = await failureOf(new ReleaseProbe(client, {
      endpointUrl: (endpoint) => emulator.endpointUrl(endpoint),
      now: () => emulator.now(),
      sleep: async (ms) => emulator.advanceTime(ms),
      launchTimeoutMs: 30_000,
    }).run(input()));
    // THEN
    expect(failure.versionAtFault).toBe(false);
    expect(failure.message).toMatch(/was still PENDING after 3\d\.\d s/);
    expect(failure.message).toContain('was not judged');
    expect(await statusOf('3')).toBe('ACTIVE');
    expectNoProbeLeft();
  });

  test.each([1, 2, 3, 4, 5, 6, 7, 8])('under injected throttling and 5xx (seed %i) the probe VM is always terminated', async (seed) => {
    // GIVEN the launch goes through, then every call fails a third of the time and TerminateMicrovm half of the time
    // (the SDK retries 3 times, the probe's terminate 6 times more).
    await start({
      seed,
      faults: {
        throttleRate: 0.15,
        errorRate: 0.15,
        operations: { RunMicrovm: {}, TerminateMicrovm: { throttleRate: 0.3, errorRate: 0.2 } },
      },
    }, 3);
    // WHEN
    let outcome: 'passed' | ProbeFailed = 'passed';
    try {
      await probe().run(input());
    } catch (err) {
      outcome = err as ProbeFailed;
    }
    // THEN whatever happened, no probe runs on; a service failure does not set the version INACTIVE.
    expectNoProbeLeft();
    if (outcome !== 'passed') expect(outcome.versionAtFault).toBe(false);
    emulator.setFaults({});
    expect(await statusOf('3')).toBe('ACTIVE');
  });
});
