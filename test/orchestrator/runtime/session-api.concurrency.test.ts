import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { body, event, Rig, startRig, untilSettled } from './harness';
import { SessionApi } from '../../../src/orchestrator/runtime/session-api';

let rig: Rig;

beforeAll(async () => {
  // the service's documented rate limits stay on: RunMicrovm 5/s throttles these bursts.
  rig = await startRig();
});

afterAll(async () => {
  await rig.stop();
});

afterEach(() => {
  rig.emulator.setFaults({});
  rig.clock.offsetMs = 0;
});

/**
 * Every answer each session's PUTs got, retries included. A PUT answers 201 when it launched the VM; if the launch
 * succeeded but the token call after it stayed throttled (CreateMicrovmAuthToken is limited to 50/s and a burst of
 * waiters all mint at once), that request answers 503 UpstreamUnavailable and its retry finds the VM: 200.
 */
function attempts() {
  const log = new Map<string, Array<{ status: number; code?: string }>>();
  return {
    async record(session: string, answer: Promise<APIGatewayProxyStructuredResultV2>) {
      const res = await answer;
      const code = (res.statusCode as number) >= 400 ? body(res).error.code : undefined;
      log.set(session, [...(log.get(session) ?? []), { status: res.statusCode as number, code }]);
      return res;
    },
    /** Exactly one 201, or none because the launching request's token call was throttled into a 503. */
    expectOneCreatedAnswer(session: string, created: number) {
      const upstream503 = (log.get(session) ?? []).some((a) => a.status === 503 && a.code === 'UpstreamUnavailable');
      expect({ session, created: created === 1 || (created === 0 && upstream503) }).toEqual({ session, created: true });
    },
  };
}

describe('one live VM per session', () => {
  test('50 concurrent PUTs for one session create exactly one VM', async () => {
    // GIVEN
    const api = rig.api();
    const before = rig.emulator.listVms().length;

    // WHEN
    const tried = attempts();
    const answers = await Promise.all(Array.from({ length: 50 }, () =>
      untilSettled(() => tried.record('herd', api.handle(event('PUT', '/sessions/herd'))), 200)));

    // THEN
    expect(answers.every((r) => r.statusCode === 200 || r.statusCode === 201)).toBe(true);
    tried.expectOneCreatedAnswer('herd', answers.filter((r) => r.statusCode === 201).length);
    const ids = new Set(answers.map((r) => body(r).microvmId));
    expect(ids.size).toBe(1);
    expect(rig.emulator.listVms().length - before).toBe(1);
    expect(answers.every((r) => typeof body(r).token.value === 'string')).toBe(true);
  });

  test('a launch whose token call stays throttled answers 503, and its retry answers 200 with the same VM', async () => {
    // GIVEN
    const api = rig.api();
    const before = rig.emulator.listVms().length;
    rig.emulator.setFaults({ operations: { CreateMicrovmAuthToken: { throttleRate: 1 } } });

    // WHEN
    const first = await api.handle(event('PUT', '/sessions/throttled-token'));
    rig.emulator.setFaults({});
    const retry = await api.handle(event('PUT', '/sessions/throttled-token'));

    // THEN
    expect(first.statusCode).toBe(503);
    expect(body(first).error.code).toBe('UpstreamUnavailable');
    expect(Number(first.headers?.['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(retry.statusCode).toBe(200);
    const vms = rig.emulator.listVms().slice(before);
    expect(vms.map((vm) => vm.microvmId)).toEqual([body(retry).microvmId]);
    expect(typeof body(retry).token.value).toBe('string');
  });

  test('200 concurrent PUTs for 20 sessions create exactly one VM per session', async () => {
    // GIVEN
    const api = rig.api();
    const before = rig.emulator.listVms().length;

    // WHEN
    const tried = attempts();
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) =>
      untilSettled(() => tried.record(`crowd-${i % 20}`, api.handle(event('PUT', `/sessions/crowd-${i % 20}`))), 400)
        .then((res) => ({ i, res }))));

    // THEN
    expect(answers.every(({ res }) => res.statusCode === 200 || res.statusCode === 201)).toBe(true);
    const bySession = new Map<string, Set<string>>();
    for (const { i, res } of answers) {
      const set = bySession.get(`crowd-${i % 20}`) ?? new Set<string>();
      set.add(body(res).microvmId);
      bySession.set(`crowd-${i % 20}`, set);
    }
    expect([...bySession.values()].every((set) => set.size === 1)).toBe(true);
    expect(new Set([...bySession.values()].map((set) => [...set][0])).size).toBe(20);
    expect(rig.emulator.listVms().length - before).toBe(20);
    for (let n = 0; n < 20; n++) {
      tried.expectOneCreatedAnswer(`crowd-${n}`, answers.filter(({ i, res }) => i % 20 === n && res.statusCode === 201).length);
    }
  });

  test('throttling and 5xx injected at 20% still converge to one VM per session', async () => {
    // GIVEN
    const api = rig.api();
    rig.emulator.setFaults({ throttleRate: 0.1, errorRate: 0.05, errorAfterEffectRate: 0.05 });
    const before = rig.emulator.listVms().length;

    // WHEN
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) =>
      untilSettled(() => api.handle(event('PUT', `/sessions/faulty-${i % 8}`)), 400).then((res) => ({ i, res }))));
    const tokens = await Promise.all(Array.from({ length: 8 }, (_, i) =>
      untilSettled(() => api.handle(event('POST', `/sessions/faulty-${i}/token`)), 400)));

    // THEN
    expect(answers.map(({ res }) => res.statusCode).filter((s) => s !== 200 && s !== 201)).toEqual([]);
    const ids = new Map<number, Set<string>>();
    for (const { i, res } of answers) ids.set(i % 8, (ids.get(i % 8) ?? new Set()).add(body(res).microvmId));
    expect([...ids.values()].every((set) => set.size === 1)).toBe(true);
    expect(rig.emulator.listVms().length - before).toBe(8);
    expect(tokens.every((res) => res.statusCode === 200)).toBe(true);
    const errors = rig.emulator.errorCounts();
    expect(Object.keys(errors).length).toBeGreaterThan(0);
  });
});

