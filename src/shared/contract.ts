/**
 * The contract between the constructs, the Lambda handlers and the local emulator: every name and limit both sides
 * must agree on, written once. Pure TypeScript with no aws-cdk-lib import, so the handlers bundle it; not part of
 * the jsii API.
 */

/** Environment variable names the orchestrator and sweeper constructs set and their handlers read. */
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
  /** JSON {@link IdlePolicyWire}, or empty for none. */
  IDLE_POLICY: 'MICROVM_IDLE_POLICY',
  /** maximumDurationInSeconds for each VM. */
  MAX_DURATION_SECONDS: 'MICROVM_MAX_DURATION_SECONDS',
  /** Admission limit across all owners; empty for none. */
  MAX_SESSIONS: 'MICROVM_MAX_SESSIONS',
  /** Admission limit per owner; empty for none. */
  MAX_SESSIONS_PER_OWNER: 'MICROVM_MAX_SESSIONS_PER_OWNER',
  /** Which part of the caller's IAM identity owns a session: `PRINCIPAL` or `ROLE_SESSION`; empty for `PRINCIPAL`. */
  OWNER_KEY: 'MICROVM_OWNER_KEY',
  /**
   * JSON array of the IAM role and user ARNs that may get a shell token for their own sessions; empty when the
   * orchestrator has no shell access (the shell-token route is then absent).
   */
  SHELL_ALLOWED_PRINCIPALS: 'MICROVM_SHELL_ALLOWED_PRINCIPALS',
  /** Sweeper: seconds an unowned VM must have existed before it may be terminated. */
  ORPHAN_GRACE_SECONDS: 'MICROVM_ORPHAN_GRACE_SECONDS',
  /** Sweeper: how many of the newest image versions pruning keeps; empty for no pruning. */
  KEEP_VERSIONS: 'MICROVM_KEEP_VERSIONS',
  /**
   * Smoke test: where the MicroVM data plane is, as a URL with `{endpoint}` in it; empty for `https://{endpoint}`.
   * Set only for the local emulator's data plane; the construct never sets it.
   */
  DATA_PLANE_URL_TEMPLATE: 'MICROVM_DATA_PLANE_URL_TEMPLATE',
  /** Name (or ARN) of the EventBridge bus the session lifecycle events go to; empty for no events. */
  EVENT_BUS_NAME: 'MICROVM_EVENT_BUS_NAME',
  /** The image's baseline memory in MiB, for the usage in `Session Ended` events; empty when unknown. */
  BASELINE_MEMORY_MIB: 'MICROVM_BASELINE_MEMORY_MIB',
  /** JSON `{perGbSecond, perVcpuSecond, currency}` for the estimated cost in `Session Ended` events; empty for none. */
  USAGE_PRICING: 'MICROVM_USAGE_PRICING',
  /** Checkpoints: the bucket workspaces are saved to; empty when checkpoints are off. */
  CHECKPOINT_BUCKET: 'MICROVM_CHECKPOINT_BUCKET',
  /** Checkpoints: the guest's checkpoint port (never in a client's token, like the hooks port). */
  CHECKPOINT_PORT: 'MICROVM_CHECKPOINT_PORT',
  /** Checkpoints: the path the guest serves `POST` on to save (default `/checkpoint`). */
  CHECKPOINT_PATH: 'MICROVM_CHECKPOINT_PATH',
  /** Checkpoints: seconds before a session's end when the sweeper saves it. */
  CHECKPOINT_BEFORE_END_SECONDS: 'MICROVM_CHECKPOINT_BEFORE_END_SECONDS',
  /** Checkpoints: the function (the sweeper) the session API invokes asynchronously to run a requested save. */
  CHECKPOINT_WORKER_FUNCTION: 'MICROVM_CHECKPOINT_WORKER_FUNCTION',
  /** Checkpoints: `true` when the sweeper saves every session it finds newly suspended (`checkpoints.onSuspend`). */
  CHECKPOINT_ON_SUSPEND: 'MICROVM_CHECKPOINT_ON_SUSPEND',
  /** Powertools metrics namespace. */
  METRICS_NAMESPACE: 'POWERTOOLS_METRICS_NAMESPACE',
  /** Powertools service name, also the metrics' `service` dimension. */
  SERVICE_NAME: 'POWERTOOLS_SERVICE_NAME',
} as const;

/** The MicroVM data plane's reserved headers: the token, and the port a request is for (8080 without it). */
export const DATA_PLANE = {
  AUTH_HEADER: 'X-aws-proxy-auth',
  PORT_HEADER: 'X-aws-proxy-port',
  DEFAULT_PORT: 8080,
  /** The port a shell token grants (the VM's shell, reached through the `SHELL_INGRESS` connector). */
  SHELL_PORT: 8022,
  /** The WebSocket path of the shell on a MicroVM's endpoint (`wss://<endpoint>/shell`). */
  SHELL_PATH: '/shell',
} as const;

