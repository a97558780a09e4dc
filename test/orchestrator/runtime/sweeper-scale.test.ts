import { Fixture, newSweeper, putSessions, seedVms, startFixture, stateOf, suspects, terminations, virtualTime } from './sweeper-fixture';
import { SweepReport } from '../../../src/orchestrator/runtime/sweep-report';
import { deadlineFor } from '../../../src/orchestrator/runtime/sweeper-config';

const MINUTE = 60_000;

describe('a large fleet', () => {
  let fx: Fixture;
  let owned: string[];
  let orphans: string[];
  beforeAll(async () => {
    // GIVEN 10,000 VMs of the image, 5% of them orphans spread over the whole list
    fx = await startFixture();
    owned = [];
    orphans = [];
    for (let block = 0; block < 10; block++) {
      owned.push(...seedVms(fx, 950, 1800));
      orphans.push(...seedVms(fx, 50, 3600));
    }
    await putSessions(fx, owned.map((microvmId, i) => ({ sessionId: `s-${i}`, microvmId })));
  });
  afterAll(async () => fx.stop());

  test('is listed in exactly 200 calls per pass and cleaned up over several runs, each within its budget', async () => {
    // WHEN sweeps with a budget of 200 terminations run two minutes apart until no orphan is left
    const budget = { maxTerminations: 200 };
    const reports: SweepReport[] = [];
    const listCalls: number[] = [];
    while (orphans.some((id) => stateOf(fx, id) !== 'TERMINATED') && reports.length < 10) {
      fx.emulator.resetCallCounts();
      reports.push(await newSweeper(fx, { budget, concurrency: 8 }).run());
      listCalls.push(fx.emulator.callCounts().ListMicrovms ?? 0);
      fx.emulator.advanceTime(2 * MINUTE);
    }

    // THEN every run read the whole list in 200 calls, stayed within 200 terminations and said what was left
    expect(listCalls).toEqual([200, 200, 200, 200]);
    expect(reports.map((r) => r.listComplete)).toEqual([true, true, true, true]);
    expect(reports.map((r) => r.suspectsRecorded)).toEqual([500, 0, 0, 0]);
    expect(reports.map((r) => r.orphansTerminated)).toEqual([0, 200, 200, 100]);
    expect(reports.map((r) => r.remaining.terminations)).toEqual([0, 300, 100, 0]);
    expect(reports.every((r) => r.terminateCalls <= budget.maxTerminations && r.errors === 0)).toBe(true);
    // and no owned VM was touched, no orphan terminated twice
    expect(owned.filter((id) => terminations(fx.emulator.getVm(id)) > 0)).toEqual([]);
    expect(orphans.filter((id) => terminations(fx.emulator.getVm(id)) !== 1)).toEqual([]);

    // WHEN one more sweep runs
    const last = await newSweeper(fx, { budget, concurrency: 8 }).run();

    // THEN nothing is left: no orphan, no suspect
    expect(last).toMatchObject({ orphansFound: 0, terminateCalls: 0, listPages: 200 });
    expect(await suspects(fx)).toEqual([]);
  });

  test('a run stops at its deadline and reports the list as unfinished', async () => {
    // GIVEN a clock on which every reading costs 10 ms and a 1-second deadline
    let fake = 0;
    const clock = () => (fake += 10);

    // WHEN a sweep runs
    const report = await newSweeper(fx, { budget: { deadlineMs: 1_000 } }, { clock }).run();

    // THEN it stopped early, said so, and skipped the repairs that need a complete pass
    expect(report.stoppedBy).toBe('deadline');
    expect(report.listPages).toBeGreaterThan(0);
    expect(report.listPages).toBeLessThan(200);
    expect(report.remaining.listUnfinished).toBe(true);
    expect(report.listComplete).toBe(false);
    expect(report.errors).toBe(0);
  });

  test('a run stops at maxListPages', async () => {
    // WHEN a sweep may read 20 pages
    fx.emulator.resetCallCounts();
    const report = await newSweeper(fx, { budget: { maxListPages: 20 } }).run();

    // THEN it reads exactly 20 and reports the rest as unfinished
    expect(report).toMatchObject({ listPages: 20, stoppedBy: 'maxListPages', listComplete: false });
    expect(fx.emulator.callCounts().ListMicrovms).toBe(20);
    expect(fx.emulator.callCounts().GetMicrovm).toBeUndefined();
  });
});

describe('a large fleet with the default budget and rates', () => {
  let fx: Fixture;
  afterAll(async () => fx?.stop());

  test('one invocation terminates all 500 confirmed orphans of 10,000 VMs within the 5-minute function deadline', async () => {
    // GIVEN 10,000 VMs with 5% orphans, already suspected by an earlier sweep, and the handler's defaults
    // (5 list and 5 terminate calls per second, 1,000 terminations) on virtual time
    fx = await startFixture();
    const owned: string[] = [];
    const orphans: string[] = [];
    for (let block = 0; block < 10; block++) {
      owned.push(...seedVms(fx, 950, 1800));
      orphans.push(...seedVms(fx, 50, 3600));
    }
    await putSessions(fx, owned.map((microvmId, i) => ({ sessionId: `s-${i}`, microvmId })));
    await newSweeper(fx).run();
    fx.emulator.advanceTime(2 * MINUTE);
    const time = virtualTime();
    const defaults = { rates: undefined, budget: { deadlineMs: deadlineFor(300_000) } };

    // WHEN one sweep runs, paced at the default rates
    const report = await newSweeper(fx, defaults, time).run();

    // THEN it finished everything inside the deadline, its paced time dominated by 200 list and 500 terminate calls
    expect(report).toMatchObject({ listPages: 200, listComplete: true, orphansTerminated: 500, errors: 0 });
    expect(report.stoppedBy).toBeUndefined();
    expect(report.remaining).toEqual({ terminations: 0, rowsToCheck: 0, listUnfinished: false, versionsToDelete: 0 });
    expect(report.durationMs).toBeGreaterThanOrEqual(100_000);
    expect(report.durationMs).toBeLessThan(deadlineFor(300_000));
    expect(orphans.every((id) => stateOf(fx, id) === 'TERMINATED')).toBe(true);
  });
});
