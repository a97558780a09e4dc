import type { SessionItem } from './table/schema';

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
