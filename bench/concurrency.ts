// 3. concurrency: 200 PUTs at once over 20 sessions, through the real SessionApi, with the service's documented
// rate limits on (RunMicrovm 5/s throttles the burst) and the same emulated latencies as the latency bench.
// A client retries 429/503 answers after a short random pause, as the API asks it to.
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { SERVICE_LATENCY_MS } from './latency';
import { addTableLatency, round, sleep, summary, timed } from './support';
import { body, event, startRig } from '../test/orchestrator/runtime/harness';

export interface ConcurrencyResult {
  readonly requests: number;
  readonly sessions: number;
  /** VMs the emulator launched during the burst (one per session is the invariant). */
  readonly vmsLaunched: number;
  /** Sessions whose answers named more than one VM (must be 0). */
  readonly sessionsWithSeveralVms: number;
  /** Final answers by status code, after retries. */
  readonly finalStatuses: Record<string, number>;
  /** Requests whose final answer was not 200/201. */
  readonly errors: number;
  /** Retryable answers (429/503) clients got on the way, and the 5xx the emulator answered the SDK. */
  readonly retryableAnswers: number;
  readonly upstreamErrors: Record<string, Record<string, number>>;
  /** Per request, from first send to final answer (retries included), ms. */
  readonly endToEndMs: ReturnType<typeof summary>;
  /** Per single handler call, ms. */
  readonly attemptMs: ReturnType<typeof summary>;
  readonly wallMs: number;
}

const RETRYABLE = [429, 503];
const MAX_ATTEMPTS = 400;

export async function measureConcurrency(requests = 200, sessions = 20): Promise<ConcurrencyResult> {
  const rig = await startRig({
    faults: {
      operations: {
        CreateMicrovmAuthToken: { latencyMs: SERVICE_LATENCY_MS.CreateMicrovmAuthToken },
        RunMicrovm: { latencyMs: SERVICE_LATENCY_MS.RunMicrovm },
      },
    },
  });
  addTableLatency(rig, SERVICE_LATENCY_MS.dynamodbPerCall);
  try {
    const api = rig.api();
    const before = rig.emulator.listVms().length;
    rig.resetCounts();
    const attemptMs: number[] = [];
    let retryableAnswers = 0;
    const send = async (sessionId: string) => {
      let res: APIGatewayProxyStructuredResultV2 = {};
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const one = await timed(() => api.handle(event('PUT', `/sessions/${sessionId}`)));
        attemptMs.push(one.ms);
        res = one.value;
        if (!RETRYABLE.includes(res.statusCode as number)) break;
        retryableAnswers++;
        await sleep(50 + Math.floor(Math.random() * 100));
      }
      return res;
    };
    const wall = await timed(() => Promise.all(Array.from({ length: requests }, async (_, i) => {
      const sessionId = `crowd-${i % sessions}`;
      const { ms, value } = await timed(() => send(sessionId));
      return { sessionId, ms, res: value };
    })));
    const answers = wall.value;
    const finalStatuses: Record<string, number> = {};
    const vmsBySession = new Map<string, Set<string>>();
    for (const { sessionId, res } of answers) {
      finalStatuses[String(res.statusCode)] = (finalStatuses[String(res.statusCode)] ?? 0) + 1;
      const id = res.statusCode === 200 || res.statusCode === 201 ? body(res).microvmId : undefined;
      if (id) vmsBySession.set(sessionId, (vmsBySession.get(sessionId) ?? new Set()).add(id));
    }
    return {
      requests,
      sessions,
      vmsLaunched: rig.emulator.listVms().length - before,
      sessionsWithSeveralVms: [...vmsBySession.values()].filter((set) => set.size > 1).length,
      finalStatuses,
      errors: answers.filter(({ res }) => res.statusCode !== 200 && res.statusCode !== 201).length,
      retryableAnswers,
      upstreamErrors: rig.emulator.errorCounts() as Record<string, Record<string, number>>,
      endToEndMs: summary(answers.map((a) => a.ms)),
      attemptMs: summary(attemptMs),
      wallMs: round(wall.ms),
    };
  } finally {
    await rig.stop();
  }
}
