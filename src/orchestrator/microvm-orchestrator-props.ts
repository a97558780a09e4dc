import { Duration, RemovalPolicy, aws_iam as iam, aws_kms as kms, aws_lambda as lambda, aws_sns as sns } from 'aws-cdk-lib';
import { CheckpointOptions } from './checkpoints';
import { IdlePolicy } from './idle-policy';
import { LifecycleEvents, UsagePricing } from './lifecycle-events';
import { SessionOwner } from './session-owner';
import { ShellAccessOptions } from './shell-access';
import { SmokeTest } from './smoke-test';
import { IMicrovmImage } from '../image/microvm-image-base';
import { Egress } from '../network/egress';
import { Ingress } from '../network/ingress';
import { MicrovmLogging } from '../shared/microvm-logging';

/**
 * Properties for {@link MicrovmOrchestrator}.
 */
export interface MicrovmOrchestratorProps {
  /**
   * The image every session's MicroVM is launched from.
   */
  readonly image: IMicrovmImage;

  /**
   * Pin the image version sessions launch. Sessions record the version they run, so a change is traceable. A
   * rollback is a deploy that pins the previous version (see the README's "Releasing a new image").
   *
   * @default - the image's latest ACTIVE version at deploy time, once the smoke test passed it (without a smoke
   * test, an imported image that does not know its versions launches the latest ACTIVE version at launch time, with
   * a synth warning)
   */
  readonly imageVersion?: string;

  /**
   * How many of the image's newest versions (by version number) the sweeper always keeps when it prunes old ones,
   * whole number from 1 to 49 (an image holds at most 50 versions; the quota is adjustable). Beyond those, the
   * sweeper deletes versions oldest first, up to 10 per sweep, except the version this orchestrator launches,
   * the image's latest ACTIVE version, every version a live MicroVM still runs and every version still building.
   * It prunes only after a sweep that listed every MicroVM of the image. See docs/image-versions.md.
   *
   * @default 10
   */
  readonly keepVersions?: number;

  /**
   * Whether the sweeper deletes old image versions (see `keepVersions`). Turn it off when something else relies on
   * old versions this orchestrator cannot see: another orchestrator or app launching a pinned version of the same
   * image, or versions you keep for rollback beyond `keepVersions`. The sweeper protects only what this
   * orchestrator launches and what live MicroVMs of the image run.
   *
   * @default true
   */
  readonly pruneVersions?: boolean;

  /**
   * Tests a version before any session runs it: at deploy time one MicroVM is launched from it with this
   * orchestrator's run configuration, checked through its endpoint, and terminated. The orchestrator launches only
   * a version that passed; a failure fails the deployment and sets the version INACTIVE. The pinned `imageVersion`
   * is tested too.
   *
   * @default SmokeTest.http() - `GET /` on the first app port must answer 200 within 30 seconds
   */
  readonly smokeTest?: SmokeTest;

  /**
   * Where the MicroVMs' outbound traffic may go. Always passed explicitly to `RunMicrovm`: without it a MicroVM
   * inherits the image's build egress, which is usually the internet.
   *
   * @default - a new isolated `MicrovmNetwork`: no route out, no outbound security group rule
   */
  readonly egress?: Egress;

  /**
   * How traffic reaches the MicroVMs' endpoints.
   *
   * @default [Ingress.http()]
   */
  readonly ingress?: Ingress[];

  /**
   * The ports in the MicroVM that session tokens may cover. Never the hooks port of an image defined in this app
   * or imported with `hooksPort` (synth fails); for an image imported without it, keep `appPorts` clear of its
   * hooks port yourself.
   *
   * @default [8080]
   */
  readonly appPorts?: number[];

  /**
   * The lifetime of a session token, and the most a caller may ask for. Whole minutes, 1 to 60.
   *
   * @default Duration.minutes(5)
   */
  readonly tokenTtl?: Duration;

  /**
   * When idle MicroVMs are suspended and suspended ones terminated.
   *
   * @default IdlePolicy.suspendAfter(Duration.minutes(15)): terminated 1 hour after suspending, auto-resume on
   */
  readonly idlePolicy?: IdlePolicy;

