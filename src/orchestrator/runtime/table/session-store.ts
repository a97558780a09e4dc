import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { conditional, conditionalWrite } from './conditional';
import { keyOf, SessionItem } from './schema';
import { TABLE } from '../../../shared/contract';
import { admissionGuard, COUNTS_FOR_ADMISSION, countsForAdmission, TERMINATED_VM_STATE } from '../admission-counter';
import { isSessionId } from '../http';
import type { Labels } from '../labels';

/** A page of sessions and the opaque token for the next one. */
export interface SessionPage {
  readonly items: SessionItem[];
  readonly nextToken?: string;
}

/** What `listByOwner` narrows a page to; every given part must match. */
export interface ListFilter {
  readonly imageVersion?: string;
  /** Rows carrying every one of these labels with exactly this value. */
  readonly labels?: Readonly<Record<string, string>>;
  /** Rows that can show this state (a superset: see `stateCondition`). */
  readonly state?: string;
}

/** Thrown for a `nextToken` that this store did not issue for this owner. */
export class InvalidNextTokenError extends Error {
  constructor() {
    super('nextToken is not a token returned by GET /sessions for this caller');
    this.name = 'InvalidNextTokenError';
  }
}

/**
 * Single-item conditional reads and writes over the sessions table. No transactions: every
 * transition is one conditional write keyed on the lease (`leaseId`) or the `generation`, so a
 * stale writer fails its condition instead of clobbering a newer one.
 */
export class SessionStore {
  constructor(private readonly documentClient: DynamoDBDocumentClient, readonly tableName: string) {}

  /** Strongly consistent read of one session. */
  async get(owner: string, sessionId: string): Promise<SessionItem | undefined> {
    const out = await this.documentClient.send(new GetCommand({
      TableName: this.tableName,
      Key: keyOf({ owner, sessionId }),
      ConsistentRead: true,
    }));
    return out.Item as SessionItem | undefined;
  }

  /** Creates a LAUNCHING row holding a lease; false when the session already exists. */
  async createLaunching(item: SessionItem): Promise<boolean> {
    return conditionalWrite(() => this.documentClient.send(new PutCommand({
      TableName: this.tableName,
      Item: item,
      ConditionExpression: `attribute_not_exists(${TABLE.SORT_KEY})`,
    })));
  }

  /**
   * Moves a row observed as `expected` into LAUNCHING under a new lease, for a takeover of an
   * expired lease (same generation, same clientToken) or a relaunch (next generation). The
   * condition is the observed generation and status (and lease, when one was held), so exactly one
   * of several racing callers wins. Returns the new row, or undefined when the row changed.
   */
  async beginLaunch(
    expected: SessionItem,
    next: { generation: number; leaseId: string; leaseExpiresAt: number; clientToken: string; updatedAt: string; labels?: Labels },
  ): Promise<SessionItem | undefined> {
    const values: Record<string, unknown> = {
      ':g': expected.generation,
      ':s': expected.status,
      ':launching': 'LAUNCHING',
      ':ng': next.generation,
      ':lid': next.leaseId,
      ':lexp': next.leaseExpiresAt,
      ':ct': next.clientToken,
      ':u': next.updatedAt,
    };
    let condition = `generation = :g AND #status = :s AND ${admissionGuard(expected)}`;
    values[':terminatedVm'] = TERMINATED_VM_STATE;
    if (expected.leaseId !== undefined) {
      condition += ' AND leaseId = :old';
      values[':old'] = expected.leaseId;
    } else {
      condition += ' AND attribute_not_exists(leaseId)';
    }
    // a launch that brings labels replaces the previous generation's (an empty set removes them); without, they stay.
    let labels = '';
    if (next.labels && Object.keys(next.labels).length) {
      labels = ', labels = :lb';
      values[':lb'] = next.labels;
    }
    // a row whose VM was TERMINATED counts again from here on (the caller admitted it before this write).
    const remove = [...countsForAdmission(expected) ? [] : ['vmState'], ...next.labels && !labels ? ['labels'] : []];
    const readmit = remove.length ? ` REMOVE ${remove.join(', ')}` : '';
    const out = await conditional(() => this.documentClient.send(new UpdateCommand({
      TableName: this.tableName,
      Key: keyOf(expected),
      ConditionExpression: condition,
      UpdateExpression: `SET #status = :launching, generation = :ng, leaseId = :lid, leaseExpiresAt = :lexp, clientToken = :ct, updatedAt = :u${labels}${readmit}`,
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: values,
      ReturnValues: 'ALL_NEW',
    })));
    return out && (out.Attributes as SessionItem);
  }

