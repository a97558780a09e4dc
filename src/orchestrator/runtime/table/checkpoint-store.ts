import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { conditionalWrite } from './conditional';
import { CheckpointRecord, keyOf } from './schema';

export type { CheckpointRecord } from './schema';

/**
 * The checkpoint fields of a session row: a save holds a lease (`checkpointLeaseId` until `checkpointLeaseUntil`),
 * so concurrent requests give one save; a confirmed save replaces `lastCheckpoint` only for the generation it was
 * taken from.
 */
export class CheckpointStore {
  constructor(private readonly client: DynamoDBDocumentClient, private readonly tableName: string) {}

  /** Takes the save lease of an ACTIVE row of `generation`; false when another save holds it or the row moved on. */
  async claim(row: { owner: string; sessionId: string; generation: number }, leaseId: string, nowMs: number, untilMs: number): Promise<boolean> {
    return conditionalWrite(() => this.client.send(new UpdateCommand({
      TableName: this.tableName,
      Key: keyOf(row),
      ConditionExpression: 'generation = :g AND #status = :active AND (attribute_not_exists(checkpointLeaseUntil) OR checkpointLeaseUntil < :now)',
      UpdateExpression: 'SET checkpointLeaseId = :lid, checkpointLeaseUntil = :until, checkpointStartedAt = :started',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':g': row.generation, ':active': 'ACTIVE', ':now': nowMs, ':lid': leaseId, ':until': untilMs, ':started': new Date(nowMs).toISOString(),
      },
    })));
  }

  /** Records a confirmed save and releases the lease; false when the lease was lost (the save is then not recorded). */
  async record(row: { owner: string; sessionId: string }, leaseId: string, checkpoint: CheckpointRecord): Promise<boolean> {
    return conditionalWrite(() => this.client.send(new UpdateCommand({
      TableName: this.tableName,
      Key: keyOf(row),
      ConditionExpression: 'checkpointLeaseId = :lid AND generation = :g',
      UpdateExpression: 'SET lastCheckpoint = :cp REMOVE checkpointLeaseId, checkpointLeaseUntil, checkpointError',
      ExpressionAttributeValues: { ':lid': leaseId, ':g': checkpoint.generation, ':cp': checkpoint },
    })));
  }

  /** Releases the lease after a failed save, recording why (an error code, never a URL or token). */
  async release(row: { owner: string; sessionId: string }, leaseId: string, error: string): Promise<boolean> {
    return conditionalWrite(() => this.client.send(new UpdateCommand({
      TableName: this.tableName,
      Key: keyOf(row),
      ConditionExpression: 'checkpointLeaseId = :lid',
      UpdateExpression: 'SET checkpointError = :e REMOVE checkpointLeaseId, checkpointLeaseUntil',
      ExpressionAttributeValues: { ':lid': leaseId, ':e': error },
    })));
  }
}