  /**
   * The longest a MicroVM lives, running and suspended time together (the service cannot extend it).
   * 1 second to 8 hours, whole seconds.
   *
   * @default Duration.hours(1)
   */
  readonly maxSessionDuration?: Duration;

  /**
   * The most live sessions across all callers; more are refused with 429.
   *
   * A session counts from its first `PUT` until its `DELETE`, or until the sweeper sees that its VM ended on its
   * own (idle policy, maximum duration); a `PUT` that relaunches such a session is admitted again.
   *
   * @default - no limit beyond the account's MicroVM memory quota
   */
  readonly maxSessions?: number;

  /**
   * The most live sessions one caller may hold; more are refused with 429. Counted like `maxSessions`.
   *
   * @default - no per-caller limit
   */
  readonly maxSessionsPerOwner?: number;

  /**
   * Which part of the caller's IAM identity owns a session: the owner alone sees, uses and deletes it, and
   * `maxSessionsPerOwner` counts per owner. `PRINCIPAL` keys a role caller by its role, so every ECS task, EC2
   * instance, Lambda function and EKS pod of one role shares its sessions; `ROLE_SESSION` keys it by the full role
   * session ARN, for callers that give each end user their own role session. Changing it on a deployed
   * orchestrator hides the sessions created under the other mode from their callers until they end.
   *
   * @default SessionOwner.PRINCIPAL
   */
  readonly sessionOwner?: SessionOwner;

  /**
   * Lets the listed IAM roles and users get a shell token for their own sessions (`POST /sessions/{id}/shell-token`,
   * at most 15 minutes). Adds `Ingress.shell()` (`SHELL_INGRESS`) to every launch and
   * `lambda:CreateMicrovmShellAuthToken` on the image to the session API's role. A shell is full access to the VM
   * (its memory, files, payload and execution role credentials), so `MicrovmChecks` reports
   * `MicrovmChecks-ShellIngress` until you acknowledge it with a reason. Sessions launched before it was set have
   * no shell until relaunched.
   *
   * @default - no shell access: the route is absent and MicroVMs are launched without `SHELL_INGRESS`
   */
  readonly shell?: ShellAccessOptions;

  /**
   * Save each session's workspace to S3 before its MicroVM ends (the service ends every MicroVM after at most
   * 8 hours), and restore it when the session is relaunched. Creates a bucket (or uses `checkpoints.bucket`), grants
   * both functions object access to it, and opens the network to it: in an isolated `MicrovmNetwork` an S3 gateway
   * endpoint scoped to the bucket and HTTPS to S3's prefix list; in an allowlist network the bucket's regional
   * domain. See docs/checkpoints.md.
   *
   * @default - no checkpoints: a session relaunched after its end starts from the image snapshot
   */
  readonly checkpoints?: CheckpointOptions;

  /**
   * Where the session lifecycle events go: one event per transition (created, launch failed, suspended, resumed,
   * ended with its reason and usage, admission refused, orphan terminated, shell access granted), source
   * `cdk-lambda-microvms.sessions`, schema in docs/events.md. The functions get `events:PutEvents` on that bus only.
   * Publishing never adds a call to a warm PUT, and a failed publish never fails a request (it counts in
   * `EventsFailed`). Add rules with `onSessionEvent()`.
   *
   * @default LifecycleEvents.defaultBus()
   */
  readonly lifecycleEvents?: LifecycleEvents;

  /**
   * Rates for an estimated cost in each `Session Ended` event's usage. An estimate from the transitions the
   * orchestrator observed, not a bill (see `UsagePricing`).
   *
   * @default - usage in seconds, with no estimated cost
   */
  readonly usagePricing?: UsagePricing;

  /**
   * A customer-managed KMS key for the sessions table, the log groups (the functions', the MicroVMs' runtime logs,
   * and the flow logs of the network this construct creates), the alarm topic and the sweeper's failure queue.
   * A key passed here needs a stack with an explicit Region (the table names its key per Region). For a key of
   * this app, CloudWatch Logs, CloudWatch alarms and EventBridge are added to its policy; an imported key's policy
   * must already allow them.
   *
   * @default - a new rotated customer-managed key (about $1 per month). In a stack without an explicit Region the
   * table alone stays on DynamoDB's own key: a TableV2 cannot name a key for an unknown Region.
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Encrypt with keys AWS owns instead of a customer-managed key: no key to pay for, but no key policy, rotation
   * control or CloudTrail record of its use is yours. The NIST 800-53, HIPAA and PCI DSS packs of cdk-nag then
   * report the log groups.
   *
   * @default false
   */
  readonly awsOwnedEncryption?: boolean;

