import { ChildProcess, spawn } from 'child_process';
import * as path from 'path';
import { call, freePort } from '../support/local-http';

// runs the example's sandbox app as the MicroVM would, and drives it through the hook contract.
const SANDBOX = path.join(__dirname, '..', '..', 'examples', 'code-interpreter', 'sandbox');
const HOOK = '/aws/lambda-microvms/runtime/v1';

describe('code-interpreter sandbox app', () => {
  let app: ChildProcess;
  let appPort: number;
  let hooksPort: number;

  beforeAll(async () => {
    appPort = await freePort();
    hooksPort = await freePort();
    app = spawn('python3', ['-u', 'server.py'], {
      cwd: SANDBOX,
      env: { ...process.env, APP_PORT: String(appPort), HOOKS_PORT: String(hooksPort), RUN_AS: '', PYTHONDONTWRITEBYTECODE: '1' },
      stdio: 'ignore',
    });
    // the build polls /ready until it answers 200; do the same, bounded.
    for (let attempt = 0; attempt < 100; attempt++) {
      const ready = await call(hooksPort, 'POST', `${HOOK}/ready`).catch(() => ({ status: 0 }));
      if (ready.status === 200) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('sandbox never answered /ready with 200');
  });

  afterAll(() => {
    app?.kill();
  });

  test('rejects execution before /run delivered a session key', async () => {
    const res = await call(appPort, 'POST', '/execute', { code: 'print(1)' }, { 'x-session-key': '' });
    expect(res.status).toBe(401);
  });

  test('/run takes the per-session key from the double-encoded runHookPayload', async () => {
    const run = await call(hooksPort, 'POST', `${HOOK}/run`, {
      microvmId: 'mvm-1',
      runHookPayload: JSON.stringify({ sessionKey: 'k-123' }),
    });
    expect(run.status).toBe(200);

    const wrong = await call(appPort, 'POST', '/execute', { code: 'print(1)' }, { 'x-session-key': 'other' });
    expect(wrong.status).toBe(401);

    const ok = await call(appPort, 'POST', '/execute', { code: 'print(6 * 7)' }, { 'x-session-key': 'k-123' });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ exitCode: 0, stdout: '42\n' });
  });

  test('hooks are served only on the hooks port', async () => {
    expect((await call(appPort, 'POST', `${HOOK}/run`, {})).status).toBe(404);
    for (const hook of ['resume', 'suspend', 'terminate']) {
      expect((await call(hooksPort, 'POST', `${HOOK}/${hook}`)).status).toBe(200);
    }
    expect((await call(hooksPort, 'POST', '/run')).status).toBe(404);
  });

  test('bad bodies get a 400, not a crash', async () => {
    const res = await call(appPort, 'POST', '/execute', { nope: true }, { 'x-session-key': 'k-123' });
    expect(res.status).toBe(400);
  });
});
