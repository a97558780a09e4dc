import { body, event, Rig, startRig } from './harness';
import { fixtureOf, newSweeper, slotsInUse as slotsOf } from './sweeper-fixture';
import { sha256Hex } from '../../../src/orchestrator/runtime/table/schema';

// Admission limits count live sessions: a session whose VM ended on its own (idle policy, maximum duration, the
// service) stops counting once its row says TERMINATED, and counts again when a PUT relaunches it.

const CALLER = 'arn:aws:iam::111111111111:user/limited';
const OTHER = 'arn:aws:iam::111111111111:user/other';

let rig: Rig;

beforeEach(async () => {
  rig = await startRig({ rateLimits: false });
});

afterEach(async () => {
  await rig.stop();
});

/** One sweep over the rig's world, giving slots back as a deployment with `maxSessions` does. */
async function sweep() {
  const report = await newSweeper(fixtureOf(rig), { admissionCounter: true }).run();
  expect(report.errors).toBe(0);
  return report;
}

async function rowOf(caller: string, sessionId: string): Promise<any> {
  return (await rig.tableItems()).find((item: any) => item.owner.S === sha256Hex(caller) && item.sessionId.S === sessionId);
}

function slotsInUse(): Promise<number> {
  return slotsOf(rig);
}

describe('maxSessionsPerOwner', () => {
  test('a session whose VM was terminated stops counting once the sweeper marks it; relaunching it is admitted again', async () => {
    // GIVEN a caller at its limit of two, one of whose VMs the service terminated
    const api = rig.api({ MICROVM_MAX_SESSIONS_PER_OWNER: '2' });
    const a = body(await api.handle(event('PUT', '/sessions/a', { caller: CALLER })));
    expect((await api.handle(event('PUT', '/sessions/b', { caller: CALLER }))).statusCode).toBe(201);
    rig.emulator.terminateExternally(a.microvmId);
    const beforeSweep = await api.handle(event('PUT', '/sessions/c', { caller: CALLER }));

    // WHEN the sweeper marks the row, a new session fits; relaunching the ended one is then over the limit
    const report = await sweep();
    const c = await api.handle(event('PUT', '/sessions/c', { caller: CALLER }));
    const relaunch = await api.handle(event('PUT', '/sessions/a', { caller: CALLER }));
    const described = await api.handle(event('GET', '/sessions/a', { caller: CALLER }));
    await api.handle(event('DELETE', '/sessions/b', { caller: CALLER }));
    const relaunched = await api.handle(event('PUT', '/sessions/a', { caller: CALLER }));

    // THEN
    expect(beforeSweep.statusCode).toBe(429);
    expect(report.rowsRepaired).toBe(1);
    expect(c.statusCode).toBe(201);
    expect(relaunch.statusCode).toBe(429);
    expect(body(relaunch).error.code).toBe('AdmissionLimit');
    expect(body(described).state).toBe('TERMINATED');
    expect(relaunched.statusCode).toBe(201);
    expect(body(relaunched).microvmId).not.toBe(a.microvmId);
    expect((await rowOf(CALLER, 'a')).generation.N).toBe('2');
  });

  test('concurrent relaunches of ended sessions never pass the limit, and the refused ones stay ended', async () => {
    // GIVEN a caller with one live session and three whose VMs ended (created before the per-caller limit)
    const unlimited = rig.api({ MICROVM_MAX_SESSIONS: '10' });
    expect((await unlimited.handle(event('PUT', '/sessions/live', { caller: CALLER }))).statusCode).toBe(201);
    const ended = ['x', 'y', 'z'];
    for (const id of ended) {
      rig.emulator.terminateExternally(body(await unlimited.handle(event('PUT', `/sessions/${id}`, { caller: CALLER }))).microvmId);
    }
    await sweep();
    expect(await slotsInUse()).toBe(1);
    const api = rig.api({ MICROVM_MAX_SESSIONS_PER_OWNER: '2', MICROVM_MAX_SESSIONS: '10' });

    // WHEN all three are relaunched at once
    const answers = await Promise.all(ended.map((id) => api.handle(event('PUT', `/sessions/${id}`, { caller: CALLER }))));

    // THEN exactly one fits; the others are 429 and their rows still say TERMINATED
    expect(answers.map((r) => r.statusCode).sort()).toEqual([201, 429, 429]);
    const refused = ended.filter((_, i) => answers[i].statusCode === 429);
    for (const id of refused) {
      const row = await rowOf(CALLER, id);
      expect(row.vmState.S).toBe('TERMINATED');
      expect(row.leaseExpiresAt?.N ?? '0').toBe('0');
      expect(body(await api.handle(event('GET', `/sessions/${id}`, { caller: CALLER }))).state).toBe('TERMINATED');
    }
    expect(await slotsInUse()).toBe(2);
    const live = rig.emulator.listVms().filter((vm) => vm.state !== 'TERMINATED');
    expect(live).toHaveLength(2);
  });
});

