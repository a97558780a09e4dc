import * as fs from 'node:fs';
import * as path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { ALICE, BOB, body, event, Rig, startRig, untilSettled } from './harness';
import { fixtureOf, newSweeper } from './sweeper-fixture';
import { LocalEventBus, RecordedEvent } from '../../../src/local';
import { eventsFor, SessionEvents } from '../../../src/orchestrator/runtime/session-events';
import { sha256Hex } from '../../../src/orchestrator/runtime/table/schema';
import { ENV, EVENT_METRICS } from '../../../src/shared/contract';
import { SESSION_EVENT_SOURCE, SESSION_EVENT_TYPES as T } from '../../../src/shared/session-events';

// lifecycle events: the real EventBridge client (built as the handlers build it, redirected by
// AWS_ENDPOINT_URL_EVENTBRIDGE) against the local event bus, with the session API and the sweeper on the emulator and
// dynalite. Every transition gives exactly one event; publishing never changes an answer.

const BUS = 'sessions-bus';
const HOUR_MS = 3600_000;
const ENV_KEYS = ['AWS_ENDPOINT_URL_EVENTBRIDGE', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const;

let rig: Rig;
let bus: LocalEventBus;
const saved: Record<string, string | undefined> = {};
/** every event the bus recorded in this file's tests, checked against the documented schema at the end. */
const allSeen: RecordedEvent[] = [];
/** EventsPublished / EventsFailed as the publisher counted them. */
const counted: Record<string, number> = {};

beforeAll(async () => {
  rig = await startRig({ rateLimits: false });
  bus = await LocalEventBus.start({ busNames: [BUS] });
  for (const key of ENV_KEYS) saved[key] = process.env[key];
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_EVENTBRIDGE: bus.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIDLOCAL', AWS_SECRET_ACCESS_KEY: 'local',
  });
});

afterAll(async () => {
  for (const key of ENV_KEYS) {
    if (saved[key] === undefined) delete process.env[key];
    else process.env[key] = saved[key];
  }
  await bus.stop();
  await rig.stop();
});

beforeEach(() => {
  rig.resetCounts();
  allSeen.push(...bus.events);
  bus.clear();
  for (const key of Object.keys(counted)) delete counted[key];
});

function publisher(): SessionEvents {
  const metrics = new Metrics({ namespace: 'Test', serviceName: 'events-test' });
  const add = metrics.addMetric.bind(metrics);
  metrics.addMetric = (name, unit, value, resolution) => {
    counted[name] = (counted[name] ?? 0) + value;
    return add(name, unit, value, resolution);
  };
  return eventsFor(BUS, 'events-test', new Logger({ serviceName: 'events-test', logLevel: 'DEBUG' }), metrics);
}

const EVENTS_ENV = { [ENV.BASELINE_MEMORY_MIB]: '2048', [ENV.EVENT_BUS_NAME]: BUS };

function api(overrides: Record<string, string> = {}) {
  return rig.api({ ...EVENTS_ENV, ...overrides }, { events: publisher() });
}

function sweeper() {
  return newSweeper(fixtureOf(rig), { events: { eventBusName: BUS, memoryMiB: 2048 } }, { events: publisher() });
}

function ofSession(id: string, type?: string): RecordedEvent[] {
  return bus.ofType(type).filter((e) => e.detail.sessionId === id);
}

/** moves the API's clock and the emulator's together. */
function advance(ms: number): void {
  rig.clock.offsetMs += ms;
  rig.emulator.advanceTime(ms);
}

