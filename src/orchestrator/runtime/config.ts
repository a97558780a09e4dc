import { CheckpointConfig, parseCheckpointConfig } from './checkpoint-config';
import { Env, fail, optional, optionalInt, required } from './env';
import { OWNER_KEYS, OwnerKey, allowedPrincipal } from './owner';
import { EventsConfig, parseEventsConfig } from './session-usage';
import { DEFAULT_METRICS_NAMESPACE, DEFAULT_SERVICE_NAME, ENV, IMAGE_ARN_PATTERN, IdlePolicyWire, LIMITS } from '../../shared/contract';


/** Everything the session API needs from its environment, validated once at cold start. */
export interface OrchestratorConfig {
  readonly tableName: string;
  readonly imageArn: string;
  /** Undefined launches the image's latest ACTIVE version. */
  readonly imageVersion?: string;
  readonly egressConnectors: string[];
  readonly ingressConnectors: string[];
  /** Undefined launches VMs with no execution role (and therefore no runtime logs). */
  readonly executionRoleArn?: string;
  /** Only used when an execution role is configured: the service rejects cloudWatch logging without one. */
  readonly runtimeLogGroup?: string;
  readonly appPorts: number[];
  readonly hooksPort?: number;
  /** Default and maximum token lifetime. */
  readonly tokenTtlSeconds: number;
  /** Undefined disables idle suspension (outbound-only workers). */
  readonly idlePolicy?: IdlePolicyWire;
  readonly maxDurationSeconds: number;
  readonly maxSessions?: number;
  readonly maxSessionsPerOwner?: number;
  /** Which part of the caller's IAM identity owns a session (see `ownerPrincipal`). */
  readonly ownerKey: OwnerKey;
  /**
   * The principals (in `ownerPrincipal`'s `PRINCIPAL` form, see `allowedPrincipal`) that may get a shell token for
   * their own sessions; undefined when shell access is off (the route is then absent).
   */
  readonly shellAllowedPrincipals?: ReadonlySet<string>;
  /** Lifecycle events and usage: the bus (none: no events), the baseline memory and the optional pricing. */
  readonly events: EventsConfig;
  /** Checkpoints to S3; undefined when off (the checkpoint route is then absent and payloads are unchanged). */
  readonly checkpoints?: CheckpointConfig;
  readonly metricsNamespace: string;
  readonly serviceName: string;
}

export { ConfigError } from './env';

/** Defaults that match the construct's documented defaults, for environments that omit a value. */
const CONFIG_DEFAULTS = {
  appPorts: [8080],
  tokenTtlSeconds: 300,
  maxDurationSeconds: 3600,
} as const;

const CONNECTOR_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]*:(\d{12}|aws):network-connector:[^\s]+$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[^\s]+$/;

/**
 * Parses and validates the orchestrator's environment (names in `ENV`).
 * Every message names the variable, the rule and the value (none of these values is secret).
 */
export function parseConfig(env: Env = process.env): OrchestratorConfig {
  const tableName = required(env, ENV.TABLE_NAME);
  const imageArn = required(env, ENV.IMAGE_ARN);
  if (!IMAGE_ARN_PATTERN.test(imageArn)) {
    fail(ENV.IMAGE_ARN, imageArn, 'be a colon-form MicroVM image ARN (arn:aws:lambda:<region>:<account>:microvm-image:<name>)');
  }
  const imageVersion = optional(env, ENV.IMAGE_VERSION);
  if (imageVersion !== undefined && (/\s/.test(imageVersion) || imageVersion.length > 2048)) {
    fail(ENV.IMAGE_VERSION, imageVersion, 'be an image version without whitespace (at most 2048 characters)');
  }
  const egressConnectors = connectorList(env, ENV.EGRESS_CONNECTORS);
  const ingressConnectors = connectorList(env, ENV.INGRESS_CONNECTORS);
  const executionRoleArn = optional(env, ENV.EXECUTION_ROLE_ARN);
  if (executionRoleArn !== undefined && !ROLE_ARN.test(executionRoleArn)) {
    fail(ENV.EXECUTION_ROLE_ARN, executionRoleArn, 'be an IAM role ARN or empty');
  }
  const runtimeLogGroup = optional(env, ENV.RUNTIME_LOG_GROUP);
  const hooksPort = optionalInt(env, ENV.HOOKS_PORT, 1, 65535);
  const appPorts = portList(env, ENV.APP_PORTS);
  if (hooksPort !== undefined && appPorts.includes(hooksPort)) {
    fail(ENV.APP_PORTS, JSON.stringify(appPorts), `not include the hooks port ${hooksPort} (tokens must never reach the lifecycle hooks)`);
  }
  const tokenTtlSeconds = optionalInt(env, ENV.TOKEN_TTL_SECONDS, LIMITS.MIN_TOKEN_TTL_SECONDS, LIMITS.MAX_TOKEN_TTL_SECONDS)
    ?? CONFIG_DEFAULTS.tokenTtlSeconds;
  const maxDurationSeconds = optionalInt(env, ENV.MAX_DURATION_SECONDS, 1, LIMITS.MAX_DURATION_SECONDS)
    ?? CONFIG_DEFAULTS.maxDurationSeconds;
  return {
    tableName,
    imageArn,
    imageVersion,
    egressConnectors,
    ingressConnectors,
    executionRoleArn,
    runtimeLogGroup,
    appPorts,
    hooksPort,
    tokenTtlSeconds,
    idlePolicy: idlePolicy(env),
    maxDurationSeconds,
    maxSessions: optionalInt(env, ENV.MAX_SESSIONS, 1, Number.MAX_SAFE_INTEGER),
    maxSessionsPerOwner: optionalInt(env, ENV.MAX_SESSIONS_PER_OWNER, 1, Number.MAX_SAFE_INTEGER),
    ownerKey: ownerKey(env),
    shellAllowedPrincipals: shellAllowedPrincipals(env),
    events: parseEventsConfig(env),
    checkpoints: checkpointConfig(env, appPorts, hooksPort),
    ...telemetryNames(env),
  };
}

