import { Metrics } from '@aws-lambda-powertools/metrics';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  Fixture,
  GRACE_SECONDS,
  MAX_DURATION_SECONDS,
  OWNER,
  getSession,
  newSweeper,
  putSession,
  runVm,
  seedVms,
  slotsInUse,
  startFixture,
  stateOf,
  suspects,
  terminations,
} from './sweeper-fixture';
import { AdmissionCounter } from '../../../src/orchestrator/runtime/admission-counter';
import { SweeperStore } from '../../../src/orchestrator/runtime/table/sweeper-store';
import { TABLE } from '../../../src/shared/contract';

const MINUTE = 60_000;

describe('orphans', () => {
  let fx: Fixture;
  beforeEach(async () => {
    fx = await startFixture();
  });
  afterEach(async () => fx.stop());

  test('seeded orphans are terminated by the second sweep, none by the first, and owned VMs are never touched', async () => {
    // GIVEN 20 owned VMs (half an hour old), 10 orphans (an hour old) and an old unowned VM of another image
    const owned = seedVms(fx, 20, 1800);
    const orphans = seedVms(fx, 10, 3600);
    const foreign = seedVms(fx, 1, 3600, fx.otherImageArn);
    for (const [i, id] of owned.entries()) {
      await putSession(fx, { sessionId: `s-${i}`, microvmId: id });
    }

    // WHEN the first sweep runs
    const first = await newSweeper(fx).run();

    // THEN every orphan is a suspect and nothing is terminated
    expect(first).toMatchObject({ orphansFound: 10, suspectsRecorded: 10, orphansTerminated: 0, terminateCalls: 0, errors: 0, listComplete: true });
    expect(first.vmsSeen).toEqual({ RUNNING: 30 });
    expect((await suspects(fx)).map((s) => s.microvmId).sort()).toEqual([...orphans].sort());
    expect([...owned, ...orphans].every((id) => stateOf(fx, id) === 'RUNNING')).toBe(true);

    // WHEN the second sweep runs two minutes later
    fx.emulator.advanceTime(2 * MINUTE);
    const second = await newSweeper(fx).run();

    // THEN every orphan is terminated exactly once; owned and foreign VMs are untouched
    expect(second).toMatchObject({ orphansTerminated: 10, terminateCalls: 10, errors: 0 });
    expect(orphans.map((id) => stateOf(fx, id))).toEqual(orphans.map(() => 'TERMINATED'));
    expect(orphans.map((id) => terminations(fx.emulator.getVm(id)))).toEqual(orphans.map(() => 1));
    expect([...owned, ...foreign].map((id) => terminations(fx.emulator.getVm(id)))).toEqual([...owned, ...foreign].map(() => 0));
    expect(fx.emulator.callCounts().TerminateMicrovm).toBe(10);

    // WHEN a third sweep sees the orphans TERMINATED
    fx.emulator.advanceTime(2 * MINUTE);
    const third = await newSweeper(fx).run();

    // THEN it terminates nothing more and forgets the suspects
    expect(third).toMatchObject({ orphansTerminated: 0, terminateCalls: 0, suspectsCleared: 10 });
    expect(await suspects(fx)).toEqual([]);
  });

  test('an unowned VM younger than the grace period is never touched', async () => {
    // GIVEN a VM that started a minute ago and has no row
    const [young] = seedVms(fx, 1, 60);

    // WHEN two sweeps run, still within its grace period
    const first = await newSweeper(fx).run();
    fx.emulator.advanceTime(2 * MINUTE);
    const second = await newSweeper(fx).run();

    // THEN it is neither suspected nor terminated
    expect([first.unownedInGrace, second.unownedInGrace]).toEqual([1, 1]);
    expect(second.orphansTerminated + first.orphansTerminated).toBe(0);
    expect(await suspects(fx)).toEqual([]);
    expect(stateOf(fx, young)).toBe('RUNNING');
  });

  test('a suspect that becomes owned is cleared and never terminated', async () => {
    // GIVEN an orphan suspected by a first sweep
    const [vm] = seedVms(fx, 1, 1800);
    await newSweeper(fx).run();
    expect(await suspects(fx)).toHaveLength(1);

    // WHEN a session adopts it before the second sweep
    await putSession(fx, { sessionId: 'adopter', microvmId: vm });
    fx.emulator.advanceTime(2 * MINUTE);
    const second = await newSweeper(fx).run();

    // THEN the suspect is cleared and the VM still runs
    expect(second).toMatchObject({ suspectsCleared: 1, orphansTerminated: 0 });
    expect(await suspects(fx)).toEqual([]);
    expect(stateOf(fx, vm)).toBe('RUNNING');
  });

  test('a suspect whose VM left the list altogether is forgotten after a complete pass, not after a partial one', async () => {
    // GIVEN a suspect for a VM the service no longer lists, and 120 other VMs (three pages)
    seedVms(fx, 120, 60);
    await fx.documentClient.send(new PutCommand({
      TableName: fx.tableName,
      Item: { owner: TABLE.ORPHAN_PARTITION, sessionId: 'mvm-gone', microvmId: 'mvm-gone', firstSeenAt: new Date(fx.emulator.now() - 10 * MINUTE).toISOString() },
    }));

    // WHEN a sweep stops after two pages, then a sweep reads all three
    const partial = await newSweeper(fx, { budget: { maxListPages: 2 } }).run();
    const kept = await suspects(fx);
    const complete = await newSweeper(fx).run();

    // THEN only the complete pass clears it
    expect([partial.suspectsCleared, kept.length, complete.suspectsCleared]).toEqual([0, 1, 1]);
    expect(await suspects(fx)).toEqual([]);
  });

  test('two sightings closer than confirmAfterSeconds do not confirm an orphan', async () => {
    // GIVEN an orphan suspected a moment ago
    const [vm] = seedVms(fx, 1, 3600);
    await newSweeper(fx).run();

    // WHEN another sweep runs ten seconds later
    fx.emulator.advanceTime(10_000);
    const report = await newSweeper(fx).run();

    // THEN it waits for a later sweep
    expect(report).toMatchObject({ orphansFound: 1, orphansTerminated: 0 });
    expect(stateOf(fx, vm)).toBe('RUNNING');
  });
});

