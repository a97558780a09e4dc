/**
 * Environment variable names shared by the orchestrator and sweeper constructs and their handlers,
 * so the two sides never drift apart.
 */
export const ENV = {
  /** DynamoDB sessions table name. */
  TABLE_NAME: 'SESSIONS_TABLE_NAME',
  /** Image ARN to launch (colon form). */
  IMAGE_ARN: 'MICROVM_IMAGE_ARN',
  /** Image version to launch; empty means the latest ACTIVE version. */
  IMAGE_VERSION: 'MICROVM_IMAGE_VERSION',
  /** JSON array of egress connector ARNs. */
  EGRESS_CONNECTORS: 'MICROVM_EGRESS_CONNECTORS',
  /** JSON array of ingress connector ARNs. */
  INGRESS_CONNECTORS: 'MICROVM_INGRESS_CONNECTORS',
  /** Execution role ARN for the MicroVMs; empty for none. */
  EXECUTION_ROLE_ARN: 'MICROVM_EXECUTION_ROLE_ARN',
  /** Runtime log group for the MicroVMs; empty for disabled. */
  RUNTIME_LOG_GROUP: 'MICROVM_RUNTIME_LOG_GROUP',
  /** JSON array of app ports tokens may cover. */
  APP_PORTS: 'MICROVM_APP_PORTS',
  /** The image's hooks port, or empty. Never put in a token. */
  HOOKS_PORT: 'MICROVM_HOOKS_PORT',
  /** Default and maximum token TTL in seconds. */
  TOKEN_TTL_SECONDS: 'MICROVM_TOKEN_TTL_SECONDS',
  /** JSON idle policy `{maxIdleDurationSeconds,suspendedDurationSeconds,autoResumeEnabled}` or empty for none. */
  IDLE_POLICY: 'MICROVM_IDLE_POLICY',
  /** maximumDurationInSeconds for each VM. */
  MAX_DURATION_SECONDS: 'MICROVM_MAX_DURATION_SECONDS',
  /** Admission limit across all owners; empty for none. */
  MAX_SESSIONS: 'MICROVM_MAX_SESSIONS',
  /** Admission limit per owner; empty for none. */
  MAX_SESSIONS_PER_OWNER: 'MICROVM_MAX_SESSIONS_PER_OWNER',
  /** Which part of the caller's IAM identity owns a session: `PRINCIPAL` or `ROLE_SESSION`; empty for `PRINCIPAL`. */
  OWNER_KEY: 'MICROVM_OWNER_KEY',
  /** Sweeper: seconds an unowned VM must have existed before it may be terminated. */
  ORPHAN_GRACE_SECONDS: 'MICROVM_ORPHAN_GRACE_SECONDS',
  /** Powertools metrics namespace. */
  METRICS_NAMESPACE: 'POWERTOOLS_METRICS_NAMESPACE',
  /** Powertools service name. */
  SERVICE_NAME: 'POWERTOOLS_SERVICE_NAME',
} as const;

/** Default CloudWatch namespace for the orchestrator's and sweeper's EMF metrics. */
export const DEFAULT_METRICS_NAMESPACE = 'LambdaMicrovms';