/**
 * The metrics namespace and service name: the handler's Logger and Metrics use them even when the rest of the
 * environment is invalid, so a misconfiguration is logged under the right service. Empty means the default.
 */
export function telemetryNames(env: Env = process.env): Pick<OrchestratorConfig, 'metricsNamespace' | 'serviceName'> {
  return {
    metricsNamespace: optional(env, ENV.METRICS_NAMESPACE) ?? DEFAULT_METRICS_NAMESPACE,
    serviceName: optional(env, ENV.SERVICE_NAME) ?? DEFAULT_SERVICE_NAME,
  };
}

function checkpointConfig(env: Env, appPorts: number[], hooksPort: number | undefined): CheckpointConfig | undefined {
  const config = parseCheckpointConfig(env);
  if (config && (appPorts.includes(config.port) || config.port === hooksPort)) {
    fail(ENV.CHECKPOINT_PORT, String(config.port), 'differ from the app ports and the hooks port (no client token may ever reach it)');
  }
  return config;
}

function ownerKey(env: Env): OwnerKey {
  const raw = optional(env, ENV.OWNER_KEY);
  if (raw === undefined) return OWNER_KEYS[0];
  if (!(OWNER_KEYS as readonly string[]).includes(raw)) fail(ENV.OWNER_KEY, raw, `be one of ${OWNER_KEYS.join(', ')} or empty (${OWNER_KEYS[0]})`);
  return raw as OwnerKey;
}

function shellAllowedPrincipals(env: Env): ReadonlySet<string> | undefined {
  const value = jsonValue(env, ENV.SHELL_ALLOWED_PRINCIPALS);
  if (value === undefined) return undefined;
  const rule = 'be empty (no shell access) or a non-empty JSON array of IAM role or user ARNs';
  if (!Array.isArray(value) || value.length === 0) fail(ENV.SHELL_ALLOWED_PRINCIPALS, JSON.stringify(value), rule);
  const principals = new Set<string>();
  for (const entry of value as unknown[]) {
    const principal = typeof entry === 'string' ? allowedPrincipal(entry) : undefined;
    if (principal === undefined) fail(ENV.SHELL_ALLOWED_PRINCIPALS, JSON.stringify(entry), rule);
    principals.add(principal as string);
  }
  return principals;
}

function jsonValue(env: Env, name: string): unknown {
  const raw = optional(env, name);
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return fail(name, raw, 'be valid JSON');
  }
}

function connectorList(env: Env, name: string): string[] {
  const value = jsonValue(env, name);
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > 10 || !value.every((v) => typeof v === 'string' && CONNECTOR_ARN.test(v))) {
    fail(name, JSON.stringify(value), 'be a JSON array of at most 10 network connector ARNs');
  }
  if (new Set(value).size !== value.length) fail(name, JSON.stringify(value), 'not repeat a connector');
  return value as string[];
}

function portList(env: Env, name: string): number[] {
  const value = jsonValue(env, name);
  if (value === undefined) return [...CONFIG_DEFAULTS.appPorts];
  const isPort = (v: unknown) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535;
  if (!Array.isArray(value) || value.length === 0 || !value.every(isPort)) {
    fail(name, JSON.stringify(value), 'be a non-empty JSON array of ports (1-65535)');
  }
  if (new Set(value).size !== value.length) fail(name, JSON.stringify(value), 'not repeat a port');
  return value as number[];
}

function idlePolicy(env: Env): IdlePolicyWire | undefined {
  const value = jsonValue(env, ENV.IDLE_POLICY);
  if (value === undefined) return undefined;
  const shown = JSON.stringify(value);
  const rule = 'be empty (no idle policy) or a JSON object {maxIdleDurationSeconds '
    + `(${LIMITS.MIN_IDLE_SECONDS}-${LIMITS.MAX_DURATION_SECONDS}), suspendedDurationSeconds (>= 0), autoResumeEnabled (boolean)}`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(ENV.IDLE_POLICY, shown, rule);
  const v = value as Record<string, unknown>;
  const keys = Object.keys(v).sort().join(',');
  const idle = v.maxIdleDurationSeconds;
  const suspended = v.suspendedDurationSeconds;
  if (keys !== 'autoResumeEnabled,maxIdleDurationSeconds,suspendedDurationSeconds'
    || !Number.isInteger(idle) || (idle as number) < LIMITS.MIN_IDLE_SECONDS || (idle as number) > LIMITS.MAX_DURATION_SECONDS
    || !Number.isInteger(suspended) || (suspended as number) < 0 || (suspended as number) > LIMITS.MAX_DURATION_SECONDS
    || typeof v.autoResumeEnabled !== 'boolean') {
    fail(ENV.IDLE_POLICY, shown, rule);
  }
  return {
    maxIdleDurationSeconds: idle as number,
    suspendedDurationSeconds: suspended as number,
    autoResumeEnabled: v.autoResumeEnabled as boolean,
  };
}