describe('launches in flight', () => {
  let fx: Fixture;
  beforeEach(async () => {
    fx = await startFixture();
  });
  afterEach(async () => fx.stop());

  test('a launch in flight during sweeps survives, even past the grace period, and is adopted', async () => {
    // GIVEN a LAUNCHING row with a live lease whose VM has just started but is not recorded yet
    const launchAt = fx.emulator.now();
    await putSession(fx, {
      sessionId: 'inflight',
      status: 'LAUNCHING',
      leaseId: 'lease-1',
      leaseExpiresAt: launchAt + 30 * MINUTE,
      updatedAt: new Date(launchAt).toISOString(),
    });
    const vm = await runVm(fx, 'inflight');

    // WHEN sweeps run while the launch is still in flight, the last one past the grace period
    const reports = [];
    for (const step of [0, 2 * MINUTE, GRACE_SECONDS * 1000]) {
      fx.emulator.advanceTime(step);
      reports.push(await newSweeper(fx).run());
    }

    // THEN the VM is never suspected nor terminated
    expect(reports.map((r) => r.unownedInGrace + r.protectedByLaunch)).toEqual([1, 1, 1]);
    expect(reports[2].protectedByLaunch).toBe(1);
    expect(await suspects(fx)).toEqual([]);
    expect(terminations(fx.emulator.getVm(vm))).toBe(0);
    expect(fx.emulator.callCounts().TerminateMicrovm).toBeUndefined();

    // WHEN the launch records its VM and two more sweeps run
    await putSession(fx, { sessionId: 'inflight', microvmId: vm, updatedAt: new Date(fx.emulator.now()).toISOString() });
    fx.emulator.advanceTime(2 * MINUTE);
    await newSweeper(fx).run();
    fx.emulator.advanceTime(2 * MINUTE);
    const last = await newSweeper(fx).run();

    // THEN the VM is owned and still running
    expect(last).toMatchObject({ orphansFound: 0, orphansTerminated: 0 });
    expect(stateOf(fx, vm)).toBe('RUNNING');
  });

  test('a relaunch its caller abandoned shields unowned VMs only while its lease and the grace period last', async () => {
    // GIVEN a session whose first VM ended, then a relaunch (generation 2) that started its VM but failed before
    // recording it and released its lease: the row stays LAUNCHING with the old VM's id
    const [first] = seedVms(fx, 1, 3600);
    fx.emulator.terminateExternally(first);
    const launchAt = fx.emulator.now();
    const relaunched = await runVm(fx, 'abandoned', 2);
    await putSession(fx, {
      sessionId: 'abandoned',
      microvmId: first,
      status: 'LAUNCHING',
      generation: 2,
      vmState: 'TERMINATED',
      leaseId: 'lease-2',
      leaseExpiresAt: 0,
      updatedAt: new Date(launchAt).toISOString(),
    });
    // and an unrelated orphan started a minute later
    fx.emulator.advanceTime(MINUTE);
    const [orphan] = seedVms(fx, 1, 0);

    // WHEN sweeps run within the grace period of the released lease
    fx.emulator.advanceTime(GRACE_SECONDS * 1000 - 2 * MINUTE);
    const early = await newSweeper(fx).run();

    // THEN the relaunch may still be recording, so both VMs are spared
    expect(early.orphansFound).toBe(0);
    expect(early.unownedInGrace + early.protectedByLaunch).toBe(2);

    // WHEN sweeps go on past the grace period, for as long as it takes
    const reports = [];
    for (let i = 0; i < 4 && [relaunched, orphan].some((id) => stateOf(fx, id) !== 'TERMINATED'); i++) {
      fx.emulator.advanceTime(2 * MINUTE);
      reports.push(await newSweeper(fx).run());
    }

    // THEN both are terminated once each by the second sweep after the window closed, and the row still says
    // LAUNCHING generation 2, so the next PUT replays the launch (and moves on from a terminated replay)
    expect(reports.length).toBeLessThanOrEqual(3);
    expect([relaunched, orphan].map((id) => stateOf(fx, id))).toEqual(['TERMINATED', 'TERMINATED']);
    expect([relaunched, orphan].map((id) => terminations(fx.emulator.getVm(id)))).toEqual([1, 1]);
    expect(reports.every((r) => r.errors === 0)).toBe(true);
    expect(await getSession(fx, 'abandoned')).toMatchObject({ status: 'LAUNCHING', generation: 2, microvmId: first });
  });

  test('a launch that died before recording its VM: its row is removed and the VM terminated after two sightings', async () => {
    // GIVEN a VM launched 30 minutes ago by a launch whose lease ran out 25 minutes ago
    const vm = await runVm(fx, 'crashed');
    fx.emulator.advanceTime(30 * MINUTE);
    await putSession(fx, {
      sessionId: 'crashed',
      status: 'LAUNCHING',
      leaseId: 'lease-dead',
      leaseExpiresAt: fx.emulator.now() - 25 * MINUTE,
      updatedAt: new Date(fx.emulator.now() - 29 * MINUTE).toISOString(),
    });

    // WHEN two sweeps run
    const first = await newSweeper(fx).run();
    fx.emulator.advanceTime(2 * MINUTE);
    const second = await newSweeper(fx).run();

    // THEN the dead launch row is removed by the first and the VM terminated by the second
    expect(first).toMatchObject({ rowsRepaired: 1, suspectsRecorded: 1, orphansTerminated: 0 });
    expect(await getSession(fx, 'crashed')).toBeUndefined();
    expect(second.orphansTerminated).toBe(1);
    expect(stateOf(fx, vm)).toBe('TERMINATED');
  });

  test('a LAUNCHING row whose lease expired recently is kept (the session API may still take it over)', async () => {
    // GIVEN a launch released a minute ago
    await putSession(fx, {
      sessionId: 'retrying',
      status: 'LAUNCHING',
      leaseId: 'lease-2',
      leaseExpiresAt: 0,
      updatedAt: new Date(fx.emulator.now() - MINUTE).toISOString(),
    });

    // WHEN a sweep runs
    const report = await newSweeper(fx).run();

    // THEN the row is left for the retry
    expect(report.rowsRepaired).toBe(0);
    expect(await getSession(fx, 'retrying')).toMatchObject({ status: 'LAUNCHING', leaseId: 'lease-2' });
  });
});

