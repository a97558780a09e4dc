import type { Logger } from '@aws-lambda-powertools/logger';
import {
  DeleteMicrovmImageVersionCommand,
  LambdaMicrovmsClient,
  ListMicrovmImageVersionsCommand,
  RunMicrovmCommand,
  UpdateMicrovmImageCommand,
  UpdateMicrovmImageVersionCommand,
} from '@aws-sdk/client-lambda-microvms';
import { Fixture, startFixture, virtualTime } from './sweeper-fixture';
import { compareVersions, planPruning, VersionPruner, VersionPruningConfig } from '../../../src/orchestrator/runtime/version-pruner';

/** A logger that records what it was asked to log. */
function recordingLogger(): { logger: Logger; lines: Array<{ level: string; message: string; extra?: any }> } {
  const lines: Array<{ level: string; message: string; extra?: any }> = [];
  const at = (level: string) => (message: string, extra?: unknown) => void lines.push({ level, message, extra });
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } as unknown as Logger, lines };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => String(from + i));

async function versionsOf(fx: Fixture, imageArn: string): Promise<string[]> {
  const out: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await fx.microvms.send(new ListMicrovmImageVersionsCommand({ imageIdentifier: imageArn, nextToken }));
    out.push(...(page.items ?? []).map((v) => v.imageVersion!));
    nextToken = page.nextToken;
  } while (nextToken);
  return out.sort(compareVersions);
}

type PrunerSetup = Partial<VersionPruningConfig> & { imageArn: string };

function newPruner(fx: Fixture, config: PrunerSetup, logger?: Logger, extra: { sleep?: any; clock?: any } = {}) {
  return new VersionPruner({
    microvms: fx.microvms,
    config: { keepVersions: 10, callsPerSecond: 100_000, ...config },
    logger: logger ?? recordingLogger().logger,
    backoff: { baseDelayMs: 1, maxDelayMs: 5, maxAttempts: 8 },
    ...extra,
  });
}

describe('planPruning', () => {
  test('keeps the newest by number (10 after 9), the launched, the latest ACTIVE, live and building versions; oldest first', () => {
    // GIVEN versions 1-12 out of order, 4 building, 2 launched, 3 live, 5 the latest ACTIVE, one deleting
    const listed = [...range(1, 12).reverse().map((version) => ({ version, state: version === '4' ? 'IN_PROGRESS' : 'SUCCESSFUL' })),
      { version: '13', state: 'DELETING' }];

    // WHEN
    const plan = planPruning(listed, { keepVersions: 3, launchVersion: '2', latestActive: '5', liveVersions: new Set(['3']) });

    // THEN
    expect(plan.versions).toBe(12);
    expect(plan.deletable).toEqual(['1', '6', '7', '8', '9']);
    expect(Object.fromEntries(plan.protectedBy)).toEqual({
      newest: ['12', '11', '10'], building: ['4'], live: ['3'], launched: ['2'], latestActive: ['5'],
    });
  });

  test('a version this library cannot order is never deleted; major.minor versions order numerically', () => {
    const plan = planPruning(['1.9', '1.10', '2.0', 'v7', '0.1'].map((version) => ({ version, state: 'FAILED' })),
      { keepVersions: 1, liveVersions: new Set() });
    expect(plan.deletable).toEqual(['0.1', '1.9', '1.10']);
    expect(plan.protectedBy.get('unordered')).toEqual(['v7']);
    expect(plan.protectedBy.get('newest')).toEqual(['2.0']);
  });
});

