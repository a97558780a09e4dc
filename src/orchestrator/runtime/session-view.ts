import { countsForAdmission } from './admission-counter';
import { hasLiveLease, isPastExpiry } from './session-rows';
import type { SessionItem } from './table/schema';

// How the session API shows a session row to its caller (the response bodies of the session HTTP API).

/** A session as the API renders it. */
export interface SessionBody {
  sessionId: string;
  microvmId: string | null;
  endpoint: string | null;
  state: string;
  imageVersion: string | null;
  createdAt: string;
  expiresAt: string | null;
  /** The session's labels, `{}` when none. */
  labels: Record<string, string>;
  /** With checkpoints: the last confirmed save, and whether one runs now. */
  checkpoint?: CheckpointBody;
  token?: TokenBody;
}

export interface CheckpointBody {
  last: { createdAt: string; bytes: number; generation: number } | null;
  saving: boolean;
  /** Why the last save failed (a reason code), until one succeeds. */
  lastError?: string;
}

export interface TokenBody {
  headerName: string;
  value: string;
  expiresAt: string;
  ports: number[];
}

/** The state a caller sees: the VM's last seen state, or what the row's status and lifetime say. */
export function stateOf(row: SessionItem, now: number): string {
  // a launch given back without a VM (a refused or failed relaunch of an ended session) is still ended.
  if (row.status === 'LAUNCHING') return hasLiveLease(row, now) || countsForAdmission(row) ? 'PENDING' : 'TERMINATED';
  if (row.status === 'ENDING') return 'TERMINATING';
  if (isPastExpiry(row, now)) return 'TERMINATED';
  return row.vmState ?? 'PENDING';
}

/**
 * The body of one session at `now` (the API's clock); a LAUNCHING row shows no VM yet. `token` only in the answers
 * that mint one.
 */
export function render(row: SessionItem, state: string, now: number, token?: TokenBody): SessionBody {
  const launching = row.status === 'LAUNCHING';
  const body: SessionBody = {
    sessionId: row.sessionId,
    microvmId: launching ? null : row.microvmId ?? null,
    endpoint: launching ? null : row.endpoint ?? null,
    state,
    imageVersion: launching ? null : row.imageVersion ?? null,
    createdAt: row.createdAt,
    expiresAt: launching ? null : row.expiresAt ?? null,
    labels: { ...row.labels },
  };
  if (row.lastCheckpoint || row.checkpointLeaseUntil !== undefined || row.checkpointError) {
    const last = row.lastCheckpoint;
    body.checkpoint = {
      last: last ? { createdAt: last.createdAt, bytes: last.bytes, generation: last.generation } : null,
      saving: (row.checkpointLeaseUntil ?? 0) > now,
      ...row.checkpointError ? { lastError: row.checkpointError } : {},
    };
  }
  if (token) body.token = token;
  return body;
}
