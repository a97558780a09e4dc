// The session lifecycle events' contract: the EventBridge source, the detail-types and the detail shape, shared by
// the handlers that publish them, the construct that grants and routes them, and docs/events.md (whose JSON schema
// a test checks against these names).

/** The `source` of every event the orchestrator publishes. */
export const SESSION_EVENT_SOURCE = 'cdk-lambda-microvms.sessions';

/** The `detail-type` of each lifecycle event. */
export const SESSION_EVENT_TYPES = {
  CREATED: 'Session Created',
  LAUNCH_FAILED: 'Session Launch Failed',
  SUSPENDED: 'Session Suspended',
  RESUMED: 'Session Resumed',
  ENDED: 'Session Ended',
  ADMISSION_REFUSED: 'Session Admission Refused',
  ORPHAN_TERMINATED: 'Orphan Terminated',
  SHELL_ACCESS_GRANTED: 'Shell Access Granted',
  CHECKPOINT_SAVED: 'Checkpoint Saved',
  CHECKPOINT_FAILED: 'Checkpoint Failed',
} as const;

/**
 * What started a checkpoint save: `POST /sessions/{id}/checkpoint` (`requested`), the sweeper near the session's end
 * (`beforeEnd`), or the sweeper on a new suspension (`onSuspend`).
 */
export const CHECKPOINT_TRIGGERS = ['requested', 'beforeEnd', 'onSuspend'] as const;
export type CheckpointTrigger = (typeof CHECKPOINT_TRIGGERS)[number];

export type SessionEventType = (typeof SESSION_EVENT_TYPES)[keyof typeof SESSION_EVENT_TYPES];

/**
 * Why a session's MicroVM ended:
 * - `deleted`: the owner's DELETE;
 * - `maxDuration`: it reached `maximumDurationInSeconds` (the service ended it);
 * - `idleTimeout`: it stayed suspended past the idle policy's `suspendedDurationSeconds`;
 * - `runFailed`: its `/run` hook failed, so it never ran;
 * - `sweeper`: the sweeper terminated it (past its end, or left behind by a delete);
 * - `vmEnded`: it ended on its own for a reason the service did not say.
 */
export type SessionEndReason = 'deleted' | 'maxDuration' | 'idleTimeout' | 'runFailed' | 'sweeper' | 'vmEnded';

/** Observed use of one generation of a session, from the transitions the orchestrator saw. */
export interface SessionUsage {
  readonly startedAt: string;
  readonly endedAt: string;
  readonly totalSeconds: number;
  /** Suspended time the API asked for (SuspendMicrovm to resume); idle-policy suspensions count as running. */
  readonly suspendedSeconds: number;
  readonly runningSeconds: number;
  /** The image's baseline memory, when the orchestrator knows it. */
  readonly memoryMiB?: number;
  /** With `pricing`: runningSeconds x (GiB x perGbSecond + vCPU x perVcpuSecond), baseline only. An estimate. */
  readonly estimatedCost?: number;
  readonly currency?: string;
}

/** The `detail` of every lifecycle event; fields that do not apply to a type are absent. */
export interface SessionEventDetail {
  /** Schema version of the detail; bumped on an incompatible change. */
  readonly version: '1';
  /** The orchestrator's service name (its metrics' `service` dimension): which orchestrator published it. */
  readonly service: string;
  /** When the transition was observed (ISO 8601). */
  readonly time: string;
  /** The owning principal's ARN (a role for all its role sessions, unless the owner key says otherwise). */
  readonly ownerArn?: string;
  /** SHA-256 of `ownerArn`, the table's partition key. */
  readonly owner?: string;
  readonly sessionId?: string;
  readonly generation?: number;
  readonly microvmId?: string;
  readonly imageVersion?: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** Launch failed: the error name; ended: a {@link SessionEndReason}; admission refused: the limit. */
  readonly reason?: string;
  /** The service's own `stateReason`, when it gave one (at most 256 characters). */
  readonly stateReason?: string;
  /** Created: RunMicrovm until the VM was recorded, in milliseconds. */
  readonly launchLatencyMs?: number;
  /** Ended: see {@link SessionUsage}. */
  readonly usage?: SessionUsage;
  /** Checkpoint saved: what was saved (the key names owner, session and generation; never a URL). */
  readonly checkpoint?: { readonly key: string; readonly bytes: number; readonly createdAt: string };
  /** Checkpoint saved or failed: what started the save. */
  readonly trigger?: CheckpointTrigger;
  /** Shell access granted: who asked and for how long. */
  readonly callerArn?: string;
  readonly expirationInMinutes?: number;
}
