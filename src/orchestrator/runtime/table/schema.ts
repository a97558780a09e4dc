import { createHash } from 'node:crypto';
import { TABLE } from '../../../shared/contract';

// The sessions table (schema in the team contract, keys and partitions in `TABLE`): one row per session, keyed by
// the owner's hash and the session id, plus the reserved `#meta` (admission counter) and `#orphan` (the sweeper's
// suspects) partitions. No token and no payload is ever stored.

/** Row status; the VM's own state is tracked separately in `vmState`. */
export type SessionStatus = 'LAUNCHING' | 'ACTIVE' | 'ENDING';

/** The last checkpoint that was saved and confirmed, as a session row records it. */
export interface CheckpointRecord {
  readonly key: string;
  readonly createdAt: string;
  readonly bytes: number;
  readonly sha256?: string;
  /** The generation whose VM it was taken from. */
  readonly generation: number;
}

/** One session row. */
export interface SessionItem {
  readonly owner: string;
  readonly sessionId: string;
  readonly ownerArn: string;
  readonly generation: number;
  readonly status: SessionStatus;
  readonly leaseId?: string;
  /** Epoch milliseconds. */
  readonly leaseExpiresAt?: number;
  readonly microvmId?: string;
  readonly endpoint?: string;
  readonly vmState?: string;
  readonly imageVersion?: string;
  /** The caller's labels for this generation (absent: none). */
  readonly labels?: Readonly<Record<string, string>>;
  readonly createdAt: string;
  /** When this generation's VM started (the service's `startedAt`), the start of its usage. */
  readonly startedAt?: string;
  /** Set while the VM is suspended by the API's SuspendMicrovm (usage); cleared by its resume. */
  readonly suspendedAt?: string;
  /** Milliseconds this generation spent suspended by the API, over its completed suspensions. */
  readonly suspendedMs?: number;
  readonly expiresAt?: string;
  readonly clientToken: string;
  readonly updatedAt: string;
  /** Epoch seconds, DynamoDB TTL (`TABLE.TTL_ATTRIBUTE`). */
  readonly ttl?: number;
  /** Checkpoints: the last confirmed save (kept across generations: a relaunch restores it). */
  readonly lastCheckpoint?: CheckpointRecord;
  /** Checkpoints: a save in progress holds the row until then (epoch ms). */
  readonly checkpointLeaseUntil?: number;
  readonly checkpointStartedAt?: string;
  /** Checkpoints: why the last save failed (a reason code), cleared by the next one that succeeds. */
  readonly checkpointError?: string;
  /**
   * Checkpoints (`onSuspend`): when the VM's current suspension was saved. Cleared when the VM is seen running again
   * (a sweep's list, or the API's resume), so the next suspension is saved too.
   */
  readonly suspensionSavedAt?: string;
  /** Checkpoints (`onSuspend`): failed saves of the VM's current suspension, cleared with `suspensionSavedAt`. */
  readonly suspensionSaveAttempts?: number;
}

/** The session fields the sweeper's scan reads (its projection). */
export const SCANNED_SESSION_FIELDS = [
  'generation', 'status', 'leaseId', 'leaseExpiresAt', 'microvmId', 'vmState', 'createdAt', 'expiresAt', 'updatedAt',
  // what a `Session Ended` event the sweeper publishes carries.
  'ownerArn', 'imageVersion', 'labels', 'startedAt', 'suspendedAt', 'suspendedMs',
  // what a save before the end, or of a new suspension, needs.
  'endpoint', 'lastCheckpoint', 'checkpointLeaseUntil', 'suspensionSavedAt', 'suspensionSaveAttempts',
] as const satisfies ReadonlyArray<keyof SessionItem>;

/**
 * A session row as the sweeper's scan sees it: the key and {@link SCANNED_SESSION_FIELDS}, each optional, since a
 * scan also reads rows written by older versions and never trusts a field to be there.
 */
export type ScannedSession = Pick<SessionItem, 'owner' | 'sessionId'>
  & Partial<Pick<SessionItem, (typeof SCANNED_SESSION_FIELDS)[number]>>;

/** A VM seen unowned by an earlier sweep: a row of the `#orphan` partition, keyed by the VM id. */
export interface SuspectRow {
  readonly microvmId: string;
  readonly firstSeenAt: string;
  readonly claimedBy?: string;
  readonly claimedAt?: number;
  readonly terminatedAt?: string;
}

/** The suspect fields the sweeper's scan reads. */
export const SCANNED_SUSPECT_FIELDS = ['firstSeenAt', 'claimedBy', 'claimedAt', 'terminatedAt'] as const satisfies ReadonlyArray<keyof SuspectRow>;

/** The primary key of a session row. */
export function keyOf(row: Pick<SessionItem, 'owner' | 'sessionId'>): Record<string, string> {
  return { [TABLE.PARTITION_KEY]: row.owner, [TABLE.SORT_KEY]: row.sessionId };
}

/** Hex SHA-256, the owner key and the RunMicrovm client token. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** The RunMicrovm clientToken of one generation of one session (contract: 64 hex characters). */
export function clientTokenFor(owner: string, sessionId: string, generation: number): string {
  return sha256Hex(`${owner}/${sessionId}/${generation}`);
}
