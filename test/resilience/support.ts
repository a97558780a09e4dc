// shared rig of the resilience suite: the real SessionApi and the real Sweeper, with the real SDK clients over
// HTTP, against the local MicroVM emulator and dynalite, on one emulated clock. Not a test file itself.
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { EmulatorOptions, VmSnapshot } from '../../src/local';
import { countsForAdmission } from '../../src/orchestrator/runtime/admission-counter';
import type { SessionApi } from '../../src/orchestrator/runtime/session-api';
import type { SweepReport } from '../../src/orchestrator/runtime/sweep-report';
import type { Sweeper } from '../../src/orchestrator/runtime/sweeper';
import { clientTokenFor, sha256Hex } from '../../src/orchestrator/runtime/table/schema';
import { ENV } from '../../src/shared/contract';
import { ALICE, BOB, event, EventOptions, Rig, startRig } from '../orchestrator/runtime/harness';
import { fixtureOf, newSweeper, slotsInUse } from '../orchestrator/runtime/sweeper-fixture';

export { ALICE, BOB, body, event } from '../orchestrator/runtime/harness';

export const CALLERS = [ALICE, BOB] as const;
/** Sweeper grace period of the suite: short, so two sweeps fit in a few emulated minutes. */
export const GRACE_SECONDS = 60;
/** The session API's launch lease (its default), passed explicitly so the suite knows how long to wait. */
export const LEASE_MS = 30_000;
/** Longest a single request may take before it counts as a hang (real time). */
export const REQUEST_LIMIT_MS = 20_000;

const LIVE = new Set(['PENDING', 'RUNNING', 'SUSPENDING', 'SUSPENDED']);
/** Answers a client may get: successes, the documented 4xx, and the retryable 429/503. Never 500 or 502. */
const ALLOWED = new Set([200, 201, 202, 204, 400, 403, 404, 405, 409, 413, 415, 429, 503]);

export interface World {
  readonly rig: Rig;
  readonly api: SessionApi;
  /** Every answer the suite got, for the "never a 500, never a hang" check. */
  readonly answers: Answer[];
  sweeper(): Sweeper;
  stop(): Promise<void>;
}

export interface Answer {
  readonly request: string;
  readonly statusCode: number;
  readonly retryAfter?: string;
  readonly hung: boolean;
}

/**
 * Starts the emulator (service rate limits off unless asked: faults are injected explicitly), dynalite and a
 * sessions table. The session API and the sweeper read the emulator's clock, so `advance` moves leases, grace
 * periods and VM lifetimes together.
 */
export async function startWorld(options: EmulatorOptions = {}, env: Record<string, string | undefined> = {}): Promise<World> {
  const rig = await startRig({ rateLimits: false, seed: 1234, ...options });
  const api = rig.api(env, { now: () => rig.emulator.now(), leaseMilliseconds: LEASE_MS, launchWaitMilliseconds: 300 });
  const fixture = fixtureOf(rig);
  const world: World = {
    rig,
    api,
    answers: [],
    sweeper: () => newSweeper(fixture, {
      orphanGracePeriodSeconds: GRACE_SECONDS,
      maxSessionDurationSeconds: undefined,
      // as the construct configures it: slots go back only where there is a maxSessions counter.
      admissionCounter: env[ENV.MAX_SESSIONS] !== undefined,
    }),
    stop: () => rig.stop(),
  };
  return world;
}

/** Sends one request through the session API, bounded in time, and records the answer. */
export async function send(world: World, method: string, path: string, options: EventOptions = {}): Promise<APIGatewayProxyStructuredResultV2> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<APIGatewayProxyStructuredResultV2>((resolve) => {
    timer = setTimeout(() => resolve({ statusCode: -1 }), REQUEST_LIMIT_MS);
  });
  try {
    const res = await Promise.race([world.api.handle(event(method, path, options)), hang]);
    const headers = (res.headers ?? {}) as Record<string, string>;
    world.answers.push({
      request: `${method} ${path}`,
      statusCode: res.statusCode ?? -1,
      retryAfter: headers['retry-after'],
      hung: res.statusCode === -1,
    });
    return res;
  } finally {
    clearTimeout(timer);
  }
}

/** Answers that break the contract: a hang, a 5xx other than 503, a status outside the API, a 429/503 without Retry-After. */
export function badAnswers(world: World): Answer[] {
  return world.answers.filter((a) => a.hung || !ALLOWED.has(a.statusCode)
    || ((a.statusCode === 429 || a.statusCode === 503) && !(Number(a.retryAfter) >= 1)));
}

/** Counts answers by status code, e.g. `{ 201: 4, 503: 2 }`. */
export function statusHistogram(world: World): Record<number, number> {
  const out: Record<number, number> = {};
  for (const a of world.answers) out[a.statusCode] = (out[a.statusCode] ?? 0) + 1;
  return out;
}