  /** Records the launched VM and drops the lease, only if the caller still holds it. */
  async finishLaunch(
    row: SessionItem,
    vm: {
      microvmId: string;
      endpoint: string;
      vmState: string;
      imageVersion?: string;
      startedAt: string;
      expiresAt: string;
      updatedAt: string;
      ttl: number;
    },
  ): Promise<SessionItem | undefined> {
    const names: Record<string, string> = { '#status': 'status', '#ttl': 'ttl' };
    const values: Record<string, unknown> = {
      ':lid': row.leaseId,
      ':g': row.generation,
      ':active': 'ACTIVE',
      ':mid': vm.microvmId,
      ':ep': vm.endpoint,
      ':vs': vm.vmState,
      ':exp': vm.expiresAt,
      ':st': vm.startedAt,
      ':u': vm.updatedAt,
      ':ttl': vm.ttl,
    };
    let set = 'SET #status = :active, microvmId = :mid, endpoint = :ep, vmState = :vs, startedAt = :st, expiresAt = :exp, updatedAt = :u, #ttl = :ttl';
    if (vm.imageVersion !== undefined) {
      set += ', imageVersion = :iv';
      values[':iv'] = vm.imageVersion;
    }
    const out = await conditional(() => this.documentClient.send(new UpdateCommand({
      TableName: this.tableName,
      Key: keyOf(row),
      ConditionExpression: 'leaseId = :lid AND generation = :g',
      // a new VM starts its usage afresh: the previous generation's suspensions are not its own.
      UpdateExpression: `${set} REMOVE leaseId, leaseExpiresAt, suspendedAt, suspendedMs, suspensionSavedAt, suspensionSaveAttempts`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ReturnValues: 'ALL_NEW',
    })));
    return out && (out.Attributes as SessionItem);
  }

  /**
   * Gives up a lease without finishing: the row stays LAUNCHING with an expired lease, so the next
   * caller takes over immediately and replays the same clientToken. False if the lease was lost.
   */
  async releaseLease(row: SessionItem, updatedAt: string, options: { vmTerminated?: boolean } = {}): Promise<boolean> {
    const values: Record<string, unknown> = { ':lid': row.leaseId, ':g': row.generation, ':zero': 0, ':u': updatedAt };
    let update = 'SET leaseExpiresAt = :zero, updatedAt = :u';
    if (options.vmTerminated) {
      // undoes a re-admission: the row stops counting again, as before the launch was claimed.
      update += ', vmState = :terminatedVm';
      values[':terminatedVm'] = TERMINATED_VM_STATE;
    }
    return conditionalWrite(() => this.documentClient.send(new UpdateCommand({
      TableName: this.tableName,
      Key: keyOf(row),
      ConditionExpression: 'leaseId = :lid AND generation = :g',
      UpdateExpression: update,
      ExpressionAttributeValues: values,
    })));
  }

