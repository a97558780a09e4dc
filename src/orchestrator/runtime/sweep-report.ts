import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { MicrovmItem } from '@aws-sdk/client-lambda-microvms';
import { IMAGE_VERSION_DIMENSION, SWEEPER_METRICS, VM_STATE_DIMENSION, VM_STATES } from '../../shared/contract';

// What one sweep did, as returned by the handler, published as metrics and logged.

/** Why a run stopped early, leaving work for the next run. */
export type SweepStop = 'deadline' | 'maxListPages';

/**
 * What became of version pruning in a run: `off` (not configured), `listIncomplete` (live versions unknown),
 * `liveVersionUnknown` (a live VM's version was not listed), `deadline` or `error` (could not read the versions),
 * `done`.
 */
export type PruningOutcome = 'off' | 'listIncomplete' | 'liveVersionUnknown' | 'deadline' | 'error' | 'done';

/** The `ImageVersion` of live VMs listed without one. */
export const UNKNOWN_VERSION = 'unknown';

export interface SweepReport {
  readonly runId: string;
  readonly durationMs: number;
  readonly tablePages: number;
  readonly sessionsScanned: number;
  readonly listPages: number;
  /** True when every page of ListMicrovms was read, which is what lets rows of missing VMs be repaired. */
  readonly listComplete: boolean;
  /** VMs of this image seen, by state. */
  readonly vmsSeen: Record<string, number>;
  /**
   * Live (non-TERMINATED) VMs of this image as listed, by image version; published only after a complete list,
   * when the launched version reads 0 rather than no data.
   */
  readonly liveVmsByVersion: Record<string, number>;
  readonly pruning: PruningOutcome;
  /** Image versions pruning deleted. */
  readonly versionsDeleted: string[];
  /** The image is within 5 versions of its quota and pruning cannot make room. */
  readonly versionQuotaNear: boolean;
  /** Unowned live VMs past the grace period (new suspects plus confirmed ones). */
  readonly orphansFound: number;
  readonly suspectsRecorded: number;
  readonly suspectsCleared: number;
  /** Unowned VMs left alone because they are younger than the grace period. */
  readonly unownedInGrace: number;
  /** Unowned VMs left alone because a launch that may own them is still in flight. */
  readonly protectedByLaunch: number;
  /**
   * Admission slots given back (negative: taken) to bring the `maxSessions` counter to the number of session
   * rows, for rows that DynamoDB's TTL removed; 0 when they agreed or a launch raced the check.
   */
  readonly slotsReconciled: number;
  /** Orphans this run terminated (a TerminateMicrovm it claimed and that succeeded). */
  readonly orphansTerminated: number;
  /** Sessions past their end (or abandoned while ENDING) whose VM this run terminated. */
  readonly sessionsEnded: number;
  /** TerminateMicrovm calls made (retries of one call count once); never more than `maxTerminations`. */
  readonly terminateCalls: number;
  readonly rowsRepaired: number;
  readonly errors: number;
  readonly stoppedBy?: SweepStop;
  /** Work seen but not done in this run; the next run picks it up. */
  readonly remaining: {
    /** Terminations due but not made (budget or deadline). */
    terminations: number;
    /** Rows of VMs missing from the list not yet confirmed with GetMicrovm (deadline). */
    rowsToCheck: number;
    /** The list was not read to the end, so VMs after the last page read were not looked at. */
    listUnfinished: boolean;
    /** Versions pruning may delete but left for the next run (deletion budget, deadline or a persisting error). */
    versionsToDelete: number;
  };
}

export type MutableReport = { -readonly [K in keyof SweepReport]: SweepReport[K] };

/** A report with nothing counted yet. */
export function emptyReport(runId: string): MutableReport {
  return {
    runId,
    durationMs: 0,
    tablePages: 0,
    sessionsScanned: 0,
    listPages: 0,
    listComplete: false,
    vmsSeen: {},
    liveVmsByVersion: {},
    pruning: 'off',
    versionsDeleted: [],
    versionQuotaNear: false,
    orphansFound: 0,
    suspectsRecorded: 0,
    suspectsCleared: 0,
    unownedInGrace: 0,
    protectedByLaunch: 0,
    slotsReconciled: 0,
    orphansTerminated: 0,
    sessionsEnded: 0,
    terminateCalls: 0,
    rowsRepaired: 0,
    errors: 0,
    remaining: { terminations: 0, rowsToCheck: 0, listUnfinished: false, versionsToDelete: 0 },
  };
}

/** Counts one listed VM of the image: by state, and when live, by the image version it runs. */
export function countVm(report: MutableReport, vm: MicrovmItem): void {
  const state = vm.state ?? 'UNKNOWN';
  report.vmsSeen[state] = (report.vmsSeen[state] ?? 0) + 1;
  if (state !== 'TERMINATED') {
    const version = vm.imageVersion || UNKNOWN_VERSION;
    report.liveVmsByVersion[version] = (report.liveVmsByVersion[version] ?? 0) + 1;
  }
}

/** Publishes a run's metrics (every VM state, so a graph reads 0 rather than no data) and logs its report. */
export function publishReport(report: SweepReport, metrics: Metrics, logger: Logger): void {
  for (const state of new Set([...VM_STATES, ...Object.keys(report.vmsSeen)])) {
    const single = metrics.singleMetric();
    single.addDimension(VM_STATE_DIMENSION, state);
    single.addMetric(SWEEPER_METRICS.VMS_SEEN, MetricUnit.Count, report.vmsSeen[state] ?? 0);
  }
  if (report.listComplete) {
    // one document per version, so the ImageVersion dimension stays off the other metrics.
    for (const [version, count] of Object.entries(report.liveVmsByVersion)) {
      const single = metrics.singleMetric();
      single.addDimension(IMAGE_VERSION_DIMENSION, version);
      single.addMetric(SWEEPER_METRICS.LIVE_VMS, MetricUnit.Count, count);
    }
  }
  metrics.addMetric(SWEEPER_METRICS.VERSIONS_DELETED, MetricUnit.Count, report.versionsDeleted.length);
  metrics.addMetric(SWEEPER_METRICS.VERSION_QUOTA_NEAR, MetricUnit.Count, report.versionQuotaNear ? 1 : 0);
  metrics.addMetric(SWEEPER_METRICS.ORPHANS_FOUND, MetricUnit.Count, report.orphansFound);
  metrics.addMetric(SWEEPER_METRICS.PROTECTED_BY_LAUNCH, MetricUnit.Count, report.protectedByLaunch);
  metrics.addMetric(SWEEPER_METRICS.ORPHANS_TERMINATED, MetricUnit.Count, report.orphansTerminated);
  metrics.addMetric(SWEEPER_METRICS.SESSIONS_ENDED, MetricUnit.Count, report.sessionsEnded);
  metrics.addMetric(SWEEPER_METRICS.ROWS_REPAIRED, MetricUnit.Count, report.rowsRepaired);
  metrics.addMetric(SWEEPER_METRICS.SWEEP_DURATION, MetricUnit.Milliseconds, report.durationMs);
  metrics.addMetric(SWEEPER_METRICS.SWEEP_ERRORS, MetricUnit.Count, report.errors);
  metrics.publishStoredMetrics();
  logger.info('sweep finished', { report });
}
