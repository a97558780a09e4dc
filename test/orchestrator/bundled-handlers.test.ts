import { execFile } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { GetMicrovmImageCommand, GetMicrovmImageVersionCommand } from '@aws-sdk/client-lambda-microvms';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { body, CREDENTIALS, event, Rig, startRig } from './runtime/harness';
import { DataPlaneApps, LocalEventBus } from '../../src/local';
import { sha256Hex } from '../../src/orchestrator/runtime/table/schema';
import { ENV } from '../../src/shared/contract';

// what Lambda runs is the esbuild bundle in assets/, not the TypeScript under src/: a bundling option (module-first
// main fields, minify, no externals) that broke a dependency would pass every source-level test. These load the
// bundles the constructs deploy, each in a fresh `node` process as Lambda would (not inside Jest's module sandbox,
// whose realm differs from Node's), and drive them against the emulator and dynalite running in this process.
const ASSETS = path.join(__dirname, '..', '..', 'assets', 'orchestrator');
const ORCHESTRATOR = path.join(ASSETS, 'orchestrator.lambda', 'index.js');
const SWEEPER = path.join(ASSETS, 'sweeper.lambda', 'index.js');
const SMOKE_TEST = path.join(ASSETS, 'smoke-test.lambda', 'index.js');

let rig: Rig;

beforeAll(async () => {
  rig = await startRig({ rateLimits: false });
});

afterAll(async () => {
  await rig.stop();
});

/** Loads a bundle in a fresh node process and calls its handler once per event, in order; answers the results. */
function invokeBundle(file: string, events: unknown[], extraEnv: Record<string, string> = {}): Promise<any[]> {
  const driver = `
    const { handler } = require(process.argv[1]);
    const context = { getRemainingTimeInMillis: () => 300000, functionName: 'bundle', awsRequestId: 'bundle' };
    (async () => {
      const results = [];
      for (const event of JSON.parse(process.argv[2])) results.push(await handler(event, context));
      process.stdout.write('\\n@@RESULTS@@' + JSON.stringify(results));
    })().catch((error) => { console.error(error); process.exit(1); });`;
  const env = {
    PATH: process.env.PATH,
    AWS_REGION: rig.emulator.region,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_LAMBDA_MICROVMS: rig.emulator.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: rig.dynamo.endpoint,
    [ENV.TABLE_NAME]: rig.tableName,
    [ENV.IMAGE_ARN]: rig.imageArn,
    [ENV.METRICS_NAMESPACE]: 'BundleTest',
    ...extraEnv,
  };
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', driver, file, JSON.stringify(events)], { env }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`${file} failed: ${stderr}`));
      resolve(JSON.parse(stdout.slice(stdout.lastIndexOf('@@RESULTS@@') + '@@RESULTS@@'.length)));
    });
  });
}

