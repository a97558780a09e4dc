import { validation } from './errors';
import { requireImageArn } from './image-store';
import type { IdlePolicy, PortSpecification } from './types';
import { LIMITS } from '../shared/contract';

/** The service's cap on a VM's lifetime (running plus suspended), also the default. */
export const MAX_DURATION_SECONDS = LIMITS.MAX_DURATION_SECONDS;
/** `runHookPayload` budget (the API constraint; the prose says 16 KB, unconfirmed). */
const MAX_RUN_HOOK_PAYLOAD = LIMITS.RUN_HOOK_PAYLOAD_BYTES;

const MANAGED_INGRESS = new Set(['ALL_INGRESS', 'HTTP_INGRESS', 'NO_INGRESS', 'SHELL_INGRESS']);
const MANAGED_EGRESS = new Set(['INTERNET_EGRESS']);
const MANAGED_CONNECTOR = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:aws:network-connector:aws-network-connector:([A-Z_]+)$/;
const CUSTOMER_CONNECTOR = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:network-connector:[a-zA-Z0-9_-]+(:\d+)?$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/;

export function managedConnectorArn(region: string, name: string): string {
  return `arn:aws:lambda:${region}:aws:network-connector:aws-network-connector:${name}`;
}

/** The validated RunMicrovm request. */
export interface RunRequest {
  readonly imageIdentifier: string;
  readonly imageVersion?: string;
  readonly executionRoleArn?: string;
  readonly idlePolicy?: IdlePolicy;
  readonly logging?: unknown;
  readonly runHookPayload?: string;
  readonly maximumDurationInSeconds?: number;
  readonly ingressNetworkConnectors?: string[];
  readonly egressNetworkConnectors?: string[];
  readonly clientToken?: string;
}

export function validateRunRequest(body: Record<string, any>): RunRequest {
  requireObject(body, 'The request body');
  const imageIdentifier = requiredString(body, 'imageIdentifier', 1, 256);
  requireImageArn(imageIdentifier, 'imageIdentifier');
  optionalString(body, 'imageVersion', 1, 2048, /^\S+$/);
  const role = optionalString(body, 'executionRoleArn', 20, 2048);
  if (role !== undefined && !ROLE_ARN.test(role)) throw validation(`executionRoleArn must be an IAM role ARN, got ${role}.`);
  optionalString(body, 'runHookPayload', 0, MAX_RUN_HOOK_PAYLOAD);
  optionalString(body, 'clientToken', 1, 128);
  if (body.maximumDurationInSeconds !== undefined) {
    integerInRange(body.maximumDurationInSeconds, 'maximumDurationInSeconds', 1, MAX_DURATION_SECONDS);
  }
  if (body.idlePolicy !== undefined) validateIdlePolicy(body.idlePolicy);
  if (body.logging !== undefined) validateLogging(body.logging);
  validateConnectors(body.ingressNetworkConnectors, 'ingressNetworkConnectors', MANAGED_INGRESS);
  validateConnectors(body.egressNetworkConnectors, 'egressNetworkConnectors', MANAGED_EGRESS);
  return body as RunRequest;
}

export function validateIdlePolicy(policy: unknown): void {
  if (!isObject(policy)) throw validation('idlePolicy must be an object.');
  for (const field of ['maxIdleDurationSeconds', 'suspendedDurationSeconds', 'autoResumeEnabled']) {
    if (policy[field] === undefined || policy[field] === null) {
      throw validation(`idlePolicy.${field} is required when idlePolicy is set.`);
    }
  }
  integerInRange(policy.maxIdleDurationSeconds, 'idlePolicy.maxIdleDurationSeconds', LIMITS.MIN_IDLE_SECONDS, MAX_DURATION_SECONDS);
  integerInRange(policy.suspendedDurationSeconds, 'idlePolicy.suspendedDurationSeconds', 0, Number.MAX_SAFE_INTEGER);
  if (typeof policy.autoResumeEnabled !== 'boolean') throw validation('idlePolicy.autoResumeEnabled must be a boolean.');
}

