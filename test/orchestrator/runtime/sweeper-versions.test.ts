import { Metrics } from '@aws-lambda-powertools/metrics';
import { Fixture, newSweeper, quietLogger, startFixture } from './sweeper-fixture';
import { VersionPruner } from '../../../src/orchestrator/runtime/version-pruner';
import { IMAGE_VERSION_DIMENSION, SWEEPER_METRICS } from '../../../src/shared/contract';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => String(from + i));

describe('the sweeper and image versions', () => {
  const saved = { ...process.env };
  let fx: Fixture;
  let imageArn: string;

  beforeEach(async () => {
    fx = await startFixture();
    // versions 1-20; live VMs on 2 (two) and 5, a TERMINATED one on 3; the orchestrator launches 15.
    imageArn = fx.emulator.registerImage({ name: 'released', versions: range(1, 20) });
    fx.emulator.seedVms(2, { imageArn, imageVersion: '2' });
    fx.emulator.seedVms(1, { imageArn, imageVersion: '5', state: 'SUSPENDED' });
    fx.emulator.seedVms(1, { imageArn, imageVersion: '3', state: 'TERMINATED' });
  });
  afterEach(async () => {
    process.env = { ...saved };
    await fx.stop();
  });

  function pruner(): VersionPruner {
    return new VersionPruner({
      microvms: fx.microvms,
      config: { imageArn, keepVersions: 5, launchVersion: '15', callsPerSecond: 100_000 },
      logger: quietLogger(),
      backoff: { baseDelayMs: 1, maxDelayMs: 5, maxAttempts: 4 },
    });
  }

  test('after a complete list, prunes with the live versions it listed and counts live VMs per version', async () => {
    // WHEN a sweep with pruning runs
    const report = await newSweeper(fx, { imageArn, launchVersion: '15' }, { pruner: pruner() }).run();

    // THEN the list was complete, live VMs are counted per version (the launched version reads 0), and the 10
    // oldest unprotected versions went: 3 only ran a TERMINATED VM; 2 and 5 have live VMs, 15 is launched
    expect(report).toMatchObject({ listComplete: true, pruning: 'done', errors: 0, versionQuotaNear: false });
    expect(report.liveVmsByVersion).toEqual({ 2: 2, 5: 1, 15: 0 });
    expect(report.versionsDeleted).toEqual(['1', '3', '4', '6', '7', '8', '9', '10', '11', '12']);
    expect(report.remaining.versionsToDelete).toBe(2);

    // WHEN the next sweep runs
    const next = await newSweeper(fx, { imageArn, launchVersion: '15' }, { pruner: pruner() }).run();

    // THEN it finishes the job and no protected version is gone
    expect(next.versionsDeleted).toEqual(['13', '14']);
    expect(fx.emulator.callCounts().DeleteMicrovmImageVersion).toBe(12);
  });

  test('does not prune after a list stopped by its page budget', async () => {
    // GIVEN more VMs than one page holds
    fx.emulator.seedVms(60, { imageArn, imageVersion: '20' });

    // WHEN a sweep may read one page only
    const report = await newSweeper(fx, { imageArn, budget: { maxListPages: 1 } }, { pruner: pruner() }).run();

    // THEN it neither lists nor deletes versions
    expect(report).toMatchObject({ listComplete: false, stoppedBy: 'maxListPages', pruning: 'listIncomplete', versionsDeleted: [] });
    expect(fx.emulator.callCounts().ListMicrovmImageVersions ?? 0).toBe(0);
    expect(fx.emulator.callCounts().DeleteMicrovmImageVersion ?? 0).toBe(0);
  });

  test('does not prune after a list stopped by the deadline', async () => {
    let budget = 2;
    const report = await newSweeper(fx, { imageArn, budget: { deadlineMs: 1 } }, {
      pruner: pruner(),
      // the deadline passes after the table scan
      clock: () => (budget-- > 0 ? 0 : 10),
    }).run();

    expect(report).toMatchObject({ listComplete: false, stoppedBy: 'deadline' });
    expect(report.pruning).toBe('listIncomplete');
    expect(fx.emulator.callCounts().DeleteMicrovmImageVersion ?? 0).toBe(0);
  });

  test('emits LiveVms per image version in its own EMF documents, and VersionsDeleted and VersionQuotaNear with the summary', async () => {
    // GIVEN metrics printed to the console (Powertools dev mode)
    process.env.POWERTOOLS_DEV = 'true';
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    const lines: string[] = [];
    const spy = jest.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
    const metrics = new Metrics({ namespace: 'SweeperTest', serviceName: 'sweeper-test' });

    // WHEN a sweep with pruning runs
    await newSweeper(fx, { imageArn, launchVersion: '15' }, { metrics, pruner: pruner() }).run();
    spy.mockRestore();

    // THEN one document per version carries LiveVms with the ImageVersion dimension
    const docs = lines.map((l) => JSON.parse(l));
    const live = docs.filter((d) => d[SWEEPER_METRICS.LIVE_VMS] !== undefined);
    expect(live.map((d) => [d[IMAGE_VERSION_DIMENSION], d.LiveVms]).sort()).toEqual([['15', 0], ['2', 2], ['5', 1]]);
    expect(live[0]._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: 'SweeperTest',
      Dimensions: [expect.arrayContaining(['service', IMAGE_VERSION_DIMENSION])],
      Metrics: [{ Name: 'LiveVms', Unit: 'Count' }],
    });
    // AND the summary carries the pruning counts, without the version dimension
    const summary = docs.find((d) => d.OrphansFound !== undefined);
    expect(summary).toMatchObject({ VersionsDeleted: 10, VersionQuotaNear: 0 });
    expect(summary[IMAGE_VERSION_DIMENSION]).toBeUndefined();
    expect(summary._aws.CloudWatchMetrics[0].Dimensions).toEqual([['service']]);
  });
});