describe('rows', () => {
  let fx: Fixture;
  beforeEach(async () => {
    fx = await startFixture();
  });
  afterEach(async () => fx.stop());

  test('rows whose VM is TERMINATED or gone are repaired in one sweep', async () => {
    // GIVEN an ACTIVE row and an ENDING row whose VMs the service terminated, and a row whose VM no longer exists
    const [a, b, live] = seedVms(fx, 3, 600);
    await putSession(fx, { sessionId: 'active', microvmId: a, generation: 3 });
    await putSession(fx, { sessionId: 'ending', microvmId: b, status: 'ENDING', leaseId: 'l', leaseExpiresAt: fx.emulator.now() - 1 });
    await putSession(fx, {
      sessionId: 'vanished',
      microvmId: 'mvm-00000000-0000-0000-0000-000000000000',
      updatedAt: new Date(fx.emulator.now() - 5 * MINUTE).toISOString(),
    });
    // a row recorded a moment ago may name a VM the eventually consistent list does not show yet.
    await putSession(fx, { sessionId: 'just-recorded', microvmId: 'mvm-11111111-1111-1111-1111-111111111111' });
    await putSession(fx, { sessionId: 'live', microvmId: live });
    fx.emulator.terminateExternally(a);
    fx.emulator.terminateExternally(b);

    // WHEN one sweep runs
    const report = await newSweeper(fx).run();

    // THEN each broken row is marked (same generation, no endpoint) or, for an ENDING session, removed; the fresh
    // row is left for the next sweep
    expect(report).toMatchObject({ rowsRepaired: 3, errors: 0, listComplete: true });
    const active = await getSession(fx, 'active');
    expect(active).toMatchObject({ vmState: 'TERMINATED', generation: 3, status: 'ACTIVE', microvmId: a });
    expect(active?.endpoint).toBeUndefined();
    expect(await getSession(fx, 'ending')).toBeUndefined();
    expect(await getSession(fx, 'vanished')).toMatchObject({ vmState: 'TERMINATED' });
    expect(await getSession(fx, 'live')).toMatchObject({ vmState: 'RUNNING' });
    expect(await getSession(fx, 'just-recorded')).toMatchObject({ vmState: 'RUNNING' });
    // only the (not fresh) VM missing from the list needed a GetMicrovm to confirm
    expect(fx.emulator.callCounts().GetMicrovm).toBe(1);

    // WHEN another sweep runs two minutes later
    fx.emulator.advanceTime(2 * MINUTE);
    const again = await newSweeper(fx).run();

    // THEN only the row recorded earlier, still without a VM, is repaired
    expect(again.rowsRepaired).toBe(1);
    expect(await getSession(fx, 'just-recorded')).toMatchObject({ vmState: 'TERMINATED' });
  });

  test('a repair never clobbers a relaunch that happened after the scan', async () => {
    // GIVEN the row the sweeper scanned (generation 1 on a dead VM), then relaunched as generation 2
    const table = new SweeperStore(fx.documentClient, fx.tableName, (fn) => fn());
    await putSession(fx, { sessionId: 'relaunched', microvmId: 'mvm-old' });
    const scanned = (await table.scan(() => false))!.sessions[0];
    await fx.documentClient.send(new UpdateCommand({
      TableName: fx.tableName,
      Key: { owner: OWNER, sessionId: 'relaunched' },
      UpdateExpression: 'SET generation = :g, microvmId = :vm, vmState = :s',
      ExpressionAttributeValues: { ':g': 2, ':vm': 'mvm-new', ':s': 'RUNNING' },
    }));

    // WHEN the stale repair, claim and delete are attempted
    const results = [
      await table.markTerminated(scanned, new Date().toISOString()),
      await table.claimSessionVm(scanned, new Date().toISOString(), new Date(0).toISOString()),
      await table.deleteRow(scanned),
    ];

    // THEN all fail their condition and the relaunched row is intact
    expect(results).toEqual([false, false, false]);
    expect(await getSession(fx, 'relaunched')).toMatchObject({ generation: 2, microvmId: 'mvm-new', vmState: 'RUNNING' });
  });

  test('rows with a live lease are left to the session API', async () => {
    // GIVEN a relaunch in progress on a row that still names the previous, TERMINATED VM
    const [old] = seedVms(fx, 1, 600);
    fx.emulator.terminateExternally(old);
    await putSession(fx, { sessionId: 'relaunching', microvmId: old, status: 'LAUNCHING', generation: 2, leaseId: 'l2', leaseExpiresAt: fx.emulator.now() + MINUTE });

    // WHEN a sweep runs
    const report = await newSweeper(fx).run();

    // THEN the row is untouched
    expect(report.rowsRepaired).toBe(0);
    expect(await getSession(fx, 'relaunching')).toMatchObject({ vmState: 'RUNNING', status: 'LAUNCHING', leaseId: 'l2' });
  });
});

