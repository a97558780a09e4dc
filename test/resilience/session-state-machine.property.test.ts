import * as fc from 'fast-check';
import { badAnswers, CALLERS, expectSettled, send, settle, slotDrift, startWorld, World } from './support';

// fixed seeds and bounded runs: the same sequences every CI run, a few seconds each.
const SEED = 20261122;
const RUNS = 8;
const SESSIONS = ['p0', 'p1', 'p2'];

type Op = 'put' | 'get' | 'token' | 'suspend' | 'resume' | 'delete' | 'list';
type Step =
  | { kind: 'api'; op: Op; caller: number; session: number; copies: number }
  | { kind: 'faults'; throttle: number; error: number; lostRun: number }
  | { kind: 'clearFaults' }
  | { kind: 'sweep' }
  | { kind: 'advance'; seconds: number }
  | { kind: 'kill'; caller: number; session: number }
  | { kind: 'stick' };

const apiStep = fc.record({
  kind: fc.constant('api' as const),
  op: fc.constantFrom<Op>('put', 'put', 'put', 'get', 'token', 'suspend', 'resume', 'delete', 'list'),
  caller: fc.integer({ min: 0, max: CALLERS.length - 1 }),
  session: fc.integer({ min: 0, max: SESSIONS.length - 1 }),
  copies: fc.integer({ min: 1, max: 3 }),
});

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: apiStep },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('faults' as const), throttle: fc.constantFrom(0, 0.2), error: fc.constantFrom(0, 0.2), lostRun: fc.constantFrom(0, 0.3) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'clearFaults' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'sweep' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('advance' as const), seconds: fc.integer({ min: 1, max: 120 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('kill' as const), caller: fc.integer({ min: 0, max: 1 }), session: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'stick' as const }) },
);

/** What the model knows about a (caller, session): created and not deleted, deleted, or unknown after a retryable answer. */
type Known = 'yes' | 'no' | 'unknown';

