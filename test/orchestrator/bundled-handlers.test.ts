import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { body, CREDENTIALS, event, Rig, startRig } from './runtime/harness';
import { ENV } from '../../src/shared/contract';

// what Lambda runs is the esbuild bundle in assets/, not the TypeScript under src/: a bundling option (module-first
// main fields, minify, no externals) that broke a dependency would pass every source-level test. These load the
// bundles the constructs deploy, each in a fresh `node` process as Lambda would (not inside Jest's module sandbox,
// whose realm differs from Node's), and drive them against the emulator and dynalite running in this process.
const ASSETS = path.join(__dirname, '..', '..', 'assets', 'orchestrator');
const ORCHESTRATOR = path.join(ASSETS, 'orchestrator.lambda', 'index.js');
const SWEEPER = path.join(ASSETS, 'sweeper.lambda', 'index.js');

let rig: Rig;

beforeAll(async () => {
  rig = await startRig({ rateLimits: false });
});

afterAll(async () => {
  await rig.stop();
});

/** Loads a bundle in a fresh node process and calls its handler once per event, in order; answers the results. */
function invokeBundle(file: string, events: unknown[]): Promise<any[]> {
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

  test('exist: `npx projen bundle` (part of the build) wrote both', () => {
    expect(fs.existsSync(ORCHESTRATOR)).toBe(true);
    expect(fs.existsSync(SWEEPER)).toBe(true);
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

  test('the sweeper bundle lists the image\'s MicroVMs and reports a sweep', async () => {
    // GIVEN
    rig.emulator.resetCallCounts();

    // WHEN
    await invokeBundle(SWEEPER, [{ 'detail-type': 'Scheduled Event' }]);

    // THEN
    expect(rig.emulator.callCounts().ListMicrovms).toBeGreaterThanOrEqual(1);
  });
});