describe('session lifetime', () => {
  let fx: Fixture;
  beforeEach(async () => {
    fx = await startFixture();
  });
  afterEach(async () => fx.stop());

  test('sessions past expiresAt or maxSessionDuration are ended and their rows marked', async () => {
    // GIVEN a session past its expiresAt, one whose VM is older than the max duration, an abandoned ENDING
    // session, and a current one
    const [expired, tooOld, abandoned, current] = [
      ...seedVms(fx, 1, 600),
      ...seedVms(fx, 1, MAX_DURATION_SECONDS + 60),
      ...seedVms(fx, 2, 600),
    ];
    await putSession(fx, { sessionId: 'expired', microvmId: expired, expiresAt: new Date(fx.emulator.now() - 1000).toISOString() });
    await putSession(fx, { sessionId: 'too-old', microvmId: tooOld });
    await putSession(fx, { sessionId: 'abandoned', microvmId: abandoned, status: 'ENDING', leaseId: 'l', leaseExpiresAt: fx.emulator.now() - MINUTE });
    await putSession(fx, { sessionId: 'current', microvmId: current });

    // WHEN a sweep runs
    const first = await newSweeper(fx).run();

    // THEN the three VMs are terminated and their rows claimed
    expect(first).toMatchObject({ sessionsEnded: 3, terminateCalls: 3, orphansTerminated: 0, errors: 0 });
    expect([expired, tooOld, abandoned].map((id) => stateOf(fx, id))).toEqual(['TERMINATED', 'TERMINATED', 'TERMINATED']);
    expect(stateOf(fx, current)).toBe('RUNNING');
    expect(await getSession(fx, 'expired')).toMatchObject({ vmState: 'TERMINATING' });

    // WHEN the next sweep sees them TERMINATED
    fx.emulator.advanceTime(MINUTE);
    const second = await newSweeper(fx).run();

    // THEN the rows are marked, the ENDING one removed, and nothing is terminated again
    expect(second).toMatchObject({ rowsRepaired: 3, terminateCalls: 0 });
    expect(await getSession(fx, 'expired')).toMatchObject({ vmState: 'TERMINATED' });
    expect(await getSession(fx, 'too-old')).toMatchObject({ vmState: 'TERMINATED' });
    expect(await getSession(fx, 'abandoned')).toBeUndefined();
    expect(fx.emulator.callCounts().TerminateMicrovm).toBe(3);
  });
});

