import * as http from 'node:http';
import {
  AccessDeniedException,
  ConflictException,
  CreateMicrovmAuthTokenCommand,
  CreateMicrovmImageCommand,
  CreateMicrovmShellAuthTokenCommand,
  DeleteMicrovmImageCommand,
  GetMicrovmCommand,
  GetMicrovmImageCommand,
  GetMicrovmImageVersionCommand,
  LambdaMicrovmsClient,
  LambdaMicrovmsServiceException,
  ListManagedMicrovmImagesCommand,
  ListManagedMicrovmImageVersionsCommand,
  ListMicrovmImagesCommand,
  ListMicrovmImageVersionsCommand,
  ListMicrovmsCommand,
  ResourceNotFoundException,
  ResumeMicrovmCommand,
  RunMicrovmCommand,
  RunMicrovmCommandInput,
  SuspendMicrovmCommand,
  TerminateMicrovmCommand,
  UpdateMicrovmImageCommand,
  UpdateMicrovmImageVersionCommand,
  ValidationException,
  paginateListMicrovms,
} from '@aws-sdk/client-lambda-microvms';
import { clientFor, rejectionOf } from './helpers';
import { AUTH_TOKEN_KEY, MicrovmEmulator } from '../../src/local';

const MANAGED = 'arn:aws:lambda:us-east-1:aws:network-connector:aws-network-connector';

let emulator: MicrovmEmulator;
let client: LambdaMicrovmsClient;
let imageArn: string;

beforeEach(async () => {
  emulator = await MicrovmEmulator.start({ rateLimits: false });
  imageArn = emulator.registerImage({ name: 'sandbox', versions: ['1', '2'], hooksPort: 9000 });
  client = clientFor(emulator);
});

afterEach(async () => {
  client.destroy();
  await emulator.stop();
});

const run = (input: Partial<RunMicrovmCommandInput> = {}) =>
  client.send(new RunMicrovmCommand({ imageIdentifier: imageArn, ...input }));

