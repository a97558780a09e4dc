import { validation } from './errors';
import { LIMITS } from '../shared/contract';

/** The service's page size bounds for the list operations. */
export const MAX_PAGE_SIZE = LIMITS.LIST_PAGE_SIZE;

/** One page of a list, in the SDK's `{ items, nextToken }` shape. */
export interface Page<T> {
  readonly items: T[];
  readonly nextToken?: string;
}

/**
 * Parses `maxResults` from the query string: 1-50, default 50.
 */
export function parseMaxResults(raw: string | null): number {
  if (raw === null) return MAX_PAGE_SIZE;
  if (!/^\d+$/.test(raw)) throw validation(`maxResults must be an integer between 1 and ${MAX_PAGE_SIZE}, got ${raw}.`);
  const value = Number(raw);
  if (value < 1 || value > MAX_PAGE_SIZE) {
    throw validation(`maxResults must be between 1 and ${MAX_PAGE_SIZE}, got ${value}.`);
  }
  return value;
}

/**
 * Pages through items sorted by an ascending sequence number. The token is an opaque cursor (the last sequence
 * number seen, bound to the list's scope, e.g. its filters), so deleting items between pages never skips or
 * repeats one. A token from another scope, or a malformed one, is a ValidationException.
 */
export function paginate<T>(
  items: readonly T[],
  seqOf: (item: T) => number,
  maxResults: number,
  nextToken: string | null,
  scope: string,
): Page<T> {
  const after = nextToken === null ? -1 : decodeToken(nextToken, scope);
  const start = firstAfter(items, seqOf, after);
  const pageItems = items.slice(start, start + maxResults);
  const more = start + maxResults < items.length;
  const last = pageItems[pageItems.length - 1];
  return {
    items: pageItems,
    nextToken: more && last !== undefined ? encodeToken(seqOf(last), scope) : undefined,
  };
}

function firstAfter<T>(items: readonly T[], seqOf: (item: T) => number, after: number): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (seqOf(items[mid]) <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function encodeToken(seq: number, scope: string): string {
  return Buffer.from(JSON.stringify({ s: scope, a: seq }), 'utf8').toString('base64url');
}

function decodeToken(token: string, scope: string): number {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (parsed && parsed.s === scope && Number.isInteger(parsed.a)) return parsed.a;
  } catch {
    // fall through to the validation error.
  }
  throw validation('The nextToken is invalid or does not belong to this request.');
}
