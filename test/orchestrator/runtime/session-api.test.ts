import { ALICE, BOB, body, event, Rig, startRig } from './harness';
import { clientTokenFor, sha256Hex } from '../../../src/orchestrator/runtime/table/schema';
import { SessionStore } from '../../../src/orchestrator/runtime/table/session-store';
import { ENV } from '../../../src/shared/contract';

let rig: Rig;

beforeAll(async () => {
  rig = await startRig({ rateLimits: false });
});

afterAll(async () => {
  await rig.stop();
});

beforeEach(() => {
  rig.resetCounts();
});

describe('PUT /sessions/{id}', () => {
  test('creates a session with a token for the app ports and records it', async () => {
    // GIVEN
    const api = rig.api();

    // WHEN
    const res = await api.handle(event('PUT', '/sessions/create-1', { body: { payload: '{"key":"per-session"}' } }));

    // THEN
    expect(res.statusCode).toBe(201);
    const session = body(res);
    expect(session).toEqual({
      sessionId: 'create-1',
      microvmId: expect.any(String),
      endpoint: expect.stringMatching(/^https:\/\/[^/]+$/),
      state: 'PENDING',
      imageVersion: '2',
      createdAt: expect.any(String),
      expiresAt: expect.any(String),
      labels: {},
      token: { headerName: 'X-aws-proxy-auth', value: expect.any(String), expiresAt: expect.any(String), ports: [8080, 8443] },
    });
    expect(Date.parse(session.expiresAt) - Date.parse(session.createdAt)).toBeGreaterThan(3590_000);
    const vm = rig.emulator.getVm(session.microvmId)!;
    expect(vm.runHookPayload).toBe('{"key":"per-session"}');
    expect(vm.clientToken).toBe(clientTokenFor(sha256Hex(ALICE), 'create-1', 1));
    expect(vm.maximumDurationInSeconds).toBe(3600);
    expect(vm.idlePolicy).toEqual({ maxIdleDurationSeconds: 600, suspendedDurationSeconds: 3600, autoResumeEnabled: true });
    expect(vm.egressNetworkConnectors).toEqual([`arn:aws:lambda:${rig.emulator.region}:123456789012:network-connector:isolated`]);
    const issued = rig.emulator.issuedTokens().find((t) => t.token === session.token.value)!;
    expect(issued.allowedPorts).toEqual([{ port: 8080 }, { port: 8443 }]);
    expect(issued.expirationInMinutes).toBe(5);
    const row = (await rig.tableItems()).find((item: any) => item.sessionId.S === 'create-1') as any;
    expect(row.owner.S).toBe(sha256Hex(ALICE));
    expect(row.status.S).toBe('ACTIVE');
    expect(row.generation.N).toBe('1');
    expect(row.imageVersion.S).toBe('2');
    expect(row.leaseId).toBeUndefined();
    expect(JSON.stringify(row)).not.toContain(session.token.value);
    expect(JSON.stringify(row)).not.toContain('per-session');
    expect(rig.metricsSeen).toEqual(expect.arrayContaining(['LaunchLatency', 'SessionsCreated', 'TokensMinted']));
  });

  test('a warm PUT costs exactly one GetItem and one CreateMicrovmAuthToken', async () => {
    // GIVEN
    const api = rig.api();
    const first = body(await api.handle(event('PUT', '/sessions/warm-1')));
    rig.resetCounts();

    // WHEN
    const res = await api.handle(event('PUT', '/sessions/warm-1', { body: { ports: [8443] } }));

    // THEN
    expect(res.statusCode).toBe(200);
    expect(body(res).microvmId).toBe(first.microvmId);
    expect(body(res).token.ports).toEqual([8443]);
    expect(rig.dynamoCalls).toEqual({ GetItemCommand: 1 });
    expect(rig.emulator.callCounts()).toEqual({ CreateMicrovmAuthToken: 1 });
  });

  test('pins the configured image version and sends logging per launch', async () => {
    // GIVEN
    const role = 'arn:aws:iam::123456789012:role/vm-logs';
    const api = rig.api({ MICROVM_IMAGE_VERSION: '1', MICROVM_EXECUTION_ROLE_ARN: role, MICROVM_RUNTIME_LOG_GROUP: '/sessions/runtime' });

    // WHEN
    const res = await api.handle(event('PUT', '/sessions/pinned'));

    // THEN
    expect(body(res).imageVersion).toBe('1');
    const vm = rig.emulator.getVm(body(res).microvmId)!;
    expect(vm.imageVersion).toBe('1');
    expect(vm.executionRoleArn).toBe(role);
  });

  test('relaunches as a new generation when the VM was terminated', async () => {
    // GIVEN
    const api = rig.api();
    const first = body(await api.handle(event('PUT', '/sessions/relaunch-1')));
    rig.emulator.terminateExternally(first.microvmId);

    // WHEN
    const res = await api.handle(event('PUT', '/sessions/relaunch-1'));

    // THEN
    expect(res.statusCode).toBe(201);
    expect(body(res).microvmId).not.toBe(first.microvmId);
    const vm = rig.emulator.getVm(body(res).microvmId)!;
    expect(vm.clientToken).toBe(clientTokenFor(sha256Hex(ALICE), 'relaunch-1', 2));
    const row = (await rig.tableItems()).find((item: any) => item.sessionId.S === 'relaunch-1') as any;
    expect(row.generation.N).toBe('2');
  });

  test('relaunches a session past its maximum duration', async () => {
    // GIVEN
    const api = rig.api({ MICROVM_MAX_DURATION_SECONDS: '60' });
    const first = body(await api.handle(event('PUT', '/sessions/lifetime-1')));

    // WHEN
    rig.clock.offsetMs += 61_000;
    const get = body(await api.handle(event('GET', '/sessions/lifetime-1')));
    const res = await api.handle(event('PUT', '/sessions/lifetime-1'));
    rig.clock.offsetMs = 0;

    // THEN
    expect(get.state).toBe('TERMINATED');
    expect(res.statusCode).toBe(201);
    expect(body(res).microvmId).not.toBe(first.microvmId);
  });

  test('a session id reused after DELETE gets a fresh VM, not the replay of the old one', async () => {
    // GIVEN
    const api = rig.api();
    const first = body(await api.handle(event('PUT', '/sessions/reuse-1')));
    expect((await api.handle(event('DELETE', '/sessions/reuse-1'))).statusCode).toBe(204);

    // WHEN
    const res = await api.handle(event('PUT', '/sessions/reuse-1'));

    // THEN
    expect(res.statusCode).toBe(201);
    expect(body(res).microvmId).not.toBe(first.microvmId);
    expect(rig.emulator.getVm(body(res).microvmId)!.state).not.toMatch(/TERMINAT/);
  });

  test('fails with 400 naming the size when the payload is over 4096 bytes', async () => {
    // GIVEN
    const api = rig.api();

    // WHEN
    const res = await api.handle(event('PUT', '/sessions/big', { body: { payload: 'é'.repeat(2049) } }));

    // THEN
    expect(res.statusCode).toBe(400);
    expect(body(res).error).toEqual({ code: 'PayloadTooLarge', message: expect.stringContaining('4098 bytes') });
    expect(body(res).error.message).toContain('4096');
    expect(rig.emulator.callCounts()).toEqual({});
  });

  test('fails with 400 for ports outside the app ports, the hooks port included', async () => {
    const api = rig.api();
    for (const ports of [[9000], [], [8080, 8080], [22], ['8080'], 8080]) {
      const res = await api.handle(event('PUT', '/sessions/ports', { body: { ports } }));
      expect(res.statusCode).toBe(400);
      expect(body(res).error.code).toBe('InvalidPorts');
    }
    expect(rig.emulator.callCounts()).toEqual({});
  });

  test('a service quota rejection is a 429 and leaves nothing behind', async () => {
    // GIVEN
    const api = rig.api();
    rig.emulator.setMemoryQuotaMiB(0);

    // WHEN
    const res = await api.handle(event('PUT', '/sessions/quota-1'));
    rig.emulator.setMemoryQuotaMiB(400 * 1024);

    // THEN
    expect(res.statusCode).toBe(429);
    expect(res.headers!['retry-after']).toBeDefined();
    expect(body(res).error.code).toBe('QuotaExceeded');
    expect((await rig.tableItems()).some((item: any) => item.sessionId.S === 'quota-1')).toBe(false);
    expect(rig.metricsSeen).toContain('QuotaRejections');
    expect(rig.metricsSeen).not.toContain('LaunchFailures');
    expect((await api.handle(event('PUT', '/sessions/quota-1'))).statusCode).toBe(201);
  });
});