  /** Marks an ACTIVE (or abandoned) row ENDING under a new lease; undefined when the row changed. */
  async beginEnding(expected: SessionItem, leaseId: string, leaseExpiresAt: number, updatedAt: string): Promise<SessionItem | undefined> {
    const values: Record<string, unknown> = {
      ':g': expected.generation,
      ':s': expected.status,
      ':ending': 'ENDING',
      ':lid': leaseId,
      ':lexp': leaseExpiresAt,
      ':u': updatedAt,
    };
    let condition = 'generation = :g AND #status = :s';
    if (expected.leaseId !== undefined) {
      condition += ' AND leaseId = :old';
      values[':old'] = expected.leaseId;
    } else {
      condition += ' AND attribute_not_exists(leaseId)';
    }
    const out = await conditional(() => this.documentClient.send(new UpdateCommand({
      TableName: this.tableName,
      Key: keyOf(expected),
      ConditionExpression: condition,
      UpdateExpression: 'SET #status = :ending, leaseId = :lid, leaseExpiresAt = :lexp, updatedAt = :u',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: values,
      ReturnValues: 'ALL_NEW',
    })));
    return out && (out.Attributes as SessionItem);
  }

  /** Records the last seen VM state of an ACTIVE row of this generation; false if it changed. */
  async setVmState(row: SessionItem, vmState: string, updatedAt: string, suspension?: 'begins' | 'ends'): Promise<boolean> {
    const values: Record<string, unknown> = { ':g': row.generation, ':active': 'ACTIVE', ':vs': vmState, ':u': updatedAt };
    let update = 'SET vmState = :vs, updatedAt = :u';
    // usage: the API's own suspensions, timed from the suspend it asked for to the resume it asked for.
    if (suspension === 'begins') {
      update += ', suspendedAt = if_not_exists(suspendedAt, :u)';
    } else if (suspension === 'ends' && row.suspendedAt) {
      update += ', suspendedMs = if_not_exists(suspendedMs, :zero) + :ms REMOVE suspendedAt, suspensionSavedAt, suspensionSaveAttempts';
      values[':zero'] = 0;
      values[':ms'] = Math.max(0, Date.parse(updatedAt) - Date.parse(row.suspendedAt)) || 0;
    } else if (suspension === 'ends') {
      // checkpoints (`onSuspend`): the VM runs again, so its next suspension is a new one to save.
      update += ' REMOVE suspensionSavedAt, suspensionSaveAttempts';
    }
    return conditionalWrite(() => this.documentClient.send(new UpdateCommand({
      TableName: this.tableName,
      Key: keyOf(row),
      ConditionExpression: 'generation = :g AND #status = :active',
      UpdateExpression: update,
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: values,
    })));
  }

  /**
   * Deletes a row only if it still holds `leaseId` in `generation` (or, without a lease, is
   * still that generation; its admission slot is the caller's to give back). False when the row changed.
   */
  async deleteSession(row: SessionItem): Promise<boolean> {
    const values: Record<string, unknown> = { ':g': row.generation, ':terminatedVm': TERMINATED_VM_STATE };
    let condition = `generation = :g AND ${admissionGuard(row)}`;
    if (row.leaseId !== undefined) {
      condition += ' AND leaseId = :lid';
      values[':lid'] = row.leaseId;
    }
    return conditionalWrite(() => this.documentClient.send(new DeleteCommand({
      TableName: this.tableName,
      Key: keyOf(row),
      ConditionExpression: condition,
      ExpressionAttributeValues: values,
    })));
  }