describe('admission under concurrency', () => {
  test('concurrent creates never pass maxSessionsPerOwner or maxSessions, and rejected ones leave nothing', async () => {
    // GIVEN
    const api = rig.api({ MICROVM_MAX_SESSIONS_PER_OWNER: '3', MICROVM_MAX_SESSIONS: '5' });
    const vmsBefore = rig.emulator.listVms().length;
    const rowsBefore = (await rig.tableItems()).filter((item: any) => item.owner.S !== '#meta').length;
    const one = 'arn:aws:iam::111111111111:user/greedy';
    const many = Array.from({ length: 8 }, (_, i) => `arn:aws:iam::111111111111:user/crowd-${i}`);

    // WHEN
    const greedy = await Promise.all(Array.from({ length: 10 }, (_, i) =>
      untilSettled(() => api.handle(event('PUT', `/sessions/g-${i}`, { caller: one })), 200, [503])));
    const crowd = await Promise.all(many.map((caller) => untilSettled(() => api.handle(event('PUT', '/sessions/c', { caller })), 200, [503])));

    // THEN
    const created = [...greedy, ...crowd].filter((r) => r.statusCode === 201).length;
    const rejected = [...greedy, ...crowd].filter((r) => r.statusCode === 429).length;
    expect(created + rejected).toBe(18);
    expect(greedy.filter((r) => r.statusCode === 201).length).toBeLessThanOrEqual(3);
    expect(created).toBeLessThanOrEqual(5);
    expect(created).toBeGreaterThan(0);
    const rows = (await rig.tableItems()).filter((item: any) => item.owner.S !== '#meta').length;
    expect(rows - rowsBefore).toBe(created);
    expect(rig.emulator.listVms().length - vmsBefore).toBe(created);
    const counter = (await rig.tableItems()).find((item: any) => item.owner.S === '#meta') as any;
    expect(Number(counter.count.N)).toBe(created);
  });
});

