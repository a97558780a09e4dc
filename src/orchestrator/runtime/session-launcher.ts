import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { GetMicrovmCommand, LambdaMicrovmsClient, RunMicrovmCommand, RunMicrovmRequest, TerminateMicrovmCommand } from '@aws-sdk/client-lambda-microvms';
import type { S3Client } from '@aws-sdk/client-s3';
import { AdmissionCounter, countsForAdmission } from './admission-counter';
import { ApiError } from './api-error';
import { errorName } from './aws-errors';
import type { CheckpointConfig } from './checkpoint-config';
import { belongsTo, downloadUrl } from './checkpoint-saver';
import type { OrchestratorConfig } from './config';
import type { Labels } from './labels';
import type { SessionEvents } from './session-events';
import { isGoneState } from './session-rows';
import { endReasonOf, reportEnded, sessionFields } from './session-usage';
import { clientTokenFor, SessionItem } from './table/schema';
import { SessionStore } from './table/session-store';
import { LIMITS, SESSION_METRICS } from '../../shared/contract';
import { SESSION_EVENT_TYPES } from '../../shared/session-events';

/** Rows are kept a day past their VM's end so the sweeper and callers can still see them. */
const ROW_RETENTION_SECONDS = 86_400;

/**
 * How a launch got its row: it `created` it, `readmitted` a session whose VM was TERMINATED (taking an admission
 * slot for it), or `continued` one that already counted.
 */
export type LaunchClaim = 'created' | 'readmitted' | 'continued';

/** A row whose launch this request holds the lease of. */
export interface ClaimedLaunch {
  readonly row: SessionItem;
  readonly claim: LaunchClaim;
}

/** The fields a launch lease sets on a row. */
export interface LeaseFields {
  readonly generation: number;
  readonly leaseId: string;
  readonly leaseExpiresAt: number;
  readonly clientToken: string;
  readonly updatedAt: string;
  /** Labels of the new generation: replace the row's (an empty set removes them); absent keeps them. */
  readonly labels?: Labels;
}

/** What the launcher shares with the session API. */
export interface SessionLauncherProps {
  readonly microvms: LambdaMicrovmsClient;
  readonly store: SessionStore;
  /** The `maxSessions` counter, {@link AdmissionCounter.disabled} without the limit. */
  readonly admission: AdmissionCounter;
  readonly config: OrchestratorConfig;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly now: () => number;
  readonly leaseMs: number;
  /** Where lifecycle events are queued (the request publishes them when it is done). */
  readonly events: SessionEvents;
  /** With checkpoints: a relaunch restores the session's last checkpoint through its `/run` payload. */
  readonly checkpoints?: { readonly config: CheckpointConfig; readonly s3: S3Client };
}

/**
 * The launch protocol: admission, intent recorded under a lease before RunMicrovm, a clientToken
 * derived from owner, session and generation (so retries and takeovers replay the same VM), and a
 * failed launch that leaves nothing half-created.
 */
export class SessionLauncher {
  private readonly microvms: LambdaMicrovmsClient;
  private readonly store: SessionStore;
  private readonly admission: AdmissionCounter;
  private readonly config: OrchestratorConfig;
  private readonly logger: Logger;
  private readonly metrics: Metrics;
  private readonly now: () => number;
  private readonly leaseMs: number;
  private readonly events: SessionEvents;
  private readonly checkpoints?: { readonly config: CheckpointConfig; readonly s3: S3Client };

  constructor(props: SessionLauncherProps) {
    this.microvms = props.microvms;
    this.store = props.store;
    this.admission = props.admission;
    this.config = props.config;
    this.logger = props.logger;
    this.metrics = props.metrics;
    this.now = props.now;
    this.leaseMs = props.leaseMs;
    this.events = props.events;
    this.checkpoints = props.checkpoints;
  }

