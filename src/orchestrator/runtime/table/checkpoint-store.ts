import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { conditionalWrite } from './conditional';
import { CheckpointRecord, keyOf } from './schema';

export type { CheckpointRecord } from './schema';

/**
 * What a sweep saw of a row when it found it due for a save: the claim holds only if no save happened since (a
 * concurrent sweep's scan is as old as this one's), so two sweeps never save one due session twice.
 */
export interface SeenCheckpointState {
  /** The key of the last checkpoint the sweep saw, or undefined when it saw none. */
  readonly lastKey: string | undefined;
  /** A save of a suspension: the row must still show it unsaved, with the failed attempts the sweep saw. */
  readonly suspensionAttempts?: number;
}

/**
 * The checkpoint fields of a session row: a save holds a lease (`checkpointLeaseId` until `checkpointLeaseUntil`),
 * so concurrent requests give one save; a confirmed save replaces `lastCheckpoint` only for the generation it was
 * taken from.
 */
export class CheckpointStore {
  constructor(private readonly client: DynamoDBDocumentClient, private readonly tableName: string) {}

  /**
   * Takes the save lease of an ACTIVE row of `generation`; false when another save holds it, the row moved on, or
   * (with `seen`) a save happened since the caller read the row.
   */
  async claim(
    row: { owner: string; sessionId: string; generation: number }, leaseId: string, nowMs: number, untilMs: number, seen?: SeenCheckpointState,
  ): Promise<boolean> {
    const names: Record<string, string> = { '#status': 'status' };
    const values: Record<string, unknown> = {
      ':g': row.generation, ':active': 'ACTIVE', ':now': nowMs, ':lid': leaseId, ':until': untilMs, ':started': new Date(nowMs).toISOString(),
    };
    let condition = 'generation = :g AND #status = :active AND (attribute_not_exists(checkpointLeaseUntil) OR checkpointLeaseUntil < :now)';
    if (seen) {
      if (seen.lastKey === undefined) {
        condition += ' AND attribute_not_exists(lastCheckpoint)';
      } else {
        condition += ' AND lastCheckpoint.#key = :lastKey';
        names['#key'] = 'key';
        values[':lastKey'] = seen.lastKey;
      }
      if (seen.suspensionAttempts !== undefined) {
        condition += ' AND attribute_not_exists(suspensionSavedAt)';
        if (seen.suspensionAttempts === 0) {
          condition += ' AND attribute_not_exists(suspensionSaveAttempts)';
        } else {
          condition += ' AND suspensionSaveAttempts = :attempts';
          values[':attempts'] = seen.suspensionAttempts;
        }
      }
    }
    return conditionalWrite(() => this.client.send(new UpdateCommand({
      TableName: this.tableName,
      Key: keyOf(row),
      ConditionExpression: condition,
      UpdateExpression: 'SET checkpointLeaseId = :lid, checkpointLeaseUntil = :until, checkpointStartedAt = :started',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    })));
  }

  /**
   * Records a confirmed save and releases the lease; false when the lease was lost (the save is then not recorded).
   * `suspensionSavedAt` marks the VM's current suspension as saved (a save of a suspended VM).
   */
  async record(
    row: { owner: string; sessionId: string }, leaseId: string, checkpoint: CheckpointRecord, suspensionSavedAt?: string,
  ): Promise<boolean> {
    const values: Record<string, unknown> = { ':lid': leaseId, ':g': checkpoint.generation, ':cp': checkpoint };
    let set = 'SET lastCheckpoint = :cp';
    if (suspensionSavedAt !== undefined) {
      set += ', suspensionSavedAt = :sat';
      values[':sat'] = suspensionSavedAt;
    }
    return conditionalWrite(() => this.client.send(new UpdateCommand({
      TableName: this.tableName,
      Key: keyOf(row),
      ConditionExpression: 'checkpointLeaseId = :lid AND generation = :g',
      UpdateExpression: `${set} REMOVE checkpointLeaseId, checkpointLeaseUntil, checkpointError, suspensionSaveAttempts`,
      ExpressionAttributeValues: values,
    })));
  }

  /**
   * Releases the lease after a failed save, recording why (an error code, never a URL or token). A failed save of a
   * suspended VM (`ofSuspension`) counts toward the attempts its suspension gets.
   */
  async release(row: { owner: string; sessionId: string }, leaseId: string, error: string, ofSuspension = false): Promise<boolean> {
    return conditionalWrite(() => this.client.send(new UpdateCommand({
      TableName: this.tableName,
      Key: keyOf(row),
      ConditionExpression: 'checkpointLeaseId = :lid',
      UpdateExpression: `SET checkpointError = :e REMOVE checkpointLeaseId, checkpointLeaseUntil${ofSuspension ? ' ADD suspensionSaveAttempts :one' : ''}`,
      ExpressionAttributeValues: { ':lid': leaseId, ':e': error, ...ofSuspension ? { ':one': 1 } : {} },
    })));
  }

  /**
   * The VM of this generation was seen running at `seenAt` (a sweep's list): its next suspension is a new one, to be
   * saved again. A mark written after `seenAt` (a save that finished since) is kept. False when nothing changed.
   */
  async clearSuspension(row: { owner: string; sessionId: string; generation: number }, seenAt: string): Promise<boolean> {
    return conditionalWrite(() => this.client.send(new UpdateCommand({
      TableName: this.tableName,
      Key: keyOf(row),
      ConditionExpression: 'generation = :g AND (attribute_exists(suspensionSavedAt) OR attribute_exists(suspensionSaveAttempts)) '
        + 'AND (attribute_not_exists(suspensionSavedAt) OR suspensionSavedAt < :seen)',
      UpdateExpression: 'REMOVE suspensionSavedAt, suspensionSaveAttempts',
      ExpressionAttributeValues: { ':g': row.generation, ':seen': seenAt },
    })));
  }
}
