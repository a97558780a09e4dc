import { PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  ALICE,
  BOB,
  CALLERS,
  GRACE_SECONDS,
  World,
  badAnswers,
  body,
  expectSettled,
  liveVms,
  send,
  sessionRows,
  settle,
  startWorld,
  statusHistogram,
  violations,
} from './support';

const SESSIONS = ['s0', 's1', 's2', 's3'];

/** A mixed burst: every caller hits every session with concurrent PUTs, then reads, tokens, suspends and deletes. */
async function mixedTraffic(world: World, rounds: number): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    await Promise.all(CALLERS.flatMap((caller) => SESSIONS.flatMap((id) => [
      send(world, 'PUT', `/sessions/${id}`, { caller, body: { payload: `round-${round}` } }),
      send(world, 'PUT', `/sessions/${id}`, { caller }),
    ])));
    await Promise.all(CALLERS.flatMap((caller) => SESSIONS.map((id, i) => {
      const path = `/sessions/${id}`;
      switch ((i + round) % 4) {
        case 0: return send(world, 'GET', path, { caller });
        case 1: return send(world, 'POST', `${path}/token`, { caller, body: { ttlSeconds: 60 } });
        case 2: return send(world, 'POST', `${path}/suspend`, { caller });
        default: return round % 2 === 0 ? send(world, 'DELETE', path, { caller }) : send(world, 'POST', `${path}/resume`, { caller });
      }
    })));
    await send(world, 'GET', '/sessions', { caller: CALLERS[round % 2] });
  }
}

/** Retries a PUT the way a client honouring Retry-After would (without the wait: time is emulated). */
async function putUntilSettled(world: World, caller: string, id: string, attempts = 20) {
  let res = await send(world, 'PUT', `/sessions/${id}`, { caller });
  for (let i = 1; i < attempts && (res.statusCode === 503 || res.statusCode === 429); i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    res = await send(world, 'PUT', `/sessions/${id}`, { caller });
  }
  return res;
}

