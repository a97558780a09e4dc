// 4. the sweeper at scale: 10,000 VMs of the image, 5% of them orphans spread over the whole list, swept by the
// real Sweeper with the handler's defaults (budget, call rates, a 5-minute function's deadline) until no orphan
// is left. Pacing runs on virtual time: the report's duration is what the paced run would take in Lambda, while
// wall time is what this machine spent.
import { round, timed } from './support';
import { deadlineFor, DEFAULT_SWEEPER_BUDGET } from '../src/orchestrator/runtime/sweeper-config';
import { newSweeper, putSessions, seedVms, startFixture, stateOf, terminations, virtualTime } from '../test/orchestrator/runtime/sweeper-fixture';

export interface SweepRun {
  readonly listCalls: number;
  readonly listComplete: boolean;
  readonly suspectsRecorded: number;
  readonly orphansTerminated: number;
  readonly terminateCalls: number;
  readonly errors: number;
  /** This machine's time for the run (pacing sleeps skipped), ms. */
  readonly wallMs: number;
  /** The run's duration at the default call rates (virtual time), ms. */
  readonly pacedMs: number;
}

export interface SweeperResult {
  readonly vms: number;
  readonly orphans: number;
  readonly scheduleMinutes: number;
  readonly runs: SweepRun[];
  /** Runs until every orphan was TERMINATED. */
  readonly runsToClean: number;
  /** ListMicrovms calls of each run (200 for 10,000 VMs at 50 a page). */
  readonly listCallsPerPass: number[];
  readonly orphansTerminated: number;
  /** Owned VMs terminated (must be 0) and orphans terminated more than once (must be 0). */
  readonly ownedTouched: number;
  readonly orphansTerminatedTwice: number;
  readonly seedMs: number;
  readonly totalWallMs: number;
}

const SCHEDULE_MINUTES = 5;

export async function measureSweeper(): Promise<SweeperResult> {
  const fx = await startFixture();
  try {
    const owned: string[] = [];
    const orphans: string[] = [];
    const seed = await timed(async () => {
      for (let block = 0; block < 10; block++) {
        owned.push(...seedVms(fx, 950, 1800));
        orphans.push(...seedVms(fx, 50, 3600));
      }
      await putSessions(fx, owned.map((microvmId, i) => ({ sessionId: `s-${i}`, microvmId })));
    });
    const runs: SweepRun[] = [];
    let runsToClean = 0;
    while (runs.length < 6) {
      fx.emulator.resetCallCounts();
      const config = { rates: undefined, budget: { ...DEFAULT_SWEEPER_BUDGET, deadlineMs: deadlineFor(300_000) } };
      const { ms, value: report } = await timed(() => newSweeper(fx, config, virtualTime()).run());
      runs.push({
        listCalls: fx.emulator.callCounts().ListMicrovms ?? 0,
        listComplete: report.listComplete,
        suspectsRecorded: report.suspectsRecorded,
        orphansTerminated: report.orphansTerminated,
        terminateCalls: report.terminateCalls,
        errors: report.errors,
        wallMs: round(ms),
        pacedMs: round(report.durationMs),
      });
      if (orphans.every((id) => stateOf(fx, id) === 'TERMINATED')) {
        runsToClean = runs.length;
        break;
      }
      fx.emulator.advanceTime(SCHEDULE_MINUTES * 60_000);
    }
    return {
      vms: owned.length + orphans.length,
      orphans: orphans.length,
      scheduleMinutes: SCHEDULE_MINUTES,
      runs,
      runsToClean,
      listCallsPerPass: runs.map((r) => r.listCalls),
      orphansTerminated: orphans.filter((id) => stateOf(fx, id) === 'TERMINATED').length,
      ownedTouched: owned.filter((id) => terminations(fx.emulator.getVm(id)) > 0).length,
      orphansTerminatedTwice: orphans.filter((id) => terminations(fx.emulator.getVm(id)) > 1).length,
      seedMs: round(seed.ms),
      totalWallMs: round(runs.reduce((a, r) => a + r.wallMs, 0)),
    };
  } finally {
    await fx.stop();
  }
}