/** The AWS-managed ingress connector a MicroVM must be launched with to accept shell tokens. */
export const SHELL_INGRESS_CONNECTOR = 'SHELL_INGRESS';

/** Default CloudWatch namespace of the orchestrator's and sweeper's EMF metrics. */
export const DEFAULT_METRICS_NAMESPACE = 'LambdaMicrovms';
/** Default `service` dimension (and Powertools service name) when the environment gives none or an empty one. */
export const DEFAULT_SERVICE_NAME = 'microvm-orchestrator';

/** Metric names the session API emits. */
export const SESSION_METRICS = {
  SESSIONS_CREATED: 'SessionsCreated',
  SESSIONS_RESUMED: 'SessionsResumed',
  SESSIONS_ENDED: 'SessionsEnded',
  LAUNCH_LATENCY: 'LaunchLatency',
  TOKENS_MINTED: 'TokensMinted',
  SHELL_TOKENS_MINTED: 'ShellTokensMinted',
  QUOTA_REJECTIONS: 'QuotaRejections',
  ADMISSION_REJECTIONS: 'AdmissionRejections',
  UPSTREAM_ERRORS: 'UpstreamErrors',
  LAUNCH_FAILURES: 'LaunchFailures',
} as const;

/** Metric names the sweeper emits (`SessionsEnded` is shared with the session API). */
export const SWEEPER_METRICS = {
  VMS_SEEN: 'VmsSeen',
  ORPHANS_FOUND: 'OrphansFound',
  PROTECTED_BY_LAUNCH: 'ProtectedByLaunch',
  ORPHANS_TERMINATED: 'OrphansTerminated',
  SESSIONS_ENDED: 'SessionsEnded',
  ROWS_REPAIRED: 'RowsRepaired',
  SWEEP_DURATION: 'SweepDuration',
  SWEEP_ERRORS: 'SweepErrors',
  /** Live (non-TERMINATED) MicroVMs per image version, dimension `ImageVersion`, after a complete list. */
  LIVE_VMS: 'LiveVms',
  /** Image versions pruning deleted. */
  VERSIONS_DELETED: 'VersionsDeleted',
  /** 1 when the image is within 5 versions of its quota and pruning cannot make room, else 0. */
  VERSION_QUOTA_NEAR: 'VersionQuotaNear',
} as const;

/** Metric names of the lifecycle events and the usage they report (both handlers emit them). */
export const EVENT_METRICS = {
  /** Lifecycle events EventBridge accepted. */
  EVENTS_PUBLISHED: 'EventsPublished',
  /** Lifecycle events that were not published (refused, failed or timed out after the one attempt). */
  EVENTS_FAILED: 'EventsFailed',
  /** Lifecycle events emitted, dimension `DetailType` (published or not). */
  SESSION_EVENTS: 'SessionEvents',
  /** Running seconds of each ended session, dimension `Owner` (the owning principal's ARN). */
  SESSION_RUNNING_SECONDS: 'SessionRunningSeconds',
  /** Suspended seconds (the API's suspensions) of each ended session, dimension `Owner`. */
  SESSION_SUSPENDED_SECONDS: 'SessionSuspendedSeconds',
} as const;

/** The dimension of the usage metrics that carries the owning principal's ARN. */
export const OWNER_DIMENSION = 'Owner';
/** The dimension of `SessionEvents` that carries the event's detail-type. */
export const DETAIL_TYPE_DIMENSION = 'DetailType';

/** Metric names of checkpoints (both handlers save). */
export const CHECKPOINT_METRICS = {
  CHECKPOINTS_SAVED: 'CheckpointsSaved',
  /** Saves that failed or timed out: the session is unchanged and the next sweep retries. */
  CHECKPOINTS_FAILED: 'CheckpointsFailed',
  CHECKPOINT_BYTES: 'CheckpointBytes',
} as const;

/** Every metric either handler emits. */
export const METRIC = { ...SESSION_METRICS, ...SWEEPER_METRICS, ...EVENT_METRICS, ...CHECKPOINT_METRICS } as const;
export type MetricName = (typeof METRIC)[keyof typeof METRIC];
/** The dimension of `VmsSeen` that carries the VM state. */
export const VM_STATE_DIMENSION = 'state';
/** The dimension of `LiveVms` that carries the image version. */
export const IMAGE_VERSION_DIMENSION = 'ImageVersion';

/** Every state a MicroVM reports, in lifecycle order. */
export const VM_STATES = ['PENDING', 'RUNNING', 'SUSPENDING', 'SUSPENDED', 'TERMINATING', 'TERMINATED'] as const;
export type VmState = (typeof VM_STATES)[number];
/** The states of a MicroVM that still exists (and bills, or may again). */
export const LIVE_VM_STATES: ReadonlySet<string> = new Set<VmState>(['PENDING', 'RUNNING', 'SUSPENDING', 'SUSPENDED']);