describe('admission slots', () => {
  let fx: Fixture;
  beforeEach(async () => {
    fx = await startFixture();
  });
  afterEach(async () => fx.stop());

  /** Five sessions admitted under maxSessions (a slot each, as the session API takes them), with live VMs. */
  async function admitFive(): Promise<AdmissionCounter> {
    const store = AdmissionCounter.of(fx.documentClient, fx.tableName, 10);
    const vms = seedVms(fx, 5, 600);
    for (const [i, id] of vms.entries()) {
      expect(await store.acquire(new Date(fx.emulator.now()).toISOString())).toBe(true);
      await putSession(fx, { sessionId: `s-${i}`, microvmId: id });
    }
    return store;
  }

  const expireByTtl = async (sessionId: string) => fx.documentClient.send(new DeleteCommand({
    TableName: fx.tableName, Key: { owner: OWNER, sessionId },
  }));

  test('slots of rows that DynamoDB TTL removed are given back by the next sweep, once', async () => {
    // GIVEN five admitted sessions, three of whose rows the table's TTL deleted (no slot released)
    await admitFive();
    for (const id of ['s-0', 's-1', 's-2']) await expireByTtl(id);
    expect(await slotsInUse(fx)).toBe(5);

    // WHEN a sweep runs for an orchestrator with maxSessions, then another
    const first = await newSweeper(fx, { admissionCounter: true }).run();
    const second = await newSweeper(fx, { admissionCounter: true }).run();

    // THEN the counter matches the two rows left, and the second sweep has nothing to change
    expect(first).toMatchObject({ slotsReconciled: 3, errors: 0 });
    expect(second).toMatchObject({ slotsReconciled: 0, errors: 0 });
    expect(await slotsInUse(fx)).toBe(2);
    // and the freed slots admit new sessions again
    expect(await AdmissionCounter.of(fx.documentClient, fx.tableName, 5).acquire(new Date(fx.emulator.now()).toISOString())).toBe(true);
  });

  test('without maxSessions the counter is left alone', async () => {
    // GIVEN a leaked slot
    await admitFive();
    await expireByTtl('s-4');

    // WHEN a sweep runs for an orchestrator without admission limits
    const report = await newSweeper(fx).run();

    // THEN nothing is reconciled
    expect(report.slotsReconciled).toBe(0);
    expect(await slotsInUse(fx)).toBe(5);
  });

  test('a slot taken while the sweep scans makes it leave the counter to the next sweep', async () => {
    // GIVEN a leaked slot, and a launch that takes a slot while the sweep's scan is running
    const store = await admitFive();
    await expireByTtl('s-4');
    const client = fx.documentClient as DynamoDBDocumentClient;
    let raced = false;
    client.middlewareStack.add((next, context) => async (args) => {
      if (!raced && context.commandName === 'ScanCommand') {
        raced = true;
        await store.acquire(new Date(fx.emulator.now()).toISOString());
      }
      return next(args);
    }, { step: 'initialize', name: 'raceAcquire' });

    // WHEN the sweep runs
    const report = await newSweeper(fx, { admissionCounter: true }).run();
    client.middlewareStack.remove('raceAcquire');

    // THEN it does not overwrite the count it raced (6: five admitted plus the racing launch)
    expect(raced).toBe(true);
    expect(report).toMatchObject({ slotsReconciled: 0, errors: 0 });
    expect(await slotsInUse(fx)).toBe(6);

    // WHEN the racing launch records its row and the next sweep runs
    await putSession(fx, { sessionId: 'racer', microvmId: seedVms(fx, 1, 0)[0] });
    const next = await newSweeper(fx, { admissionCounter: true }).run();

    // THEN the leaked slot comes back: five rows, five slots
    expect(next.slotsReconciled).toBe(1);
    expect(await slotsInUse(fx)).toBe(5);
  });
});