  /**
   * Where the orchestrator's alarms send their notifications.
   *
   * @default - a new SNS topic encrypted with the orchestrator's key (`alarmTopic`): subscribe to it
   */
  readonly alarmTopic?: sns.ITopic;

  /**
   * X-Ray tracing of the orchestrator and sweeper functions. Active tracing records each invocation (the first
   * 100,000 traces a month are free, then about $5 per million recorded in us-east-1: verify).
   *
   * @default lambda.Tracing.ACTIVE
   */
  readonly tracing?: lambda.Tracing;

  /**
   * The role MicroVMs run with. Its credentials are readable by every process in the guest: keep it minimal.
   *
   * @default - a new role that may only write to the runtime log group
   */
  readonly executionRole?: iam.IRole;

  /**
   * Where the MicroVMs' runtime logs go (the orchestrator passes the group to every launch).
   *
   * - `MicrovmLogging.newLogGroup(options)`: a new log group (`runtimeLogGroup`), kept `retention` (default one
   *   month), retained when it leaves the stack unless `removalPolicy` says otherwise, encrypted with
   *   `options.encryptionKey`, else the orchestrator's `encryptionKey`. The execution role created here may write
   *   to it.
   * - `MicrovmLogging.logGroup(group)`: that group; the execution role gets `logs:CreateLogStream` and
   *   `logs:PutLogEvents` on it (an imported `executionRole` must already allow them).
   * - `MicrovmLogging.disabled()`: no runtime log group: MicroVMs are launched without one and the execution role
   *   created here has no permissions.
   *
   * @default MicrovmLogging.newLogGroup() - a new log group kept one month, retained when the stack is deleted,
   * encrypted with the orchestrator's key
   */
  readonly runtimeLogging?: MicrovmLogging;

  /**
   * Where the orchestrator and sweeper functions log. These logs are the audit trail of every session launched
   * and every MicroVM terminated, so `MicrovmLogging.disabled()` fails synth.
   *
   * - `MicrovmLogging.newLogGroup(options)`: one new log group per function, each kept `retention` (default one
   *   month), retained when it leaves the stack unless `removalPolicy` says otherwise, encrypted with
   *   `options.encryptionKey`, else the orchestrator's `encryptionKey`.
   * - `MicrovmLogging.logGroup(group)`: both functions log to that group (Lambda's stream names do not name the
   *   function); each function's role gets `logs:CreateLogStream` and `logs:PutLogEvents` on it. Its retention,
   *   removal policy and key are yours.
   *
   * @default MicrovmLogging.newLogGroup() - two new log groups kept one month, retained when the stack is
   * deleted, encrypted with the orchestrator's key
   */
  readonly logging?: MicrovmLogging;

  /**
   * How often the sweeper compares the service's MicroVMs with the sessions table. Whole minutes, 1 to 60.
   *
   * @default Duration.minutes(5)
   */
  readonly sweepInterval?: Duration;

  /**
   * How long a MicroVM no session owns is left alone before the sweeper may terminate it, so a launch in flight
   * is never mistaken for an orphan. Whole seconds, 1 minute to 8 hours.
   *
   * @default Duration.minutes(10)
   */
  readonly orphanGracePeriod?: Duration;

  /**
   * What happens to the sessions table when it leaves the stack. Deletion protection is on unless this is DESTROY.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * The CloudWatch namespace of the orchestrator's and sweeper's metrics.
   *
   * @default 'LambdaMicrovms'
   */
  readonly metricsNamespace?: string;

  /**
   * Whether to create a CloudWatch dashboard for this orchestrator. The four alarms exist either way (they notify
   * `alarmTopic`).
   *
   * @default true
   */
  readonly dashboard?: boolean;
}