describe('RunMicrovm and GetMicrovm', () => {
  test('launches from the latest active version with the service defaults', async () => {
    // WHEN
    const vm = await run({ runHookPayload: '{"user":"a"}' });

    // THEN
    expect(vm).toMatchObject({
      state: 'PENDING',
      imageArn,
      imageVersion: '2',
      maximumDurationInSeconds: 28800,
      ingressNetworkConnectors: [`${MANAGED}:HTTP_INGRESS`],
      egressNetworkConnectors: [`${MANAGED}:INTERNET_EGRESS`],
    });
    expect(vm.microvmId).toMatch(/^mvm-/);
    expect(vm.endpoint).toBe(`${vm.microvmId}.lambda-microvm.us-east-1.on.aws`);
    expect(vm.startedAt).toBeInstanceOf(Date);
    expect(emulator.getVm(vm.microvmId!)?.runHookPayload).toBe('{"user":"a"}');
  });

  test('GetMicrovm returns the VM with its current state and every field RunMicrovm set', async () => {
    // GIVEN
    const idlePolicy = { maxIdleDurationSeconds: 300, suspendedDurationSeconds: 3600, autoResumeEnabled: true };
    const vm = await run({
      imageVersion: '1',
      idlePolicy,
      maximumDurationInSeconds: 600,
      executionRoleArn: 'arn:aws:iam::123456789012:role/vm-role',
      ingressNetworkConnectors: [`${MANAGED}:ALL_INGRESS`],
      egressNetworkConnectors: ['arn:aws:lambda:us-east-1:123456789012:network-connector:nc-closed'],
      logging: { cloudWatch: { logGroup: '/aws/lambda-microvms/sandbox' } },
    });

    // WHEN
    const got = await client.send(new GetMicrovmCommand({ microvmIdentifier: vm.microvmId }));

    // THEN
    expect(got).toMatchObject({
      microvmId: vm.microvmId,
      state: 'RUNNING',
      imageVersion: '1',
      idlePolicy,
      maximumDurationInSeconds: 600,
      executionRoleArn: 'arn:aws:iam::123456789012:role/vm-role',
      ingressNetworkConnectors: [`${MANAGED}:ALL_INGRESS`],
      egressNetworkConnectors: ['arn:aws:lambda:us-east-1:123456789012:network-connector:nc-closed'],
    });
    expect(got.startedAt?.getTime()).toBe(vm.startedAt?.getTime());
    expect(got.terminatedAt).toBeUndefined();
  });

  test('fails if the VM is unknown, with ResourceNotFoundException and its fields', async () => {
    // WHEN
    const error = await rejectionOf(client.send(new GetMicrovmCommand({ microvmIdentifier: 'mvm-missing' })));

    // THEN
    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect(error.$metadata.httpStatusCode).toBe(404);
    expect(error.resourceId).toBe('mvm-missing');
    expect(error.resourceType).toBe('Microvm');
  });

  test('fails if the image or the version does not exist', async () => {
    // WHEN
    const unknownImage = await rejectionOf(run({ imageIdentifier: 'arn:aws:lambda:us-east-1:123456789012:microvm-image:nope' }));
    const unknownVersion = await rejectionOf(run({ imageVersion: '9' }));

    // THEN
    expect(unknownImage).toBeInstanceOf(ResourceNotFoundException);
    expect(unknownVersion).toBeInstanceOf(ResourceNotFoundException);
    expect(emulator.listVms()).toHaveLength(0);
  });

  test('fails if the version is INACTIVE, and launches the previous one by default', async () => {
    // GIVEN
    await client.send(new UpdateMicrovmImageVersionCommand({ imageIdentifier: imageArn, imageVersion: '2', status: 'INACTIVE' }));

    // WHEN
    const pinned = await rejectionOf(run({ imageVersion: '2' }));
    const latest = await run();

    // THEN
    expect(pinned).toBeInstanceOf(ResourceNotFoundException);
    expect(latest.imageVersion).toBe('1');
  });

  test.each<[string, Partial<RunMicrovmCommandInput>]>([
    ['the image is a bare name', { imageIdentifier: 'sandbox' }],
    ['the image identifier is missing', { imageIdentifier: undefined }],
    ['runHookPayload is over 4096 characters', { runHookPayload: 'x'.repeat(4097) }],
    ['maximumDurationInSeconds is 0', { maximumDurationInSeconds: 0 }],
    ['maximumDurationInSeconds is over 8 hours', { maximumDurationInSeconds: 28801 }],
    ['maxIdleDurationSeconds is under 60', { idlePolicy: { maxIdleDurationSeconds: 59, suspendedDurationSeconds: 0, autoResumeEnabled: true } }],
    ['the idle policy lacks a field', { idlePolicy: { maxIdleDurationSeconds: 60, suspendedDurationSeconds: 0 } as any }],
    ['a connector is not a full ARN', { ingressNetworkConnectors: ['HTTP_INGRESS'] }],
    ['ALL_INGRESS is combined with another connector', { ingressNetworkConnectors: [`${MANAGED}:ALL_INGRESS`, `${MANAGED}:SHELL_INGRESS`] }],
    ['NO_EGRESS is used (there is no such managed connector)', { egressNetworkConnectors: [`${MANAGED}:NO_EGRESS`] }],
    ['the execution role is not a role ARN', { executionRoleArn: 'arn:aws:iam::123456789012:user/someone' }],
    ['logging sets both union members', { logging: { disabled: {}, cloudWatch: {} } as any }],
  ])('fails if %s (ValidationException, nothing launched)', async (_name, input) => {
    // WHEN
    const error = await rejectionOf(run(input));

    // THEN
    expect(error).toBeInstanceOf(ValidationException);
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(emulator.listVms()).toHaveLength(0);
  });

  test('accepts a runHookPayload of exactly 4096 characters', async () => {
    // WHEN
    const vm = await run({ runHookPayload: 'x'.repeat(4096) });

    // THEN
    expect(vm.state).toBe('PENDING');
  });
});