describe('maxSessions', () => {
  test('the sweeper gives an ended session\'s slot back; a relaunch takes one, and a DELETE of an ended session gives none', async () => {
    // GIVEN a limit of two, both taken, one of whose VMs the service terminated
    const api = rig.api({ MICROVM_MAX_SESSIONS: '2' });
    const ended = body(await api.handle(event('PUT', '/sessions/ended', { caller: CALLER })));
    expect((await api.handle(event('PUT', '/sessions/kept', { caller: CALLER }))).statusCode).toBe(201);
    rig.emulator.terminateExternally(ended.microvmId);
    expect(await slotsInUse()).toBe(2);

    // WHEN
    await sweep();
    const slotsAfterSweep = await slotsInUse();
    const other = await api.handle(event('PUT', '/sessions/other', { caller: OTHER }));
    const relaunch = await api.handle(event('PUT', '/sessions/ended', { caller: CALLER }));
    const slotsAfterRefusal = await slotsInUse();
    const afterRefusal = await sweep();
    const deleted = await api.handle(event('DELETE', '/sessions/ended', { caller: CALLER }));
    const slotsAfterDelete = await slotsInUse();
    const second = await sweep();

    // THEN
    expect(slotsAfterSweep).toBe(1);
    expect(other.statusCode).toBe(201);
    expect(relaunch.statusCode).toBe(429);
    expect(slotsAfterRefusal).toBe(2);
    // the ended row does not count, so the counter (2) already matches the rows: nothing to reconcile
    expect(afterRefusal.slotsReconciled).toBe(0);
    expect(deleted.statusCode).toBe(204);
    expect(slotsAfterDelete).toBe(2);
    // the counter already matches the rows that count, so the next sweep has nothing to reconcile
    expect(second.slotsReconciled).toBe(0);
    expect(await slotsInUse()).toBe(2);
  });

  test('a relaunch of an ended session that the memory quota refuses gives its slot back and stays ended', async () => {
    // GIVEN an ended session under maxSessions
    const api = rig.api({ MICROVM_MAX_SESSIONS: '5' });
    const first = body(await api.handle(event('PUT', '/sessions/quota', { caller: CALLER })));
    rig.emulator.terminateExternally(first.microvmId);
    await sweep();
    expect(await slotsInUse()).toBe(0);
    rig.emulator.setMemoryQuotaMiB(0);

    // WHEN
    const refused = await api.handle(event('PUT', '/sessions/quota', { caller: CALLER }));
    const slots = await slotsInUse();
    const row = await rowOf(CALLER, 'quota');
    const described = body(await api.handle(event('GET', '/sessions/quota', { caller: CALLER })));
    rig.emulator.setMemoryQuotaMiB(1_000_000);
    const relaunched = await api.handle(event('PUT', '/sessions/quota', { caller: CALLER }));

    // THEN
    expect(refused.statusCode).toBe(429);
    expect(body(refused).error.code).toBe('QuotaExceeded');
    expect(slots).toBe(0);
    expect(row.vmState.S).toBe('TERMINATED');
    expect(described.state).toBe('TERMINATED');
    expect(relaunched.statusCode).toBe(201);
    expect(await slotsInUse()).toBe(1);
  });
});