/** Every row of the sessions table, as plain objects. */
export async function rows(world: World): Promise<Array<Record<string, any>>> {
  const items: Array<Record<string, any>> = [];
  let start: Record<string, any> | undefined;
  do {
    const out = await world.rig.documentClient.send(new ScanCommand({
      TableName: world.rig.tableName, ConsistentRead: true, ExclusiveStartKey: start,
    }));
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

/** Session rows only (not the `#meta` and `#orphan` partitions). */
export async function sessionRows(world: World): Promise<Array<Record<string, any>>> {
  return (await rows(world)).filter((r) => !String(r.owner).startsWith('#'));
}

export function liveVms(world: World): VmSnapshot[] {
  return world.rig.emulator.listVms().filter((vm) => vm.imageArn === world.rig.imageArn && LIVE.has(vm.state));
}

/**
 * The `maxSessions` counter against the rows that count for admission (every row but those of TERMINATED VMs);
 * equal whenever no request is in flight, since DynamoDB is never faulted here.
 */
export async function slotDrift(world: World): Promise<{ counter: number; countedRows: number }> {
  const counter = await slotsInUse(world.rig);
  const countedRows = (await sessionRows(world)).filter((row) => countsForAdmission(row)).length;
  return { counter, countedRows };
}

/** What the invariant checks found; every list is empty when the invariants hold. */
export interface Violations {
  /** Two rows claiming the same VM. */
  readonly sharedVms: string[];
  /** Sessions with more than one live VM (VMs attributed by their clientToken). */
  readonly sessionsWithTwoLiveVms: string[];
  /** Live VMs that no row records. */
  readonly unownedLiveVms: string[];
  /** Rows that still present a VM that is gone (missing, TERMINATING or TERMINATED). */
  readonly rowsOnMissingVms: string[];
}

/**
 * Checks the suite's invariants on the current state: one live VM per session, no live VM without an owner,
 * no row presenting a VM that is gone. Call it after `settle` (which runs the two sweeps the contract allows).
 */
export async function violations(world: World): Promise<Violations> {
  const sessions = await sessionRows(world);
  const vms = world.rig.emulator.listVms().filter((vm) => vm.imageArn === world.rig.imageArn);
  const byId = new Map(vms.map((vm) => [vm.microvmId, vm]));
  const claimed = new Map<string, number>();
  const sessionOfToken = new Map<string, string>();
  for (const row of sessions) {
    if (row.microvmId) claimed.set(row.microvmId, (claimed.get(row.microvmId) ?? 0) + 1);
    for (let g = 1; g <= Number(row.generation ?? 1) + 3; g++) {
      sessionOfToken.set(clientTokenFor(row.owner, row.sessionId, g), `${row.owner.slice(0, 8)}/${row.sessionId}`);
    }
  }
  const liveBySession = new Map<string, number>();
  for (const vm of vms.filter((v) => LIVE.has(v.state))) {
    const session = vm.clientToken ? sessionOfToken.get(vm.clientToken) : undefined;
    if (session) liveBySession.set(session, (liveBySession.get(session) ?? 0) + 1);
  }
  return {
    sharedVms: [...claimed].filter(([, n]) => n > 1).map(([id]) => id),
    sessionsWithTwoLiveVms: [...liveBySession].filter(([, n]) => n > 1).map(([s]) => s),
    unownedLiveVms: vms.filter((vm) => LIVE.has(vm.state) && !claimed.has(vm.microvmId)).map((vm) => vm.microvmId),
    rowsOnMissingVms: sessions
      .filter((row) => row.status === 'ACTIVE' && row.microvmId && row.vmState !== 'TERMINATED')
      .filter((row) => !LIVE.has(byId.get(row.microvmId)?.state ?? 'MISSING'))
      .map((row) => `${row.sessionId} -> ${row.microvmId}`),
  };
}

export const NO_VIOLATIONS: Violations = { sharedVms: [], sessionsWithTwoLiveVms: [], unownedLiveVms: [], rowsOnMissingVms: [] };

/** Invariant findings after each of the two sweeps of `settle`. */
export interface Settled {
  readonly afterFirstSweep: Violations;
  readonly afterSecondSweep: Violations;
  readonly reports: SweepReport[];
}

/**
 * Lets every lease and the grace period run out (emulated time), then runs the real sweeper twice, a
 * confirmation interval apart. Faults are cleared first: the invariants are about the state the fault run left.
 * After one sweep no row may present a missing VM; after two no live VM may be unowned.
 */
export async function settle(world: World): Promise<Settled> {
  const emulator = world.rig.emulator;
  emulator.setFaults({});
  emulator.advanceTime(LEASE_MS + (GRACE_SECONDS + 5) * 1000);
  const first = await world.sweeper().run();
  const afterFirstSweep = await violations(world);
  emulator.advanceTime((GRACE_SECONDS + 5) * 1000);
  const second = await world.sweeper().run();
  const afterSecondSweep = await violations(world);
  return { afterFirstSweep, afterSecondSweep, reports: [first, second] };
}

/** What `settle` must find: nothing after the second sweep, and no row on a missing VM already after the first. */
export function expectSettled(settled: Settled): void {
  expect(settled.afterFirstSweep.rowsOnMissingVms).toEqual([]);
  expect(settled.afterFirstSweep.sharedVms).toEqual([]);
  expect(settled.afterSecondSweep).toEqual(NO_VIOLATIONS);
}

/** The owner key of a caller, as the session API derives it. */
export function ownerOf(callerArn: string): string {
  return sha256Hex(callerArn);
}