describe('concurrency', () => {
  let fx: Fixture;
  beforeEach(async () => {
    fx = await startFixture();
  });
  afterEach(async () => fx.stop());

  test('two concurrent sweeps do not double-terminate or corrupt rows', async () => {
    // GIVEN 30 orphans already suspected, 5 expired sessions, 5 rows of TERMINATED VMs and 10 healthy sessions
    const orphans = seedVms(fx, 30, 3600);
    const expired = seedVms(fx, 5, 600);
    const dead = seedVms(fx, 5, 600);
    const healthy = seedVms(fx, 10, 600);
    for (const [i, id] of expired.entries()) {
      await putSession(fx, { sessionId: `expired-${i}`, microvmId: id, expiresAt: new Date(fx.emulator.now() - 1).toISOString() });
    }
    for (const [i, id] of dead.entries()) {
      await putSession(fx, { sessionId: `dead-${i}`, microvmId: id, generation: 4 });
    }
    for (const [i, id] of healthy.entries()) {
      await putSession(fx, { sessionId: `healthy-${i}`, microvmId: id });
    }
    await newSweeper(fx, { budget: { maxTerminations: 0 } }).run();
    dead.forEach((id) => fx.emulator.terminateExternally(id));
    fx.emulator.advanceTime(2 * MINUTE);
    fx.emulator.resetCallCounts();

    // WHEN two sweeps run at once
    const [a, b] = await Promise.all([newSweeper(fx, { concurrency: 8 }).run(), newSweeper(fx, { concurrency: 3 }).run()]);

    // THEN together they terminated each VM once, and each repair happened once
    expect(a.orphansTerminated + b.orphansTerminated).toBe(30);
    expect(a.sessionsEnded + b.sessionsEnded).toBe(5);
    expect(a.rowsRepaired + b.rowsRepaired).toBe(5);
    expect(a.errors + b.errors).toBe(0);
    expect(fx.emulator.callCounts().TerminateMicrovm).toBe(35);
    expect([...orphans, ...expired].map((id) => terminations(fx.emulator.getVm(id)))).toEqual([...orphans, ...expired].map(() => 1));
    expect(healthy.map((id) => terminations(fx.emulator.getVm(id)))).toEqual(healthy.map(() => 0));
    for (let i = 0; i < 5; i++) {
      expect(await getSession(fx, `dead-${i}`)).toMatchObject({ vmState: 'TERMINATED', generation: 4, microvmId: dead[i] });
      expect(await getSession(fx, `expired-${i}`)).toMatchObject({ vmState: 'TERMINATING', generation: 1, microvmId: expired[i] });
    }
  });
});

