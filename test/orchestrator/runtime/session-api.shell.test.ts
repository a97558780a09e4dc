import { ALICE, BOB, body, event, Rig, startRig } from './harness';
import { ConfigError } from '../../../src/orchestrator/runtime/config';
import { allowedPrincipal } from '../../../src/orchestrator/runtime/owner';
import { ENV } from '../../../src/shared/contract';

// shell tokens: who may get one, for which session, for how long, and what is (never) logged.

/** an IAM user who owns sessions but is not in the allow list. */
const DAVE = 'arn:aws:iam::111111111111:user/dave';
/** BOB's role, with a path: BOB (assumed-role/dev/bob) is one of its role sessions. */
const DEV_ROLE = 'arn:aws:iam::111111111111:role/team/dev';
const SHELL = 'arn:aws:lambda:us-east-1:aws:network-connector:aws-network-connector:SHELL_INGRESS';
const HTTP = 'arn:aws:lambda:us-east-1:aws:network-connector:aws-network-connector:HTTP_INGRESS';

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

/** the environment of an orchestrator configured with `shell` (and what it overrides). */
function shellEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    [ENV.INGRESS_CONNECTORS]: JSON.stringify([HTTP, SHELL]),
    [ENV.SHELL_ALLOWED_PRINCIPALS]: JSON.stringify([ALICE, DEV_ROLE]),
    ...overrides,
  };
}

async function launch(api: ReturnType<Rig['api']>, id: string, caller = ALICE): Promise<any> {
  const res = await api.handle(event('PUT', `/sessions/${id}`, { caller }));
  expect([201, 200]).toContain(res.statusCode);
  return body(res);
}

