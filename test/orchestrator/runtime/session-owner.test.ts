import { ALICE, body, event, Rig, startRig } from './harness';
import { sha256Hex } from '../../../src/orchestrator/runtime/table/schema';
import { ENV } from '../../../src/shared/contract';

// Who owns a session, end to end (the real SessionApi, dynalite and the MicroVM emulator): by default the IAM
// principal, so every role session of one role (ECS tasks, EKS pods, credential refreshes) shares the role's
// sessions; with MICROVM_OWNER_KEY=ROLE_SESSION, each role session is its own owner.

const TASK_A = 'arn:aws:sts::111111111111:assumed-role/Backend/2f1c7e0a9b3d4c5e8f6a1b2c3d4e5f60-task-a';
const TASK_B = 'arn:aws:sts::111111111111:assumed-role/Backend/2f1c7e0a9b3d4c5e8f6a1b2c3d4e5f60-task-b';
const TASK_C = 'arn:aws:sts::111111111111:assumed-role/Backend/2f1c7e0a9b3d4c5e8f6a1b2c3d4e5f60-task-c';
const IRSA = 'arn:aws:sts::111111111111:assumed-role/Backend/botocore-session-1700000000';
const BACKEND_ROLE = 'arn:aws:iam::111111111111:role/Backend';
const OTHER_ROLE = 'arn:aws:sts::111111111111:assumed-role/Frontend/2f1c7e0a9b3d4c5e8f6a1b2c3d4e5f60-task-a';
const OTHER_ACCOUNT = 'arn:aws:sts::222222222222:assumed-role/Backend/2f1c7e0a9b3d4c5e8f6a1b2c3d4e5f60-task-a';
const IAM_USER = 'arn:aws:iam::111111111111:user/Backend';

let rig: Rig;

beforeEach(async () => {
  rig = await startRig({ rateLimits: false });
});

afterEach(async () => {
  await rig.stop();
});

/** Session ids a caller's `GET /sessions` lists. */
async function listed(api: ReturnType<Rig['api']>, caller: string): Promise<string[]> {
  const res = await api.handle(event('GET', '/sessions', { caller }));
  expect(res.statusCode).toBe(200);
  return body(res).sessions.map((s: any) => s.sessionId);
}

describe('PRINCIPAL (the default)', () => {
  test('every role session of one role shares its sessions: GET, PUT, list and maxSessionsPerOwner', async () => {
    // GIVEN a limit of two sessions per owner, and a session task A of the Backend role created
    const api = rig.api({ [ENV.MAX_SESSIONS_PER_OWNER]: '2' });
    const created = await api.handle(event('PUT', '/sessions/shared', { caller: TASK_A }));
    expect(created.statusCode).toBe(201);
    const { microvmId } = body(created);

    // WHEN task B and an IRSA pod of the same role describe it and PUT the same id, and the pod creates another
    const described = await api.handle(event('GET', '/sessions/shared', { caller: TASK_B }));
    const putByB = await api.handle(event('PUT', '/sessions/shared', { caller: TASK_B }));
    const putByPod = await api.handle(event('PUT', '/sessions/shared', { caller: IRSA }));
    const second = await api.handle(event('PUT', '/sessions/second', { caller: IRSA }));
    const third = await api.handle(event('PUT', '/sessions/third', { caller: TASK_C }));
    const otherRole = await api.handle(event('PUT', '/sessions/third', { caller: OTHER_ROLE }));

    // THEN they all see one session with one VM
    expect(described.statusCode).toBe(200);
    expect(body(described).microvmId).toBe(microvmId);
    expect(putByB.statusCode).toBe(200);
    expect(body(putByB).microvmId).toBe(microvmId);
    expect(body(putByB).token.value).toEqual(expect.any(String));
    expect(putByPod.statusCode).toBe(200);
    expect(body(putByPod).microvmId).toBe(microvmId);
    expect(rig.emulator.listVms().filter((vm) => vm.microvmId === microvmId)).toHaveLength(1);
    // and the same list
    expect(second.statusCode).toBe(201);
    for (const caller of [TASK_A, TASK_B, TASK_C, IRSA]) expect(await listed(api, caller)).toEqual(['second', 'shared']);
    // and one owner against the limit: a third session by a third task is refused, another role is not counted
    expect(third.statusCode).toBe(429);
    expect(body(third).error.code).toBe('AdmissionLimit');
    expect(otherRole.statusCode).toBe(201);
    expect(rig.emulator.listVms()).toHaveLength(3);
    // the rows are owned by the role, not by a role session
    const rows = (await rig.tableItems()).filter((item: any) => item.ownerArn?.S === BACKEND_ROLE);
    expect(rows.map((item: any) => item.sessionId.S).sort()).toEqual(['second', 'shared']);
    expect(rows.every((item: any) => item.owner.S === sha256Hex(BACKEND_ROLE))).toBe(true);
    expect(JSON.stringify(await rig.tableItems())).not.toContain('task-a');
  });

  test('a session created by one task is deleted by another', async () => {
    // GIVEN
    const api = rig.api();
    const { microvmId } = body(await api.handle(event('PUT', '/sessions/handoff', { caller: TASK_A })));

    // WHEN
    const token = await api.handle(event('POST', '/sessions/handoff/token', { caller: IRSA }));
    const deleted = await api.handle(event('DELETE', '/sessions/handoff', { caller: TASK_B }));

    // THEN
    expect(token.statusCode).toBe(200);
    expect(deleted.statusCode).toBe(204);
    expect(rig.emulator.getVm(microvmId)!.state).toBe('TERMINATED');
    expect((await api.handle(event('GET', '/sessions/handoff', { caller: TASK_A }))).statusCode).toBe(404);
  });

  test.each([
    ['another role in the same account', OTHER_ROLE],
    ['the same role name in another account', OTHER_ACCOUNT],
    ['an IAM user of the same name', IAM_USER],
  ])('%s gets 404 for every route of the role\'s session', async (_, stranger) => {
    // GIVEN a session of the Backend role
    const api = rig.api();
    const owned = body(await api.handle(event('PUT', '/sessions/private', { caller: TASK_A })));

    // WHEN
    const answers = await Promise.all([
      api.handle(event('GET', '/sessions/private', { caller: stranger })),
      api.handle(event('POST', '/sessions/private/token', { caller: stranger })),
      api.handle(event('POST', '/sessions/private/suspend', { caller: stranger })),
      api.handle(event('POST', '/sessions/private/resume', { caller: stranger })),
    ]);
    const list = await listed(api, stranger);
    const put = await api.handle(event('PUT', '/sessions/private', { caller: stranger }));
    const deleted = await api.handle(event('DELETE', '/sessions/private', { caller: stranger }));

    // THEN the stranger never reaches the role's session or its VM
    expect(answers.map((r) => r.statusCode)).toEqual([404, 404, 404, 404]);
    expect(answers.map((r) => body(r).error.code)).toEqual(['SessionNotFound', 'SessionNotFound', 'SessionNotFound', 'SessionNotFound']);
    expect(list).toEqual([]);
    expect(put.statusCode).toBe(201);
    expect(body(put).microvmId).not.toBe(owned.microvmId);
    expect(deleted.statusCode).toBe(204);
    expect(rig.emulator.getVm(owned.microvmId)!.state).toBe('RUNNING');
    const mine = await api.handle(event('GET', '/sessions/private', { caller: TASK_B }));
    expect(mine.statusCode).toBe(200);
    expect(body(mine).microvmId).toBe(owned.microvmId);
  });

  test('an IAM user keeps the owner key of the caller ARN itself', async () => {
    // WHEN
    const api = rig.api();
    expect((await api.handle(event('PUT', '/sessions/user-1', { caller: ALICE }))).statusCode).toBe(201);

    // THEN
    const [row] = await rig.tableItems();
    expect(row.owner).toEqual({ S: sha256Hex(ALICE) });
    expect(row.ownerArn).toEqual({ S: ALICE });
  });
});