describe('clientToken', () => {
  test('the same token and parameters return the same VM, even after it was suspended and terminated', async () => {
    // GIVEN
    const first = await run({ clientToken: 'token-1', runHookPayload: 'p' });
    await client.send(new SuspendMicrovmCommand({ microvmIdentifier: first.microvmId }));
    const afterSuspend = await run({ clientToken: 'token-1', runHookPayload: 'p' });
    await client.send(new TerminateMicrovmCommand({ microvmIdentifier: first.microvmId }));

    // WHEN
    const afterTerminate = await run({ clientToken: 'token-1', runHookPayload: 'p' });

    // THEN
    expect(afterSuspend.microvmId).toBe(first.microvmId);
    expect(afterSuspend.state).toBe('SUSPENDED');
    expect(afterTerminate.microvmId).toBe(first.microvmId);
    expect(afterTerminate.state).toBe('TERMINATED');
    expect(emulator.listVms()).toHaveLength(1);
  });

  test('fails if the token is reused with different parameters (ConflictException)', async () => {
    // GIVEN
    const first = await run({ clientToken: 'token-2', runHookPayload: 'a' });

    // WHEN
    const error = await rejectionOf(run({ clientToken: 'token-2', runHookPayload: 'b' }));

    // THEN
    expect(error).toBeInstanceOf(ConflictException);
    expect(error.$metadata.httpStatusCode).toBe(409);
    expect(error.resourceId).toBe(first.microvmId);
    expect(emulator.listVms()).toHaveLength(1);
  });

  test('fifty concurrent launches with one token create one VM', async () => {
    // WHEN
    const results = await Promise.all(Array.from({ length: 50 }, () => run({ clientToken: 'same' })));

    // THEN
    expect(new Set(results.map((r) => r.microvmId)).size).toBe(1);
    expect(emulator.listVms()).toHaveLength(1);
  });
});

describe('ListMicrovms', () => {
  test('pages 120 VMs as 50, 50 and 20, with no token after the last page', async () => {
    // GIVEN
    const ids = emulator.seedVms(120, { imageArn });

    // WHEN
    const pages = [];
    for await (const page of paginateListMicrovms({ client }, { imageIdentifier: imageArn })) pages.push(page);

    // THEN
    expect(pages.map((p) => p.items?.length)).toEqual([50, 50, 20]);
    expect(pages[2].nextToken).toBeUndefined();
    expect(pages.flatMap((p) => p.items!.map((i) => i.microvmId))).toEqual(ids);
    expect(emulator.callCounts().ListMicrovms).toBe(3);
  });

  test('filters by image and version, and accepts the image name', async () => {
    // GIVEN
    const other = emulator.registerImage({ name: 'other' });
    emulator.seedVms(3, { imageArn, imageVersion: '1' });
    emulator.seedVms(2, { imageArn, imageVersion: '2' });
    emulator.seedVms(4, { imageArn: other });

    // WHEN
    const byArn = await client.send(new ListMicrovmsCommand({ imageIdentifier: imageArn }));
    const byVersion = await client.send(new ListMicrovmsCommand({ imageIdentifier: imageArn, imageVersion: '2' }));
    const byName = await client.send(new ListMicrovmsCommand({ imageIdentifier: 'other' }));
    const all = await client.send(new ListMicrovmsCommand({}));

    // THEN
    expect(byArn.items).toHaveLength(5);
    expect(byVersion.items).toHaveLength(2);
    expect(byName.items).toHaveLength(4);
    expect(all.items).toHaveLength(9);
    expect(byVersion.items![0]).toEqual({
      microvmId: expect.stringMatching(/^mvm-/),
      state: 'RUNNING',
      imageArn,
      imageVersion: '2',
      startedAt: expect.any(Date),
    });
  });

  test('a page of exactly 50 at the end has no next token', async () => {
    // GIVEN
    emulator.seedVms(100, { imageArn });

    // WHEN
    const first = await client.send(new ListMicrovmsCommand({}));
    const second = await client.send(new ListMicrovmsCommand({ nextToken: first.nextToken }));

    // THEN
    expect(first.items).toHaveLength(50);
    expect(first.nextToken).toEqual(expect.any(String));
    expect(second.items).toHaveLength(50);
    expect(second.nextToken).toBeUndefined();
  });

  test('terminating VMs between pages skips and repeats nothing', async () => {
    // GIVEN
    const ids = emulator.seedVms(60, { imageArn });
    const first = await client.send(new ListMicrovmsCommand({ maxResults: 30 }));
    for (const id of ids.slice(0, 40)) emulator.terminateExternally(id);

    // WHEN
    const second = await client.send(new ListMicrovmsCommand({ maxResults: 30, nextToken: first.nextToken }));

    // THEN
    expect(second.items!.map((i) => i.microvmId)).toEqual(ids.slice(30));
    expect(second.items!.slice(0, 10).every((i) => i.state === 'TERMINATED')).toBe(true);
  });

  test.each([0, 51])('fails if maxResults is %d', async (maxResults) => {
    // WHEN
    const error = await rejectionOf(client.send(new ListMicrovmsCommand({ maxResults })));

    // THEN
    expect(error).toBeInstanceOf(ValidationException);
  });

  test('fails if the next token is forged or belongs to another filter', async () => {
    // GIVEN
    emulator.seedVms(60, { imageArn });
    const first = await client.send(new ListMicrovmsCommand({}));

    // WHEN
    const forged = await rejectionOf(client.send(new ListMicrovmsCommand({ nextToken: 'not-a-token' })));
    const otherFilter = await rejectionOf(client.send(new ListMicrovmsCommand({ imageIdentifier: imageArn, nextToken: first.nextToken })));

    // THEN
    expect(forged).toBeInstanceOf(ValidationException);
    expect(otherFilter).toBeInstanceOf(ValidationException);
  });
});

