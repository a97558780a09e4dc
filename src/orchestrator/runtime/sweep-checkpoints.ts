import type { CheckpointSaver } from './checkpoint-saver';
import type { ScannedSession } from './table/schema';

/** The sweeper's part in checkpoints: every live session is saved within `beforeEndSeconds` of its end. */
export interface SweepCheckpoints {
  readonly saver: CheckpointSaver;
  readonly beforeEndSeconds: number;
}

/**
 * True when a live session is within `beforeEndMs` of its end (`expiresAt`) and has no checkpoint taken inside that
 * window for this generation, and no save holds it. A save that failed leaves this true, so the next sweep retries.
 */
export function dueForCheckpoint(row: ScannedSession, now: number, beforeEndMs: number): boolean {
  const end = Date.parse(row.expiresAt ?? '');
  if (!Number.isFinite(end) || now >= end || end - now > beforeEndMs) return false;
  if (row.status !== 'ACTIVE' || !row.microvmId || !row.endpoint || (row.checkpointLeaseUntil ?? 0) > now) return false;
  const last = row.lastCheckpoint;
  return !last || last.generation !== row.generation || Date.parse(last.createdAt) < end - beforeEndMs;
}