  /** Admission, then a LAUNCHING row with a lease; undefined when another request created it first. */
  async createRow(caller: { owner: string; ownerArn: string }, id: string, labels?: Labels): Promise<SessionItem | undefined> {
    // a concurrent PUT of this same session may have created it meanwhile: that is not a new
    // session, so re-read before rejecting.
    const key = { owner: caller.owner, sessionId: id, ownerArn: caller.ownerArn };
    if (!await this.admit(key, async () => !await this.store.get(caller.owner, id))) return undefined;
    const now = this.isoNow();
    const item: SessionItem = {
      owner: caller.owner,
      sessionId: id,
      ownerArn: caller.ownerArn,
      status: 'LAUNCHING',
      createdAt: now,
      ...this.nextLaunch({ owner: caller.owner, sessionId: id }, 1),
      ...labels && Object.keys(labels).length ? { labels } : {},
      ttl: Math.floor(this.now() / 1000) + this.config.maxDurationSeconds + ROW_RETENTION_SECONDS,
    };
    if (!await this.store.createLaunching(item)) {
      await this.admission.release();
      return undefined;
    }
    if (await this.overOwnerLimit(caller.owner)) {
      // a concurrent create for another session of this caller got in first: back out completely.
      await this.deleteRow(item);
      throw this.ownerLimitRejected(key);
    }
    return item;
  }

  /**
   * Takes the launch of an existing row: its next generation, or the takeover of an abandoned launch or delete.
   * A row whose VM was seen TERMINATED counts toward no admission limit, so claiming it admits the session again,
   * under the same limits and with the same back-out as a new one. Undefined when another request changed the row
   * first.
   */
  async claim(row: SessionItem, next: LeaseFields): Promise<ClaimedLaunch | undefined> {
    if (countsForAdmission(row)) {
      const claimed = await this.store.beginLaunch(row, next);
      if (claimed && next.generation > row.generation && row.microvmId && row.status !== 'LAUNCHING') {
        // this claim took the row off its previous VM, which nobody marked ended: its end is reported here, once.
        const now = this.now();
        reportEnded(this.events, this.metrics, this.config.events, row, row.status === 'ENDING' ? 'deleted' : endReasonOf(row, now), now);
      }
      return claimed && { row: claimed, claim: 'continued' };
    }
    const unchanged = async () => {
      const current = await this.store.get(row.owner, row.sessionId);
      return current !== undefined && current.generation === row.generation && current.status === row.status
        && current.leaseId === row.leaseId && !countsForAdmission(current);
    };
    if (!await this.admit(row, unchanged)) return undefined;
    const claimed = await this.store.beginLaunch(row, next);
    if (!claimed) {
      await this.admission.release();
      return undefined;
    }
    if (await this.overOwnerLimit(row.owner)) {
      await this.abandon(claimed, 'readmitted');
      throw this.ownerLimitRejected(row);
    }
    return { row: claimed, claim: 'readmitted' };
  }

  /**
   * Checks `maxSessionsPerOwner` and takes a `maxSessions` slot for one more counted row of `owner`. A refusal
   * answers 429 only if `stillNeeded` says the row in question did not change meanwhile (a concurrent PUT of the
   * same session may have created or relaunched it); otherwise false, and the caller re-reads.
   */
  private async admit(key: AdmissionKey, stillNeeded: () => Promise<boolean>): Promise<boolean> {
    const { maxSessionsPerOwner } = this.config;
    if (maxSessionsPerOwner !== undefined && await this.store.countByOwner(key.owner) >= maxSessionsPerOwner) {
      if (!await stillNeeded()) return false;
      throw this.ownerLimitRejected(key);
    }
    if (!await this.admission.acquire(this.isoNow())) {
      if (!await stillNeeded()) return false;
      throw this.admissionRejected(key, 'maxSessions', `the orchestrator already runs ${this.admission.max} sessions (maxSessions); retry later`);
    }
    return true;
  }

  /** Check after write: concurrent admissions of one caller's other sessions may together pass the limit. */
  private async overOwnerLimit(owner: string): Promise<boolean> {
    const { maxSessionsPerOwner } = this.config;
    return maxSessionsPerOwner !== undefined && await this.store.countByOwner(owner) > maxSessionsPerOwner;
  }

  private ownerLimitRejected(key: AdmissionKey): ApiError {
    return this.admissionRejected(key, 'maxSessionsPerOwner', `this caller already has ${this.config.maxSessionsPerOwner} sessions (maxSessionsPerOwner); delete one first`);
  }

