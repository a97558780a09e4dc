import { Duration, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Builds the one message shape every synth-time validation uses:
 * `<prop> must <rule>, got <value>. <fix>`.
 *
 * Pass `secret: true` whenever the value may be a credential: the message then shows only
 * its length, never the characters, because errors end up in CI logs.
 */
export function invalidProp(prop: string, value: unknown, rule: string, fix: string, secret = false): Error {
  const error = new Error(`${prop} must ${rule}, got ${secret ? maskValue(value) : describeValue(value)}. ${fix}`);
  (error as PropError)[PROP_ERROR] = 'unplaced';
  return error;
}

const PROP_ERROR = Symbol.for('cdk-lambda-microvms/prop-error');
type PropError = Error & { [PROP_ERROR]?: 'unplaced' | 'placed' };

/**
 * Runs `validate` for the construct at `at` (a construct, or the path of one not created yet): a prop error it
 * throws starts with that construct path, so two constructs of one app are told apart, as aws-cdk's own
 * validation errors are.
 */
export function validateIn<T>(at: IConstruct | string, validate: () => T): T {
  try {
    return validate();
  } catch (err) {
    throw placeError(at, err);
  }
}

/** `err`, its message prefixed with the construct path of `at` when it is a prop error not yet placed. */
export function placeError(at: IConstruct | string, err: unknown): unknown {
  const error = err as PropError;
  if (error instanceof Error && error[PROP_ERROR] === 'unplaced') {
    error.message = `${typeof at === 'string' ? at : at.node.path}: ${error.message}`;
    const frames = error.stack?.indexOf('\n') ?? -1;
    error.stack = `Error: ${error.message}${frames >= 0 ? error.stack!.slice(frames) : ''}`;
    error[PROP_ERROR] = 'placed';
  }
  return error;
}

/** The path a construct `id` under `scope` will have, for validation before it exists. */
export function pathOf(scope: IConstruct, id: string): string {
  return scope.node.path ? `${scope.node.path}/${id}` : id;
}

/** Renders a value for an error message; strings are quoted and long ones shortened. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  }
  if (value === undefined) return 'undefined';
  try {
    const json = JSON.stringify(value);
    return json.length > 80 ? `${json.slice(0, 77)}...` : json;
  } catch {
    return String(value);
  }
}

/** A value that may be a secret, reduced to something safe to print. */
export function maskValue(value: unknown): string {
  if (typeof value !== 'string') return '<redacted>';
  return `<redacted, ${value.length} characters>`;
}

/** True when `value` is (or contains) an unresolved CDK token, which validation must skip. */
export function isToken(value: unknown): boolean {
  if (typeof value === 'number') return Token.isUnresolved(value);
  if (typeof value === 'string') return Token.isUnresolved(value);
  return value !== undefined && value !== null && typeof value === 'object' && Token.isUnresolved(value);
}

/** The range and granularity {@link durationInRange} checks, in seconds. */
export interface DurationRange {
  /** `minutes`: whole minutes; `seconds`: whole seconds. */
  readonly unit: 'minutes' | 'seconds';
  readonly min: number;
  readonly max: number;
  /** The rule as the message states it, e.g. `be whole minutes from 1 to 60`. */
  readonly rule: string;
}

/** `duration` when it is whole `unit`s within the range (a token is not checked), else an error naming `prop`. */
export function durationInRange(prop: string, duration: Duration, range: DurationRange, fix: string): Duration {
  if (duration.isUnresolved()) return duration;
  const ms = duration.toMilliseconds({ integral: false });
  const step = range.unit === 'minutes' ? 60_000 : 1000;
  if (ms % step !== 0 || ms < range.min * 1000 || ms > range.max * 1000) {
    throw invalidProp(prop, duration.toHumanString(), range.rule, fix);
  }
  return duration;
}
