import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateMicrovmAuthTokenCommand,
  DeleteMicrovmImageVersionCommand,
  GetMicrovmCommand,
  LambdaMicrovmsClient,
  PortSpecification,
  RunMicrovmCommand,
  RunMicrovmCommandInput,
  SuspendMicrovmCommand,
  TerminateMicrovmCommand,
} from '@aws-sdk/client-lambda-microvms';
import { clientFor } from './helpers';
import { DataPlaneApps, EmulatorOptions, MicrovmEmulator } from '../../src/local';

const T0 = Date.UTC(2026, 0, 1);
const SECOND = 1000;

let emulator: MicrovmEmulator;
let client: LambdaMicrovmsClient;
let imageArn: string;

async function start(options: EmulatorOptions = {}): Promise<void> {
  // a frozen clock: only advanceTime moves emulated time (token expiry, launches, idle suspends).
  emulator = await MicrovmEmulator.start({ clock: () => T0, rateLimits: false, ...options });
  imageArn = emulator.registerImage({ name: 'sandbox', versions: ['1', '2'], hooksPort: 9000 });
  emulator.registerApp(imageArn, '1', DataPlaneApps.healthy());
  client = clientFor(emulator);
}

afterEach(async () => {
  client.destroy();
  await emulator.stop();
});

interface Vm {
  readonly id: string;
  readonly endpoint: string;
}

async function launch(input: Partial<RunMicrovmCommandInput> = {}): Promise<Vm> {
  const vm = await client.send(new RunMicrovmCommand({ imageIdentifier: imageArn, imageVersion: '1', ...input }));
  return { id: vm.microvmId!, endpoint: vm.endpoint! };
}

async function tokenFor(vm: Vm, allowedPorts: PortSpecification[] = [{ port: 8080 }], expirationInMinutes = 5): Promise<string> {
  const answer = await client.send(new CreateMicrovmAuthTokenCommand({ microvmIdentifier: vm.id, expirationInMinutes, allowedPorts }));
  return answer.authToken!['X-aws-proxy-auth'];
}

/** A request to the VM's endpoint with plain fetch, as a client would send it to `https://${endpoint}`. */
async function call(vm: Vm, path: string, headers: Record<string, string> = {}, init: RequestInit = {}) {
  const response = await fetch(`${emulator.endpointUrl(vm.endpoint)}${path}`, { ...init, headers });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

const stateOf = async (vm: Vm) => (await client.send(new GetMicrovmCommand({ microvmIdentifier: vm.id }))).state;

describe('forwarding', () => {
  test('forwards a request to the app registered for the VM\'s image version', async () => {
    // GIVEN
    await start();
    emulator.registerApp(imageArn, '2', (_req, res) => res.end(JSON.stringify({ release: 2 })));
    const v1 = await launch();
    const v2 = await launch({ imageVersion: '2' });

    // WHEN
    const health = await call(v1, '/health', { 'X-aws-proxy-auth': await tokenFor(v1) });
    const other = await call(v2, '/health', { 'X-aws-proxy-auth': await tokenFor(v2) });

    // THEN
    expect(health).toEqual({ status: 200, body: { status: 'healthy' } });
    expect(other).toEqual({ status: 200, body: { release: 2 } });
  });

  test('strips the X-aws-proxy-* headers and keeps method, path, query, body and other headers', async () => {
    // GIVEN
    await start();
    const vm = await launch();
    const token = await tokenFor(vm);

    // WHEN
    const echo = await call(vm, '/items?color=red', {
      'X-aws-proxy-auth': token,
      'X-aws-proxy-port': '8080',
      'X-aws-proxy-force-h2': 'true',
      'X-Custom': 'kept',
      'content-type': 'text/plain',
    }, { method: 'POST', body: 'hello' });

    // THEN
    expect(echo.status).toBe(200);
    expect(echo.body).toMatchObject({ method: 'POST', path: '/items?color=red', body: 'hello' });
    expect(echo.body.headers).toMatchObject({ 'x-custom': 'kept', 'host': vm.endpoint });
    expect(Object.keys(echo.body.headers).filter((h) => h.startsWith('x-aws-proxy-'))).toEqual([]);
    expect(JSON.stringify(echo.body)).not.toContain(token);
  });

  test('addresses a VM by its Host header as well as by the path prefix', async () => {
    // GIVEN
    await start();
    const vm = await launch();
    const token = await tokenFor(vm);

    // WHEN
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${emulator.dataPlaneEndpoint}/health`, { headers: { 'host': vm.endpoint, 'X-aws-proxy-auth': token } }, (res) => {
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      req.end();
    });

    // THEN
    expect(answer).toEqual({ status: 200, body: JSON.stringify({ status: 'healthy' }) });
    expect(emulator.endpointUrl(`https://${vm.endpoint}`)).toBe(`${emulator.dataPlaneEndpoint}/${vm.endpoint}`);
  });

  test('fails if the request names no MicroVM endpoint (400)', async () => {
    // GIVEN
    await start();

    // WHEN
    const response = await fetch(`${emulator.dataPlaneEndpoint}/health`);

    // THEN
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ message: expect.stringMatching(/does not name a MicroVM endpoint/) });
    expect(() => emulator.endpointUrl('example.com')).toThrow(/not a MicroVM endpoint/);
  });

  test('forwards to an app given as a URL of a server the test runs', async () => {
    // GIVEN
    await start();
    const own = http.createServer((req, res) => res.end(JSON.stringify({ own: req.url })));
    await new Promise<void>((resolve) => own.listen(0, '127.0.0.1', resolve));
    emulator.registerApp(imageArn, '2', `http://127.0.0.1:${(own.address() as AddressInfo).port}`);
    const vm = await launch({ imageVersion: '2' });

    // WHEN
    const answer = await call(vm, '/x', { 'X-aws-proxy-auth': await tokenFor(vm) });

    // THEN
    expect(answer).toEqual({ status: 200, body: { own: '/x' } });
    own.closeAllConnections();
    await new Promise((resolve) => own.close(resolve));
  });

  test('a VM of a deleted image version is still served', async () => {
    // GIVEN
    await start();
    const vm = await launch();
    await client.send(new DeleteMicrovmImageVersionCommand({ imageIdentifier: imageArn, imageVersion: '1' }));

    // WHEN
    const health = await call(vm, '/health', { 'X-aws-proxy-auth': await tokenFor(vm) });

    // THEN
    expect(health.status).toBe(200);
  });
});