  /** A fresh lease for `generation` of a session, with that generation's clientToken (and `labels`, when given). */
  nextLaunch(key: { owner: string; sessionId: string }, generation: number, labels?: Labels): LeaseFields {
    return {
      ...labels ? { labels } : {},
      generation,
      leaseId: randomUUID(),
      leaseExpiresAt: this.now() + this.leaseMs,
      clientToken: clientTokenFor(key.owner, key.sessionId, generation),
      updatedAt: this.isoNow(),
    };
  }

  /**
   * Runs the row's VM under its clientToken and records it; returns the ACTIVE row. `claim` says how the row was
   * taken, which decides what a failed launch gives back (see `abandon`).
   */
  async launch(claimed: SessionItem, payload: string | undefined, claim: LaunchClaim): Promise<SessionItem> {
    let row = claimed;
    const started = this.now();
    let runPayload: string | undefined;
    try {
      runPayload = await this.runPayload(row, payload);
    } catch (err) {
      await this.abandon(row, claim);
      throw err;
    }
    for (let attempt = 0; ; attempt++) {
      let vm;
      try {
        vm = await this.microvms.send(new RunMicrovmCommand(this.runRequest(row, runPayload)));
      } catch (err) {
        const name = errorName(err);
        if (name === 'ConflictException' && attempt < 3) {
          // the token was already used with other parameters (a different payload or configuration):
          // move on to the next generation; a VM made under the old token has no row and is swept.
          row = await this.nextGeneration(row);
          continue;
        }
        // a created row that moved on to another generation is no longer ours alone to delete.
        await this.abandon(row, claim === 'created' && row.generation !== claimed.generation ? 'continued' : claim);
        this.events.emit(SESSION_EVENT_TYPES.LAUNCH_FAILED, {
          ...sessionFields({ ...row, microvmId: undefined, imageVersion: this.config.imageVersion }), time: this.isoNow(), reason: name,
        });
        if (name === 'ServiceQuotaExceededException') {
          this.count(SESSION_METRICS.QUOTA_REJECTIONS);
          this.logger.warn('launch rejected by the memory quota', { owner: row.owner, sessionId: row.sessionId });
          throw ApiError.tooManyRequests('QuotaExceeded', 'the account has no MicroVM capacity left (service quota); retry later', 30);
        }
        // any other RunMicrovm failure that survived the SDK's retries: what the launch-failures alarm watches.
        this.count(SESSION_METRICS.LAUNCH_FAILURES);
        this.logger.warn('launch failed', { owner: row.owner, sessionId: row.sessionId, error: name });
        throw err;
      }
      if (isGoneState(vm.state) && attempt < 3) {
        // a replay of a spent clientToken (for example a session id reused after DELETE) returns
        // the old, terminated VM: the next generation gets a fresh one.
        row = await this.nextGeneration(row);
        continue;
      }
      const latencyMs = Math.max(0, this.now() - started);
      this.metrics.addMetric(SESSION_METRICS.LAUNCH_LATENCY, MetricUnit.Milliseconds, latencyMs);
      const startedAt = vm.startedAt instanceof Date ? vm.startedAt.getTime() : this.now();
      const lifetime = vm.maximumDurationInSeconds ?? this.config.maxDurationSeconds;
      const expiresAt = new Date(startedAt + lifetime * 1000).toISOString();
      const record = {
        microvmId: vm.microvmId as string,
        endpoint: toHttpsUrl(vm.endpoint ?? ''),
        vmState: vm.state ?? 'PENDING',
        imageVersion: vm.imageVersion ?? this.config.imageVersion,
        startedAt: new Date(startedAt).toISOString(),
        expiresAt,
        updatedAt: this.isoNow(),
        ttl: Math.floor((startedAt + lifetime * 1000) / 1000) + ROW_RETENTION_SECONDS,
      };
      let final = await this.store.finishLaunch(row, record);
      if (!final) {
        // our lease expired and someone took the launch over: same generation means same clientToken,
        // hence the same VM, so answering with it is still correct.
        const current = await this.store.get(row.owner, row.sessionId);
        if (!current || current.generation !== row.generation) this.lostLease();
        final = { ...current, ...record, status: 'ACTIVE' };
      } else {
        // only the request whose write recorded the VM reports it: a takeover that lost the write does not.
        this.events.emit(SESSION_EVENT_TYPES.CREATED, { ...sessionFields(final), time: this.isoNow(), launchLatencyMs: latencyMs });
        if (!countsForAdmission(final)) {
          // recorded a VM that was already TERMINATED (a spent clientToken replayed past the retries): the row
          // stops counting, so its slot goes back.
          await this.admission.release();
        }
      }
      this.count(SESSION_METRICS.SESSIONS_CREATED);
      this.logger.info('session launched', {
        owner: final.owner,
        sessionId: final.sessionId,
        generation: final.generation,
        microvmId: final.microvmId,
        state: final.vmState,
        imageVersion: final.imageVersion,
      });
      return final;
    }
  }

