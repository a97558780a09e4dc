import { Token } from 'aws-cdk-lib';

/**
 * Builds the one message shape every synth-time validation uses:
 * `<prop> must <rule>, got <value>. <fix>`.
 *
 * Pass `secret: true` whenever the value may be a credential: the message then shows only
 * its length, never the characters, because errors end up in CI logs.
 */
export function invalidProp(prop: string, value: unknown, rule: string, fix: string, secret = false): Error {
  return new Error(`${prop} must ${rule}, got ${secret ? maskValue(value) : describeValue(value)}. ${fix}`);
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