describe('ROLE_SESSION', () => {
  test('each role session is its own owner', async () => {
    // GIVEN a session of task A
    const api = rig.api({ [ENV.OWNER_KEY]: 'ROLE_SESSION', [ENV.MAX_SESSIONS_PER_OWNER]: '1' });
    const a = await api.handle(event('PUT', '/sessions/mine', { caller: TASK_A }));
    expect(a.statusCode).toBe(201);

    // WHEN task B of the same role asks for it, and creates one of the same id
    const described = await api.handle(event('GET', '/sessions/mine', { caller: TASK_B }));
    const token = await api.handle(event('POST', '/sessions/mine/token', { caller: TASK_B }));
    const b = await api.handle(event('PUT', '/sessions/mine', { caller: TASK_B }));

    // THEN the two tasks are apart, each with its own VM, list and limit
    expect(described.statusCode).toBe(404);
    expect(token.statusCode).toBe(404);
    expect(b.statusCode).toBe(201);
    expect(body(b).microvmId).not.toBe(body(a).microvmId);
    expect(body(await api.handle(event('GET', '/sessions/mine', { caller: TASK_A }))).microvmId).toBe(body(a).microvmId);
    expect(await listed(api, TASK_A)).toEqual(['mine']);
    expect(await listed(api, IRSA)).toEqual([]);
    expect(rig.emulator.listVms()).toHaveLength(2);
    // the rows are keyed by the full caller ARN, as before principal owners existed
    const owners = (await rig.tableItems()).map((item: any) => [item.ownerArn.S, item.owner.S]).sort();
    expect(owners).toEqual([[TASK_A, sha256Hex(TASK_A)], [TASK_B, sha256Hex(TASK_B)]].sort());
  });
});

describe('an identity the API cannot parse', () => {
  test.each([
    ['PRINCIPAL', 'not-an-arn'],
    ['PRINCIPAL', 'arn:aws:sts::111111111111:assumed-role/Backend'],
    ['PRINCIPAL', 'arn:aws:s3:::bucket'],
    ['ROLE_SESSION', 'arn:aws:sts::11111111111:assumed-role/Backend/task'],
  ])('in %s mode, %j gets a 403 JSON error and changes nothing', async (mode, callerArn) => {
    // GIVEN
    const api = rig.api({ [ENV.OWNER_KEY]: mode });

    // WHEN
    const put = await api.handle(event('PUT', '/sessions/x', { caller: callerArn }));
    const list = await api.handle(event('GET', '/sessions', { caller: callerArn }));

    // THEN
    for (const res of [put, list]) {
      expect(res.statusCode).toBe(403);
      expect(res.headers!['content-type']).toMatch(/^application\/json/);
      expect(body(res)).toEqual({ error: { code: 'Forbidden', message: expect.stringMatching(/assumed-role/) } });
    }
    expect(await rig.tableItems()).toEqual([]);
    expect(rig.emulator.listVms()).toEqual([]);
  });
});
