import { launchWindowClosed, lastTouched } from './session-rows';
import type { MutableReport } from './sweep-report';
import type { RetryContext } from './sweeper-pacing';
import type { ScannedSession } from './table/schema';
import type { SweeperStore, TableSnapshot } from './table/sweeper-store';

/** Longest launch lease assumed when a LAUNCHING row carries no timestamp to date its launch by. */
const MAX_LEASE_MS = 15 * 60_000;
/** Clock skew allowed between the table's timestamps and the service's `startedAt`. */
const LAUNCH_SKEW_MS = 60_000;

/** State of one run. */
export interface Run {
  readonly report: MutableReport;
  readonly snapshot: TableSnapshot;
  readonly byVm: Map<string, ScannedSession[]>;
  /** VMs started at or after this may belong to a launch still in flight. */
  readonly launchesSince: number;
  readonly seen: Set<string>;
  readonly table: SweeperStore;
  readonly retry: RetryContext;
  /** Milliseconds left before the run's deadline. */
  readonly remainingMs: () => number;
  /** Terminations reserved against the budget (a reservation is returned when its claim fails). */
  readonly reserved: { count: number };
}

/**
 * A run's state from its table snapshot: the rows by VM id, and the start time from which an unowned VM may belong
 * to a launch still in flight.
 */
export function newRun(
  parts: Pick<Run, 'report' | 'snapshot' | 'table' | 'retry' | 'remainingMs'>,
  now: number,
  graceMs: number,
): Run {
  const byVm = new Map<string, ScannedSession[]>();
  let launchesSince = Number.POSITIVE_INFINITY;
  for (const row of parts.snapshot.sessions) {
    if (row.microvmId) {
      byVm.set(row.microvmId, [...(byVm.get(row.microvmId) ?? []), row]);
    }
    if (row.status === 'LAUNCHING' && !launchWindowClosed(row, now, graceMs)) {
      // the launch may have started its VM without recording it yet: every VM started since it took its
      // lease could be that VM. Only while it may still be running: a relaunch abandoned by its caller keeps
      // its previous VM's id and would otherwise shield every VM started after it until the row expires.
      const touched = lastTouched(row);
      const since = Number.isFinite(touched) ? touched : (row.leaseExpiresAt ?? now) - MAX_LEASE_MS;
      launchesSince = Math.min(launchesSince, since - LAUNCH_SKEW_MS);
    }
  }
  return { ...parts, byVm, launchesSince, seen: new Set(), reserved: { count: 0 } };
}
