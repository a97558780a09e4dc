import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  CreateMicrovmAuthTokenCommand, GetMicrovmCommand, LambdaMicrovmsClient, ResumeMicrovmCommand, SuspendMicrovmCommand,
} from '@aws-sdk/client-lambda-microvms';
import {
  DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { errorName } from './aws-errors';
import type { CheckpointConfig } from './checkpoint-config';
import type { SessionEvents } from './session-events';
import { isGoneState } from './session-rows';
import { sessionFields } from './session-usage';
import { realSleep, RetryContext, withRetries } from './sweeper-pacing';
import { CheckpointRecord, CheckpointStore, SeenCheckpointState } from './table/checkpoint-store';
import { keyOf, SessionItem } from './table/schema';
import { CHECKPOINTS, CHECKPOINT_METRICS, DATA_PLANE } from '../../shared/contract';
import { CheckpointTrigger, SESSION_EVENT_TYPES } from '../../shared/session-events';

/** Retries of resume and suspend: 3 attempts, up to 0.5 s then 1 s apart (or the service's Retry-After). */
const PACED_RETRY: RetryContext = {
  backoff: { baseDelayMs: 500, maxDelayMs: 1000, maxAttempts: 3 },
  sleep: realSleep,
  remainingMs: () => Number.POSITIVE_INFINITY,
};

/** What a save needs of a session row. */
export interface CheckpointRow {
  readonly owner: string;
  readonly sessionId: string;
  readonly generation: number;
  readonly microvmId?: string;
  readonly endpoint?: string;
  readonly vmState?: string;
  readonly lastCheckpoint?: CheckpointRecord;
  readonly ownerArn?: string;
  readonly imageVersion?: string;
  readonly labels?: Readonly<Record<string, string>>;
}

/** How a save ended. */
export type SaveOutcome =
  | { readonly saved: true; readonly checkpoint: CheckpointRecord }
  | { readonly saved: false; readonly reason: 'inProgress' | 'vmGone' | 'guestFailed' | 'guestTimedOut' | 'sizeMismatch' | 'tooLarge' | 'notConfirmed' | 'leaseLost' };

export interface CheckpointSaverProps {
  readonly microvms: LambdaMicrovmsClient;
  readonly s3: S3Client;
  readonly documentClient: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly config: CheckpointConfig;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly now?: () => number;
  /** The VM endpoint's base URL (default `https://<endpoint>`; the emulator's data plane in tests). */
  readonly endpointUrl?: (endpoint: string) => string;
  /** How long the guest may take to upload and answer. @default 120 s */
  readonly guestTimeoutMs?: number;
  /** Where `Checkpoint Saved` / `Checkpoint Failed` go (published by the caller's flush). @default none */
  readonly events?: SessionEvents;
}

/**
 * Saves a session's workspace to S3, driven from outside the VM: a 5-minute token for the checkpoint port only, one
 * presigned PUT for exactly one key (`<owner>/<session>/<generation>/<timestamp>`), a `POST` of
 * `{ uploadUrl, key, expiresAt, maxBytes }` to the guest, its `{ bytes, sha256 }`, a `HEAD` that confirms the size,
 * then `lastCheckpoint` on the row. A save that fails leaves the session and its previous checkpoint as they were.
 * No URL, token or payload is ever logged.
 */
export class CheckpointSaver {
  private readonly store: CheckpointStore;
  private readonly now: () => number;
  private readonly endpointUrl: (endpoint: string) => string;
  private readonly guestTimeoutMs: number;

  constructor(private readonly props: CheckpointSaverProps) {
    this.store = new CheckpointStore(props.documentClient, props.tableName);
    this.now = props.now ?? Date.now;
    this.endpointUrl = props.endpointUrl ?? ((endpoint) => `https://${endpoint.replace(/^[a-z]+:\/\//i, '')}`);
    this.guestTimeoutMs = props.guestTimeoutMs ?? 120_000;
  }

  /**
   * A save the session API requested (the worker's event): of the session's current row, if it is still the
   * generation asked for and ACTIVE; undefined when there is nothing to save.
   */
  async saveRequested(request: { owner: string; sessionId: string; generation: number }): Promise<SaveOutcome | undefined> {
    const out = await this.props.documentClient.send(new GetCommand({ TableName: this.props.tableName, Key: keyOf(request), ConsistentRead: true }));
    const row = out.Item as SessionItem | undefined;
    if (!row || row.status !== 'ACTIVE' || row.generation !== request.generation) return undefined;
    return this.save(row);
  }

  /**
   * One save of the row's VM; never throws for a guest's failure (it is counted and logged), only for the service's.
   * `trigger` goes in its event and log line; `seen` (a sweep's save) makes it `inProgress` when the row changed since
   * the sweep read it.
   */
  async save(row: CheckpointRow, trigger: CheckpointTrigger = 'requested', seen?: SeenCheckpointState): Promise<SaveOutcome> {
    const leaseId = randomUUID();
    const started = this.now();
    const leaseMs = Math.min(this.guestTimeoutMs, CHECKPOINTS.URL_MAX_SECONDS * 1000) + 60_000;
    if (!await this.store.claim(row, leaseId, started, started + leaseMs, seen)) return { saved: false, reason: 'inProgress' };
    let outcome: SaveOutcome;
    try {
      outcome = await this.saveClaimed(row, leaseId);
    } catch (err) {
      await this.store.release(row, leaseId, errorName(err), isSuspended(row)).catch(() => false);
      this.count(CHECKPOINT_METRICS.CHECKPOINTS_FAILED);
      this.props.logger.warn('checkpoint failed', { owner: row.owner, sessionId: row.sessionId, generation: row.generation, trigger, error: errorName(err) });
      this.emit(row, { reason: errorName(err), trigger });
      throw err;
    }
    if (!outcome.saved) {
      await this.store.release(row, leaseId, outcome.reason, isSuspended(row)).catch(() => false);
      this.count(CHECKPOINT_METRICS.CHECKPOINTS_FAILED);
      this.props.logger.warn('checkpoint failed', { owner: row.owner, sessionId: row.sessionId, generation: row.generation, trigger, reason: outcome.reason });
      // a save that found another one running is not a failure of its own.
      if (outcome.reason !== 'inProgress') this.emit(row, { reason: outcome.reason, trigger });
    } else {
      const { key, bytes, createdAt } = outcome.checkpoint;
      this.emit(row, { checkpoint: { key, bytes, createdAt }, trigger });
      this.count(CHECKPOINT_METRICS.CHECKPOINTS_SAVED);
      this.props.metrics.addMetric(CHECKPOINT_METRICS.CHECKPOINT_BYTES, MetricUnit.Bytes, outcome.checkpoint.bytes);
      this.props.logger.info('checkpoint saved', {
        owner: row.owner,
        sessionId: row.sessionId,
        generation: row.generation,
        trigger,
        key: outcome.checkpoint.key,
        bytes: outcome.checkpoint.bytes,
        durationMs: this.now() - started,
      });
    }
    return outcome;
  }

  private async saveClaimed(row: CheckpointRow, leaseId: string): Promise<SaveOutcome> {
    if (!row.microvmId || !row.endpoint) return { saved: false, reason: 'vmGone' };
    const suspended = isSuspended(row);
    if (suspended && !await this.resume(row.microvmId)) return { saved: false, reason: 'vmGone' };
    try {
      return await this.saveRunning(row, leaseId, suspended);
    } finally {
      // a VM woken only to be saved goes back to sleep (best effort: the idle policy would suspend it too).
      if (suspended) await this.sendPaced(new SuspendMicrovmCommand({ microvmIdentifier: row.microvmId })).catch(() => undefined);
    }
  }

  private async saveRunning(row: CheckpointRow, leaseId: string, ofSuspension: boolean): Promise<SaveOutcome> {
    const { config, microvms, s3 } = this.props;
    let token: string | undefined;
    try {
      const out = await microvms.send(new CreateMicrovmAuthTokenCommand({
        microvmIdentifier: row.microvmId!,
        expirationInMinutes: CHECKPOINTS.TOKEN_MINUTES,
        allowedPorts: [{ port: config.port }],
      }));
      token = out.authToken?.[DATA_PLANE.AUTH_HEADER];
    } catch (err) {
      if (errorName(err) === 'ResourceNotFoundException') return { saved: false, reason: 'vmGone' };
      throw err;
    }
    if (!token) return { saved: false, reason: 'vmGone' };
    const createdAt = new Date(this.now());
    const key = checkpointKey(row, createdAt);
    const expiresIn = Math.min(CHECKPOINTS.URL_MAX_SECONDS, Math.ceil(this.guestTimeoutMs / 1000));
    const uploadUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: config.bucket, Key: key }), { expiresIn });
    const answer = await this.askGuest(row.endpoint!, token, {
      uploadUrl, key, expiresAt: new Date(createdAt.getTime() + expiresIn * 1000).toISOString(), maxBytes: CHECKPOINTS.MAX_BYTES,
    });
    if ('reason' in answer) return { saved: false, reason: answer.reason };
    let head;
    try {
      head = await s3.send(new HeadObjectCommand({ Bucket: config.bucket, Key: key }));
    } catch (err) {
      if (errorName(err) === 'NotFound' || errorName(err) === 'NoSuchKey') return { saved: false, reason: 'notConfirmed' };
      throw err;
    }
    if (head.ContentLength !== answer.bytes) {
      // a guest that lies about what it uploaded: the object is not a restore point.
      await s3.send(new DeleteObjectCommand({ Bucket: config.bucket, Key: key })).catch(() => undefined);
      return { saved: false, reason: 'sizeMismatch' };
    }
    const checkpoint: CheckpointRecord = {
      key, createdAt: createdAt.toISOString(), bytes: answer.bytes, generation: row.generation, ...answer.sha256 ? { sha256: answer.sha256 } : {},
    };
    // a save of a suspended VM covers its suspension: `onSuspend` saves it again only after it runs again.
    const suspensionSavedAt = ofSuspension ? new Date(this.now()).toISOString() : undefined;
    if (!await this.store.record(row, leaseId, checkpoint, suspensionSavedAt)) return { saved: false, reason: 'leaseLost' };
    return { saved: true, checkpoint };
  }

  /** Posts the upload instructions to the guest's checkpoint port and reads its `{ bytes, sha256 }`. */
  private async askGuest(
    endpoint: string, token: string, body: Record<string, unknown>,
  ): Promise<{ bytes: number; sha256?: string } | { reason: 'guestFailed' | 'guestTimedOut' | 'tooLarge' }> {
    let res: Response;
    try {
      res = await fetch(`${this.endpointUrl(endpoint)}${this.props.config.path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [DATA_PLANE.AUTH_HEADER]: token, [DATA_PLANE.PORT_HEADER]: String(this.props.config.port) },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.guestTimeoutMs),
      });
    } catch (err) {
      return { reason: errorName(err) === 'TimeoutError' ? 'guestTimedOut' : 'guestFailed' };
    }
    const text = await res.text().catch(() => '');
    let parsed: { bytes?: unknown; sha256?: unknown; error?: unknown } = {};
    try {
      parsed = JSON.parse(text);
    } catch {
      return { reason: 'guestFailed' };
    }
    if (res.status === 413 || parsed.error === 'TooLarge') return { reason: 'tooLarge' };
    const bytes = parsed.bytes;
    if (res.status !== 200 || typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 0 || bytes > CHECKPOINTS.MAX_BYTES) {
      return { reason: 'guestFailed' };
    }
    const sha256 = typeof parsed.sha256 === 'string' && /^[0-9a-f]{64}$/.test(parsed.sha256) ? parsed.sha256 : undefined;
    return { bytes, sha256 };
  }

  /**
   * The VM seen running at `seenAt` (a sweep's list), after its row marked a suspension: the next suspension is a new
   * one. One conditional write, only for rows that carry a mark.
   */
  async sawRunning(row: CheckpointRow & { suspensionSavedAt?: string; suspensionSaveAttempts?: number }, seenAt: number): Promise<void> {
    if (row.suspensionSavedAt === undefined && row.suspensionSaveAttempts === undefined) return;
    await this.store.clearSuspension(row, new Date(seenAt).toISOString());
  }

  /** Resumes a suspended VM and waits (up to 30 s) until it runs; false when it is gone. */
  private async resume(microvmId: string): Promise<boolean> {
    try {
      await this.sendPaced(new ResumeMicrovmCommand({ microvmIdentifier: microvmId }));
    } catch (err) {
      const name = errorName(err);
      if (name === 'ResourceNotFoundException') return false;
      if (name !== 'ConflictException') throw err;
    }
    for (let waited = 0; waited <= 30_000; waited += 500) {
      const vm = await this.props.microvms.send(new GetMicrovmCommand({ microvmIdentifier: microvmId }));
      if (isGoneState(vm.state)) return false;
      if (vm.state === 'RUNNING') return true;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    return true;
  }

  /**
   * Resume and suspend are the service's slowest-paced calls (5 and 2 per second, account-wide): a throttled (or
   * otherwise transient) failure is tried again by the sweeper's own {@link withRetries}, three times in all.
   */
  private async sendPaced(command: ResumeMicrovmCommand | SuspendMicrovmCommand): Promise<void> {
    await withRetries(PACED_RETRY, () => this.props.microvms.send(command as ResumeMicrovmCommand));
  }

  private emit(
    row: CheckpointRow, detail: { reason?: string; checkpoint?: { key: string; bytes: number; createdAt: string }; trigger: CheckpointTrigger },
  ): void {
    this.props.events?.emit(detail.checkpoint ? SESSION_EVENT_TYPES.CHECKPOINT_SAVED : SESSION_EVENT_TYPES.CHECKPOINT_FAILED, {
      ...sessionFields(row), time: new Date(this.now()).toISOString(), ...detail,
    });
  }

  private count(name: string): void {
    this.props.metrics.addMetric(name, MetricUnit.Count, 1);
  }
}

/** A save of a suspended VM resumes it first, and suspends it again after. */
function isSuspended(row: CheckpointRow): boolean {
  return row.vmState === 'SUSPENDED' || row.vmState === 'SUSPENDING';
}

/**
 * The key of one checkpoint: `<owner>/<session>/<generation>/<timestamp>`. The owner is the row's partition key (the
 * SHA-256 of the owning principal), so a key names its owner and a restore checks it against the row it launches.
 */
export function checkpointKey(row: { owner: string; sessionId: string; generation: number }, at: Date): string {
  return `${row.owner}/${row.sessionId}/${row.generation}/${at.toISOString().replace(/[:.]/g, '-')}`;
}

/** True when `checkpoint` belongs to this owner's session (a restore never crosses owners or sessions). */
export function belongsTo(checkpoint: CheckpointRecord | undefined, row: { owner: string; sessionId: string }): checkpoint is CheckpointRecord {
  return checkpoint !== undefined && checkpoint.key.startsWith(`${row.owner}/${row.sessionId}/`);
}

/** A presigned GET for a checkpoint, at most {@link CHECKPOINTS.URL_MAX_SECONDS}. */
export async function downloadUrl(s3: S3Client, bucket: string, key: string): Promise<string> {
  return getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: CHECKPOINTS.URL_MAX_SECONDS });
}

/** Deletes every checkpoint of a session (its `DELETE`); the number deleted. */
export async function deleteCheckpoints(s3: S3Client, bucket: string, row: { owner: string; sessionId: string }): Promise<number> {
  let deleted = 0;
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${row.owner}/${row.sessionId}/`, ContinuationToken: token }));
    for (const object of page.Contents ?? []) {
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.Key }));
      deleted++;
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return deleted;
}