async function runSteps(world: World, steps: Step[], options: { checkSlots?: boolean } = {}): Promise<string[]> {
  const problems: string[] = [];
  const checkSlots = async (after: string) => {
    if (!options.checkSlots) return;
    const { counter, countedRows } = await slotDrift(world);
    if (counter !== countedRows) problems.push(`after ${after}: maxSessions counter ${counter}, counted rows ${countedRows}`);
  };
  const known = new Map<string, Known>();
  const vmOf = new Map<string, string>();
  for (const s of steps) {
    if (s.kind === 'faults') {
      world.rig.emulator.setFaults({
        throttleRate: s.throttle,
        errorRate: s.error,
        operations: { RunMicrovm: { throttleRate: s.throttle, errorRate: s.error, errorAfterEffectRate: s.lostRun } },
      });
    } else if (s.kind === 'clearFaults') {
      world.rig.emulator.setFaults({});
    } else if (s.kind === 'sweep') {
      const report = await world.sweeper().run();
      if (report.orphansTerminated > 0 || report.sessionsEnded > 0) vmOf.clear();
      // the counter only drifts when a row vanishes without its writer (TTL, a crash): neither happens here.
      if (options.checkSlots && report.slotsReconciled !== 0) problems.push(`a sweep reconciled ${report.slotsReconciled} slots`);
    } else if (s.kind === 'advance') {
      world.rig.emulator.advanceTime(s.seconds * 1000);
    } else if (s.kind === 'kill') {
      const vm = vmOf.get(`${s.caller}/${SESSIONS[s.session]}`);
      if (vm) world.rig.emulator.terminateExternally(vm);
    } else if (s.kind === 'stick') {
      world.rig.emulator.stickPending(1);
    } else {
      const key = `${s.caller}/${SESSIONS[s.session]}`;
      const caller = CALLERS[s.caller];
      const path = `/sessions/${SESSIONS[s.session]}`;
      const copies = s.op === 'put' || s.op === 'delete' ? s.copies : 1;
      const answers = await Promise.all(Array.from({ length: copies }, () => {
        switch (s.op) {
          case 'put': return send(world, 'PUT', path, { caller, body: { payload: `p-${s.copies}` } });
          case 'get': return send(world, 'GET', path, { caller });
          case 'token': return send(world, 'POST', `${path}/token`, { caller });
          case 'suspend': return send(world, 'POST', `${path}/suspend`, { caller });
          case 'resume': return send(world, 'POST', `${path}/resume`, { caller });
          case 'delete': return send(world, 'DELETE', path, { caller });
          default: return send(world, 'GET', '/sessions', { caller });
        }
      }));
      const codes = answers.map((a) => a.statusCode ?? -1);
      const before = known.get(key) ?? 'no';
      if (s.op === 'get' || s.op === 'token' || s.op === 'suspend' || s.op === 'resume') {
        // ownership and existence: a session the caller created answers (never 404); one it never created, or
        // deleted, is 404 whatever the other caller did with the same id.
        if (before === 'yes' && codes.includes(404)) problems.push(`${s.op} ${key} answered 404 for a live session`);
        if (before === 'no' && codes.some((c) => c !== 404)) problems.push(`${s.op} ${key} answered ${codes} for a session that does not exist`);
      } else if (s.op === 'put') {
        const ok = answers.filter((a) => a.statusCode === 200 || a.statusCode === 201);
        if (ok.length > 0) {
          known.set(key, 'yes');
          const ids = new Set(ok.map((a) => JSON.parse(a.body as string).microvmId));
          if (ids.size > 1) problems.push(`concurrent PUTs of ${key} answered with different VMs ${[...ids]}`);
          vmOf.set(key, [...ids][0]);
        } else if (codes.some((c) => c === 503 || c === 429)) {
          known.set(key, before === 'yes' ? 'yes' : 'unknown');
        }
      } else if (s.op === 'delete') {
        if (codes.every((c) => c === 204)) known.set(key, 'no');
        else known.set(key, 'unknown');
        vmOf.delete(key);
      }
    }
    await checkSlots(s.kind === 'api' ? `${s.op} ${s.caller}/${SESSIONS[s.session]}` : s.kind);
  }
  return problems;
}

describe('session state machine (property)', () => {
  test('random sequences of API calls by two callers, interleaved with faults, sweeps, kills and time, keep every invariant', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 6, maxLength: 18 }), async (steps) => {
        // GIVEN a fresh emulator, dynalite and table
        const world = await startWorld();
        try {
          // WHEN the steps run
          const problems = await runSteps(world, steps);

          // THEN the model agrees with every answer, no answer is a 500/502 or a hang, and after two sweeps there
          // is one live VM per session, no unowned VM, and no row on a missing VM
          expect(problems).toEqual([]);
          expect(badAnswers(world)).toEqual([]);
          expectSettled(await settle(world));
        } finally {
          await world.stop();
        }
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
  });

  test('under maxSessions, the admission counter equals the rows that count after every step, and no sweep has to repair it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 6, maxLength: 18 }), async (steps) => {
        // GIVEN a world with a maxSessions counter that random sequences never fill
        const world = await startWorld({}, { MICROVM_MAX_SESSIONS: '100' });
        try {
          // WHEN the steps run, THEN the counter tracks the rows exactly, through relaunches of ended sessions,
          // deletes, sweeps marking rows TERMINATED and failed launches
          expect(await runSteps(world, steps, { checkSlots: true })).toEqual([]);
          expect(badAnswers(world)).toEqual([]);
          expectSettled(await settle(world));
          const { counter, countedRows } = await slotDrift(world);
          expect(counter).toBe(countedRows);
        } finally {
          await world.stop();
        }
      }),
      { seed: SEED + 7, numRuns: RUNS, endOnFailure: true },
    );
  });
});