describe('SuspendMicrovm, ResumeMicrovm, TerminateMicrovm', () => {
  test('suspend, resume and terminate move the VM through the states', async () => {
    // GIVEN
    const { microvmId } = await run();
    const state = async () => (await client.send(new GetMicrovmCommand({ microvmIdentifier: microvmId }))).state;

    // WHEN / THEN
    expect(await client.send(new SuspendMicrovmCommand({ microvmIdentifier: microvmId }))).toMatchObject({ $metadata: { httpStatusCode: 200 } });
    expect(await state()).toBe('SUSPENDED');
    await client.send(new ResumeMicrovmCommand({ microvmIdentifier: microvmId }));
    expect(await state()).toBe('RUNNING');
    await client.send(new TerminateMicrovmCommand({ microvmIdentifier: microvmId }));
    const terminated = await client.send(new GetMicrovmCommand({ microvmIdentifier: microvmId }));
    expect(terminated.state).toBe('TERMINATED');
    expect(terminated.stateReason).toBe('Terminated by TerminateMicrovm.');
    expect(terminated.terminatedAt).toBeInstanceOf(Date);
  });

  test('fails if a non-RUNNING VM is suspended or a non-SUSPENDED VM is resumed (ConflictException)', async () => {
    // GIVEN
    const { microvmId } = await run();
    await client.send(new SuspendMicrovmCommand({ microvmIdentifier: microvmId }));

    // WHEN
    const suspendTwice = await rejectionOf(client.send(new SuspendMicrovmCommand({ microvmIdentifier: microvmId })));
    await client.send(new ResumeMicrovmCommand({ microvmIdentifier: microvmId }));
    const resumeRunning = await rejectionOf(client.send(new ResumeMicrovmCommand({ microvmIdentifier: microvmId })));

    // THEN
    expect(suspendTwice).toBeInstanceOf(ConflictException);
    expect(suspendTwice.resourceId).toBe(microvmId);
    expect(resumeRunning).toBeInstanceOf(ConflictException);
  });

  test('terminate is idempotent, and fails only for an unknown VM', async () => {
    // GIVEN
    const { microvmId } = await run();
    await client.send(new TerminateMicrovmCommand({ microvmIdentifier: microvmId }));

    // WHEN
    const again = await client.send(new TerminateMicrovmCommand({ microvmIdentifier: microvmId }));
    const unknown = await rejectionOf(client.send(new TerminateMicrovmCommand({ microvmIdentifier: 'mvm-nope' })));

    // THEN
    expect(again.$metadata.httpStatusCode).toBe(200);
    expect(unknown).toBeInstanceOf(ResourceNotFoundException);
  });
});

