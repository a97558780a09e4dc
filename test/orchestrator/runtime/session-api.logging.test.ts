import { body, event, Rig, startRig } from './harness';

let rig: Rig;

beforeAll(async () => {
  rig = await startRig({ rateLimits: false });
});

afterAll(async () => {
  await rig.stop();
});

describe('structured logs', () => {
  test('no token value and no payload appears in any log line, on success and failure paths', async () => {
    // GIVEN
    const api = rig.api();
    const payload = 'payload-secret-7f3a9c';
    const start = rig.capture.lines.length;

    // WHEN
    await api.handle(event('PUT', '/sessions/log-1', { body: { payload } }));
    await api.handle(event('PUT', '/sessions/log-1', { body: { payload } }));
    await api.handle(event('POST', '/sessions/log-1/token', { body: { ttlSeconds: 60 } }));
    await api.handle(event('POST', '/sessions/log-1/suspend'));
    await api.handle(event('POST', '/sessions/log-1/resume'));
    rig.emulator.setFaults({ operations: { CreateMicrovmAuthToken: { errorAfterEffectRate: 1 } } });
    const failed = await api.handle(event('POST', '/sessions/log-1/token'));
    rig.emulator.setFaults({});
    await api.handle(event('DELETE', '/sessions/log-1'));

    // THEN
    const log = rig.capture.lines.slice(start).join('');
    const tokens = rig.emulator.issuedTokens().map((t) => t.token);
    expect(failed.statusCode).toBe(503);
    expect(tokens.length).toBeGreaterThanOrEqual(4);
    expect(log).toContain('token minted');
    expect(log).toContain('upstream error');
    expect(log).toContain('"message":"request handled"');
    for (const token of tokens) expect(log).not.toContain(token);
    expect(log).not.toContain(payload);
    const lines = log.split('\n').filter((line) => line.trim() !== '');
    expect(lines.every((line) => typeof JSON.parse(line) === 'object')).toBe(true);
  });

  test('responses carry the token but are marked no-store', async () => {
    const res = await rig.api().handle(event('PUT', '/sessions/log-2'));
    expect(body(res).token.value).toBeTruthy();
    expect(res.headers!['cache-control']).toBe('no-store');
  });
});