describe('claims', () => {
  let fx: Fixture;
  beforeEach(async () => {
    fx = await startFixture();
  });
  afterEach(async () => fx.stop());

  test('a claim held by another sweep is respected, and taken over once it is stale (that sweep died)', async () => {
    // GIVEN a confirmed orphan whose suspect row another sweep claimed a minute ago
    const [vm] = seedVms(fx, 1, 3600);
    const now = fx.emulator.now();
    await fx.documentClient.send(new PutCommand({
      TableName: fx.tableName,
      Item: {
        owner: TABLE.ORPHAN_PARTITION,
        sessionId: vm,
        microvmId: vm,
        firstSeenAt: new Date(now - 10 * MINUTE).toISOString(),
        claimedBy: 'crashed-run',
        claimedAt: now - MINUTE,
      },
    }));

    // WHEN a sweep runs while the claim is fresh
    const first = await newSweeper(fx).run();

    // THEN it leaves the VM to the claim holder
    expect(first).toMatchObject({ orphansFound: 1, terminateCalls: 0, orphansTerminated: 0 });
    expect(stateOf(fx, vm)).toBe('RUNNING');

    // WHEN the claim is five minutes old and another sweep runs
    fx.emulator.advanceTime(5 * MINUTE);
    const second = await newSweeper(fx).run();

    // THEN that sweep takes it over, terminates the VM and records the termination
    expect(second.orphansTerminated).toBe(1);
    expect(stateOf(fx, vm)).toBe('TERMINATED');
    const [suspect] = await suspects(fx);
    expect(suspect.terminatedAt).toBe(new Date(fx.emulator.now()).toISOString());
    expect(suspect.claimedBy).toBeUndefined();
  });
});

describe('faults', () => {
  let fx: Fixture;
  beforeEach(async () => {
    fx = await startFixture();
  });
  afterEach(async () => fx.stop());

  test('throttling and 5xx injected at 20% still converge', async () => {
    // GIVEN 60 orphans among 140 owned VMs, three rows of TERMINATED VMs, and 20% throttles plus 20% 5xx on
    // every API call (and 20% of terminations answered 500 after taking effect)
    const owned = seedVms(fx, 140, 1800);
    const orphans = seedVms(fx, 60, 3600);
    for (const [i, id] of owned.entries()) {
      await putSession(fx, { sessionId: `s-${i}`, microvmId: id });
    }
    for (const id of owned.slice(0, 3)) {
      fx.emulator.terminateExternally(id);
    }
    fx.emulator.setFaults({
      throttleRate: 0.2,
      errorRate: 0.2,
      operations: { TerminateMicrovm: { throttleRate: 0.2, errorRate: 0.2, errorAfterEffectRate: 0.2 } },
    });

    // WHEN sweeps run every two minutes until nothing is left (SDK retries off: only the sweeper's backoff)
    const reports = [];
    for (let i = 0; i < 6; i++) {
      reports.push(await newSweeper(fx, {}, { sdkMaxAttempts: 1, maxAttempts: 10 }).run());
      fx.emulator.advanceTime(2 * MINUTE);
      if (orphans.every((id) => stateOf(fx, id) === 'TERMINATED') && reports.reduce((n, r) => n + r.rowsRepaired, 0) === 3) break;
    }

    // THEN the faults happened, every orphan is gone, no owned VM was touched, within a sweep or two more
    // than without faults
    const errors = Object.values(fx.emulator.errorCounts());
    const injected = (type: string) => errors.reduce((n, perType) => n + (perType[type] ?? 0), 0);
    expect(injected('ThrottlingException')).toBeGreaterThan(5);
    expect(injected('InternalServerException')).toBeGreaterThan(5);
    expect(reports.length).toBeLessThanOrEqual(4);
    expect(orphans.every((id) => stateOf(fx, id) === 'TERMINATED')).toBe(true);
    expect(owned.slice(3).every((id) => terminations(fx.emulator.getVm(id)) === 0)).toBe(true);
    expect(reports.reduce((n, r) => n + r.orphansTerminated, 0)).toBe(60);
    for (let i = 0; i < 3; i++) {
      expect(await getSession(fx, `s-${i}`)).toMatchObject({ vmState: 'TERMINATED' });
    }
  });
});