describe('CreateMicrovmAuthToken and CreateMicrovmShellAuthToken', () => {
  test('issues an opaque random token under X-aws-proxy-auth and records its scope', async () => {
    // GIVEN
    const { microvmId } = await run();

    // WHEN
    const a = await client.send(new CreateMicrovmAuthTokenCommand({
      microvmIdentifier: microvmId,
      expirationInMinutes: 15,
      allowedPorts: [{ port: 8080 }, { range: { startPort: 3000, endPort: 3001 } }],
    }));
    const b = await client.send(new CreateMicrovmAuthTokenCommand({
      microvmIdentifier: microvmId,
      expirationInMinutes: 1,
      allowedPorts: [{ allPorts: {} }],
    }));

    // THEN
    expect(Object.keys(a.authToken!)).toEqual([AUTH_TOKEN_KEY]);
    const token = a.authToken![AUTH_TOKEN_KEY];
    expect(token.length).toBeGreaterThan(40);
    expect(token).not.toContain(microvmId!);
    expect(b.authToken![AUTH_TOKEN_KEY]).not.toBe(token);
    const issued = emulator.issuedTokens();
    expect(issued[0]).toMatchObject({
      kind: 'app',
      microvmId,
      token,
      allowedPorts: [{ port: 8080 }, { range: { startPort: 3000, endPort: 3001 } }],
      expirationInMinutes: 15,
    });
    expect(issued[0].expiresAt - issued[0].issuedAt).toBe(15 * 60_000);
    expect(issued[1].allowedPorts).toEqual([{ allPorts: {} }]);
  });

  test.each<[string, any]>([
    ['the expiry is 0 minutes', { expirationInMinutes: 0, allowedPorts: [{ port: 8080 }] }],
    ['the expiry is over 60 minutes', { expirationInMinutes: 61, allowedPorts: [{ port: 8080 }] }],
    ['no port is allowed', { expirationInMinutes: 5, allowedPorts: [] }],
    ['a port is out of range', { expirationInMinutes: 5, allowedPorts: [{ port: 70000 }] }],
    ['a range is reversed', { expirationInMinutes: 5, allowedPorts: [{ range: { startPort: 9, endPort: 1 } }] }],
  ])('fails if %s (ValidationException)', async (_name, input) => {
    // GIVEN
    const { microvmId } = await run();

    // WHEN
    const error = await rejectionOf(client.send(new CreateMicrovmAuthTokenCommand({ microvmIdentifier: microvmId, ...input })));

    // THEN
    expect(error).toBeInstanceOf(ValidationException);
    expect(emulator.issuedTokens()).toHaveLength(0);
  });

  test('fails if the VM is TERMINATED (ConflictException)', async () => {
    // GIVEN
    const { microvmId } = await run();
    await client.send(new TerminateMicrovmCommand({ microvmIdentifier: microvmId }));

    // WHEN
    const error = await rejectionOf(client.send(new CreateMicrovmAuthTokenCommand({
      microvmIdentifier: microvmId,
      expirationInMinutes: 5,
      allowedPorts: [{ port: 8080 }],
    })));

    // THEN
    expect(error).toBeInstanceOf(ConflictException);
  });

  test('a shell token needs SHELL_INGRESS', async () => {
    // GIVEN
    const plain = await run();
    const shell = await run({ ingressNetworkConnectors: [`${MANAGED}:HTTP_INGRESS`, `${MANAGED}:SHELL_INGRESS`] });

    // WHEN
    const refused = await rejectionOf(
      client.send(new CreateMicrovmShellAuthTokenCommand({ microvmIdentifier: plain.microvmId, expirationInMinutes: 5 })),
    );
    const issued = await client.send(new CreateMicrovmShellAuthTokenCommand({ microvmIdentifier: shell.microvmId, expirationInMinutes: 5 }));

    // THEN
    expect(refused).toBeInstanceOf(ValidationException);
    expect(issued.authToken![AUTH_TOKEN_KEY]).toEqual(expect.any(String));
    expect(emulator.issuedTokens()).toEqual([expect.objectContaining({ kind: 'shell', microvmId: shell.microvmId, allowedPorts: [{ port: 8022 }] })]);
  });
});

