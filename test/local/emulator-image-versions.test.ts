import {
  ConflictException,
  DeleteMicrovmImageVersionCommand,
  GetMicrovmCommand,
  GetMicrovmImageCommand,
  GetMicrovmImageVersionCommand,
  LambdaMicrovmsClient,
  ListMicrovmImageVersionsCommand,
  ResourceNotFoundException,
  RunMicrovmCommand,
  ServiceQuotaExceededException,
  UpdateMicrovmImageCommand,
} from '@aws-sdk/client-lambda-microvms';
import { clientFor, rejectionOf } from './helpers';
import { EmulatorOptions, MicrovmEmulator } from '../../src/local';
import { LIMITS } from '../../src/shared/contract';

const CONFIG = {
  baseImageArn: 'arn:aws:lambda:us-east-1:aws:microvm-image:al2023-1',
  buildRoleArn: 'arn:aws:iam::123456789012:role/build',
  codeArtifact: { uri: 's3://bucket/app.zip' },
};

let emulator: MicrovmEmulator;
let client: LambdaMicrovmsClient;
let imageArn: string;

async function start(options: EmulatorOptions = {}, versions = ['1', '2', '3']): Promise<void> {
  emulator = await MicrovmEmulator.start({ rateLimits: false, ...options });
  imageArn = emulator.registerImage({ name: 'sandbox', versions });
  client = clientFor(emulator);
}

afterEach(async () => {
  client.destroy();
  await emulator.stop();
});

const deleteVersion = (imageVersion: string, imageIdentifier = imageArn) =>
  client.send(new DeleteMicrovmImageVersionCommand({ imageIdentifier, imageVersion }));
const versionsOf = async () =>
  (await client.send(new ListMicrovmImageVersionsCommand({ imageIdentifier: imageArn }))).items!.map((v) => v.imageVersion);
const update = () => client.send(new UpdateMicrovmImageCommand({ imageIdentifier: imageArn, ...CONFIG }));

describe('DeleteMicrovmImageVersion', () => {
  test('removes the version from Get, List and RunMicrovm', async () => {
    // GIVEN
    await start();

    // WHEN
    const deleted = await deleteVersion('2');

    // THEN
    expect(deleted).toMatchObject({ imageIdentifier: imageArn, imageVersion: '2', state: 'DELETING', $metadata: { httpStatusCode: 200 } });
    expect(await versionsOf()).toEqual(['1', '3']);
    const get = await rejectionOf(client.send(new GetMicrovmImageVersionCommand({ imageIdentifier: imageArn, imageVersion: '2' })));
    expect(get).toBeInstanceOf(ResourceNotFoundException);
    const runIt = await rejectionOf(client.send(new RunMicrovmCommand({ imageIdentifier: imageArn, imageVersion: '2' })));
    expect(runIt).toBeInstanceOf(ResourceNotFoundException);
    expect(emulator.callCounts().DeleteMicrovmImageVersion).toBe(1);
  });

  test('is idempotent: deleting a deleted version succeeds with state DELETED', async () => {
    // GIVEN
    await start();
    await deleteVersion('1');

    // WHEN
    const again = await deleteVersion('1');

    // THEN
    expect(again).toMatchObject({ imageVersion: '1', state: 'DELETED' });
    expect(await versionsOf()).toEqual(['2', '3']);
  });

  test('fails if the image or the version does not exist (ResourceNotFoundException)', async () => {
    // GIVEN
    await start();

    // WHEN
    const noVersion = await rejectionOf(deleteVersion('9'));
    const noImage = await rejectionOf(deleteVersion('1', 'arn:aws:lambda:us-east-1:123456789012:microvm-image:nope'));

    // THEN
    expect(noVersion).toBeInstanceOf(ResourceNotFoundException);
    expect(noVersion).toMatchObject({ resourceType: 'MicrovmImageVersion', $metadata: { httpStatusCode: 404 } });
    expect(noImage).toBeInstanceOf(ResourceNotFoundException);
    expect(noImage).toMatchObject({ resourceType: 'MicrovmImage' });
  });

  test('fails if it would delete the last remaining version (ConflictException 409)', async () => {
    // GIVEN
    await start({}, ['1', '2']);
    await deleteVersion('1');

    // WHEN
    const refused = await rejectionOf(deleteVersion('2'));

    // THEN
    expect(refused).toBeInstanceOf(ConflictException);
    expect(refused.$metadata.httpStatusCode).toBe(409);
    expect(refused.message).toMatch(/last remaining version/);
    expect(await versionsOf()).toEqual(['2']);
  });

  test('fails if the version is still building (ConflictException)', async () => {
    // GIVEN a build that takes an hour on a frozen clock
    await start({ clock: () => 0, imageBuildDelayMs: 3_600_000 }, ['1']);
    await update();

    // WHEN
    const refused = await rejectionOf(deleteVersion('2'));

    // THEN
    expect(refused).toBeInstanceOf(ConflictException);
    expect(refused.message).toMatch(/still building/);
  });

  test('a VM running the deleted version keeps running; the latest active version falls back', async () => {
    // GIVEN
    await start();
    const vm = await client.send(new RunMicrovmCommand({ imageIdentifier: imageArn, imageVersion: '3' }));

    // WHEN
    await deleteVersion('3');

    // THEN
    const after = await client.send(new GetMicrovmCommand({ microvmIdentifier: vm.microvmId }));
    expect(after).toMatchObject({ state: 'RUNNING', imageVersion: '3' });
    const image = await client.send(new GetMicrovmImageCommand({ imageIdentifier: imageArn }));
    expect(image.latestActiveImageVersion).toBe('2');
  });

  test('a deleted version number is not handed out again', async () => {
    // GIVEN
    await start();
    await deleteVersion('3');

    // WHEN
    const updated = await update();

    // THEN
    expect(updated.imageVersion).toBe('4');
    expect(await versionsOf()).toEqual(['1', '2', '4']);
  });
});