/** The sessions table's schema. */
export const TABLE = {
  /** Partition key: the owner's hash, or one of the reserved partitions below. */
  PARTITION_KEY: 'owner',
  /** Sort key: the session id. */
  SORT_KEY: 'sessionId',
  /** Epoch-seconds attribute DynamoDB's TTL expires rows by. */
  TTL_ATTRIBUTE: 'ttl',
  /** Partition of the table's own records (the admission counter); `#` never starts an owner hash. */
  META_PARTITION: '#meta',
  /** Partition of the sweeper's orphan suspects. */
  ORPHAN_PARTITION: '#orphan',
} as const;

/** The service's limits this library enforces on both sides. */
/** The checkpoint contract between the orchestrator and the guest (docs/checkpoints.md). */
export const CHECKPOINTS = {
  DEFAULT_PATH: '/checkpoint',
  DEFAULT_RETENTION_DAYS: 7,
  DEFAULT_BEFORE_END_SECONDS: 900,
  /** One presigned PUT carries at most 5 GB (S3's single-PUT limit); multipart is not supported yet. */
  MAX_BYTES: 5 * 1024 ** 3,
  /** Presigned URLs (upload and download) live at most this long. */
  URL_MAX_SECONDS: 900,
  /** The token for the checkpoint port lives this long. */
  TOKEN_MINUTES: 5,
  /** `onSuspend`: sweeps that try to save one suspension before giving up on it (until the VM runs again). */
  SUSPEND_SAVE_ATTEMPTS: 3,
} as const;

export const LIMITS = {
  /** A MicroVM's lifetime cap, running plus suspended (8 hours, not adjustable). */
  MAX_DURATION_SECONDS: 28_800,
  /** Auth tokens: at least a minute, at most 60 minutes, in whole minutes. */
  MIN_TOKEN_TTL_SECONDS: 60,
  MAX_TOKEN_TTL_SECONDS: 3600,
  /** Shell tokens: this library's cap (a shell is full access to the VM) and default, in whole minutes. */
  MAX_SHELL_TOKEN_TTL_SECONDS: 900,
  DEFAULT_SHELL_TOKEN_TTL_SECONDS: 300,
  /** The idle threshold's floor. */
  MIN_IDLE_SECONDS: 60,
  /** The `/run` hook payload (`runHookPayload`) budget, in bytes. */
  RUN_HOOK_PAYLOAD_BYTES: 4096,
  /** The largest page `ListMicrovms` returns. */
  LIST_PAGE_SIZE: 50,
  /** Versions one image may hold (an adjustable quota); creating one more fails with ServiceQuotaExceededException. */
  VERSIONS_PER_IMAGE: 50,
  /** How close to the versions quota pruning warns when it cannot make room. */
  VERSIONS_QUOTA_MARGIN: 5,
} as const;

/**
 * An image version as this library reads it: the service's versions are numbers (`7`); the AWS toolkit shows
 * `major.minor` (`1.0`). Anything else is never ordered, filtered on or pruned.
 */
export const IMAGE_VERSION_PATTERN = /^\d{1,10}(\.\d{1,10})?$/;

/** A MicroVM image name: 1-64 characters of `[a-zA-Z0-9_-]` (the service's rule). */
export const IMAGE_NAME_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;

/**
 * A MicroVM image ARN in colon form: partition, Region, account (12 digits, or `aws` for the AWS-provided base
 * images) and name.
 */
export const IMAGE_ARN_PATTERN = /^arn:(aws[a-z-]*):lambda:([a-z0-9-]+):(\d{12}|aws):microvm-image:([a-zA-Z0-9_-]{1,64})$/;

/**
 * An IAM role or user ARN, path allowed (what `ShellAccessOptions.allowedPrincipalArns` takes): groups partition,
 * account, `role` or `user`, path (with its slashes, possibly empty) and name.
 */
export const IAM_ROLE_OR_USER_ARN_PATTERN = /^arn:(aws(?:-[a-z]+)*):iam::(\d{12}):(role|user)\/((?:[!-~]{0,510}\/)?)([\w+=,.@-]{1,128})$/;

/** The parts of an image ARN. */
export interface ImageArnParts {
  readonly partition: string;
  readonly region: string;
  /** 12 digits, or `aws` for an AWS-provided base image. */
  readonly account: string;
  readonly name: string;
}

/** The parts of `arn`, or undefined when it is not a MicroVM image ARN in colon form. */
export function parseImageArn(arn: string): ImageArnParts | undefined {
  const m = IMAGE_ARN_PATTERN.exec(arn);
  return m ? { partition: m[1], region: m[2], account: m[3], name: m[4] } : undefined;
}

/**
 * The idle policy as `RunMicrovm` takes it, the orchestrator's environment carries it and the run-configuration
 * metadata records it: the service requires all three fields together.
 */
export interface IdlePolicyWire {
  /** Seconds without inbound traffic before the MicroVM is suspended. */
  readonly maxIdleDurationSeconds: number;
  /** Seconds a suspended MicroVM is kept before it is terminated. */
  readonly suspendedDurationSeconds: number;
  /** Whether inbound traffic resumes a suspended MicroVM. */
  readonly autoResumeEnabled: boolean;
}