describe('tokens', () => {
  test('fails if the token is missing (403)', async () => {
    // GIVEN
    await start();
    const vm = await launch();

    // WHEN
    const answer = await call(vm, '/health');

    // THEN
    expect(answer).toEqual({ status: 403, body: { message: 'Missing X-aws-proxy-auth token.' } });
  });

  test('fails if the token was not issued by the emulator (403)', async () => {
    // GIVEN
    await start();
    const vm = await launch();

    // WHEN
    const answer = await call(vm, '/health', { 'X-aws-proxy-auth': 'emu.forged' });

    // THEN
    expect(answer).toEqual({ status: 403, body: { message: 'Invalid X-aws-proxy-auth token.' } });
  });

  test('fails once the token has expired (403), not a moment before', async () => {
    // GIVEN
    await start();
    const vm = await launch();
    const token = await tokenFor(vm, [{ port: 8080 }], 5);

    // WHEN
    emulator.advanceTime(5 * 60 * SECOND - 1);
    const before = await call(vm, '/health', { 'X-aws-proxy-auth': token });
    emulator.advanceTime(1);
    const after = await call(vm, '/health', { 'X-aws-proxy-auth': token });

    // THEN
    expect(before.status).toBe(200);
    expect(after).toEqual({ status: 403, body: { message: 'The X-aws-proxy-auth token has expired.' } });
  });

  test('fails if the token is for another VM (403)', async () => {
    // GIVEN
    await start();
    const mine = await launch();
    const theirs = await launch();

    // WHEN
    const answer = await call(mine, '/health', { 'X-aws-proxy-auth': await tokenFor(theirs, [{ allPorts: {} }]) });

    // THEN
    expect(answer).toEqual({ status: 403, body: { message: 'The X-aws-proxy-auth token was not issued for this MicroVM.' } });
  });
});