describe('versions per image quota', () => {
  test('fails if an update would create one version more than the configured quota (ServiceQuotaExceededException 402)', async () => {
    // GIVEN
    await start({ versionsPerImageQuota: 3 }, ['1', '2']);
    expect((await update()).imageVersion).toBe('3');

    // WHEN
    const refused = await rejectionOf(update());

    // THEN
    expect(refused).toBeInstanceOf(ServiceQuotaExceededException);
    expect(refused).toMatchObject({
      $metadata: { httpStatusCode: 402 },
      quotaCode: 'versions-per-image',
      serviceCode: 'lambda',
      resourceType: 'MicrovmImage',
      resourceId: imageArn,
    });
    expect(await versionsOf()).toEqual(['1', '2', '3']);
  });

  test('deleting a version makes room for a new one', async () => {
    // GIVEN
    await start({ versionsPerImageQuota: 2 }, ['1', '2']);
    await rejectionOf(update());

    // WHEN
    await deleteVersion('1');
    const updated = await update();

    // THEN
    expect(updated.imageVersion).toBe('3');
  });

  test('the default quota is the service\'s 50: the update that would make the 51st version fails', async () => {
    // GIVEN an image at 50 versions
    await start({}, Array.from({ length: 49 }, (_, i) => String(i + 1)));
    expect((await update()).imageVersion).toBe('50');

    // WHEN
    const refused = await rejectionOf(update());

    // THEN
    expect(LIMITS.VERSIONS_PER_IMAGE).toBe(50);
    expect(refused).toBeInstanceOf(ServiceQuotaExceededException);
    expect((await versionsOf()).length).toBe(50);
  });

  test('fails if the configured quota is not a whole number of at least 1', async () => {
    // GIVEN
    await start();

    // WHEN / THEN
    await expect(MicrovmEmulator.start({ versionsPerImageQuota: 0 })).rejects.toThrow(/versionsPerImageQuota must be a whole number/);
    await expect(MicrovmEmulator.start({ versionsPerImageQuota: 2.5 })).rejects.toThrow(/got 2.5/);
  });
});
