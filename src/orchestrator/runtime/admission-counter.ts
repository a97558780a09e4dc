import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { conditionalWrite } from './table/conditional';
import { TABLE } from '../../shared/contract';

/** Sort key, in the `#meta` partition, of the global session counter used by `maxSessions`. */
export const SESSION_COUNTER_KEY = 'sessions';

/** The `vmState` of a row whose VM is known to be gone. */
export const TERMINATED_VM_STATE = 'TERMINATED';

/**
 * True when a row counts toward `maxSessions` and `maxSessionsPerOwner`: every session row except one whose VM was
 * seen TERMINATED (its VM ended on its own: idle policy, maximum duration, or the service). Such a row stays for
 * GET and for the next PUT, which relaunches it and so admits it again.
 */
export function countsForAdmission(row: { readonly vmState?: string }): boolean {
  return row.vmState !== TERMINATED_VM_STATE;
}

/** {@link countsForAdmission} as a DynamoDB condition; `:terminatedVm` is {@link TERMINATED_VM_STATE}. */
export const COUNTS_FOR_ADMISSION = '(attribute_not_exists(vmState) OR vmState <> :terminatedVm)';

/** The condition that a row's `vmState` still says what `row` says about admission (pins counted-ness). */
export function admissionGuard(row: { readonly vmState?: string }): string {
  return countsForAdmission(row) ? COUNTS_FOR_ADMISSION : 'vmState = :terminatedVm';
}

/** The `maxSessions` counter as read (by the sweeper, before a scan). */
export interface SlotCounter {
  readonly count: number;
  /** Bumped by every acquire and release; undefined on counters written before versions existed. */
  readonly version?: number;
}

const COUNTER_KEY = { [TABLE.PARTITION_KEY]: TABLE.META_PARTITION, [TABLE.SORT_KEY]: SESSION_COUNTER_KEY };
const COUNTER_NAMES = { '#count': 'count', '#version': 'version' };

/**
 * The global admission counter behind `maxSessions`: one item in the `#meta` partition holding the number of
 * session rows that count (see {@link countsForAdmission}). The session API takes a slot before a row starts to
 * count and gives it back when the row stops counting; the sweeper gives back the slots of rows it removes and
 * reconciles the count with the table. Without `maxSessions` the counter is {@link AdmissionCounter.disabled}:
 * it admits everything and writes nothing.
 */
export class AdmissionCounter {
  /** A counter that admits everything and never touches the table (no `maxSessions`). */
  static disabled(): AdmissionCounter {
    return new AdmissionCounter(undefined, undefined);
  }

  /**
   * The counter in `tableName`. `max` is the limit {@link acquire} enforces (the session API's `maxSessions`);
   * the sweeper, which only gives slots back, leaves it out.
   */
  static of(documentClient: DynamoDBDocumentClient, tableName: string, max?: number): AdmissionCounter {
    return new AdmissionCounter({ documentClient, tableName }, max);
  }

  private constructor(
    private readonly table: { readonly documentClient: DynamoDBDocumentClient; readonly tableName: string } | undefined,
    /** The most slots {@link acquire} hands out. */
    readonly max: number | undefined,
  ) {}

  /** False for {@link disabled}: rows are then not counted at all. */
  get enabled(): boolean {
    return this.table !== undefined;
  }

  /** Takes one slot; false when `max` slots are taken. A disabled counter always admits. */
  async acquire(at: string): Promise<boolean> {
    if (!this.table) return true;
    if (this.max === undefined) throw new Error('this admission counter has no maximum to acquire against');
    const { documentClient, tableName } = this.table;
    return conditionalWrite(() => documentClient.send(new UpdateCommand({
      TableName: tableName,
      Key: COUNTER_KEY,
      ConditionExpression: 'attribute_not_exists(#count) OR #count < :max',
      // every change bumps `version`, so the sweeper's reconciliation can tell it raced nothing.
      UpdateExpression: 'ADD #count :one, #version :one SET updatedAt = :u',
      ExpressionAttributeNames: COUNTER_NAMES,
      ExpressionAttributeValues: { ':one': 1, ':max': this.max, ':u': at },
    })));
  }

  /** Gives a slot back; never drives the counter below zero. */
  async release(): Promise<void> {
    if (!this.table) return;
    const { documentClient, tableName } = this.table;
    await conditionalWrite(() => documentClient.send(new UpdateCommand({
      TableName: tableName,
      Key: COUNTER_KEY,
      ConditionExpression: '#count > :zero',
      UpdateExpression: 'ADD #count :minus, #version :one',
      ExpressionAttributeNames: COUNTER_NAMES,
      ExpressionAttributeValues: { ':minus': -1, ':zero': 0, ':one': 1 },
    })));
  }

  /** Gives back the slot of a row that is gone, if it held one. */
  async releaseFor(row: { readonly vmState?: string }): Promise<void> {
    if (countsForAdmission(row)) await this.release();
  }

  /** The counter (strongly consistent); undefined when no slot was ever taken, or when disabled. */
  async read(): Promise<SlotCounter | undefined> {
    if (!this.table) return undefined;
    const { documentClient, tableName } = this.table;
    const out = await documentClient.send(new GetCommand({ TableName: tableName, Key: COUNTER_KEY, ConsistentRead: true }));
    if (!out.Item) return undefined;
    return { count: finiteNumber(out.Item.count) ?? 0, version: finiteNumber(out.Item.version) };
  }

  /**
   * Sets the counter to the number of counted session rows a scan found, only if no slot was taken or given back
   * since `seen` was read (the version is unchanged). Rows that DynamoDB's TTL deleted never gave their slot back;
   * this is how those slots return. False when it raced a change (or is disabled).
   */
  async reconcile(seen: SlotCounter, rows: number): Promise<boolean> {
    if (!this.table) return false;
    const { documentClient, tableName } = this.table;
    const versioned = seen.version !== undefined;
    return conditionalWrite(() => documentClient.send(new UpdateCommand({
      TableName: tableName,
      Key: COUNTER_KEY,
      ConditionExpression: versioned ? '#count = :seen AND #version = :v' : '#count = :seen AND attribute_not_exists(#version)',
      UpdateExpression: 'SET #count = :rows ADD #version :one',
      ExpressionAttributeNames: COUNTER_NAMES,
      ExpressionAttributeValues: {
        ':seen': seen.count,
        ':rows': rows,
        ':one': 1,
        ...(versioned ? { ':v': seen.version } : {}),
      },
    })));
  }
}

function finiteNumber(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}