describe('the bundled handlers', () => {
  // .ci/run runs this file again on Node.js 24, the Lambda runtime the bundles target, with BUNDLE_NODE_MAJOR=24:
  // the bundles are then loaded by that node binary, not the machine's.
  test('run on the Node.js major the run asked for (BUNDLE_NODE_MAJOR), or the machine\'s', () => {
    const expected = process.env.BUNDLE_NODE_MAJOR ?? process.versions.node.split('.')[0];
    expect(process.versions.node.split('.')[0]).toBe(expected);
  });

  test('exist: `npx projen bundle` (part of the build) wrote all three', () => {
    expect(fs.existsSync(ORCHESTRATOR)).toBe(true);
    expect(fs.existsSync(SWEEPER)).toBe(true);
    expect(fs.existsSync(SMOKE_TEST)).toBe(true);
  });

  test('the orchestrator bundle serves the session API: create, warm PUT, describe, delete', async () => {
    // GIVEN
    rig.emulator.resetCallCounts();

    // WHEN
    const [created, warm, described, deleted] = await invokeBundle(ORCHESTRATOR, [
      event('PUT', '/sessions/bundle-1'),
      event('PUT', '/sessions/bundle-1'),
      event('GET', '/sessions/bundle-1'),
      event('DELETE', '/sessions/bundle-1'),
    ]);

    // THEN
    expect([created.statusCode, warm.statusCode, described.statusCode, deleted.statusCode]).toEqual([201, 200, 200, 204]);
    expect(body(warm).microvmId).toBe(body(created).microvmId);
    expect(rig.emulator.callCounts()).toMatchObject({ RunMicrovm: 1, CreateMicrovmAuthToken: 2, TerminateMicrovm: 1 });
  });

  test('the orchestrator bundle publishes lifecycle events through AWS_ENDPOINT_URL_EVENTBRIDGE, none on the warm PUT', async () => {
    // GIVEN
    const bus = await LocalEventBus.start({ busNames: ['sessions'] });
    try {
      const busEnv = {
        AWS_ENDPOINT_URL_EVENTBRIDGE: bus.endpoint,
        [ENV.EVENT_BUS_NAME]: 'arn:aws:events:us-east-1:123456789012:event-bus/sessions',
        [ENV.SERVICE_NAME]: 'bundle-service',
      };

      // WHEN
      const [created, warm, deleted] = await invokeBundle(ORCHESTRATOR, [
        event('PUT', '/sessions/bundle-ev', { body: { labels: { tenant: 'acme' } } }),
        event('PUT', '/sessions/bundle-ev'),
        event('DELETE', '/sessions/bundle-ev'),
      ], busEnv);

      // THEN
      expect([created.statusCode, warm.statusCode, deleted.statusCode]).toEqual([201, 200, 204]);
      expect(bus.putEventsCalls).toBe(2);
      expect(bus.events.map((e) => [e.detailType, e.detail.service, e.detail.labels])).toEqual([
        ['Session Created', 'bundle-service', { tenant: 'acme' }],
        ['Session Ended', 'bundle-service', { tenant: 'acme' }],
      ]);
    } finally {
      await bus.stop();
    }
  });

  test('the sweeper bundle runs a requested checkpoint: a token for the checkpoint port, the guest\'s upload, the record', async () => {
    // GIVEN s3rver, a guest on port 9100 that uploads a small archive, and a session the orchestrator bundle created
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const S3rver = require('s3rver');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-s3-'));
    const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir, configureBuckets: [{ name: 'checkpoints' }] });
    const { port } = await server.run();
    const s3 = new S3Client({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    for (const version of ['1', '2']) {
      rig.emulator.registerApp(rig.imageArn, version, {
        9100: (req, res) => {
          let raw = '';
          req.on('data', (c) => { raw += c; });
          req.on('end', async () => {
            const put = await fetch(JSON.parse(raw).uploadUrl, { method: 'PUT', body: 'workspace' });
            res.writeHead(put.status === 200 ? 200 : 502, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ bytes: 9 }));
          });
        },
      });
    }
    const env = {
      AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`,
      [ENV.CHECKPOINT_BUCKET]: 'checkpoints',
      [ENV.CHECKPOINT_PORT]: '9100',
      [ENV.DATA_PLANE_URL_TEMPLATE]: `${rig.emulator.dataPlaneEndpoint}/{endpoint}`,
    };
    try {
      const [created] = await invokeBundle(ORCHESTRATOR, [event('PUT', '/sessions/bundle-ck')], env);
      expect(created.statusCode).toBe(201);

      // WHEN the sweeper bundle gets the request the session API hands it
      const [outcome] = await invokeBundle(SWEEPER, [{ action: 'checkpoint', owner: sha256Hex('arn:aws:iam::111111111111:user/alice'), sessionId: 'bundle-ck', generation: 1 }], {
        ...env, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER',
      });

      // THEN
      expect(outcome).toMatchObject({ saved: true, checkpoint: { bytes: 9, generation: 1 } });
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'checkpoints' }));
      expect(listed.Contents?.map((o) => o.Key)).toEqual([outcome.checkpoint.key]);
    } finally {
      s3.destroy();
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the sweeper bundle lists the image\'s MicroVMs and reports a sweep', async () => {
    // GIVEN
    rig.emulator.resetCallCounts();

    // WHEN
    await invokeBundle(SWEEPER, [{ 'detail-type': 'Scheduled Event' }]);

    // THEN
    expect(rig.emulator.callCounts().ListMicrovms).toBeGreaterThanOrEqual(1);
  });
});

describe('the bundled smoke test answers CloudFormation through the ResponseURL', () => {
  let server: http.Server;
  let responses: any[];
  let responseUrl: string;

  beforeAll(async () => {
    responses = [];
    server = http.createServer((req, res) => {
      let text = '';
      req.on('data', (chunk) => { text += chunk; });
      req.on('end', () => {
        responses.push({ method: req.method, body: JSON.parse(text) });
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    responseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/presigned?X-Amz-Signature=secret`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  function customResourceEvent(requestType: 'Create' | 'Update' | 'Delete', properties: Record<string, unknown>, physicalId?: string) {
    return {
      RequestType: requestType,
      ResponseURL: responseUrl,
      StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/app/1',
      RequestId: `request-${responses.length}`,
      LogicalResourceId: 'OrchSmokeTest',
      ResourceType: 'Custom::MicrovmSmokeTest',
      ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:smoke',
      ...(physicalId ? { PhysicalResourceId: physicalId } : {}),
      ResourceProperties: {
        ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:smoke',
        ImageArn: rig.imageArn,
        ImageVersion: '',
        ExecutionRoleArn: '',
        RuntimeLogGroup: '',
        EgressConnectors: [`arn:aws:lambda:${rig.emulator.region}:123456789012:network-connector:isolated`],
        IngressConnectors: [`arn:aws:lambda:${rig.emulator.region}:aws:network-connector:aws-network-connector:HTTP_INGRESS`],
        Port: '8080',
        Path: '/health',
        ExpectedStatus: '200',
        TimeoutSeconds: '5',
        Payload: '',
        ...properties,
      },
    };
  }

  function smokeEnv(): Record<string, string> {
    return { [ENV.DATA_PLANE_URL_TEMPLATE]: `${rig.emulator.dataPlaneEndpoint}/{endpoint}` };
  }

  test('Create of a good version: SUCCESS with the version it tested, and the probe terminated', async () => {
    // GIVEN
    const latest = (await rig.microvms.send(new GetMicrovmImageCommand({ imageIdentifier: rig.imageArn }))).latestActiveImageVersion!;
    rig.emulator.registerApp(rig.imageArn, latest, DataPlaneApps.healthy());
    rig.emulator.resetCallCounts();
    responses.length = 0;
    // WHEN
    await invokeBundle(SMOKE_TEST, [customResourceEvent('Create', {})], smokeEnv());
    // THEN
    expect(responses).toHaveLength(1);
    expect(responses[0]).toMatchObject({
      method: 'PUT',
      body: { Status: 'SUCCESS', PhysicalResourceId: `${rig.imageArn}:${latest}`, Data: { ImageVersion: latest }, LogicalResourceId: 'OrchSmokeTest' },
    });
    expect(rig.emulator.callCounts()).toMatchObject({ RunMicrovm: 1, CreateMicrovmAuthToken: 1, TerminateMicrovm: 1 });
  });

  test('Update to a broken version: FAILED with the status and body, the version INACTIVE, the old physical id kept', async () => {
    // GIVEN version 2 of a fresh image answers 500; version 1 passed before.
    const imageArn = rig.emulator.registerImage({ name: 'smoke-broken', versions: ['1', '2'] });
    rig.emulator.registerApp(imageArn, '2', DataPlaneApps.failing(500));
    responses.length = 0;
    // WHEN
    await invokeBundle(SMOKE_TEST, [customResourceEvent('Update', { ImageArn: imageArn, ImageVersion: '2' }, `${imageArn}:1`)], smokeEnv());
    // THEN
    expect(responses).toHaveLength(1);
    expect(responses[0].body).toMatchObject({ Status: 'FAILED', PhysicalResourceId: `${imageArn}:1` });
    expect(responses[0].body.Reason).toMatch(/^GET \/health on port 8080 of version 2 answered HTTP 500, expected 200; body starts .*Version 2 was set INACTIVE/);
    const version = await rig.microvms.send(new GetMicrovmImageVersionCommand({ imageIdentifier: imageArn, imageVersion: '2' }));
    expect(version.status).toBe('INACTIVE');
    expect(rig.emulator.listVms().filter((vm) => vm.imageArn === imageArn).every((vm) => vm.state.startsWith('TERMINAT'))).toBe(true);
  });

  test('Delete does nothing but answer SUCCESS; bad properties answer FAILED with the reason', async () => {
    // GIVEN
    responses.length = 0;
    rig.emulator.resetCallCounts();
    // WHEN
    await invokeBundle(SMOKE_TEST, [
      customResourceEvent('Delete', {}, `${rig.imageArn}:1`),
      customResourceEvent('Create', { Port: 'eighty' }),
    ], smokeEnv());
    // THEN
    expect(responses.map((r) => r.body.Status)).toEqual(['SUCCESS', 'FAILED']);
    expect(responses[1].body.Reason).toBe('smoke test misconfigured: Port must be an integer from 1 to 65535');
    expect(rig.emulator.callCounts().RunMicrovm ?? 0).toBe(0);
  });
});