describe('fault injection at the emulator', () => {
  let world: World;
  afterEach(async () => world.stop());

  test('20% throttling and 5xx (and lost RunMicrovm answers): every answer is a success or a retryable 429/503, and the state converges', async () => {
    // GIVEN 10% throttling and 10% internal errors on every operation, and 10% of RunMicrovm answers lost after the VM was created
    world = await startWorld({
      faults: { throttleRate: 0.1, errorRate: 0.1, operations: { RunMicrovm: { throttleRate: 0.1, errorRate: 0.1, errorAfterEffectRate: 0.1 } } },
    });

    // WHEN two callers drive four sessions each through three rounds of mixed, concurrent traffic
    await mixedTraffic(world, 3);

    // THEN nothing answered 500/502 or hung, and faults really were injected
    expect(badAnswers(world)).toEqual([]);
    const injected = Object.values(world.rig.emulator.errorCounts()).flatMap((byType) => Object.keys(byType ?? {}));
    expect(injected).toEqual(expect.arrayContaining(['ThrottlingException', 'InternalServerException']));

    // THEN after two sweeps: one live VM per session, nothing unowned, no row on a missing VM
    expectSettled(await settle(world));

    // THEN with the faults gone every session of every caller launches (or is found) on a PUT
    for (const caller of CALLERS) {
      for (const id of SESSIONS) {
        expect([200, 201]).toContain((await putUntilSettled(world, caller, id)).statusCode);
      }
    }
    expect(liveVms(world)).toHaveLength(CALLERS.length * SESSIONS.length);
    expectSettled(await settle(world));
  });

  test('added latency: 10 concurrent PUTs of one session share one VM, the others are told to retry', async () => {
    // GIVEN every MicroVM call takes 50-150 ms
    world = await startWorld({ faults: { latencyMs: { minMs: 50, maxMs: 150 } } });

    // WHEN ten PUTs of one session arrive at once
    const answers = await Promise.all(Array.from({ length: 10 }, () => send(world, 'PUT', '/sessions/slow', { caller: ALICE })));

    // THEN each one got the VM or a 503 with Retry-After; exactly one VM exists
    expect(badAnswers(world)).toEqual([]);
    const vmIds = new Set(answers.filter((r) => (r.statusCode ?? 500) < 300).map((r) => body(r).microvmId));
    expect(vmIds.size).toBe(1);
    expect(answers.filter((r) => r.statusCode === 201)).toHaveLength(1);
    expect(liveVms(world).map((vm) => vm.microvmId)).toEqual([...vmIds]);
    expect(world.rig.emulator.callCounts().RunMicrovm).toBe(1);
    expectSettled(await settle(world));
  });

  test('a VM that never leaves PENDING is served, deleted, and leaves nothing behind', async () => {
    // GIVEN the next launch sticks in PENDING
    world = await startWorld();
    world.rig.emulator.stickPending(1);

    // WHEN the session is created, fetched again, described and given a token
    const created = await send(world, 'PUT', '/sessions/stuck', { caller: ALICE });
    const again = await send(world, 'PUT', '/sessions/stuck', { caller: ALICE });
    const described = await send(world, 'GET', '/sessions/stuck', { caller: ALICE });

    // THEN it answers with the one PENDING VM each time, without a second launch
    expect([created.statusCode, again.statusCode, described.statusCode]).toEqual([201, 200, 200]);
    expect(body(described).state).toBe('PENDING');
    expect(body(again).microvmId).toBe(body(created).microvmId);
    expect(world.rig.emulator.getVm(body(created).microvmId)?.stuckPending).toBe(true);
    expectSettled(await settle(world));
    expect(liveVms(world)).toHaveLength(1);

    // WHEN it is deleted
    const deleted = await send(world, 'DELETE', '/sessions/stuck', { caller: ALICE });

    // THEN the stuck VM is terminated and no row is left
    expect(deleted.statusCode).toBe(204);
    expect(world.rig.emulator.getVm(body(created).microvmId)?.state).toBe('TERMINATED');
    expect(await sessionRows(world)).toEqual([]);
    expect(badAnswers(world)).toEqual([]);
    expectSettled(await settle(world));
  });

  test('a launch still recording its VM while sweeps run past the grace period: the VM is spared and the PUT answers with it', async () => {
    // GIVEN a PUT whose launch has started its VM but whose row update (the VM recorded) is held back
    world = await startWorld();
    let reached!: () => void;
    const atRecord = new Promise<void>((resolve) => (reached = resolve));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let held = false;
    world.rig.documentClient.middlewareStack.add((next) => async (args: any) => {
      if (!held && String(args.input?.UpdateExpression ?? '').includes('microvmId = :mid')) {
        held = true;
        reached();
        await gate;
      }
      return next(args);
    }, { step: 'initialize', name: 'holdFinishLaunch' });
    const pending = send(world, 'PUT', '/sessions/in-flight', { caller: ALICE });
    await atRecord;
    const [vm] = liveVms(world);

    // WHEN two sweeps run while it is held, the VM already older than the grace period
    const emulator = world.rig.emulator;
    emulator.advanceTime((GRACE_SECONDS + 5) * 1000);
    const first = await world.sweeper().run();
    emulator.advanceTime(20_000);
    const second = await world.sweeper().run();

    // THEN the VM is protected by the launch, neither suspected nor terminated
    expect([first.protectedByLaunch, second.protectedByLaunch]).toEqual([1, 1]);
    expect(first.suspectsRecorded + second.suspectsRecorded + first.orphansTerminated + second.orphansTerminated).toBe(0);
    expect(emulator.getVm(vm.microvmId)?.state).toBe('RUNNING');

    // WHEN the launch records its VM
    release();
    const created = await pending;
    world.rig.documentClient.middlewareStack.remove('holdFinishLaunch');

    // THEN the caller gets that VM, and the settled state is clean with the VM still running
    expect(created.statusCode).toBe(201);
    expect(body(created).microvmId).toBe(vm.microvmId);
    expectSettled(await settle(world));
    expect(liveVms(world).map((v) => v.microvmId)).toEqual([vm.microvmId]);
    expect(badAnswers(world)).toEqual([]);
  });

  test('a VM terminated under a live session: tokens answer 409, the next PUT relaunches a new generation, the sweeper repairs the row', async () => {
    // GIVEN two live sessions
    world = await startWorld();
    const first = body(await send(world, 'PUT', '/sessions/victim', { caller: ALICE }));
    const other = body(await send(world, 'PUT', '/sessions/victim', { caller: BOB }));

    // WHEN the service terminates both VMs on its own
    expect(world.rig.emulator.terminateExternally(first.microvmId)).toBe(true);
    expect(world.rig.emulator.terminateExternally(other.microvmId)).toBe(true);

    // THEN a token request says the session is not running (409), and GET reports TERMINATED
    const token = await send(world, 'POST', '/sessions/victim/token', { caller: ALICE });
    expect(token.statusCode).toBe(409);
    expect(body(token).error.code).toBe('SessionNotRunning');
    expect(body(await send(world, 'GET', '/sessions/victim', { caller: ALICE })).state).toBe('TERMINATED');

    // THEN after one sweep Bob's row no longer presents the dead VM, and nothing is left unowned after two
    expectSettled(await settle(world));
    const bobRow = (await sessionRows(world)).find((r) => r.microvmId === other.microvmId);
    expect(bobRow?.vmState).toBe('TERMINATED');

    // WHEN both callers PUT again
    const relaunched = await send(world, 'PUT', '/sessions/victim', { caller: ALICE });
    const bobRelaunched = await send(world, 'PUT', '/sessions/victim', { caller: BOB });

    // THEN each gets a new VM (next generation), and exactly one VM per session is live
    expect([relaunched.statusCode, bobRelaunched.statusCode]).toEqual([201, 201]);
    expect(body(relaunched).microvmId).not.toBe(first.microvmId);
    expect((await sessionRows(world)).map((r) => r.generation)).toEqual([2, 2]);
    expect(liveVms(world)).toHaveLength(2);
    expect(badAnswers(world)).toEqual([]);
    expectSettled(await settle(world));
  });

  test('quota exhaustion: 429 with Retry-After and nothing half created; capacity freed by a DELETE is usable again', async () => {
    // GIVEN room for exactly two VMs of the image (2048 MiB each)
    world = await startWorld({ memoryQuotaMiB: 2 * 2048 });

    // WHEN three sessions are created
    const a = await send(world, 'PUT', '/sessions/a', { caller: ALICE });
    const b = await send(world, 'PUT', '/sessions/b', { caller: BOB });
    const c = await send(world, 'PUT', '/sessions/c', { caller: ALICE });

    // THEN the third is refused with a retryable 429, and neither a row nor a VM exists for it
    expect([a.statusCode, b.statusCode, c.statusCode]).toEqual([201, 201, 429]);
    expect(body(c).error.code).toBe('QuotaExceeded');
    expect(Number(c.headers?.['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await sessionRows(world)).map((r) => r.sessionId).sort()).toEqual(['a', 'b']);
    expect(liveVms(world)).toHaveLength(2);

    // WHEN a session is deleted and the refused one is retried
    expect((await send(world, 'DELETE', '/sessions/a', { caller: ALICE })).statusCode).toBe(204);
    const retried = await send(world, 'PUT', '/sessions/c', { caller: ALICE });

    // THEN it launches
    expect(retried.statusCode).toBe(201);
    expect(badAnswers(world)).toEqual([]);
    expectSettled(await settle(world));
  });

  test('quota exhaustion under concurrency and faults: every answer is a success or a retryable error, and nothing leaks', async () => {
    // GIVEN room for three VMs and 10% throttling
    world = await startWorld({ memoryQuotaMiB: 3 * 2048, faults: { throttleRate: 0.1 } });

    // WHEN eight sessions are created at once, twice each
    const ids = Array.from({ length: 8 }, (_, i) => `q${i}`);
    await Promise.all(ids.flatMap((id) => [send(world, 'PUT', `/sessions/${id}`, { caller: ALICE }), send(world, 'PUT', `/sessions/${id}`, { caller: ALICE })]));

    // THEN at most three VMs run, the rest were refused with 429 (or told to retry), and the state is clean
    expect(badAnswers(world)).toEqual([]);
    expect(statusHistogram(world)[429]).toBeGreaterThan(0);
    expect(liveVms(world).length).toBeLessThanOrEqual(3);
    expectSettled(await settle(world));
  });
});

describe('the invariant checks', () => {
  let world: World;
  afterEach(async () => world.stop());

  test('detect an unowned VM, two rows on one VM and a row on a terminated VM (so a passing scenario means something)', async () => {
    // GIVEN a session, an unowned seeded VM, a second row copying the first row's VM, and then the VM terminated
    world = await startWorld();
    const created = body(await send(world, 'PUT', '/sessions/real', { caller: ALICE }));
    const [orphan] = world.rig.emulator.seedVms(1, { imageArn: world.rig.imageArn });
    const [row] = await sessionRows(world);
    await world.rig.documentClient.send(new PutCommand({ TableName: world.rig.tableName, Item: { ...row, sessionId: 'copy' } }));
    world.rig.emulator.terminateExternally(created.microvmId);

    // WHEN the invariants are checked without sweeping
    const found = await violations(world);

    // THEN each breach is reported
    expect(found.unownedLiveVms).toEqual([orphan]);
    expect(found.sharedVms).toEqual([created.microvmId]);
    expect(found.rowsOnMissingVms.sort()).toEqual([`copy -> ${created.microvmId}`, `real -> ${created.microvmId}`]);
  });
});