describe('image API', () => {
  test('a created image has version 1, SUCCESSFUL and ACTIVE, and can be launched', async () => {
    // WHEN
    const created = await client.send(new CreateMicrovmImageCommand({
      name: 'built',
      baseImageArn: 'arn:aws:lambda:us-east-1:aws:microvm-image:al2023-1',
      buildRoleArn: 'arn:aws:iam::123456789012:role/build',
      codeArtifact: { uri: 's3://bucket/app.zip' },
      resources: [{ minimumMemoryInMiB: 4096 }],
    }));
    const image = await client.send(new GetMicrovmImageCommand({ imageIdentifier: created.imageArn }));
    const version = await client.send(new GetMicrovmImageVersionCommand({ imageIdentifier: created.imageArn, imageVersion: '1' }));
    const vm = await run({ imageIdentifier: created.imageArn });

    // THEN
    expect(created).toMatchObject({ name: 'built', imageVersion: '1', state: 'CREATING', $metadata: { httpStatusCode: 201 } });
    expect(image).toMatchObject({ state: 'CREATED', latestActiveImageVersion: '1' });
    expect(version).toMatchObject({ state: 'SUCCESSFUL', status: 'ACTIVE', resources: [{ minimumMemoryInMiB: 4096 }] });
    expect(emulator.getVm(vm.microvmId!)?.memoryMiB).toBe(4096);
  });

  test('fails if an image name is taken (ConflictException) or the base image is unknown', async () => {
    // GIVEN
    const input = {
      name: 'sandbox',
      baseImageArn: 'arn:aws:lambda:us-east-1:aws:microvm-image:al2023-1',
      buildRoleArn: 'arn:aws:iam::123456789012:role/build',
      codeArtifact: { uri: 's3://bucket/app.zip' },
    };

    // WHEN
    const taken = await rejectionOf(client.send(new CreateMicrovmImageCommand(input)));
    const badBase = await rejectionOf(client.send(new CreateMicrovmImageCommand({ ...input, name: 'x', baseImageArn: 'arn:aws:lambda:us-east-1:aws:microvm-image:nope' })));

    // THEN
    expect(taken).toBeInstanceOf(ConflictException);
    expect(badBase).toBeInstanceOf(ResourceNotFoundException);
  });

  test('fails if an image with live VMs is deleted (ConflictException); succeeds once they are TERMINATED', async () => {
    // GIVEN
    const { microvmId } = await run();

    // WHEN
    const refused = await rejectionOf(client.send(new DeleteMicrovmImageCommand({ imageIdentifier: imageArn })));
    await client.send(new TerminateMicrovmCommand({ microvmIdentifier: microvmId }));
    const deleted = await client.send(new DeleteMicrovmImageCommand({ imageIdentifier: imageArn }));
    const gone = await rejectionOf(client.send(new GetMicrovmImageCommand({ imageIdentifier: imageArn })));

    // THEN
    expect(refused).toBeInstanceOf(ConflictException);
    expect(deleted).toMatchObject({ imageIdentifier: imageArn, state: 'DELETING' });
    expect(gone).toBeInstanceOf(ResourceNotFoundException);
  });

  test('an update builds a new version that new launches use; existing VMs keep theirs', async () => {
    // GIVEN
    const before = await run();
    const config = {
      baseImageArn: 'arn:aws:lambda:us-east-1:aws:microvm-image:al2023-1',
      buildRoleArn: 'arn:aws:iam::123456789012:role/build',
      codeArtifact: { uri: 's3://bucket/app-v3.zip' },
    };

    // WHEN
    const updated = await client.send(new UpdateMicrovmImageCommand({ imageIdentifier: imageArn, ...config }));
    const after = await run();
    const byName = await rejectionOf(client.send(new UpdateMicrovmImageCommand({ imageIdentifier: 'sandbox', ...config })));

    // THEN
    expect(updated).toMatchObject({ imageVersion: '3', state: 'UPDATING', codeArtifact: { uri: 's3://bucket/app-v3.zip' } });
    expect(after.imageVersion).toBe('3');
    expect(emulator.getVm(before.microvmId!)?.imageVersion).toBe('2');
    expect(byName).toBeInstanceOf(ValidationException);
    const image = await client.send(new GetMicrovmImageCommand({ imageIdentifier: imageArn }));
    expect(image).toMatchObject({ state: 'UPDATED', latestActiveImageVersion: '3' });
  });

  test('lists images, versions and the managed base image', async () => {
    // WHEN
    const images = await client.send(new ListMicrovmImagesCommand({ nameFilter: 'sand' }));
    const versions = await client.send(new ListMicrovmImageVersionsCommand({ imageIdentifier: imageArn }));
    const managed = await client.send(new ListManagedMicrovmImagesCommand({}));
    const managedVersions = await client.send(new ListManagedMicrovmImageVersionsCommand({ imageIdentifier: managed.items![0].imageArn }));

    // THEN
    expect(images.items).toEqual([expect.objectContaining({ name: 'sandbox', imageArn, latestActiveImageVersion: '2' })]);
    expect(versions.items!.map((v) => [v.imageVersion, v.state, v.status, v.hooks?.port])).toEqual([
      ['1', 'SUCCESSFUL', 'ACTIVE', 9000],
      ['2', 'SUCCESSFUL', 'ACTIVE', 9000],
    ]);
    expect(managed.items).toEqual([expect.objectContaining({ imageArn: 'arn:aws:lambda:us-east-1:aws:microvm-image:al2023-1' })]);
    expect(managedVersions.items!.map((v) => v.status)).toContain('AVAILABLE');
  });
});