describe('POST /sessions/{id}/shell-token', () => {
  test('the owner in the allow list gets a 5-minute shell token for the VM, and the emulator recorded it', async () => {
    // GIVEN
    const api = rig.api(shellEnv());
    const session = await launch(api, 'shell-1');

    // WHEN
    const res = await api.handle(event('POST', '/sessions/shell-1/shell-token'));

    // THEN
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({ 'cache-control': 'no-store' });
    const shell = body(res);
    const host = session.endpoint.replace(/^https:\/\//, '');
    expect(shell).toEqual({
      sessionId: 'shell-1',
      microvmId: session.microvmId,
      url: `wss://${host}/shell`,
      port: 8022,
      token: expect.any(String),
      expiresAt: expect.any(String),
    });
    const issued = rig.emulator.issuedTokens().find((t) => t.token === shell.token)!;
    expect(issued).toMatchObject({ kind: 'shell', microvmId: session.microvmId, expirationInMinutes: 5, allowedPorts: [{ port: 8022 }] });
    expect(Math.abs(Date.parse(shell.expiresAt) - issued.expiresAt)).toBeLessThan(5_000);
    expect(rig.metricsSeen).toContain('ShellTokensMinted');
  });

  test('a role session matches its role\'s ARN (path included) in the allow list', async () => {
    // GIVEN
    const api = rig.api(shellEnv());
    const session = await launch(api, 'shell-role', BOB);

    // WHEN
    const res = await api.handle(event('POST', '/sessions/shell-role/shell-token', { caller: BOB, body: { ttlSeconds: 900 } }));

    // THEN
    expect(res.statusCode).toBe(200);
    const issued = rig.emulator.issuedTokens().find((t) => t.token === body(res).token)!;
    expect(issued).toMatchObject({ kind: 'shell', microvmId: session.microvmId, expirationInMinutes: 15 });
  });

  test('a role session matches its role when sessions are owned per role session (ROLE_SESSION)', async () => {
    // GIVEN
    const api = rig.api(shellEnv({ [ENV.OWNER_KEY]: 'ROLE_SESSION' }));
    await launch(api, 'shell-role-session', BOB);

    // WHEN
    const res = await api.handle(event('POST', '/sessions/shell-role-session/shell-token', { caller: BOB }));

    // THEN
    expect(res.statusCode).toBe(200);
  });

  test('fails with 403 if the owner is not in the allow list, and logs the refusal', async () => {
    // GIVEN
    const api = rig.api(shellEnv());
    await launch(api, 'shell-dave', DAVE);
    rig.resetCounts();

    // WHEN
    const res = await api.handle(event('POST', '/sessions/shell-dave/shell-token', { caller: DAVE }));

    // THEN
    expect(res.statusCode).toBe(403);
    expect(body(res)).toEqual({ error: { code: 'ShellAccessDenied', message: expect.stringMatching(/not allowed shell access/) } });
    expect(rig.emulator.callCounts()).toEqual({});
    expect(rig.dynamoCalls).toEqual({});
    expect(rig.capture.text).toMatch(/shell token refused[^\n]*user\/dave/);
  });

  test('fails with 404, as every route does, for another allowed caller\'s session', async () => {
    // GIVEN
    const api = rig.api(shellEnv());
    await launch(api, 'shell-alice');
    rig.resetCounts();

    // WHEN
    const res = await api.handle(event('POST', '/sessions/shell-alice/shell-token', { caller: BOB }));

    // THEN
    expect(res.statusCode).toBe(404);
    expect(body(res)).toEqual({ error: { code: 'SessionNotFound', message: 'no such session for this caller' } });
    expect(rig.emulator.callCounts()).toEqual({});
  });

  test('fails with 409 ShellNotEnabled for a session launched before shell access was configured', async () => {
    // GIVEN a session launched by the orchestrator without shell, then the orchestrator reconfigured with it
    const session = await launch(rig.api(), 'shell-old');
    const api = rig.api(shellEnv());

    // WHEN
    const res = await api.handle(event('POST', '/sessions/shell-old/shell-token'));

    // THEN
    expect(res.statusCode).toBe(409);
    expect(body(res)).toEqual({ error: { code: 'ShellNotEnabled', message: expect.stringMatching(/without the SHELL_INGRESS connector.*DELETE/) } });
    expect(rig.emulator.issuedTokens().filter((t) => t.kind === 'shell' && t.microvmId === session.microvmId)).toEqual([]);
  });

  test('fails with 409 ShellNotEnabled when only the service says the VM has no SHELL_INGRESS', async () => {
    // GIVEN a session launched without shell, whose VM the service describes without its connectors
    await launch(rig.api(), 'shell-old-2');
    const api = rig.api(shellEnv());
    rig.microvms.middlewareStack.add((next, context) => async (args) => {
      const out: any = await next(args);
      if (context.commandName === 'GetMicrovmCommand') delete out.output.ingressNetworkConnectors;
      return out;
    }, { step: 'initialize', name: 'hideIngress' });

    try {
      // WHEN
      const res = await api.handle(event('POST', '/sessions/shell-old-2/shell-token'));

      // THEN: CreateMicrovmShellAuthToken's ValidationException is the answer.
      expect(res.statusCode).toBe(409);
      expect(body(res).error.code).toBe('ShellNotEnabled');
      expect(rig.emulator.callCounts()).toMatchObject({ CreateMicrovmShellAuthToken: 1 });
    } finally {
      rig.microvms.middlewareStack.remove('hideIngress');
    }
  });

  test('fails with 409 SessionNotRunning once the session\'s VM is gone', async () => {
    // GIVEN
    const api = rig.api(shellEnv());
    const session = await launch(api, 'shell-gone');
    rig.emulator.terminateExternally(session.microvmId);

    // WHEN
    const res = await api.handle(event('POST', '/sessions/shell-gone/shell-token'));

    // THEN
    expect(res.statusCode).toBe(409);
    expect(body(res).error.code).toBe('SessionNotRunning');
  });

  test.each([
    [30, 'not whole minutes'],
    [90, 'not whole minutes'],
    [0, 'under a minute'],
    [960, 'over 15 minutes'],
    [3600, 'over 15 minutes'],
    ['300', 'a string'],
    [null, 'null'],
  ])('fails with 400 if ttlSeconds is %p (%s)', async (ttlSeconds, _why) => {
    // GIVEN
    const api = rig.api(shellEnv());
    await launch(api, 'shell-ttl');
    rig.resetCounts();

    // WHEN
    const res = await api.handle(event('POST', '/sessions/shell-ttl/shell-token', { body: { ttlSeconds } }));

    // THEN
    expect(res.statusCode).toBe(400);
    expect(body(res)).toEqual({ error: { code: 'InvalidTtl', message: expect.stringMatching(/^ttlSeconds must be whole minutes from 60 to 900/) } });
    expect(rig.emulator.callCounts()).toEqual({});
  });

  test('fails with 400 for an unknown body field', async () => {
    const api = rig.api(shellEnv());
    await launch(api, 'shell-body');
    const res = await api.handle(event('POST', '/sessions/shell-body/shell-token', { body: { ttlSeconds: 60, ports: [8022] } }));
    expect(res.statusCode).toBe(400);
    expect(body(res).error.message).toMatch(/unknown field\(s\) "ports"; accepted fields: ttlSeconds/);
  });

  test('the route is absent (404 RouteNotFound, as for any unknown path) without shell access', async () => {
    // GIVEN
    const api = rig.api();
    await launch(api, 'shell-off');

    // WHEN
    const res = await api.handle(event('POST', '/sessions/shell-off/shell-token'));

    // THEN
    expect(res.statusCode).toBe(404);
    expect(body(res)).toEqual({ error: { code: 'RouteNotFound', message: expect.any(String) } });
    expect(body(await api.handle(event('POST', '/sessions/shell-off/no-such-route')))).toEqual(body(res));
  });

  test('answers 405 with Allow: POST for another method when shell access is on', async () => {
    const res = await rig.api(shellEnv()).handle(event('GET', '/sessions/shell-1/shell-token'));
    expect(res.statusCode).toBe(405);
    expect(res.headers).toMatchObject({ Allow: 'POST' });
  });

  test('logs who, which session and VM, and the lifetime, never the token', async () => {
    // GIVEN
    const api = rig.api(shellEnv());
    const session = await launch(api, 'shell-log', BOB);
    const before = rig.capture.lines.length;

    // WHEN
    const res = await api.handle(event('POST', '/sessions/shell-log/shell-token', { caller: BOB, body: { ttlSeconds: 120 } }));

    // THEN
    expect(res.statusCode).toBe(200);
    const logged = rig.capture.lines.slice(before).map((line) => JSON.parse(line));
    const minted = logged.find((l) => l.message === 'shell token minted');
    expect(minted).toMatchObject({
      caller: BOB,
      principal: 'arn:aws:iam::111111111111:role/dev',
      sessionId: 'shell-log',
      microvmId: session.microvmId,
      expirationInMinutes: 2,
    });
    const shellTokens = rig.emulator.issuedTokens().filter((t) => t.kind === 'shell').map((t) => t.token);
    expect(shellTokens.length).toBeGreaterThan(0);
    for (const token of shellTokens) expect(rig.capture.text).not.toContain(token);
  });
});

describe('shell configuration', () => {
  test('allowedPrincipal puts a role ARN in the form a role session\'s owner takes, and keeps users as they are', () => {
    expect(allowedPrincipal('arn:aws:iam::111111111111:role/team/a/dev')).toBe('arn:aws:iam::111111111111:role/dev');
    expect(allowedPrincipal('arn:aws-cn:iam::111111111111:role/dev')).toBe('arn:aws-cn:iam::111111111111:role/dev');
    expect(allowedPrincipal('arn:aws:iam::111111111111:user/ops/carol')).toBe('arn:aws:iam::111111111111:user/ops/carol');
    expect(allowedPrincipal('arn:aws:sts::111111111111:assumed-role/dev/bob')).toBeUndefined();
    expect(allowedPrincipal('arn:aws:iam::111111111111:root')).toBeUndefined();
    expect(allowedPrincipal('*')).toBeUndefined();
  });

  test('no variable, or an empty one, means no shell access', () => {
    expect(rig.config().shellAllowedPrincipals).toBeUndefined();
    expect(rig.config({ [ENV.SHELL_ALLOWED_PRINCIPALS]: '' }).shellAllowedPrincipals).toBeUndefined();
  });

  test.each([
    ['[]'],
    ['"arn:aws:iam::111111111111:role/dev"'],
    ['["arn:aws:sts::111111111111:assumed-role/dev/bob"]'],
    ['["*"]'],
    ['[42]'],
  ])('fails if the allow list is %s', (value) => {
    expect(() => rig.config({ [ENV.SHELL_ALLOWED_PRINCIPALS]: value }))
      .toThrow(new ConfigError(`MICROVM_SHELL_ALLOWED_PRINCIPALS must be empty (no shell access) or a non-empty JSON array of IAM role or user ARNs, got ${
        JSON.stringify(value.startsWith('["') || value === '[42]' ? JSON.stringify(JSON.parse(value)[0]) : value)}. `
        + 'Fix the MicrovmOrchestrator props or the function\'s environment.'));
  });
});
