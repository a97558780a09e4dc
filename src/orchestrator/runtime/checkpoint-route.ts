import { ApiError } from './api-error';
import type { SessionItem } from './table/schema';

/** A save the session API hands to the worker (the sweeper function, invoked asynchronously). */
export interface CheckpointRequest {
  readonly action: 'checkpoint';
  readonly owner: string;
  readonly sessionId: string;
  readonly generation: number;
}

/** Starts a save, asynchronously: the handler invokes the sweeper function with the request as its event. */
export type CheckpointWorker = (request: CheckpointRequest) => Promise<void>;

/**
 * `POST /sessions/{id}/checkpoint` for a running session (the caller's own: the row was read under its owner key):
 * 409 `CheckpointInProgress` while a save holds the row, otherwise the save is handed to the worker and the answer
 * is 202. The result shows on `GET` (`checkpoint.last`, `checkpoint.lastError`).
 */
export async function requestCheckpoint(row: SessionItem, worker: CheckpointWorker | undefined, now: number): Promise<void> {
  if (!worker) throw ApiError.unavailable('CheckpointsUnavailable', 'checkpoints are configured without a worker; the operator must fix the environment', 60);
  if ((row.checkpointLeaseUntil ?? 0) > now) {
    throw ApiError.conflict('CheckpointInProgress', 'a checkpoint of this session is being saved; GET the session for its result');
  }
  await worker({ action: 'checkpoint', owner: row.owner, sessionId: row.sessionId, generation: row.generation });
}
