import { ApiError } from './api-error';

// Session labels: a small string map the caller attaches to a session on PUT, stored on the session row, returned on
// every read and usable as a `GET /sessions` filter (`label.<key>=<value>`).

/** A session's labels: key to value. */
export type Labels = Record<string, string>;

/** Most labels one session carries. */
export const MAX_LABELS = 10;
/** Longest label key, in characters. */
export const MAX_LABEL_KEY_LENGTH = 63;
/** Longest label value, in characters (Unicode code points). */
export const MAX_LABEL_VALUE_LENGTH = 256;
/**
 * A label key: lowercase letters, digits, `_`, `.` and `-`, starting with a letter or a digit. Lowercase only, so
 * `Tenant` and `tenant` can never be two labels that look alike; `:` is not allowed, so keys cannot collide with
 * AWS-style namespaces.
 */
const LABEL_KEY = /^[a-z0-9][a-z0-9_.-]*$/;
/** Prefixes kept for the platform (checked case-insensitively, before the character rule, for a clearer message). */
export const RESERVED_LABEL_PREFIXES = ['aws:', 'microvm:'] as const;
/** Control characters (C0, DEL, C1) and lone surrogates (not encodable as UTF-8). */
const FORBIDDEN_IN_VALUE = /[\p{Cc}\p{Cs}]/u;

/**
 * Validates the `labels` field of a PUT body: undefined when absent; otherwise a JSON object of at most
 * {@link MAX_LABELS} string values whose keys and values follow {@link labelKeyProblem} and {@link labelValueProblem}.
 * Any violation is a 400 `InvalidLabels` naming the label and the rule.
 */
export function parseLabels(value: unknown): Labels | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid('labels must be a JSON object of string keys to string values, such as {"tenant": "acme"}');
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_LABELS) throw invalid(`labels may hold at most ${MAX_LABELS} labels, got ${entries.length}`);
  for (const [key, labelValue] of entries) {
    const keyProblem = labelKeyProblem(key);
    if (keyProblem) throw invalid(`label ${shown(key)}: ${keyProblem}`);
    if (typeof labelValue !== 'string') throw invalid(`label ${shown(key)}: the value must be a string, got ${typeof labelValue}`);
    const valueProblem = labelValueProblem(labelValue);
    if (valueProblem) throw invalid(`label ${shown(key)}: ${valueProblem}`);
  }
  // fromEntries defines own properties, so no key can reach a prototype.
  return Object.fromEntries(entries) as Labels;
}

/** What is wrong with a label key, or undefined when it is valid. */
export function labelKeyProblem(key: string): string | undefined {
  const reserved = RESERVED_LABEL_PREFIXES.find((prefix) => key.toLowerCase().startsWith(prefix));
  if (reserved) return `keys starting with "${reserved}" are reserved`;
  if (key.length < 1 || key.length > MAX_LABEL_KEY_LENGTH) {
    return `the key must be 1 to ${MAX_LABEL_KEY_LENGTH} characters, got ${key.length}`;
  }
  if (!LABEL_KEY.test(key)) {
    return 'the key must be lowercase letters, digits, "_", "." and "-", starting with a letter or a digit';
  }
  return undefined;
}

/** What is wrong with a label value, or undefined when it is valid. */
export function labelValueProblem(value: string): string | undefined {
  const length = [...value].length;
  if (length > MAX_LABEL_VALUE_LENGTH) return `the value must be at most ${MAX_LABEL_VALUE_LENGTH} characters, got ${length}`;
  if (FORBIDDEN_IN_VALUE.test(value)) return 'the value must not contain control characters (or unpaired UTF-16 surrogates)';
  return undefined;
}

/** True when both label sets hold the same keys with the same values (order does not matter). */
export function sameLabels(a: Labels, b: Labels): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => Object.prototype.hasOwnProperty.call(b, key) && a[key] === b[key]);
}

/** A warm PUT that brings other labels than the running generation's. */
export function labelsConflict(): ApiError {
  return ApiError.conflict('LabelsConflict',
    'the session is running with other labels, and labels are fixed for the life of its MicroVM: omit labels (or send the same ones) '
    + 'to get the running session, or DELETE the session and PUT it again with the new labels');
}

function invalid(message: string): ApiError {
  return ApiError.badRequest('InvalidLabels', message);
}

/** A key as an error message shows it: JSON-quoted, long ones shortened. */
export function shown(key: string): string {
  return JSON.stringify(key.length > 40 ? `${key.slice(0, 37)}...` : key);
}