describe('pacing', () => {
  let fx: Fixture;
  beforeEach(async () => {
    // a real clock and the service's default rate limits (TerminateMicrovm 10 TPS)
    fx = await startFixture({ clock: Date.now, rateLimits: {} });
  });
  afterEach(async () => fx.stop());

  test('terminations paced at the service rate are never throttled', async () => {
    // GIVEN 25 suspected orphans
    const orphans = seedVms(fx, 25, 3600);
    const paced = { rates: { listPerSecond: 10, terminatePerSecond: 10, getPerSecond: 50 } };
    await newSweeper(fx, paced).run();
    fx.emulator.advanceTime(2 * MINUTE);

    // WHEN a sweep terminates them at 10 per second
    const report = await newSweeper(fx, paced).run();

    // THEN all are terminated and the emulator's rate limiter never refused a call
    expect(report.orphansTerminated).toBe(25);
    expect(fx.emulator.errorCounts()).toEqual({});
    expect(orphans.every((id) => stateOf(fx, id) === 'TERMINATED')).toBe(true);
  });
});

describe('metrics and logs', () => {
  const saved = { ...process.env };
  let fx: Fixture;
  beforeEach(async () => {
    fx = await startFixture();
  });
  afterEach(async () => {
    process.env = { ...saved };
    await fx.stop();
  });

  test('emits EMF metrics: VmsSeen per state, orphans, repairs, duration, errors', async () => {
    // GIVEN metrics printed to the console (Powertools dev mode) and a fleet with an orphan and a dead row
    process.env.POWERTOOLS_DEV = 'true';
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    const lines: string[] = [];
    const spy = jest.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
    const [orphan] = seedVms(fx, 1, 3600);
    const [dead] = seedVms(fx, 1, 3600);
    await putSession(fx, { sessionId: 'dead', microvmId: dead });
    fx.emulator.terminateExternally(dead);
    const metrics = new Metrics({ namespace: 'SweeperTest', serviceName: 'sweeper-test' });

    // WHEN a sweep runs
    await newSweeper(fx, {}, { metrics }).run();
    spy.mockRestore();

    // THEN one EMF document per state carries VmsSeen with a state dimension, and one carries the rest
    const docs = lines.map((l) => JSON.parse(l));
    const seen = docs.filter((d) => d.VmsSeen !== undefined);
    expect(seen.map((d) => [d.state, d.VmsSeen])).toEqual(expect.arrayContaining([['RUNNING', 1], ['TERMINATED', 1], ['PENDING', 0]]));
    expect(seen[0]._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'SweeperTest', Dimensions: [expect.arrayContaining(['service', 'state'])] });
    const summary = docs.find((d) => d.OrphansFound !== undefined);
    expect(summary).toMatchObject({ OrphansFound: 1, ProtectedByLaunch: 0, OrphansTerminated: 0, RowsRepaired: 1, SweepErrors: 0 });
    expect(typeof summary.SweepDuration).toBe('number');
    expect(JSON.stringify(docs)).not.toContain('ownerArn');
    expect(stateOf(fx, orphan)).toBe('RUNNING');
  });
});