describe('session lifecycle events', () => {
  test('a created session gives one Session Created with the documented fields; the warm PUT publishes nothing', async () => {
    // GIVEN
    const a = api();

    // WHEN
    const created = await a.handle(event('PUT', '/sessions/ev-1', { body: { labels: { tenant: 'acme' } } }));
    const warmBefore = bus.putEventsCalls;
    rig.resetCounts();
    const warm = await a.handle(event('PUT', '/sessions/ev-1'));

    // THEN
    expect(created.statusCode).toBe(201);
    expect(warm.statusCode).toBe(200);
    const [e, ...rest] = ofSession('ev-1');
    expect(rest).toEqual([]);
    expect(e).toMatchObject({ source: SESSION_EVENT_SOURCE, detailType: T.CREATED, eventBusName: BUS });
    expect(e.detail).toEqual({
      version: '1',
      service: 'events-test',
      time: expect.any(String),
      owner: sha256Hex(ALICE),
      ownerArn: ALICE,
      sessionId: 'ev-1',
      generation: 1,
      microvmId: body(created).microvmId,
      imageVersion: '2',
      labels: { tenant: 'acme' },
      launchLatencyMs: expect.any(Number),
    });
    // the warm path: exactly the token call and the one read, and no publish.
    expect(bus.putEventsCalls).toBe(warmBefore);
    expect(rig.emulator.callCounts()).toEqual({ CreateMicrovmAuthToken: 1 });
    expect(rig.dynamoCalls).toEqual({ GetItemCommand: 1 });
    expect(counted[EVENT_METRICS.EVENTS_PUBLISHED]).toBe(1);
  });

  test('eight concurrent PUTs of a new session give exactly one Session Created', async () => {
    const a = api();
    const answers = await Promise.all(Array.from({ length: 8 }, () => untilSettled(() => a.handle(event('PUT', '/sessions/ev-race')))));
    expect(answers.every((r) => r.statusCode === 200 || r.statusCode === 201)).toBe(true);
    expect(ofSession('ev-race').map((e) => e.detailType)).toEqual([T.CREATED]);
  });

  test('suspend, resume and delete give one event each; the end carries the usage the API observed', async () => {
    // GIVEN a session that runs 5 minutes (under the idle policy's 10), is suspended for 20, then runs 5 more
    const a = api({ [ENV.USAGE_PRICING]: JSON.stringify({ perGbSecond: 0.00001, perVcpuSecond: 0.00002, currency: 'USD' }) });
    await a.handle(event('PUT', '/sessions/ev-use'));
    advance(5 * 60_000);
    expect((await a.handle(event('POST', '/sessions/ev-use/suspend'))).statusCode).toBe(202);
    advance(20 * 60_000);
    expect((await untilSettled(() => a.handle(event('POST', '/sessions/ev-use/resume')), 60, [409, 503])).statusCode).toBe(202);
    advance(5 * 60_000);

    // WHEN
    expect((await a.handle(event('DELETE', '/sessions/ev-use'))).statusCode).toBe(204);

    // THEN
    expect(ofSession('ev-use').map((e) => e.detailType)).toEqual([T.CREATED, T.SUSPENDED, T.RESUMED, T.ENDED]);
    const ended = ofSession('ev-use', T.ENDED)[0].detail as any;
    expect(ended.reason).toBe('deleted');
    expect(ended.usage).toMatchObject({ totalSeconds: expect.any(Number), memoryMiB: 2048, currency: 'USD' });
    // wall-clock time passes too while the test runs: a few seconds at most.
    expect(ended.usage.totalSeconds).toBeGreaterThanOrEqual(30 * 60);
    expect(ended.usage.totalSeconds).toBeLessThan(30 * 60 + 30);
    expect(ended.usage.suspendedSeconds).toBeGreaterThanOrEqual(20 * 60);
    expect(ended.usage.suspendedSeconds).toBeLessThan(20 * 60 + 30);
    expect(ended.usage.runningSeconds).toBeCloseTo(ended.usage.totalSeconds - ended.usage.suspendedSeconds, 0);
    // 2 GiB and 1 vCPU: 0.00004 per running second.
    expect(ended.usage.estimatedCost).toBeCloseTo(ended.usage.runningSeconds * 0.00004, 5);
    // a second DELETE changes nothing and reports nothing.
    await a.handle(event('DELETE', '/sessions/ev-use'));
    expect(ofSession('ev-use', T.ENDED)).toHaveLength(1);
  });

  test('a VM that ended on its own is reported once by the sweeper, with the reason, even with two sweeps at once', async () => {
    // GIVEN
    const a = api();
    const vm = body(await a.handle(event('PUT', '/sessions/ev-max'))).microvmId;
    advance(HOUR_MS + 60_000);

    // WHEN two sweeps run at once, then a third
    await Promise.all([sweeper().run(), sweeper().run()]);
    await sweeper().run();

    // THEN
    const ended = ofSession('ev-max', T.ENDED);
    expect(ended).toHaveLength(1);
    expect(ended[0].detail).toMatchObject({ reason: 'maxDuration', microvmId: vm, generation: 1, ownerArn: ALICE });
    expect(String(ended[0].detail.stateReason)).toMatch(/maximum duration/i);
    // ended at the cap: the usage stops at the VM's end, not at the sweep.
    expect((ended[0].detail as any).usage.totalSeconds).toBeCloseTo(3600, -1);

    // AND the relaunch that follows is a new generation's Created, with no second end.
    expect((await a.handle(event('PUT', '/sessions/ev-max'))).statusCode).toBe(201);
    expect(ofSession('ev-max').map((e) => [e.detailType, e.detail.generation])).toEqual([[T.CREATED, 1], [T.ENDED, 1], [T.CREATED, 2]]);
  });

  test('a PUT that finds the VM ended before any sweep reports the end itself, and the sweep then adds nothing', async () => {
    // GIVEN
    const a = api();
    const vm = body(await a.handle(event('PUT', '/sessions/ev-gone'))).microvmId;
    rig.emulator.terminateExternally(vm);

    // WHEN
    const relaunched = await untilSettled(() => a.handle(event('PUT', '/sessions/ev-gone')));
    await sweeper().run();

    // THEN
    expect(relaunched.statusCode).toBe(201);
    expect(ofSession('ev-gone').map((e) => [e.detailType, e.detail.generation, e.detail.reason])).toEqual([
      [T.CREATED, 1, undefined], [T.ENDED, 1, 'vmEnded'], [T.CREATED, 2, undefined],
    ]);
  });

  test('a /run failure is reported as runFailed by the sweeper', async () => {
    // GIVEN version 2's /run hook fails
    rig.emulator.failRunHook(rig.imageArn, '2');
    try {
      const a = api();
      await a.handle(event('PUT', '/sessions/ev-run'));

      // WHEN
      await sweeper().run();

      // THEN
      const ended = ofSession('ev-run', T.ENDED);
      expect(ended).toHaveLength(1);
      expect(ended[0].detail.reason).toBe('runFailed');
    } finally {
      rig.emulator.clearRunHookFailure(rig.imageArn, '2');
    }
  });

  test('an admission refusal and a failed launch each give one event naming the limit or the error', async () => {
    // GIVEN one session per owner
    const a = api({ [ENV.MAX_SESSIONS_PER_OWNER]: '1' });
    await a.handle(event('PUT', '/sessions/ev-adm-1', { caller: BOB }));

    // WHEN
    const refused = await a.handle(event('PUT', '/sessions/ev-adm-2', { caller: BOB }));
    rig.emulator.setMemoryQuotaMiB(0);
    const failed = await api().handle(event('PUT', '/sessions/ev-quota'));
    rig.emulator.setMemoryQuotaMiB(1_000_000);

    // THEN
    expect(refused.statusCode).toBe(429);
    expect(ofSession('ev-adm-2').map((e) => [e.detailType, e.detail.reason])).toEqual([[T.ADMISSION_REFUSED, 'maxSessionsPerOwner']]);
    expect(failed.statusCode).toBe(429);
    expect(ofSession('ev-quota').map((e) => [e.detailType, e.detail.reason])).toEqual([[T.LAUNCH_FAILED, 'ServiceQuotaExceededException']]);
  });

  test('a publish that fails or hangs never changes the answer; it is counted and logged without the events', async () => {
    for (const fault of ['internalError', 'throttle', 'refuseEntries', 'hang'] as const) {
      // GIVEN
      bus.failNext(fault);
      const a = api();
      rig.capture.lines.length = 0;

      // WHEN
      const res = await a.handle(event('PUT', `/sessions/ev-fail-${fault}`));

      // THEN
      expect(res.statusCode).toBe(201);
      expect(counted[EVENT_METRICS.EVENTS_FAILED]).toBe(1);
      const warn = rig.capture.lines.find((l) => l.includes('session events not published'));
      expect(warn).toBeDefined();
      expect(warn).not.toContain(`ev-fail-${fault}`);
      // one attempt: the SDK does not retry the call.
      expect(bus.putEventsCalls).toBe(1);
      bus.clear();
      delete counted[EVENT_METRICS.EVENTS_FAILED];
    }
  });

  test('the sweeper reports an orphan it terminates', async () => {
    // GIVEN a VM of the image that no session owns, seen twice past the grace period
    const [orphan] = rig.emulator.seedVms(1, { imageArn: rig.imageArn, imageVersion: '2', state: 'RUNNING', startedAt: rig.emulator.now() - 2 * HOUR_MS });
    await sweeper().run();
    advance(120_000);

    // WHEN
    await sweeper().run();

    // THEN
    const orphans = bus.ofType(T.ORPHAN_TERMINATED).filter((e) => e.detail.microvmId === orphan);
    expect(orphans).toHaveLength(1);
    expect(orphans[0].detail).toMatchObject({ reason: 'orphan', imageVersion: '2' });
  });

  test('no token value appears in any event', async () => {
    const a = api();
    await a.handle(event('PUT', '/sessions/ev-tok'));
    await a.handle(event('POST', '/sessions/ev-tok/token', { body: { ports: [8080] } }));
    await a.handle(event('DELETE', '/sessions/ev-tok'));
    const raw = bus.ofType().map((e) => e.rawDetail).join('\n');
    const tokens = rig.emulator.issuedTokens().map((t) => t.token);
    expect(tokens.length).toBeGreaterThan(0);
    for (const token of tokens) expect(raw).not.toContain(token);
    expect(raw).not.toMatch(/endpoint|payload|X-aws-proxy/i);
  });
});