export function validateLogging(logging: unknown): void {
  if (!isObject(logging)) throw validation('logging must be an object.');
  const keys = Object.keys(logging);
  if (keys.length !== 1 || !['cloudWatch', 'disabled'].includes(keys[0])) {
    throw validation('logging must set exactly one of cloudWatch or disabled.');
  }
  const member = logging[keys[0]];
  if (!isObject(member)) throw validation(`logging.${keys[0]} must be an object.`);
  if (keys[0] === 'cloudWatch') {
    optionalString(member, 'logGroup', 1, 512, /^[a-zA-Z0-9_\-/.#]+$/, 'logging.cloudWatch.');
    optionalString(member, 'logStream', 1, 512, /^[^:*]*$/, 'logging.cloudWatch.');
  } else if (Object.keys(member).length > 0) {
    throw validation('logging.disabled must be an empty object.');
  }
}

function validateConnectors(value: unknown, field: string, managedNames: Set<string>): void {
  if (value === undefined) return;
  if (!Array.isArray(value)) throw validation(`${field} must be a list of network connector ARNs.`);
  if (value.length > 10) throw validation(`${field} must have at most 10 items, got ${value.length}.`);
  const names: string[] = [];
  for (const arn of value) {
    if (typeof arn !== 'string' || arn.length < 1 || arn.length > 2048) {
      throw validation(`${field} items must be network connector ARNs of 1-2048 characters.`);
    }
    const managed = MANAGED_CONNECTOR.exec(arn);
    if (managed) {
      if (!managedNames.has(managed[1])) {
        throw validation(`${field}: ${arn} is not an AWS-managed ${field.startsWith('ingress') ? 'ingress' : 'egress'} connector.`);
      }
      names.push(managed[1]);
    } else if (!CUSTOMER_CONNECTOR.test(arn)) {
      throw validation(`${field} items must be full network connector ARNs, got ${arn}.`);
    }
  }
  if (new Set(value).size !== value.length) throw validation(`${field} must not repeat a connector.`);
  for (const exclusive of ['ALL_INGRESS', 'NO_INGRESS']) {
    if (names.includes(exclusive) && value.length > 1) {
      throw validation(`${field}: ${exclusive} cannot be combined with other connectors.`);
    }
  }
}

/** The validated body of CreateMicrovmAuthToken. */
export interface AuthTokenRequest {
  readonly expirationInMinutes: number;
  readonly allowedPorts: PortSpecification[];
}

export function validateAuthTokenRequest(body: Record<string, any>): AuthTokenRequest {
  requireObject(body, 'The request body');
  const expirationInMinutes = validateExpiration(body);
  const ports = body.allowedPorts;
  if (!Array.isArray(ports) || ports.length < 1) throw validation('allowedPorts must list at least one port specification.');
  for (const spec of ports) {
    if (!isObject(spec) || Object.keys(spec).length !== 1) {
      throw validation('allowedPorts items must set exactly one of port, range or allPorts.');
    }
    if ('port' in spec) {
      integerInRange(spec.port, 'allowedPorts.port', 1, 65535);
    } else if ('range' in spec) {
      const range = spec.range;
      if (!isObject(range)) throw validation('allowedPorts.range must be an object with startPort and endPort.');
      integerInRange(range.startPort, 'allowedPorts.range.startPort', 1, 65535);
      integerInRange(range.endPort, 'allowedPorts.range.endPort', 1, 65535);
      if (range.startPort > range.endPort) {
        throw validation(`allowedPorts.range.startPort must not exceed endPort, got ${range.startPort}-${range.endPort}.`);
      }
    } else if ('allPorts' in spec) {
      if (!isObject(spec.allPorts)) throw validation('allowedPorts.allPorts must be an empty object.');
    } else {
      throw validation(`allowedPorts items must be port, range or allPorts, got ${Object.keys(spec)[0]}.`);
    }
  }
  return { expirationInMinutes, allowedPorts: ports };
}

export function validateExpiration(body: Record<string, any>): number {
  if (body.expirationInMinutes === undefined) throw validation('expirationInMinutes is required.');
  integerInRange(body.expirationInMinutes, 'expirationInMinutes', 1, 60);
  return body.expirationInMinutes;
}

export function validateMicrovmId(id: string): void {
  if (id.length < 1 || id.length > 256) throw validation('microvmIdentifier must be 1-256 characters.');
}

export function isObject(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** restJson1 services ignore unknown members; the emulator does too, but a body must be a JSON object. */
export function requireObject(body: unknown, what: string): void {
  if (!isObject(body)) throw validation(`${what} must be a JSON object.`);
}

export function requiredString(body: Record<string, any>, field: string, min: number, max: number): string {
  const value = body[field];
  if (value === undefined || value === null) throw validation(`${field} is required.`);
  return optionalString(body, field, min, max) as string;
}

export function optionalString(
  body: Record<string, any>,
  field: string,
  min: number,
  max: number,
  pattern?: RegExp,
  prefix = '',
): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw validation(`${prefix}${field} must be a string.`);
  if (value.length < min || value.length > max) {
    throw validation(`${prefix}${field} must be ${min}-${max} characters, got ${value.length}.`);
  }
  if (pattern && !pattern.test(value)) throw validation(`${prefix}${field} must match ${pattern.source}.`);
  return value;
}

export function integerInRange(value: unknown, field: string, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw validation(`${field} must be an integer, got ${String(value)}.`);
  if (value < min || value > max) throw validation(`${field} must be between ${min} and ${max}, got ${value}.`);
}