  /**
   * One page of an owner's sessions; `nextToken` is opaque base64 of the last evaluated key. `filter` narrows the page
   * with a FilterExpression (user input only ever goes in as expression attribute names and values). The `state`
   * filter here keeps every row that can show that state (what a row shows also depends on the clock, see
   * `stateOf`); the caller applies the exact test.
   */
  async listByOwner(owner: string, limit: number, nextToken?: string, filter: ListFilter = {}): Promise<SessionPage> {
    // DynamoDB applies Limit before the filter: a filtered page can be short, even empty, while nextToken says more
    // rows follow.
    const names: Record<string, string> = { '#owner': TABLE.PARTITION_KEY };
    const values: Record<string, unknown> = { ':o': owner };
    const conditions: string[] = [];
    if (filter.imageVersion !== undefined) {
      names['#iv'] = 'imageVersion';
      values[':iv'] = filter.imageVersion;
      conditions.push('#iv = :iv');
    }
    Object.entries(filter.labels ?? {}).forEach(([key, value], i) => {
      names['#labels'] = 'labels';
      names[`#l${i}`] = key;
      values[`:l${i}`] = value;
      conditions.push(`#labels.#l${i} = :l${i}`);
    });
    if (filter.state !== undefined) conditions.push(stateCondition(filter.state, names, values));
    const out = await this.documentClient.send(new QueryCommand({
      TableName: this.tableName,
      KeyConditionExpression: '#owner = :o',
      // DynamoDB refuses redundant parentheses: a single condition goes in bare.
      ...(conditions.length ? { FilterExpression: conditions.length === 1 ? conditions[0] : conditions.map((c) => `(${c})`).join(' AND ') } : {}),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      Limit: limit,
      ExclusiveStartKey: nextToken === undefined ? undefined : decodeNextToken(owner, nextToken),
    }));
    return {
      items: (out.Items ?? []) as SessionItem[],
      nextToken: out.LastEvaluatedKey ? encodeNextToken(out.LastEvaluatedKey) : undefined,
    };
  }

  /** Number of the owner's rows that count for admission (strongly consistent); see {@link countsForAdmission}. */
  async countByOwner(owner: string): Promise<number> {
    let count = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.documentClient.send(new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: '#owner = :o',
        FilterExpression: COUNTS_FOR_ADMISSION,
        ExpressionAttributeNames: { '#owner': TABLE.PARTITION_KEY },
        ExpressionAttributeValues: { ':o': owner, ':terminatedVm': TERMINATED_VM_STATE },
        Select: 'COUNT',
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }));
      count += out.Count ?? 0;
      start = out.LastEvaluatedKey;
    } while (start);
    return count;
  }
}

/**
 * A condition that keeps every row that `stateOf` may show as `state`, whatever the clock says: an ACTIVE row shows
 * its `vmState` (PENDING without one) until it expires, then TERMINATED; a LAUNCHING row shows PENDING or TERMINATED;
 * an ENDING row shows TERMINATING.
 */
function stateCondition(state: string, names: Record<string, string>, values: Record<string, unknown>): string {
  names['#status'] = 'status';
  if (state === 'TERMINATED') {
    // any LAUNCHING or ACTIVE row may show TERMINATED (an expired one, a relaunch given back).
    values[':ending'] = 'ENDING';
    return '#status <> :ending';
  }
  values[':state'] = state;
  values[':active'] = 'ACTIVE';
  const activeIn = '#status = :active AND vmState = :state';
  if (state === 'PENDING') {
    values[':launching'] = 'LAUNCHING';
    return '#status = :launching OR (#status = :active AND (attribute_not_exists(vmState) OR vmState = :state))';
  }
  if (state === 'TERMINATING') {
    values[':ending'] = 'ENDING';
    return `#status = :ending OR (${activeIn})`;
  }
  return activeIn;
}

function encodeNextToken(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify({ o: key.owner, s: key.sessionId }), 'utf8').toString('base64url');
}

function decodeNextToken(owner: string, token: string): Record<string, unknown> {
  if (token.length > 1024 || !/^[A-Za-z0-9_-]+$/.test(token)) throw new InvalidNextTokenError();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidNextTokenError();
  }
  const p = parsed as Record<string, unknown> | null;
  if (typeof p !== 'object' || p === null || Array.isArray(p) || Object.keys(p).length !== 2
    || p.o !== owner || typeof p.s !== 'string' || !isSessionId(p.s)) {
    throw new InvalidNextTokenError();
  }
  return keyOf({ owner, sessionId: p.s });
}