describe('target port', () => {
  test('targets X-aws-proxy-port when the token allows it, 8080 otherwise', async () => {
    // GIVEN
    await start();
    emulator.registerApp(imageArn, '1', {
      8080: (_req, res) => res.end(JSON.stringify({ port: 8080 })),
      3005: (_req, res) => res.end(JSON.stringify({ port: 3005 })),
    });
    const vm = await launch();
    const token = await tokenFor(vm, [{ port: 8080 }, { range: { startPort: 3000, endPort: 3010 } }]);

    // WHEN
    const byDefault = await call(vm, '/', { 'X-aws-proxy-auth': token });
    const inRange = await call(vm, '/', { 'X-aws-proxy-auth': token, 'X-aws-proxy-port': '3005' });

    // THEN
    expect(byDefault.body).toEqual({ port: 8080 });
    expect(inRange.body).toEqual({ port: 3005 });
  });

  test('fails if the token does not allow the port (403), the default port included', async () => {
    // GIVEN
    await start();
    const vm = await launch();
    const token = await tokenFor(vm, [{ port: 3000 }]);

    // WHEN
    const other = await call(vm, '/', { 'X-aws-proxy-auth': token, 'X-aws-proxy-port': '9000' });
    const byDefault = await call(vm, '/', { 'X-aws-proxy-auth': token });

    // THEN
    expect(other).toEqual({ status: 403, body: { message: 'Port 9000 is not allowed by the X-aws-proxy-auth token.' } });
    expect(byDefault).toEqual({ status: 403, body: { message: 'Port 8080 is not allowed by the X-aws-proxy-auth token.' } });
  });

  test.each(['abc', '0', '65536', '80.5', '-1', ''])('fails if X-aws-proxy-port is malformed (400): %j', async (port) => {
    // GIVEN
    await start();
    const vm = await launch();
    const token = await tokenFor(vm, [{ allPorts: {} }]);

    // WHEN
    const answer = await call(vm, '/', { 'X-aws-proxy-auth': token, 'X-aws-proxy-port': port });

    // THEN
    expect(answer.status).toBe(400);
    expect(answer.body.message).toMatch(/Malformed X-aws-proxy-port/);
  });

  test('the hooks port is an ordinary port: a token with allPorts reaches it', async () => {
    // GIVEN an app whose hooks listen on the image's hooks port, 9000
    await start();
    emulator.registerApp(imageArn, '1', { 8080: DataPlaneApps.healthy(), 9000: DataPlaneApps.healthy() });
    const vm = await launch();
    const appOnly = await tokenFor(vm, [{ port: 8080 }]);
    const all = await tokenFor(vm, [{ allPorts: {} }]);
    const hook = { method: 'POST', body: '{}' };

    // WHEN
    const refused = await call(vm, '/aws/lambda-microvms/runtime/v1/suspend', { 'X-aws-proxy-auth': appOnly, 'X-aws-proxy-port': '9000' }, hook);
    const reached = await call(vm, '/aws/lambda-microvms/runtime/v1/suspend', { 'X-aws-proxy-auth': all, 'X-aws-proxy-port': '9000' }, hook);

    // THEN
    expect(refused.status).toBe(403);
    expect(reached).toEqual({ status: 200, body: {} });
  });
});

describe('VM state', () => {
  test('fails while the VM is PENDING (502), then forwards once it is RUNNING', async () => {
    // GIVEN
    await start({ launchDelayMs: 2 * SECOND });
    const vm = await launch();
    const token = await tokenFor(vm);

    // WHEN
    const pending = await call(vm, '/health', { 'X-aws-proxy-auth': token });
    emulator.advanceTime(2 * SECOND);
    const running = await call(vm, '/health', { 'X-aws-proxy-auth': token });

    // THEN
    expect(pending).toEqual({ status: 502, body: { message: `MicroVM ${vm.id} is PENDING, not RUNNING.` } });
    expect(running.status).toBe(200);
  });

  test('fails while the VM is SUSPENDED without auto-resume (502), and stays SUSPENDED', async () => {
    // GIVEN
    await start();
    const vm = await launch({ idlePolicy: { maxIdleDurationSeconds: 60, suspendedDurationSeconds: 3600, autoResumeEnabled: false } });
    const token = await tokenFor(vm);
    await client.send(new SuspendMicrovmCommand({ microvmIdentifier: vm.id }));

    // WHEN
    const answer = await call(vm, '/health', { 'X-aws-proxy-auth': token });

    // THEN
    expect(answer).toEqual({ status: 502, body: { message: `MicroVM ${vm.id} is SUSPENDED, not RUNNING.` } });
    expect(await stateOf(vm)).toBe('SUSPENDED');
  });

  test('resumes a SUSPENDED VM whose idle policy has autoResumeEnabled and answers the request', async () => {
    // GIVEN
    await start();
    const vm = await launch({ idlePolicy: { maxIdleDurationSeconds: 60, suspendedDurationSeconds: 3600, autoResumeEnabled: true } });
    const token = await tokenFor(vm);
    await client.send(new SuspendMicrovmCommand({ microvmIdentifier: vm.id }));

    // WHEN
    const answer = await call(vm, '/health', { 'X-aws-proxy-auth': token });

    // THEN
    expect(answer.status).toBe(200);
    expect(await stateOf(vm)).toBe('RUNNING');
  });

  test('holds the request during an auto-resume and fails if it outlasts appTimeoutMs (502); the resume goes on', async () => {
    // GIVEN a resume that takes 1 s of emulated time, on a frozen clock nobody advances during the request
    await start({ resumeDelayMs: SECOND, appTimeoutMs: 50 });
    const vm = await launch({ idlePolicy: { maxIdleDurationSeconds: 60, suspendedDurationSeconds: 3600, autoResumeEnabled: true } });
    const token = await tokenFor(vm);
    await client.send(new SuspendMicrovmCommand({ microvmIdentifier: vm.id }));

    // WHEN
    const held = await call(vm, '/health', { 'X-aws-proxy-auth': token });
    emulator.advanceTime(SECOND);

    // THEN
    expect(held).toEqual({ status: 502, body: { message: `MicroVM ${vm.id} did not resume in time.` } });
    expect(await stateOf(vm)).toBe('RUNNING');
    expect((await call(vm, '/health', { 'X-aws-proxy-auth': token })).status).toBe(200);
  });

  test('fails once the VM is TERMINATED (502)', async () => {
    // GIVEN
    await start();
    const vm = await launch();
    const token = await tokenFor(vm);
    await client.send(new TerminateMicrovmCommand({ microvmIdentifier: vm.id }));

    // WHEN
    const answer = await call(vm, '/health', { 'X-aws-proxy-auth': token });

    // THEN
    expect(answer).toEqual({ status: 502, body: { message: `MicroVM ${vm.id} is TERMINATED, not RUNNING.` } });
  });

  test('requests through the endpoint restart the idle clock', async () => {
    // GIVEN
    await start();
    const vm = await launch({ idlePolicy: { maxIdleDurationSeconds: 60, suspendedDurationSeconds: 3600, autoResumeEnabled: false } });
    const token = await tokenFor(vm);

    // WHEN
    emulator.advanceTime(50 * SECOND);
    await call(vm, '/health', { 'X-aws-proxy-auth': token });
    emulator.advanceTime(50 * SECOND);
    const afterTraffic = await stateOf(vm);
    emulator.advanceTime(10 * SECOND);

    // THEN
    expect(afterTraffic).toBe('RUNNING');
    expect(await stateOf(vm)).toBe('SUSPENDED');
  });
});

