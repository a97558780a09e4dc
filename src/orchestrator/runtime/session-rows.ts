import type { ScannedSession, SessionItem } from './table/schema';

// Pure predicates over session rows, shared by the session API and the sweeper so both judge a lease, an expiry
// or a launch the same way. Times are epoch milliseconds.

/** VM states after which a VM never serves again. */
const GONE_STATES: readonly string[] = ['TERMINATING', 'TERMINATED'];

/** True when `state` is one of {@link GONE_STATES}. */
export function isGoneState(state: string | undefined): boolean {
  return GONE_STATES.includes(state ?? '');
}

/** True while a request holds the row's lease (a launch or a delete in progress). */
export function hasLiveLease(row: Pick<Partial<SessionItem>, 'leaseId' | 'leaseExpiresAt'>, now: number): boolean {
  return row.leaseId !== undefined && (row.leaseExpiresAt ?? 0) > now;
}

/** True when the row's VM reached its recorded end of life (`expiresAt`). */
export function isPastExpiry(row: Pick<Partial<SessionItem>, 'expiresAt'>, now: number): boolean {
  return row.expiresAt !== undefined && Date.parse(row.expiresAt) <= now;
}

/** When the row was last written (`updatedAt`, else `createdAt`), epoch ms; NaN when it carries neither. */
export function lastTouched(row: Pick<Partial<SessionItem>, 'updatedAt' | 'createdAt'>): number {
  return Date.parse(row.updatedAt ?? row.createdAt ?? '');
}

/**
 * A row written less than `confirmMs` ago may name a VM that the eventually consistent list and GetMicrovm do not
 * show yet: it is not judged by its absence until it is older than that.
 */
export function isFresh(row: ScannedSession, now: number, confirmMs: number): boolean {
  const touched = lastTouched(row);
  return Number.isFinite(touched) && touched + confirmMs > now;
}

/**
 * True when no launch under this row's lease can still be running: the lease (and a grace period longer than the
 * orchestrator function's timeout) ran out, and the row has not been touched since. A relaunch row whose caller
 * walked away stays LAUNCHING with its previous VM's id until the next PUT replays it; it is kept, but no longer
 * protects unowned VMs.
 */
export function launchWindowClosed(row: ScannedSession, now: number, graceMs: number): boolean {
  const leaseEnd = row.leaseExpiresAt ?? 0;
  const touched = lastTouched(row);
  return leaseEnd + graceMs < now && (!Number.isFinite(touched) || touched + graceMs < now);
}

/** A LAUNCHING row without a VM whose lease (and then a grace period) ran out: nobody is coming back for it. */
export function isDeadLaunch(row: ScannedSession, now: number, graceMs: number): boolean {
  return row.status === 'LAUNCHING' && !row.microvmId && launchWindowClosed(row, now, graceMs);
}

/**
 * True when a session is past its end: its recorded expiry, or (when a maximum duration is configured) its VM's
 * `startedAt` plus that duration.
 */
export function isPastEnd(row: ScannedSession, vmStartedAt: number | undefined, now: number, maxDurationMs: number | undefined): boolean {
  if (isPastExpiry(row, now)) return true;
  return maxDurationMs !== undefined && vmStartedAt !== undefined && vmStartedAt + maxDurationMs <= now;
}
