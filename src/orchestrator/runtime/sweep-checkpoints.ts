import type { CheckpointSaver } from './checkpoint-saver';
import type { ScannedSession } from './table/schema';
import { CHECKPOINTS } from '../../shared/contract';

/**
 * The sweeper's part in checkpoints: every live session is saved within `beforeEndSeconds` of its end, and, with
 * `onSuspend`, every session the sweep finds newly suspended.
 */
export interface SweepCheckpoints {
  readonly saver: CheckpointSaver;
  readonly beforeEndSeconds: number;
  /** Also save each suspension (by the idle policy or the API) once. Default false. */
  readonly onSuspend?: boolean;
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

/**
 * With `onSuspend`: true when the list shows the session's VM SUSPENDED and its row has no save of this suspension
 * (the mark is cleared when the VM is seen running again), fewer than {@link CHECKPOINTS.SUSPEND_SAVE_ATTEMPTS}
 * failed ones, and no save holding it. A suspension is new if the VM ran since the last save of one: a sweep saw it
 * RUNNING, or the API resumed it.
 */
export function dueOnSuspend(row: ScannedSession, vmState: string | undefined, now: number): boolean {
  if (vmState !== 'SUSPENDED' || row.status !== 'ACTIVE' || !row.microvmId || !row.endpoint) return false;
  if ((row.checkpointLeaseUntil ?? 0) > now || row.suspensionSavedAt !== undefined) return false;
  return (row.suspensionSaveAttempts ?? 0) < CHECKPOINTS.SUSPEND_SAVE_ATTEMPTS;
}