describe('lifetime and service failures', () => {
  test('a SUSPENDED session with auto-resume is still live: the warm PUT returns it without resuming', async () => {
    // GIVEN
    const api = rig.api();
    const first = body(await api.handle(event('PUT', '/sessions/auto-1')));
    await api.handle(event('POST', '/sessions/auto-1/suspend'));
    rig.resetCounts();

    // WHEN
    const res = await api.handle(event('PUT', '/sessions/auto-1'));

    // THEN
    expect(res.statusCode).toBe(200);
    expect(body(res).microvmId).toBe(first.microvmId);
    expect(body(res).state).toBe('SUSPENDING');
    expect(rig.emulator.callCounts()).toEqual({ CreateMicrovmAuthToken: 1 });
  });

  test('persistent InsufficientCapacity is a 503 with Retry-After, and the session recovers', async () => {
    // GIVEN
    const api = rig.api();
    rig.emulator.setFaults({ operations: { RunMicrovm: { capacityErrorRate: 1 } } });

    // WHEN
    const failed = await api.handle(event('PUT', '/sessions/capacity-1'));
    rig.emulator.setFaults({});
    const recovered = await api.handle(event('PUT', '/sessions/capacity-1'));

    // THEN
    expect(failed.statusCode).toBe(503);
    expect(body(failed).error.code).toBe('UpstreamUnavailable');
    expect(Number(failed.headers!['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(recovered.statusCode).toBe(201);
    expect(rig.metricsSeen).toEqual(expect.arrayContaining(['UpstreamErrors', 'LaunchFailures']));
  });

  test('a non-retryable service rejection (the image was deleted out of band) is a 502 that leaves nothing behind', async () => {
    // GIVEN an orchestrator whose image no longer exists
    const missing = rig.imageArn.replace(/microvm-image:.*$/, 'microvm-image:deleted-out-of-band');
    const api = rig.api({ [ENV.IMAGE_ARN]: missing });
    rig.resetCounts();

    // WHEN a session is created
    const res = await api.handle(event('PUT', '/sessions/no-image'));

    // THEN the caller gets a retryable 502 naming the error class only, and no row or VM is left
    expect(res.statusCode).toBe(502);
    expect(body(res).error).toEqual({ code: 'UpstreamError', message: 'a backing service rejected the request (ResourceNotFoundException)' });
    expect(Number(res.headers!['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(rig.emulator.callCounts()).toEqual({ RunMicrovm: 1 });
    expect((await rig.tableItems()).filter((item: any) => item.sessionId.S === 'no-image')).toEqual([]);
    expect(rig.metricsSeen).toEqual(expect.arrayContaining(['UpstreamErrors', 'LaunchFailures']));
  });

  test('a quota rejection on relaunch is a 429 and leaves the session relaunchable', async () => {
    // GIVEN
    const api = rig.api();
    const first = body(await api.handle(event('PUT', '/sessions/quota-2')));
    rig.emulator.terminateExternally(first.microvmId);
    rig.emulator.setMemoryQuotaMiB(0);

    // WHEN
    const rejected = await api.handle(event('PUT', '/sessions/quota-2'));
    rig.emulator.setMemoryQuotaMiB(400 * 1024);
    const relaunched = await api.handle(event('PUT', '/sessions/quota-2'));

    // THEN
    expect(rejected.statusCode).toBe(429);
    expect(relaunched.statusCode).toBe(201);
    expect(body(relaunched).microvmId).not.toBe(first.microvmId);
    const row = (await rig.tableItems()).find((item: any) => item.sessionId.S === 'quota-2') as any;
    expect(row.generation.N).toBe('2');
  });

  test('token, suspend and resume of a session past its lifetime are 409', async () => {
    // GIVEN
    const api = rig.api({ MICROVM_MAX_DURATION_SECONDS: '60' });
    await api.handle(event('PUT', '/sessions/old-1'));
    rig.clock.offsetMs += 120_000;

    // WHEN
    const answers = await Promise.all(['token', 'suspend', 'resume'].map((action) => api.handle(event('POST', `/sessions/old-1/${action}`))));
    rig.clock.offsetMs = 0;

    // THEN
    expect(answers.map((r) => r.statusCode)).toEqual([409, 409, 409]);
    expect(body(answers[0]).error.code).toBe('SessionExpired');
  });
});

describe('interrupted deletes', () => {
  test('a DELETE whose terminate keeps failing answers 503, and the session is neither wedged nor double-booked', async () => {
    // GIVEN
    const api = rig.api();
    const first = body(await api.handle(event('PUT', '/sessions/end-1')));
    rig.emulator.setFaults({ operations: { TerminateMicrovm: { errorRate: 1 } } });

    // WHEN
    const failedDelete = await api.handle(event('DELETE', '/sessions/end-1'));
    const failedPut = await api.handle(event('PUT', '/sessions/end-1'));
    rig.emulator.setFaults({});
    const relaunched = await api.handle(event('PUT', '/sessions/end-1'));

    // THEN
    expect(failedDelete.statusCode).toBe(503);
    expect(failedPut.statusCode).toBe(503);
    expect(relaunched.statusCode).toBe(201);
    expect(body(relaunched).microvmId).not.toBe(first.microvmId);
    expect(rig.emulator.getVm(first.microvmId)!.state).toMatch(/TERMINAT/);
    const row = (await rig.tableItems()).find((item: any) => item.sessionId.S === 'end-1') as any;
    expect(row.status.S).toBe('ACTIVE');
    expect(row.microvmId.S).toBe(body(relaunched).microvmId);
  });

  test('a PUT during a DELETE in progress is a 409', async () => {
    // GIVEN
    const api = rig.api();
    await api.handle(event('PUT', '/sessions/end-2'));
    const row = (await rig.tableItems()).find((item: any) => item.sessionId.S === 'end-2') as any;
    const store = new SessionStore(rig.documentClient, rig.tableName);
    const current = (await store.get(row.owner.S, 'end-2'))!;
    await store.beginEnding(current, 'other-request', Date.now() + 30_000, new Date().toISOString());

    // WHEN
    const res = await api.handle(event('PUT', '/sessions/end-2'));

    // THEN
    expect(res.statusCode).toBe(409);
    expect(body(res).error.code).toBe('SessionEnding');
  });
});

describe('admission limits', () => {
  test('maxSessionsPerOwner answers 429 and creates nothing', async () => {
    // GIVEN
    const caller = 'arn:aws:iam::111111111111:user/limited';
    const api = rig.api({ MICROVM_MAX_SESSIONS_PER_OWNER: '2' });
    await api.handle(event('PUT', '/sessions/a', { caller }));
    await api.handle(event('PUT', '/sessions/b', { caller }));
    const vmsBefore = rig.emulator.listVms().length;

    // WHEN
    const res = await api.handle(event('PUT', '/sessions/c', { caller }));
    const again = await api.handle(event('PUT', '/sessions/a', { caller }));

    // THEN
    expect(res.statusCode).toBe(429);
    expect(body(res).error.code).toBe('AdmissionLimit');
    expect(res.headers!['retry-after']).toBe('30');
    expect(again.statusCode).toBe(200);
    expect(rig.emulator.listVms().length).toBe(vmsBefore);
    expect(rig.metricsSeen).toContain('AdmissionRejections');
  });

  test('maxSessions counts across owners and frees a slot on DELETE', async () => {
    // GIVEN
    const env = { MICROVM_MAX_SESSIONS: '1' };
    const alice = 'arn:aws:iam::111111111111:user/slot-alice';
    const bob = 'arn:aws:iam::111111111111:user/slot-bob';
    const api = rig.api(env);
    expect((await api.handle(event('PUT', '/sessions/one', { caller: alice }))).statusCode).toBe(201);

    // WHEN
    const rejected = await api.handle(event('PUT', '/sessions/two', { caller: bob }));
    await api.handle(event('DELETE', '/sessions/one', { caller: alice }));
    const admitted = await api.handle(event('PUT', '/sessions/two', { caller: bob }));

    // THEN
    expect(rejected.statusCode).toBe(429);
    expect(admitted.statusCode).toBe(201);
  });
});

describe('GET, token, suspend, resume, DELETE', () => {
  test('GET describes without a token and lists only the caller\'s sessions, paginated', async () => {
    // GIVEN
    const api = rig.api();
    const carol = 'arn:aws:iam::111111111111:user/carol';
    for (const id of ['l1', 'l2', 'l3']) await api.handle(event('PUT', `/sessions/${id}`, { caller: carol }));
    await api.handle(event('PUT', '/sessions/l4', { caller: BOB }));

    // WHEN
    const one = await api.handle(event('GET', '/sessions/l2', { caller: carol }));
    const page1 = body(await api.handle(event('GET', '/sessions', { caller: carol, query: { limit: '2' } })));
    const page2 = body(await api.handle(event('GET', '/sessions', { caller: carol, query: { limit: '2', nextToken: page1.nextToken } })));

    // THEN
    expect(one.statusCode).toBe(200);
    expect(body(one).token).toBeUndefined();
    expect(body(one).state).toBe('RUNNING');
    expect(page1.sessions.map((s: any) => s.sessionId)).toEqual(['l1', 'l2']);
    expect(page2.sessions.map((s: any) => s.sessionId)).toEqual(['l3']);
    expect(page2.nextToken).toBeUndefined();
    expect(page1.sessions.every((s: any) => s.token === undefined)).toBe(true);
  });

  test('another caller gets 404 for every route of a session it does not own', async () => {
    // GIVEN
    const api = rig.api();
    const owned = body(await api.handle(event('PUT', '/sessions/private-1', { caller: ALICE })));

    // WHEN
    const answers = await Promise.all([
      api.handle(event('GET', '/sessions/private-1', { caller: BOB })),
      api.handle(event('POST', '/sessions/private-1/token', { caller: BOB })),
      api.handle(event('POST', '/sessions/private-1/suspend', { caller: BOB })),
      api.handle(event('POST', '/sessions/private-1/resume', { caller: BOB })),
    ]);
    const list = body(await api.handle(event('GET', '/sessions', { caller: BOB })));
    const bobPut = await api.handle(event('PUT', '/sessions/private-1', { caller: BOB }));
    const bobDelete = await api.handle(event('DELETE', '/sessions/private-1', { caller: BOB }));

    // THEN
    expect(answers.map((r) => r.statusCode)).toEqual([404, 404, 404, 404]);
    expect(body(answers[0]).error.code).toBe('SessionNotFound');
    expect(list.sessions.map((s: any) => s.sessionId)).not.toContain('private-1');
    expect(body(bobPut).microvmId).not.toBe(owned.microvmId);
    expect(bobDelete.statusCode).toBe(204);
    expect(rig.emulator.getVm(owned.microvmId)!.state).toBe('RUNNING');
    expect((await api.handle(event('GET', '/sessions/private-1', { caller: ALICE }))).statusCode).toBe(200);
  });

  test('POST token mints a scoped token, rounding the TTL up to whole minutes within the maximum', async () => {
    // GIVEN
    const api = rig.api();
    await api.handle(event('PUT', '/sessions/tok-1'));

    // WHEN
    const res = await api.handle(event('POST', '/sessions/tok-1/token', { body: { ports: [8080], ttlSeconds: 61 } }));
    const tooLong = await api.handle(event('POST', '/sessions/tok-1/token', { body: { ttlSeconds: 301 } }));

    // THEN
    expect(res.statusCode).toBe(200);
    const token = body(res).token;
    expect(token).toEqual({ headerName: 'X-aws-proxy-auth', value: expect.any(String), expiresAt: expect.any(String), ports: [8080] });
    const issued = rig.emulator.issuedTokens().find((t) => t.token === token.value)!;
    expect(issued.expirationInMinutes).toBe(2);
    expect(issued.allowedPorts).toEqual([{ port: 8080 }]);
    expect(tooLong.statusCode).toBe(400);
    expect(body(tooLong).error.code).toBe('InvalidTtl');
  });

  test('suspend and resume answer 202, and a service Conflict is a 409', async () => {
    // GIVEN
    const api = rig.api();
    await api.handle(event('PUT', '/sessions/sr-1'));

    // WHEN
    const suspended = await api.handle(event('POST', '/sessions/sr-1/suspend'));
    const again = await api.handle(event('POST', '/sessions/sr-1/suspend'));
    const resumed = await api.handle(event('POST', '/sessions/sr-1/resume'));

    // THEN
    expect(suspended.statusCode).toBe(202);
    expect(body(suspended).state).toBe('SUSPENDING');
    expect(again.statusCode).toBe(409);
    expect(body(again).error.code).toBe('InvalidSessionState');
    expect(resumed.statusCode).toBe(202);
    expect(rig.metricsSeen).toContain('SessionsResumed');
  });

  test('PUT resumes a suspended session when the idle policy does not auto-resume', async () => {
    // GIVEN
    const idlePolicy = { maxIdleDurationSeconds: 60, suspendedDurationSeconds: 600, autoResumeEnabled: false };
    const api = rig.api({ MICROVM_IDLE_POLICY: JSON.stringify(idlePolicy) });
    const first = body(await api.handle(event('PUT', '/sessions/sr-2')));
    await api.handle(event('POST', '/sessions/sr-2/suspend'));
    rig.resetCounts();

    // WHEN
    const res = await api.handle(event('PUT', '/sessions/sr-2'));

    // THEN
    expect(res.statusCode).toBe(200);
    expect(body(res).microvmId).toBe(first.microvmId);
    expect(rig.emulator.callCounts().ResumeMicrovm).toBe(1);
    expect(rig.emulator.getVm(first.microvmId)!.state).toMatch(/RUNNING|SUSPENDED/);
  });

  test('DELETE terminates the VM, forgets the session and is idempotent', async () => {
    // GIVEN
    const api = rig.api();
    const created = body(await api.handle(event('PUT', '/sessions/del-1')));

    // WHEN
    const first = await api.handle(event('DELETE', '/sessions/del-1'));
    const second = await api.handle(event('DELETE', '/sessions/del-1'));

    // THEN
    expect(first.statusCode).toBe(204);
    expect(first.body).toBe('');
    expect(second.statusCode).toBe(204);
    expect(rig.emulator.getVm(created.microvmId)!.state).toMatch(/TERMINAT/);
    expect((await api.handle(event('GET', '/sessions/del-1'))).statusCode).toBe(404);
    expect(rig.metricsSeen).toContain('SessionsEnded');
  });

  test('token, suspend and resume of an unknown session are 404', async () => {
    const api = rig.api();
    const routes = [['GET', '/sessions/nope'], ['POST', '/sessions/nope/token'], ['POST', '/sessions/nope/suspend'], ['POST', '/sessions/nope/resume']];
    for (const [method, path] of routes) {
      const res = await api.handle(event(method, path));
      expect(res.statusCode).toBe(404);
    }
  });
});

describe('request errors', () => {
  const cases: Array<[string, string, Parameters<typeof event>[2], number, string]> = [
    ['no identity', '/sessions/x', { caller: null }, 403, 'Forbidden'],
    ['unknown route', '/nope', {}, 404, 'RouteNotFound'],
    ['unknown action', '/sessions/x/reboot', {}, 404, 'RouteNotFound'],
    ['bad session id', '/sessions/has%20space', {}, 400, 'InvalidSessionId'],
    ['long session id', `/sessions/${'a'.repeat(129)}`, {}, 400, 'InvalidSessionId'],
    ['non-JSON body', '/sessions/x', { rawBody: '{oops' }, 400, 'InvalidBody'],
    ['array body', '/sessions/x', { body: [1] }, 400, 'InvalidBody'],
    ['unknown field', '/sessions/x', { body: { ttl: 5 } }, 400, 'InvalidBody'],
    ['wrong content type', '/sessions/x', { rawBody: 'a=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415, 'UnsupportedMediaType'],
    ['too large body', '/sessions/x', { body: { payload: 'x'.repeat(17_000) } }, 413, 'PayloadTooLarge'],
    ['payload not a string', '/sessions/x', { body: { payload: 5 } }, 400, 'InvalidPayload'],
  ];

  test.each(cases)('fails if %s', async (_name, path, options, status, code) => {
    const res = await rig.api().handle(event('PUT', path, options));
    expect(res.statusCode).toBe(status);
    expect(body(res)).toEqual({ error: { code, message: expect.any(String) } });
    expect(res.body).not.toMatch(/\n\s+at /);
  });

  test('fails with 405 and Allow for a known path with another method', async () => {
    const res = await rig.api().handle(event('POST', '/sessions/x'));
    expect(res.statusCode).toBe(405);
    expect(res.headers!.Allow).toBe('PUT, GET, DELETE');
    const list = await rig.api().handle(event('DELETE', '/sessions'));
    expect(list.statusCode).toBe(405);
  });

  test('fails with 400 for a nextToken from another caller or garbage, and a bad limit', async () => {
    const api = rig.api();
    for (const id of ['n1', 'n2']) await api.handle(event('PUT', `/sessions/${id}`));
    const page = body(await api.handle(event('GET', '/sessions', { query: { limit: '1' } })));
    for (const query of [{ nextToken: page.nextToken }, { nextToken: 'not base64!' }, { nextToken: 'e30' }]) {
      const res = await api.handle(event('GET', '/sessions', { caller: BOB, query }));
      expect(res.statusCode).toBe(400);
    }
    expect((await api.handle(event('GET', '/sessions', { query: { limit: '0' } }))).statusCode).toBe(400);
    expect((await api.handle(event('GET', '/sessions', { query: { other: '1' } }))).statusCode).toBe(400);
  });

  test('reads a base64-encoded body', async () => {
    const raw = Buffer.from(JSON.stringify({ ports: [8080] })).toString('base64');
    const res = await rig.api().handle(event('PUT', '/sessions/b64', { rawBody: raw, isBase64Encoded: true }));
    expect(res.statusCode).toBe(201);
    expect(body(res).token.ports).toEqual([8080]);
  });
});