describe('broken apps', () => {
  test('passes on the answer of the built-in failing app', async () => {
    // GIVEN
    await start();
    emulator.registerApp(imageArn, '2', DataPlaneApps.failing(503));
    const vm = await launch({ imageVersion: '2' });

    // WHEN
    const answer = await call(vm, '/health', { 'X-aws-proxy-auth': await tokenFor(vm) });

    // THEN
    expect(answer).toEqual({ status: 503, body: { message: 'The app failed (built-in failing app, 503).' } });
  });

  test('fails if the app never answers (502 after appTimeoutMs)', async () => {
    // GIVEN
    await start({ appTimeoutMs: 50 });
    emulator.registerApp(imageArn, '2', DataPlaneApps.unresponsive());
    const vm = await launch({ imageVersion: '2' });

    // WHEN
    const answer = await call(vm, '/health', { 'X-aws-proxy-auth': await tokenFor(vm) });

    // THEN
    expect(answer).toEqual({ status: 502, body: { message: 'The application did not answer in time.' } });
  });

  test('fails if nothing listens on the target port, or no app is registered for the version (502)', async () => {
    // GIVEN an app on the wrong port for version 2, none for a third version
    await start();
    emulator.registerApp(imageArn, '2', { 3000: DataPlaneApps.healthy() });
    const wrongPort = await launch({ imageVersion: '2' });
    const noApp = await launch({ imageVersion: '1' });
    emulator.registerApp(imageArn, '1', {});

    // WHEN
    const a = await call(wrongPort, '/health', { 'X-aws-proxy-auth': await tokenFor(wrongPort) });
    const b = await call(noApp, '/health', { 'X-aws-proxy-auth': await tokenFor(noApp) });

    // THEN
    expect(a).toEqual({ status: 502, body: { message: 'The application is not responding on port 8080.' } });
    expect(b.status).toBe(502);
  });

  test('a failing /run hook ends the launch in TERMINATED with the reason; other versions still launch', async () => {
    // GIVEN
    await start();
    emulator.failRunHook(imageArn, '1', 'The /run hook answered 500.');

    // WHEN
    const failed = await launch();
    const other = await launch({ imageVersion: '2' });

    // THEN
    const got = await client.send(new GetMicrovmCommand({ microvmIdentifier: failed.id }));
    expect(got).toMatchObject({ state: 'TERMINATED', stateReason: 'The /run hook answered 500.' });
    expect(emulator.getVm(failed.id)!.history.map((h) => h.state)).toEqual(['PENDING', 'TERMINATING', 'TERMINATED']);
    expect(await stateOf(other)).toBe('RUNNING');
  });

  test('a cleared /run hook failure lets later launches run', async () => {
    // GIVEN
    await start();
    emulator.failRunHook(imageArn, '1');
    const failed = await launch();

    // WHEN
    emulator.clearRunHookFailure(imageArn, '1');
    const healthy = await launch();

    // THEN
    expect(await stateOf(failed)).toBe('TERMINATED');
    expect(await stateOf(healthy)).toBe('RUNNING');
    expect(emulator.getVm(failed.id)!.stateReason).toBe('The /run hook failed (HTTP 500).');
  });
});