describe('VersionPruner against the emulator', () => {
  let fx: Fixture;
  let imageArn: string;
  /** versions 56-60 rolled back (INACTIVE), so 55 is the latest ACTIVE; the orchestrator pinned 12. */
  const PROTECTED = ['3', '12', '17', '30', '55', '58', '59', '60'];

  beforeEach(async () => {
    fx = await startFixture({ versionsPerImageQuota: 60 });
    imageArn = fx.emulator.registerImage({ name: 'releases', versions: range(1, 60) });
    for (const version of range(56, 60)) {
      await fx.microvms.send(new UpdateMicrovmImageVersionCommand({ imageIdentifier: imageArn, imageVersion: version, status: 'INACTIVE' }));
    }
    // a VM on version 3 that is still live, one on 17 suspended, one on 30 pending; one on 20 TERMINATED.
    for (const version of ['3', '17', '30', '20']) {
      await fx.microvms.send(new RunMicrovmCommand({ imageIdentifier: imageArn, imageVersion: version }));
    }
  });
  afterEach(async () => fx.stop());

  const live = new Set(['3', '17', '30']);

  test('registers 60 versions, listed over two pages', async () => {
    expect(await versionsOf(fx, imageArn)).toEqual(range(1, 60));
    expect(fx.emulator.callCounts().ListMicrovmImageVersions).toBe(2);
  });

  test('deletes everything but the newest keepVersions and the protected versions, oldest first, 10 per run', async () => {
    // GIVEN keepVersions 3 and a pinned version
    const { logger, lines } = recordingLogger();
    const pruner = newPruner(fx, { imageArn, keepVersions: 3, launchVersion: '12', versionsQuota: 60 }, logger);

    // WHEN runs repeat until one deletes nothing
    const runs = [];
    for (let i = 0; i < 10; i++) {
      const result = await pruner.run(live);
      runs.push(result);
      // THEN no protected version is ever gone, whatever the run
      const remaining = await versionsOf(fx, imageArn);
      expect(PROTECTED.filter((v) => !remaining.includes(v))).toEqual([]);
      if (result.deleted.length === 0) break;
    }

    // THEN 52 versions went, at most 10 per run, oldest first, each logged with the image ARN
    expect(runs.map((r) => r.deleted.length)).toEqual([10, 10, 10, 10, 10, 2, 0]);
    expect(runs[0].deleted).toEqual(['1', '2', '4', '5', '6', '7', '8', '9', '10', '11']);
    expect(runs[0]).toMatchObject({ versions: 60, deferred: 42, quotaNear: false, errors: 0 });
    expect(await versionsOf(fx, imageArn)).toEqual(PROTECTED);
    const deletions = lines.filter((l) => l.message === 'deleted image version');
    expect(deletions).toHaveLength(52);
    expect(deletions[0].extra).toEqual({ imageArn, imageVersion: '1' });
    expect(lines.filter((l) => l.level === 'warn')).toEqual([]);
    expect(fx.emulator.callCounts().DeleteMicrovmImageVersion).toBe(52);
  });

  test('is idempotent: a run after convergence deletes nothing and calls no delete', async () => {
    const pruner = newPruner(fx, { imageArn, keepVersions: 3, launchVersion: '12', maxDeletions: 100 });
    const first = await pruner.run(live);
    const calls = fx.emulator.callCounts().DeleteMicrovmImageVersion;

    const second = await pruner.run(live);

    expect(first.deleted).toHaveLength(52);
    expect(second).toMatchObject({ versions: 8, deleted: [], deferred: 0, errors: 0 });
    expect(fx.emulator.callCounts().DeleteMicrovmImageVersion).toBe(calls);
    expect(await versionsOf(fx, imageArn)).toEqual(PROTECTED);
  });

  test('under throttling and 5xx it converges over several runs and never deletes a protected version', async () => {
    // GIVEN a third of the calls throttled and a fifth of the rest failing
    // (the SDK's own retries off, so the pruner's backoff is what copes)
    fx.emulator.setFaults({ throttleRate: 0.3, errorRate: 0.2 });
    const microvms = new LambdaMicrovmsClient({
      endpoint: fx.emulator.endpoint, region: fx.emulator.region, credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1,
    });
    const pruner = new VersionPruner({
      microvms,
      config: { imageArn, keepVersions: 3, launchVersion: '12', callsPerSecond: 100_000 },
      logger: recordingLogger().logger,
      backoff: { baseDelayMs: 1, maxDelayMs: 2, maxAttempts: 3 },
    });

    // WHEN runs repeat
    let runs = 0;
    let remaining: string[] = [];
    for (; runs < 40; runs++) {
      await pruner.run(live);
      fx.emulator.setFaults({});
      remaining = await versionsOf(fx, imageArn);
      fx.emulator.setFaults({ throttleRate: 0.3, errorRate: 0.2 });
      // THEN at no point is a protected version missing
      expect(PROTECTED.filter((v) => !remaining.includes(v))).toEqual([]);
      if (remaining.length === PROTECTED.length) break;
    }

    // THEN it got there, the faults were real, and more than the fault-free 6 runs were not needed by more than a few
    microvms.destroy();
    expect(remaining).toEqual(PROTECTED);
    expect(runs).toBeLessThan(40);
    const errors = fx.emulator.errorCounts();
    expect(Object.keys(errors).length).toBeGreaterThan(0);
  });

  test('a version still building is kept: keepVersions counts it and the latest ACTIVE version is kept besides', async () => {
    // GIVEN an image whose newest version (5) is building
    const building = await startFixture({ imageBuildDelayMs: 60_000 });
    try {
      const arn = building.emulator.registerImage({ name: 'busy', versions: range(1, 4) });
      await building.microvms.send(new UpdateMicrovmImageCommand({
        imageIdentifier: arn,
        baseImageArn: `arn:aws:lambda:${building.emulator.region}:aws:microvm-image:al2023-1`,
        buildRoleArn: 'arn:aws:iam::123456789012:role/build',
        codeArtifact: { uri: 's3://bucket/app.zip' },
      }));
      const pruner = newPruner(building, { imageArn: arn, keepVersions: 1 });

      // WHEN
      const result = await pruner.run(new Set());

      // THEN 1-3 are deleted; 4 is the latest ACTIVE, 5 is building
      expect(result.deleted).toEqual(['1', '2', '3']);
      expect(await versionsOf(building, arn)).toEqual(['4', '5']);
    } finally {
      await building.stop();
    }
  });

  test('a 409 is skipped (and retried next run), a version someone else deleted meanwhile is fine', async () => {
    // GIVEN a client on which the delete of version 1 is refused, and version 2 is deleted by someone else first
    let refuse = true;
    const microvms = {
      send: async (command: any) => {
        if (command instanceof DeleteMicrovmImageVersionCommand && command.input.imageVersion === '1' && refuse) {
          throw Object.assign(new Error('Version 1 is in use'), { name: 'ConflictException', $fault: 'client', $metadata: { httpStatusCode: 409 } });
        }
        if (command instanceof DeleteMicrovmImageVersionCommand && command.input.imageVersion === '2') {
          await fx.microvms.send(new DeleteMicrovmImageVersionCommand({ imageIdentifier: imageArn, imageVersion: '2' }));
        }
        return fx.microvms.send(command);
      },
    } as unknown as LambdaMicrovmsClient;
    const pruner = new VersionPruner({
      microvms,
      config: { imageArn, keepVersions: 3, launchVersion: '12', callsPerSecond: 100_000, maxDeletions: 4 },
      logger: recordingLogger().logger,
    });

    // WHEN a run, then another once the service no longer refuses
    const first = await pruner.run(live);
    refuse = false;
    const second = await pruner.run(live);

    // THEN the refused version is skipped, not an error; the one already gone is not counted; the next run deletes 1
    expect(first).toMatchObject({ conflicts: ['1'], deleted: ['4', '5'], errors: 0 });
    expect(second.deleted[0]).toBe('1');
    expect((await versionsOf(fx, imageArn)).slice(0, 3)).toEqual(['3', '9', '10']);
  });

  test('paces its calls: with 2 calls per second, 13 calls take at least 6 s of (virtual) time', async () => {
    const time = virtualTime();
    const pruner = newPruner(fx, { imageArn, keepVersions: 3, launchVersion: '12', callsPerSecond: 2 }, undefined, time);

    const result = await pruner.run(live);

    // 2 list pages, 1 get, 10 deletes
    expect(result.deleted).toHaveLength(10);
    expect(time.clock()).toBeGreaterThanOrEqual(6_000);
  });

  test('stops deleting at the deadline and leaves the rest for the next run', async () => {
    let left = 3;
    const pruner = newPruner(fx, { imageArn, keepVersions: 3, launchVersion: '12' });

    // the deadline passes after the listing (2 pages) and the image read
    const result = await pruner.run(live, () => left--);

    expect(result.deleted.length).toBeLessThan(10);
    expect(result.deferred).toBe(52 - result.deleted.length);
  });

  test('warns, with what is protected and what to do, when everything left is protected within 5 of the quota', async () => {
    // GIVEN 47 versions of a 50-version quota, live VMs on 1-37 and keepVersions 10
    const arn = fx.emulator.registerImage({ name: 'crowded', versions: range(1, 47) });
    for (const version of range(1, 37)) fx.emulator.seedVms(1, { imageArn: arn, imageVersion: version });
    const { logger, lines } = recordingLogger();
    const pruner = newPruner(fx, { imageArn: arn, keepVersions: 10, launchVersion: '40' }, logger);

    // WHEN
    const result = await pruner.run(new Set(range(1, 37)));

    // THEN nothing is deleted, and one WARN says why and what to do
    expect(result).toMatchObject({ versions: 47, deleted: [], quotaNear: true });
    expect(fx.emulator.callCounts().DeleteMicrovmImageVersion ?? 0).toBe(0);
    const warns = lines.filter((l) => l.level === 'warn');
    expect(warns).toHaveLength(1);
    expect(warns[0].message).toContain(`image ${arn} holds 47 of its 50 versions`);
    expect(warns[0].message).toContain('run by live MicroVMs: 1-37');
    expect(warns[0].message).toContain('the newest kept by keepVersions: 38-47');
    expect(warns[0].message).toContain('the version the orchestrator launches: 40');
    expect(warns[0].message).toMatch(/lower keepVersions \(now 10\), end the sessions .* raise the "versions per image" quota/);
  });

  test('fails if keepVersions is below 1', () => {
    expect(() => newPruner(fx, { imageArn, keepVersions: 0 })).toThrow(/keepVersions must be a whole number of at least 1, got 0/);
  });
});