  /**
   * The `/run` hook payload: the caller's, unchanged without checkpoints. A relaunch of a session with a checkpoint of
   * an earlier generation (its own: the key names the owner and session) gets `{ payload, checkpoint: { downloadUrl,
   * key, createdAt } }`, the URL a GET presigned for at most 15 minutes; 400 when that no longer fits in 4096 bytes.
   */
  private async runPayload(row: SessionItem, payload: string | undefined): Promise<string | undefined> {
    const checkpoint = row.lastCheckpoint;
    if (!this.checkpoints || !belongsTo(checkpoint, row) || checkpoint.generation >= row.generation) return payload;
    const url = await downloadUrl(this.checkpoints.s3, this.checkpoints.config.bucket, checkpoint.key);
    const restore = { downloadUrl: url, key: checkpoint.key, createdAt: checkpoint.createdAt };
    const wrapped = JSON.stringify({ payload: payload ?? null, checkpoint: restore });
    const size = Buffer.byteLength(wrapped, 'utf8');
    if (size > LIMITS.RUN_HOOK_PAYLOAD_BYTES) {
      // the wrapper around an empty payload: what is left is the room for the payload's own characters.
      const room = LIMITS.RUN_HOOK_PAYLOAD_BYTES - Buffer.byteLength(JSON.stringify({ payload: '', checkpoint: restore }), 'utf8');
      throw ApiError.badRequest('PayloadTooLarge', `the /run payload would be ${size} bytes with the checkpoint to restore (at most `
        + `${LIMITS.RUN_HOOK_PAYLOAD_BYTES}); this relaunch leaves room for a payload of ${Math.max(0, room)} bytes (quotes, backslashes `
        + 'and control characters count twice or more, as JSON escapes them)');
    }
    return wrapped;
  }

  private runRequest(row: SessionItem, payload: string | undefined): RunMicrovmRequest {
    const c = this.config;
    return {
      imageIdentifier: c.imageArn,
      imageVersion: c.imageVersion,
      clientToken: row.clientToken,
      egressNetworkConnectors: c.egressConnectors,
      ingressNetworkConnectors: c.ingressConnectors,
      executionRoleArn: c.executionRoleArn,
      // the service rejects cloudWatch logging without an execution role (it writes as that role).
      logging: c.executionRoleArn && c.runtimeLogGroup
        ? { cloudWatch: { logGroup: c.runtimeLogGroup } }
        : { disabled: {} },
      idlePolicy: c.idlePolicy ? { ...c.idlePolicy } : undefined,
      maximumDurationInSeconds: c.maxDurationSeconds,
      runHookPayload: payload,
    };
  }

  private async nextGeneration(row: SessionItem): Promise<SessionItem> {
    const generation = row.generation + 1;
    const next = await this.store.beginLaunch(row, {
      ...pickLease(row),
      generation,
      clientToken: clientTokenFor(row.owner, row.sessionId, generation),
    });
    return next ?? this.lostLease();
  }

