// The deploy-time smoke test's cost: how long it adds to a deployment and which MicroVM calls it makes, measured
// with the real probe and SDK client against the emulator, whose launch takes LAUNCH_MS (the service's "about two
// seconds") and whose calls carry the latencies the latency bench uses.
import { LambdaMicrovmsClient } from '@aws-sdk/client-lambda-microvms';
import { SERVICE_LATENCY_MS } from './latency';
import { median, nowMs, round } from './support';
import { DataPlaneApps, MicrovmEmulator } from '../src/local';
import { ReleaseProbe } from '../src/orchestrator/runtime/release-probe';

/** How long a launch takes from RunMicrovm to RUNNING in this bench, as the service documents it. */
export const LAUNCH_MS = 2000;
/** Emulated latency of the calls the latency bench does not cover. */
const OTHER_CALL_MS = 20;

export interface SmokeTestBenchResult {
  readonly iterations: number;
  readonly launchMs: number;
  readonly serviceLatencyMs: Record<string, number>;
  /** wall time of one smoke test, from the first call to the probe's termination. */
  readonly probeMs: { readonly p50: number; readonly min: number; readonly max: number };
  /** the lower bound: launch time plus the latencies of the calls that must happen in sequence. */
  readonly floorMs: number;
  /** p50 probe time over the floor: what polling adds. */
  readonly ratioToFloor: number;
  /** MicroVM calls of one smoke test, counted at the emulator. */
  readonly calls: Record<string, number>;
  readonly budget: string;
  readonly pass: boolean;
}

export async function measureSmokeTest(iterations: number): Promise<SmokeTestBenchResult> {
  const latency: Record<string, number> = {
    RunMicrovm: SERVICE_LATENCY_MS.RunMicrovm,
    CreateMicrovmAuthToken: SERVICE_LATENCY_MS.CreateMicrovmAuthToken,
    GetMicrovm: OTHER_CALL_MS,
    TerminateMicrovm: OTHER_CALL_MS,
  };
  const emulator = await MicrovmEmulator.start({
    rateLimits: false,
    launchDelayMs: LAUNCH_MS,
    faults: { operations: Object.fromEntries(Object.entries(latency).map(([op, ms]) => [op, { latencyMs: ms }])) },
  });
  const client = new LambdaMicrovmsClient({
    endpoint: emulator.endpoint,
    region: emulator.region,
    credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' },
  });
  try {
    const imageArn = emulator.registerImage({ name: 'bench', versions: ['1'] });
    emulator.registerApp(imageArn, '1', DataPlaneApps.healthy());
    const probe = () => new ReleaseProbe(client, { endpointUrl: (endpoint) => emulator.endpointUrl(endpoint) });
    const durations: number[] = [];
    let calls: Record<string, number> = {};
    for (let i = 0; i < iterations; i++) {
      emulator.resetCallCounts();
      const start = nowMs();
      await probe().run({
        imageArn,
        imageVersion: '1',
        egressConnectors: [`arn:aws:lambda:${emulator.region}:123456789012:network-connector:isolated`],
        ingressConnectors: [`arn:aws:lambda:${emulator.region}:aws:network-connector:aws-network-connector:HTTP_INGRESS`],
        port: 8080,
        path: '/health',
        expectedStatus: 200,
        timeoutSeconds: 30,
      });
      durations.push(nowMs() - start);
      calls = emulator.callCounts() as Record<string, number>;
    }
    const floorMs = latency.RunMicrovm + LAUNCH_MS + latency.CreateMicrovmAuthToken + latency.TerminateMicrovm;
    const p50 = median(durations);
    const gets = calls.GetMicrovm ?? 0;
    const maxGets = 6;
    return {
      iterations,
      launchMs: LAUNCH_MS,
      serviceLatencyMs: latency,
      probeMs: { p50: round(p50), min: round(Math.min(...durations)), max: round(Math.max(...durations)) },
      floorMs,
      ratioToFloor: round(p50 / floorMs),
      calls,
      budget: `1 RunMicrovm, at most ${maxGets} GetMicrovm (polls after 0.5, 0.5, 1, 1, 2, 3 s, then every 5 s), 1 CreateMicrovmAuthToken, 1 TerminateMicrovm`,
      pass: calls.RunMicrovm === 1 && gets >= 1 && gets <= maxGets && calls.CreateMicrovmAuthToken === 1 && calls.TerminateMicrovm === 1
        && Object.keys(calls).every((op) => ['RunMicrovm', 'GetMicrovm', 'CreateMicrovmAuthToken', 'TerminateMicrovm'].includes(op)),
    };
  } finally {
    client.destroy();
    await emulator.stop();
  }
}