describe('shell access granted', () => {
  test('a shell token gives one event with who asked and for how long, never the token', async () => {
    // GIVEN an orchestrator with shell access for ALICE
    const shell = 'arn:aws:lambda:us-east-1:aws:network-connector:aws-network-connector:SHELL_INGRESS';
    const http = 'arn:aws:lambda:us-east-1:aws:network-connector:aws-network-connector:HTTP_INGRESS';
    const a = api({ [ENV.INGRESS_CONNECTORS]: JSON.stringify([http, shell]), [ENV.SHELL_ALLOWED_PRINCIPALS]: JSON.stringify([ALICE]) });
    await a.handle(event('PUT', '/sessions/ev-shell'));

    // WHEN
    const res = await a.handle(event('POST', '/sessions/ev-shell/shell-token', { body: { ttlSeconds: 600 } }));
    const refused = await a.handle(event('POST', '/sessions/ev-shell/shell-token', { caller: BOB }));

    // THEN
    expect(res.statusCode).toBe(200);
    expect(refused.statusCode).toBe(403);
    const granted = bus.ofType(T.SHELL_ACCESS_GRANTED);
    expect(granted).toHaveLength(1);
    expect(granted[0].detail).toMatchObject({ sessionId: 'ev-shell', callerArn: ALICE, ownerArn: ALICE, expirationInMinutes: 10 });
    expect(body(res).token).toEqual(expect.any(String));
    expect(granted[0].rawDetail).not.toContain(body(res).token);
  });
});