describe('wire protocol', () => {
  test('fails if a request is not SigV4-signed for lambda (403 AccessDeniedException)', async () => {
    // WHEN
    const answer = await rawRequest(emulator.endpoint, 'GET', '/2025-09-09/microvms');

    // THEN
    expect(answer.status).toBe(403);
    expect(answer.headers['x-amzn-errortype']).toBe('AccessDeniedException');
    expect(JSON.parse(answer.body)).toEqual({ message: expect.any(String) });
  });

  test('fails if the SDK request loses its signature (AccessDeniedException through the SDK)', async () => {
    // GIVEN a client whose requests lose the Authorization header after signing
    client.middlewareStack.add((next) => async (args: any) => {
      delete args.request.headers.authorization;
      return next(args);
    }, { step: 'deserialize', name: 'dropSignature' });

    // WHEN
    const error = await rejectionOf(run());

    // THEN
    expect(error).toBeInstanceOf(AccessDeniedException);
    expect(error.$metadata.httpStatusCode).toBe(403);
    expect(emulator.listVms()).toHaveLength(0);
  });

  test('fails if the route is unknown (a generic service exception, 404)', async () => {
    // WHEN
    const answer = await rawRequest(emulator.endpoint, 'GET', '/2025-09-09/nothing', 'AWS4-HMAC-SHA256 Credential=AK/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=x');

    // THEN
    expect(answer.status).toBe(404);
    expect(answer.headers['x-amzn-errortype']).toBe('UnknownOperationException');
  });

  test('a malformed JSON body is a ValidationException, not a 500', async () => {
    // WHEN
    const answer = await rawRequest(emulator.endpoint, 'POST', '/2025-09-09/microvms', 'AWS4-HMAC-SHA256 Credential=AK/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=x', '{not json');

    // THEN
    expect(answer.status).toBe(400);
    expect(answer.headers['x-amzn-errortype']).toBe('ValidationException');
  });

  test('every error the SDK sees is a LambdaMicrovmsServiceException', async () => {
    // WHEN
    const error = await rejectionOf(client.send(new GetMicrovmCommand({ microvmIdentifier: 'x'.repeat(257) })));

    // THEN
    expect(error).toBeInstanceOf(LambdaMicrovmsServiceException);
    expect(error).toBeInstanceOf(ValidationException);
  });
});

function rawRequest(endpoint: string, method: string, path: string, authorization?: string, body?: string) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = http.request(`${endpoint}${path}`, { method, headers: authorization ? { authorization } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