  /**
   * Leaves nothing half-created after a failed launch: a row this request created is deleted
   * (with its admission slot); any other row keeps its generation and clientToken with the lease
   * released, so the next PUT replays the launch at once. A `readmitted` row also goes back to not
   * counting (its VM is still the TERMINATED one) and gives its slot back. If RunMicrovm took effect
   * but its answer was lost, the next PUT derives the same clientToken and gets that VM back (or the
   * sweeper ends it).
   */
  private async abandon(row: SessionItem, claim: LaunchClaim): Promise<void> {
    try {
      if (claim === 'created') {
        await this.deleteRow(row);
      } else if (claim === 'readmitted') {
        if (await this.store.releaseLease(row, this.isoNow(), { vmTerminated: true })) await this.admission.release();
      } else {
        await this.store.releaseLease(row, this.isoNow());
      }
    } catch (err) {
      // the lease still expires on its own; the original error is the one to report.
      this.logger.warn('could not release a failed launch', { owner: row.owner, sessionId: row.sessionId, error: errorName(err) });
    }
  }

  /** Deletes a row this request holds (see `SessionStore.deleteSession`) and gives back its admission slot; false when the row changed. */
  async deleteRow(row: SessionItem): Promise<boolean> {
    if (!await this.store.deleteSession(row)) return false;
    await this.admission.releaseFor(row);
    return true;
  }

  /** True when the row's VM is gone (not found, or TERMINATING/TERMINATED): one GetMicrovm. */
  async vmEnded(row: SessionItem): Promise<boolean> {
    try {
      return isGoneState((await this.microvms.send(new GetMicrovmCommand({ microvmIdentifier: row.microvmId }))).state);
    } catch (err) {
      if (errorName(err) === 'ResourceNotFoundException') return true;
      throw err;
    }
  }

  /** Terminates a VM (gone already is fine); on failure releases the row's lease and rethrows. */
  async terminateOrRelease(row: SessionItem, microvmId: string | undefined): Promise<void> {
    if (!microvmId) return;
    try {
      await this.microvms.send(new TerminateMicrovmCommand({ microvmIdentifier: microvmId }));
    } catch (err) {
      const name = errorName(err);
      if (name === 'ResourceNotFoundException' || name === 'ConflictException') return; // already gone or going
      await this.store.releaseLease(row, this.isoNow()).catch(() => false);
      throw err;
    }
  }

  /**
   * Before a takeover launches: makes sure the previous generation's VM is gone. A `readmitted` row's VM is
   * known TERMINATED, so there is nothing to call; on failure the claim is given back like a failed launch.
   */
  async endPrevious(claimed: ClaimedLaunch, microvmId: string | undefined): Promise<void> {
    if (!microvmId || claimed.claim === 'readmitted') return;
    await this.terminateOrRelease(claimed.row, microvmId);
  }

  private admissionRejected(key: AdmissionKey, limit: 'maxSessions' | 'maxSessionsPerOwner', message: string): ApiError {
    this.count(SESSION_METRICS.ADMISSION_REJECTIONS);
    this.events.emit(SESSION_EVENT_TYPES.ADMISSION_REFUSED, {
      owner: key.owner, sessionId: key.sessionId, ...key.ownerArn ? { ownerArn: key.ownerArn } : {}, time: this.isoNow(), reason: limit,
    });
    return ApiError.tooManyRequests('AdmissionLimit', message, 30);
  }

  private lostLease(): never {
    throw ApiError.unavailable('SessionContended', 'another request took this launch over; retry', 1);
  }

  private isoNow(): string {
    return new Date(this.now()).toISOString();
  }

  private count(name: string): void {
    this.metrics.addMetric(name, MetricUnit.Count, 1);
  }
}

/** Who an admission decision is about (a refusal's event names them). */
type AdmissionKey = { readonly owner: string; readonly sessionId: string; readonly ownerArn?: string };

function pickLease(row: SessionItem) {
  return {
    generation: row.generation,
    leaseId: row.leaseId as string,
    leaseExpiresAt: row.leaseExpiresAt as number,
    clientToken: row.clientToken,
    updatedAt: row.updatedAt,
  };
}

function toHttpsUrl(endpoint: string): string {
  if (endpoint === '') return endpoint;
  return /^https?:\/\//i.test(endpoint) ? endpoint.replace(/^http:/i, 'https:') : `https://${endpoint}`;
}
