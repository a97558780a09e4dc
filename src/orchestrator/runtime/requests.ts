import { ApiError } from './api-error';
import type { OrchestratorConfig } from './config';
import { labelKeyProblem, Labels, labelValueProblem, MAX_LABELS, shown } from './labels';
import { DATA_PLANE, IMAGE_VERSION_PATTERN, LIMITS, VM_STATES, VmState } from '../../shared/contract';

/** The `/run` hook payload budget: the service's API constraint, measured by third parties as the real limit. */
export const MAX_PAYLOAD_BYTES = LIMITS.RUN_HOOK_PAYLOAD_BYTES;
/** Header a client sends the token in. */
export const TOKEN_HEADER = DATA_PLANE.AUTH_HEADER;

/** Validates `payload`: a string of at most 4096 UTF-8 bytes (never echoed back, it may hold credentials). */
export function parsePayload(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw ApiError.badRequest('InvalidPayload', 'payload must be a string');
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > MAX_PAYLOAD_BYTES) {
    throw ApiError.badRequest('PayloadTooLarge', `payload must be at most ${MAX_PAYLOAD_BYTES} bytes of UTF-8 (the /run hook budget), got ${bytes} bytes`);
  }
  return value;
}

/**
 * `GET /sessions`: a page of at most `limit` rows, after `nextToken`, optionally only those on one image version, in
 * one state and carrying all the given labels.
 */
export interface ListQuery {
  readonly limit: number;
  readonly nextToken?: string;
  readonly imageVersion?: string;
  readonly state?: VmState;
  /** `label.<key>=<value>` parameters: every one must match. */
  readonly labels?: Labels;
}

const LIST_PARAMETERS = ['limit', 'nextToken', 'imageVersion', 'state'];
const LABEL_PARAMETER = 'label.';

/** Validates the query of `GET /sessions`; SigV4's own `X-Amz-*` parameters are ignored. */
export function parseListQuery(query: Record<string, string | undefined>): ListQuery {
  const labels: Array<[string, string]> = [];
  for (const key of Object.keys(query)) {
    if (key.startsWith(LABEL_PARAMETER)) {
      labels.push([key.slice(LABEL_PARAMETER.length), query[key] ?? '']);
    } else if (!LIST_PARAMETERS.includes(key) && !key.startsWith('X-Amz-')) {
      throw ApiError.badRequest('InvalidQuery',
        'GET /sessions accepts only the query parameters limit, nextToken, imageVersion, state and label.<key>');
    }
  }
  let limit = 50;
  if (query.limit !== undefined) {
    if (!/^\d{1,3}$/.test(query.limit) || Number(query.limit) < 1 || Number(query.limit) > 100) {
      throw ApiError.badRequest('InvalidLimit', 'limit must be a whole number from 1 to 100');
    }
    limit = Number(query.limit);
  }
  const imageVersion = query.imageVersion;
  if (imageVersion !== undefined && !IMAGE_VERSION_PATTERN.test(imageVersion)) {
    throw ApiError.badRequest('InvalidImageVersion',
      `imageVersion must be an image version such as 7 or 1.0 (digits, optionally a dot and digits), got ${describe(imageVersion)}`);
  }
  const state = query.state;
  if (state !== undefined && !(VM_STATES as readonly string[]).includes(state)) {
    throw ApiError.badRequest('InvalidQuery', `state must be one of ${VM_STATES.join(', ')}, got ${describe(state)}`);
  }
  const filter = labels.length ? { labels: parseLabelFilter(labels) } : {};
  return { limit, nextToken: query.nextToken, imageVersion, state: state as VmState | undefined, ...filter };
}

/** `label.<key>=<value>` filters follow the label rules; a session has at most {@link MAX_LABELS}, so can match no more. */
function parseLabelFilter(labels: Array<[string, string]>): Labels {
  if (labels.length > MAX_LABELS) {
    throw ApiError.badRequest('InvalidQuery', `GET /sessions accepts at most ${MAX_LABELS} label.<key> parameters, got ${labels.length}`);
  }
  for (const [key, value] of labels) {
    const problem = labelKeyProblem(key) ?? labelValueProblem(value);
    if (problem) throw ApiError.badRequest('InvalidQuery', `query parameter ${shown(LABEL_PARAMETER + key)}: ${problem}`);
  }
  // fromEntries defines own properties, so no key can reach a prototype.
  return Object.fromEntries(labels);
}

/**
 * Validates requested token ports: a non-empty subset of the configured app ports without
 * repeats. Absent means every app port. The hooks port is never an app port (config enforces it).
 */
export function parsePorts(value: unknown, config: OrchestratorConfig): number[] {
  if (value === undefined) return [...config.appPorts];
  const allowed = config.appPorts.join(', ');
  if (!Array.isArray(value) || value.length === 0) {
    throw ApiError.badRequest('InvalidPorts', `ports must be a non-empty array of app ports (${allowed})`);
  }
  const seen = new Set<number>();
  for (const port of value) {
    if (!Number.isInteger(port) || !config.appPorts.includes(port as number)) {
      throw ApiError.badRequest('InvalidPorts', `ports may only contain the session's app ports (${allowed}), got ${describe(port)}`);
    }
    if (seen.has(port as number)) throw ApiError.badRequest('InvalidPorts', `ports must not repeat a port, got ${port} twice`);
    seen.add(port as number);
  }
  return [...seen];
}

/** Validates `ttlSeconds`: a whole number from 1 to the configured maximum. Absent means the maximum. */
export function parseTtlSeconds(value: unknown, config: OrchestratorConfig): number {
  if (value === undefined) return config.tokenTtlSeconds;
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > config.tokenTtlSeconds) {
    throw ApiError.badRequest('InvalidTtl', `ttlSeconds must be a whole number from 1 to ${config.tokenTtlSeconds}, got ${describe(value)}`);
  }
  return value as number;
}

/**
 * Validates a shell token's `ttlSeconds`: whole minutes (the service issues shell tokens in minutes, and a shell
 * token is not rounded silently) from 1 to 15. Absent means 5 minutes. Returns minutes.
 */
export function parseShellTtlMinutes(value: unknown): number {
  if (value === undefined) return LIMITS.DEFAULT_SHELL_TOKEN_TTL_SECONDS / 60;
  const max = LIMITS.MAX_SHELL_TOKEN_TTL_SECONDS;
  if (!Number.isInteger(value) || (value as number) < 60 || (value as number) > max || (value as number) % 60 !== 0) {
    throw ApiError.badRequest('InvalidTtl',
      `ttlSeconds must be whole minutes from 60 to ${max} (15 minutes) for a shell token, got ${describe(value)}`);
  }
  return (value as number) / 60;
}

/**
 * The service issues tokens in whole minutes. A request is rounded up to the next minute (so a
 * token does not expire before the caller asked) unless that passes the configured maximum, which
 * wins, rounded down to whole minutes (so a token never outlives the platform's limit). The
 * response reports the real expiry of the token the service issued.
 */
export function expirationInMinutes(ttlSeconds: number, config: OrchestratorConfig): number {
  const cap = Math.max(1, Math.floor(config.tokenTtlSeconds / 60));
  return Math.min(Math.max(1, Math.ceil(ttlSeconds / 60)), cap);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 20 ? `${value.slice(0, 17)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : typeof value;
}