describe('end reasons from the service and the sweeper', () => {
  test('a VM the idle policy ended is reported as idleTimeout', async () => {
    // GIVEN a long-lived session that idles (600 s) and then stays suspended past suspendedDurationSeconds (3600 s)
    const a = api({ [ENV.MAX_DURATION_SECONDS]: '28800' });
    await a.handle(event('PUT', '/sessions/ev-idle'));
    advance(600_000 + 1000);
    advance(3600_000 + 1000);

    // WHEN
    await sweeper().run();

    // THEN
    const ended = ofSession('ev-idle', T.ENDED);
    expect(ended.map((e) => e.detail.reason)).toEqual(['idleTimeout']);
    expect(String(ended[0].detail.stateReason)).toMatch(/idle policy/);
  });

  test('a VM the sweeper ended past the session\'s end is reported once, as sweeper', async () => {
    // GIVEN a VM allowed 8 hours, and a sweeper that ends sessions after 1 hour
    const a = api({ [ENV.MAX_DURATION_SECONDS]: '28800' });
    await a.handle(event('PUT', '/sessions/ev-swept'));
    await a.handle(event('POST', '/sessions/ev-swept/token', { body: { ports: [8080] } }));
    advance(HOUR_MS + 60_000);

    // WHEN the first sweep terminates it and the next ones see it TERMINATED
    await sweeper().run();
    await sweeper().run();
    await sweeper().run();

    // THEN
    expect(ofSession('ev-swept', T.ENDED).map((e) => e.detail.reason)).toEqual(['sweeper']);
  });

  test('under 20% injected throttling and 5xx, concurrent PUTs and DELETEs give one Created and one Ended per generation', async () => {
    // GIVEN
    const a = api();
    const ids = Array.from({ length: 8 }, (_, i) => `ev-storm-${i}`);
    rig.emulator.setFaults({ throttleRate: 0.1, errorRate: 0.05, errorAfterEffectRate: 0.05 });
    try {
      // WHEN 64 PUTs (8 per session) race, each retried until it settles, then 3 DELETEs per session race
      const puts = await Promise.all(ids.flatMap((id) => Array.from({ length: 8 }, () => untilSettled(() => a.handle(event('PUT', `/sessions/${id}`)), 200, [502, 503, 429]))));
      expect(puts.every((r) => r.statusCode === 200 || r.statusCode === 201)).toBe(true);
      const deletes = await Promise.all(ids.flatMap((id) => Array.from({ length: 3 }, () => untilSettled(() => a.handle(event('DELETE', `/sessions/${id}`)), 200, [502, 503, 429]))));
      expect(deletes.every((r) => r.statusCode === 204)).toBe(true);
    } finally {
      rig.emulator.setFaults({});
    }

    // THEN per session: each generation created once and ended once, as deleted
    for (const id of ids) {
      const created = ofSession(id, T.CREATED).map((e) => e.detail.generation);
      const ended = ofSession(id, T.ENDED).map((e) => e.detail.generation);
      expect([id, created.length > 0, new Set(created).size]).toEqual([id, true, created.length]);
      expect([id, [...ended].sort()]).toEqual([id, [...created].sort()]);
      expect(ofSession(id, T.ENDED).map((e) => e.detail.reason)).toEqual(created.map(() => 'deleted'));
    }
  });
});

describe('the documented schema (docs/events.schema.json)', () => {
  test('every event these tests recorded, of every detail-type, matches it exactly', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Ajv = require('ajv');
    const schema = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'docs', 'events.schema.json'), 'utf8'));
    const validate = new Ajv({ allErrors: true }).compile(schema);
    allSeen.push(...bus.events);
    const invalid = allSeen
      .map((e) => ({ type: e.detailType, ok: validate({ 'source': e.source, 'detail-type': e.detailType, 'detail': e.detail }), errors: validate.errors }))
      .filter((r) => !r.ok);
    expect(invalid).toEqual([]);
    // the checkpoint events are recorded and checked against the same schema in checkpoints.test.ts.
    const checkpointTypes: string[] = [T.CHECKPOINT_SAVED, T.CHECKPOINT_FAILED];
    expect(new Set(allSeen.map((e) => e.detailType))).toEqual(new Set(Object.values(T).filter((t) => !checkpointTypes.includes(t))));
    // the schema's list of detail-types is the contract's.
    expect(schema.properties['detail-type'].enum.sort()).toEqual(Object.values(T).sort());
  });
});
