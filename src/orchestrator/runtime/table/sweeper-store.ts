import {
  DeleteCommand,
  DynamoDBDocumentClient,
  PutCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { conditionalWrite } from './conditional';
import { CheckpointRecord, keyOf, SCANNED_SESSION_FIELDS, SCANNED_SUSPECT_FIELDS, ScannedSession, SessionStatus, SuspectRow } from './schema';
import { TABLE } from '../../../shared/contract';
import { admissionGuard, COUNTS_FOR_ADMISSION, TERMINATED_VM_STATE } from '../admission-counter';

/** What one scan read: the session rows, and the suspects of the `#orphan` partition by VM id. */
export interface TableSnapshot {
  readonly sessions: ScannedSession[];
  readonly suspects: Map<string, SuspectRow>;
  readonly pages: number;
}

const SCAN_FIELDS = [TABLE.PARTITION_KEY, TABLE.SORT_KEY, ...SCANNED_SESSION_FIELDS, ...SCANNED_SUSPECT_FIELDS];

/** Wraps each table call (retries, deadline); the table code stays free of pacing concerns. */
export type CallWrapper = <T>(fn: () => Promise<T>) => Promise<T>;

/**
 * The sweeper's view of the sessions table: session rows, and suspects in the reserved `#orphan` partition. Every
 * write is conditional on what the scan saw, so a sweep never clobbers a launch, a relaunch or another sweep that
 * got there first.
 */
export class SweeperStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly call: CallWrapper,
  ) {}

  /**
   * Reads every row once (strongly consistent, projected to the fields used). A scan is right here: the
   * sweeper needs every session that holds a VM, across all owners, and there is no index on `microvmId`.
   */
  public async scan(shouldStop: () => boolean): Promise<TableSnapshot | undefined> {
    const names: Record<string, string> = {};
    SCAN_FIELDS.forEach((f, i) => (names[`#f${i}`] = f));
    const sessions: ScannedSession[] = [];
    const suspects = new Map<string, SuspectRow>();
    let startKey: Record<string, unknown> | undefined;
    let pages = 0;
    do {
      if (shouldStop()) {
        return undefined;
      }
      const page = await this.call(() => this.client.send(new ScanCommand({
        TableName: this.tableName,
        ConsistentRead: true,
        ProjectionExpression: Object.keys(names).join(', '),
        ExpressionAttributeNames: names,
        ExclusiveStartKey: startKey,
      })));
      pages++;
      for (const item of page.Items ?? []) {
        const owner = String(item[TABLE.PARTITION_KEY] ?? '');
        const sessionId = String(item[TABLE.SORT_KEY]);
        if (owner === TABLE.ORPHAN_PARTITION) {
          suspects.set(sessionId, {
            microvmId: sessionId,
            firstSeenAt: String(item.firstSeenAt ?? ''),
            claimedBy: optString(item.claimedBy),
            claimedAt: optNumber(item.claimedAt),
            terminatedAt: optString(item.terminatedAt),
          });
        } else if (!owner.startsWith('#')) {
          sessions.push({
            owner,
            sessionId,
            generation: optNumber(item.generation),
            status: optString(item.status) as SessionStatus | undefined,
            leaseId: optString(item.leaseId),
            leaseExpiresAt: optNumber(item.leaseExpiresAt),
            microvmId: optString(item.microvmId),
            vmState: optString(item.vmState),
            createdAt: optString(item.createdAt),
            expiresAt: optString(item.expiresAt),
            updatedAt: optString(item.updatedAt),
            ownerArn: optString(item.ownerArn),
            imageVersion: optString(item.imageVersion),
            labels: labelsOf(item.labels),
            startedAt: optString(item.startedAt),
            suspendedAt: optString(item.suspendedAt),
            suspendedMs: optNumber(item.suspendedMs),
            endpoint: optString(item.endpoint),
            lastCheckpoint: checkpointOf(item.lastCheckpoint),
            checkpointLeaseUntil: optNumber(item.checkpointLeaseUntil),
            suspensionSavedAt: optString(item.suspensionSavedAt),
            suspensionSaveAttempts: optNumber(item.suspensionSaveAttempts),
          });
        }
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return { sessions, suspects, pages };
  }

  /** Records a first sighting; false when another sweep recorded it first. */
  public async putSuspect(microvmId: string, firstSeenAt: string, ttlEpochSeconds: number): Promise<boolean> {
    return this.conditional(() => this.client.send(new PutCommand({
      TableName: this.tableName,
      Item: { ...suspectKey(microvmId), microvmId, firstSeenAt, [TABLE.TTL_ATTRIBUTE]: ttlEpochSeconds },
      ConditionExpression: `attribute_not_exists(${TABLE.SORT_KEY})`,
    })));
  }

  /** Forgets a suspect (it became owned or is gone); false when it was already gone. */
  public async deleteSuspect(microvmId: string): Promise<boolean> {
    return this.conditional(() => this.client.send(new DeleteCommand({
      TableName: this.tableName,
      Key: suspectKey(microvmId),
      ConditionExpression: `attribute_exists(${TABLE.SORT_KEY})`,
    })));
  }

  /**
   * Takes the right to terminate a confirmed suspect. Only one sweep wins: the claim requires the sighting the
   * scan saw, no live claim, and no recent termination.
   */
  public async claimSuspect(s: SuspectRow, runId: string, nowMs: number, staleBeforeMs: number): Promise<boolean> {
    return this.conditional(() => this.client.send(new UpdateCommand({
      TableName: this.tableName,
      Key: suspectKey(s.microvmId),
      UpdateExpression: 'SET claimedBy = :run, claimedAt = :now',
      ConditionExpression: 'firstSeenAt = :first'
        + ' AND (attribute_not_exists(claimedBy) OR claimedAt < :stale)'
        + ' AND (attribute_not_exists(terminatedAt) OR terminatedAt < :staleIso)',
      ExpressionAttributeValues: {
        ':run': runId,
        ':now': nowMs,
        ':first': s.firstSeenAt,
        ':stale': staleBeforeMs,
        ':staleIso': new Date(staleBeforeMs).toISOString(),
      },
    })));
  }

  /** Ends a claim: records the termination, or just releases the claim when the terminate failed. */
  public async releaseSuspect(microvmId: string, runId: string, terminatedAt: string | undefined): Promise<boolean> {
    return this.conditional(() => this.client.send(new UpdateCommand({
      TableName: this.tableName,
      Key: suspectKey(microvmId),
      UpdateExpression: terminatedAt
        ? 'SET terminatedAt = :at REMOVE claimedBy, claimedAt'
        : 'REMOVE claimedBy, claimedAt',
      ConditionExpression: 'claimedBy = :run',
      ExpressionAttributeValues: terminatedAt ? { ':run': runId, ':at': terminatedAt } : { ':run': runId },
    })));
  }

  /**
   * Takes the right to terminate a session's VM by marking the row TERMINATING. It fails when the row changed
   * since the scan (relaunch, new lease, delete) or another sweep claimed it recently.
   */
  public async claimSessionVm(row: ScannedSession, nowIso: string, staleBeforeIso: string): Promise<boolean> {
    const guard = rowGuard(row);
    return this.conditional(() => this.client.send(new UpdateCommand({
      TableName: this.tableName,
      Key: keyOf(row),
      UpdateExpression: 'SET vmState = :terminating, updatedAt = :now',
      ConditionExpression: `${guard.expression}`
        + ' AND (attribute_not_exists(vmState) OR vmState <> :terminating OR attribute_not_exists(updatedAt) OR updatedAt < :stale)',
      ExpressionAttributeNames: guard.names,
      ExpressionAttributeValues: { ...guard.values, ':terminating': 'TERMINATING', ':now': nowIso, ':stale': staleBeforeIso },
    })));
  }

  /** Marks a row whose VM is gone, so it no longer claims a live VM (the next PUT relaunches a new generation). */
  public async markTerminated(row: ScannedSession, nowIso: string): Promise<boolean> {
    const guard = rowGuard(row);
    return this.conditional(() => this.client.send(new UpdateCommand({
      TableName: this.tableName,
      Key: keyOf(row),
      UpdateExpression: 'SET vmState = :terminatedVm, updatedAt = :now REMOVE endpoint',
      // already marked (e.g. by a concurrent sweep) is not a repair this sweep made, nor a slot to give back.
      ConditionExpression: `${guard.expression} AND ${COUNTS_FOR_ADMISSION}`,
      ExpressionAttributeNames: guard.names,
      ExpressionAttributeValues: { ...guard.values, ':terminatedVm': TERMINATED_VM_STATE, ':now': nowIso },
    })));
  }

  /**
   * Deletes a row exactly as the scan saw it (an ENDING session whose VM is gone, or a dead launch), including
   * whether it counts for admission, so the caller knows whether a slot goes back.
   */
  public async deleteRow(row: ScannedSession): Promise<boolean> {
    const guard = rowGuard(row);
    return this.conditional(() => this.client.send(new DeleteCommand({
      TableName: this.tableName,
      Key: keyOf(row),
      ConditionExpression: `${guard.expression} AND ${admissionGuard(row)}`,
      ExpressionAttributeNames: guard.names,
      ExpressionAttributeValues: { ...guard.values, ':terminatedVm': TERMINATED_VM_STATE },
    })));
  }

  /** A conditional write through the call wrapper: false when its condition failed. */
  private conditional(fn: () => Promise<unknown>): Promise<boolean> {
    return conditionalWrite(() => this.call(fn));
  }
}

function suspectKey(microvmId: string): Record<string, string> {
  return keyOf({ owner: TABLE.ORPHAN_PARTITION, sessionId: microvmId });
}

/**
 * The row must still be the one the scan saw: same generation, VM, status and lease. A relaunch bumps the
 * generation, a retried launch takes a new lease, so neither can be overwritten by a stale sweep.
 */
function rowGuard(row: ScannedSession): { expression: string; names: Record<string, string>; values: Record<string, unknown> } {
  const parts = [`attribute_exists(${TABLE.SORT_KEY})`];
  const names: Record<string, string> = { '#status': 'status' };
  const values: Record<string, unknown> = {};
  const match = (attr: string, placeholder: string, value: unknown) => {
    if (value === undefined) {
      parts.push(`attribute_not_exists(${attr})`);
    } else {
      parts.push(`${attr} = ${placeholder}`);
      values[placeholder] = value;
    }
  };
  match('generation', ':g', row.generation);
  match('microvmId', ':vm', row.microvmId);
  match('#status', ':st', row.status);
  match('leaseId', ':lease', row.leaseId);
  return { expression: parts.join(' AND '), names, values };
}

function optString(v: unknown): string | undefined {
  return v === undefined || v === null ? undefined : String(v);
}

function optNumber(v: unknown): number | undefined {
  if (v === undefined || v === null) {
    return undefined;
  }
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** A row's labels as stored (a map of strings); anything else reads as none. */
function labelsOf(value: unknown): Record<string, string> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const entries = Object.entries(value).filter(([, v]) => typeof v === 'string');
  return entries.length ? Object.fromEntries(entries) as Record<string, string> : undefined;
}

/** A row's last checkpoint as stored; anything malformed reads as none. */
function checkpointOf(value: unknown): CheckpointRecord | undefined {
  const v = value as Partial<CheckpointRecord> | undefined;
  if (!v || typeof v.key !== 'string' || typeof v.createdAt !== 'string' || typeof v.bytes !== 'number' || typeof v.generation !== 'number') return undefined;
  return { key: v.key, createdAt: v.createdAt, bytes: v.bytes, generation: v.generation, ...typeof v.sha256 === 'string' ? { sha256: v.sha256 } : {} };
}