describe('a launch that crashes between RunMicrovm and the table update', () => {
  /** A document client whose first session-finishing update fails, as if the Lambda died there. */
  function crashingOnFinish(): { client: DynamoDBDocumentClient; crashed: () => number } {
    let crashes = 0;
    const real = rig.documentClient;
    const client = new Proxy(real, {
      get(target, prop, receiver) {
        if (prop !== 'send') return Reflect.get(target, prop, receiver);
        return async (command: any, ...rest: any[]) => {
          const expression = String(command?.input?.UpdateExpression ?? '');
          if (crashes === 0 && expression.includes('microvmId = :mid')) {
            crashes++;
            throw Object.assign(new Error('simulated crash'), { name: 'InternalServerError', $metadata: { httpStatusCode: 500 } });
          }
          return (target.send as any)(command, ...rest);
        };
      },
    });
    return { client, crashed: () => crashes };
  }

  test('does not wedge the session: after the lease expires the next PUT gets the same VM', async () => {
    // GIVEN
    const crash = crashingOnFinish();
    const crashing = rig.api(undefined, { documentClient: crash.client });
    const api = rig.api();
    const before = rig.emulator.listVms();

    // WHEN
    const crashed = await crashing.handle(event('PUT', '/sessions/crash-1', { body: { payload: 'p' } }));
    const whileLeased = await api.handle(event('PUT', '/sessions/crash-1', { body: { payload: 'p' } }));
    rig.clock.offsetMs += 31_000;
    const recovered = await untilSettled(() => api.handle(event('PUT', '/sessions/crash-1', { body: { payload: 'p' } })));

    // THEN
    expect(crash.crashed()).toBe(1);
    expect(crashed.statusCode).toBe(503);
    expect(crashed.headers!['retry-after']).toBeDefined();
    expect(whileLeased.statusCode).toBe(503);
    expect(body(whileLeased).error.code).toBe('LaunchInProgress');
    expect(recovered.statusCode).toBe(201);
    const launched = rig.emulator.listVms().filter((vm) => !before.some((b) => b.microvmId === vm.microvmId));
    expect(launched.map((vm) => vm.microvmId)).toEqual([body(recovered).microvmId]);
    const row = (await rig.tableItems()).find((item: any) => item.sessionId.S === 'crash-1') as any;
    expect(row.status.S).toBe('ACTIVE');
    expect(row.microvmId.S).toBe(body(recovered).microvmId);
  });

  test('a takeover with another payload launches a new generation and no row keeps the first VM', async () => {
    // GIVEN
    const crash = crashingOnFinish();
    const before = rig.emulator.listVms();
    await rig.api(undefined, { documentClient: crash.client }).handle(event('PUT', '/sessions/crash-2', { body: { payload: 'first' } }));
    const orphan = rig.emulator.listVms().find((vm) => !before.some((b) => b.microvmId === vm.microvmId))!;

    // WHEN
    rig.clock.offsetMs += 31_000;
    const recovered = await untilSettled(() => rig.api().handle(event('PUT', '/sessions/crash-2', { body: { payload: 'second' } })));

    // THEN
    expect(recovered.statusCode).toBe(201);
    expect(body(recovered).microvmId).not.toBe(orphan.microvmId);
    const rows = await rig.tableItems();
    expect(JSON.stringify(rows)).not.toContain(orphan.microvmId);
    // the sweeper's input: a VM of this image that no row owns.
    expect(rig.emulator.getVm(orphan.microvmId)!.imageArn).toBe(rig.imageArn);
  });

  test('a launch whose RunMicrovm keeps failing answers 503, leaves no launching row, and the next PUT recovers', async () => {
    // GIVEN
    const api: SessionApi = rig.api();
    rig.emulator.setFaults({ operations: { RunMicrovm: { errorRate: 1 } } });
    const failed = await api.handle(event('PUT', '/sessions/crash-3'));
    rig.emulator.setFaults({});
    const rowAfterFailure = (await rig.tableItems()).find((item: any) => item.sessionId.S === 'crash-3');

    // WHEN
    const recovered = await untilSettled(() => api.handle(event('PUT', '/sessions/crash-3')));

    // THEN
    expect(failed.statusCode).toBe(503);
    expect(rowAfterFailure).toBeUndefined();
    expect(recovered.statusCode).toBe(201);
    expect(rig.metricsSeen).toContain('UpstreamErrors');
  });
});
