import {
  Annotations, Duration, Names, RemovalPolicy, Stack, Token, Validations,
  aws_cloudwatch as cloudwatch, aws_dynamodb as dynamodb, aws_events as events, aws_events_targets as targets,
  aws_iam as iam, aws_kms as kms, aws_lambda as lambda, aws_lambda_destinations as destinations, aws_logs as logs,
  aws_sns as sns, aws_sqs as sqs,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { defaultEgress } from './default-egress';
import { IdlePolicy } from './idle-policy';
import { OrchestratorDashboard } from './orchestrator-dashboard';
import { HandlerFunction } from './private/handler-function';
import { acknowledgeComplianceFindings, newAlarmTopic, newSweeperFailureQueue, notify } from './private/operations';
import { SessionOwner } from './session-owner';
import { IMicrovmImage } from '../image/microvm-image-base';
import { Egress, EgressConfig } from '../network/egress';
import { Ingress } from '../network/ingress';
import { DEFAULT_METRICS_NAMESPACE, ENV, LIMITS, METRIC, TABLE, VM_STATE_DIMENSION } from '../shared/contract';
import { allowLogsToUse, newEncryptionKey } from '../shared/encryption';
import { RUN_CONFIGURATION_METADATA_KEY, RunConfigurationMetadata } from '../shared/metadata';
import { flattenReference } from '../shared/nag-ids';
import { warnIfRegionLacksMicrovms } from '../shared/regions';
import { invalidProp, isToken } from '../shared/validation';

/**
 * Properties for {@link MicrovmOrchestrator}.
 */
export interface MicrovmOrchestratorProps {
  /**
   * The image every session's MicroVM is launched from.
   */
  readonly image: IMicrovmImage;

  /**
   * Pin the image version sessions launch. Sessions record the version they run, so a change is traceable.
   *
   * @default - the image's latest ACTIVE version at deploy time (for an imported image that does not know it:
   * the latest ACTIVE version at launch, with a synth warning)
   */
  readonly imageVersion?: string;

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
   * Whether the MicroVMs' runtime logs go to a log group created for them.
   *
   * @default true
   */
  readonly runtimeLogging?: boolean;

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
   * Retention of the function and runtime log groups.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

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
   * Whether to create a CloudWatch dashboard for this orchestrator.
   *
   * @default true
   */
  readonly dashboard?: boolean;
}

/**
 * The session control plane for Lambda MicroVMs: a session API behind an IAM-authenticated Function URL that
 * gives each session exactly one MicroVM, a sweeper that terminates MicroVMs no session owns, and the metrics,
 * alarms and dashboard to run it.
 *
 * @example
 * import { aws_iam as iam } from 'aws-cdk-lib';
 * import { IMicrovmImage, MicrovmOrchestrator } from 'cdk-lambda-microvms';
 *
 * declare const image: IMicrovmImage;
 * declare const caller: iam.IRole;
 * const orchestrator = new MicrovmOrchestrator(this, 'Sessions', { image });
 * orchestrator.grantSessions(caller);
 */
export class MicrovmOrchestrator extends Construct {
  /** the session API's URL (`https://<id>.lambda-url.<region>.on.aws/`); callers sign requests with SigV4. */
  public readonly url: string;
  /** the Function URL in front of the orchestrator function. */
  public readonly functionUrl: lambda.FunctionUrl;
  /** the function serving the session API. */
  public readonly orchestratorFunction: lambda.IFunction;
  /** the function that terminates MicroVMs no session owns. */
  public readonly sweeperFunction: lambda.IFunction;
  /** the sessions table. */
  public readonly table: dynamodb.ITableV2;
  /**
   * the customer-managed key of the table, logs, alarm topic and failure queue.
   *
   * @default - none when `awsOwnedEncryption` is true
   */
  public readonly encryptionKey?: kms.IKey;
  /** the SNS topic the alarms notify. */
  public readonly alarmTopic: sns.ITopic;
  /** asynchronous sweeps that failed or expired (the schedule's dead-letter queue and the sweeper's failure destination). */
  public readonly sweeperFailureQueue: sqs.IQueue;
  /** the role MicroVMs run with. */
  public readonly executionRole: iam.IRole;
  /** the MicroVMs' runtime log group, unless runtime logging is off. */
  public readonly runtimeLogGroup?: logs.ILogGroup;
  /** the schedule that runs the sweeper. */
  public readonly sweepSchedule: events.Rule;
  /** the egress every MicroVM is launched with. */
  public readonly egress: EgressConfig;
  /** the `service` dimension of this orchestrator's metrics. */
  public readonly serviceName: string;
  /** the CloudWatch namespace of this orchestrator's metrics. */
  public readonly metricsNamespace: string;
  /** alarm: the sweeper failed (sweep errors or function errors) on two consecutive sweeps. */
  public readonly sweeperErrorsAlarm: cloudwatch.Alarm;
  /** alarm: the sweeper found orphaned MicroVMs on three consecutive sweeps, so they are not being cleaned up. */
  public readonly orphansPersistingAlarm: cloudwatch.Alarm;
  /** alarm: launches refused because the account's MicroVM memory quota is reached. */
  public readonly quotaRejectionsAlarm: cloudwatch.Alarm;
  /** alarm: the MicroVM service kept failing (throttling or 5xx after retries), or the orchestrator crashed. */
  public readonly launchFailuresAlarm: cloudwatch.Alarm;
  /** the CloudWatch dashboard, unless `dashboard` is false. */
  public readonly dashboard?: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MicrovmOrchestratorProps) {
    super(scope, id);
    warnIfRegionLacksMicrovms(this);
    const config = validateProps(this, props);
    const stack = Stack.of(this);
    const image = props.image;
    const retention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    this.metricsNamespace = props.metricsNamespace ?? DEFAULT_METRICS_NAMESPACE;
    this.serviceName = Names.uniqueResourceName(this, { maxLength: 64, separator: '-' });

    this.encryptionKey = props.encryptionKey ?? (props.awsOwnedEncryption
      ? undefined
      : newEncryptionKey(this, `MicroVM orchestrator ${this.node.path}: sessions table, logs, alarm topic, failure queue`));
    const key = this.encryptionKey;
    if (key) allowLogsToUse(key);

    this.egress = (props.egress ?? defaultEgress(this, key)).bind(this);
    const ingressArns = config.ingressArns;

    const tableKey = key && !Token.isUnresolved(stack.region) ? key : undefined;
    this.table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: { name: TABLE.PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE.SORT_KEY, type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // a TableV2 renders its key per Region, so a stack without one keeps the table on DynamoDB's own key.
      encryption: tableKey
        ? dynamodb.TableEncryptionV2.customerManagedKey(tableKey)
        : dynamodb.TableEncryptionV2.dynamoOwnedKey(),
      timeToLiveAttribute: TABLE.TTL_ATTRIBUTE,
      removalPolicy: config.removalPolicy,
      deletionProtection: config.removalPolicy !== RemovalPolicy.DESTROY,
    });

    if (props.runtimeLogging ?? true) {
      this.runtimeLogGroup = this.logGroup('RuntimeLogs', retention, key);
    }
    this.executionRole = props.executionRole ?? new iam.Role(this, 'ExecutionRole', {
      description: 'Lambda MicroVMs launched by this orchestrator: runtime logs only (readable by every guest process).',
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com').withSessionTags().withConditions({
        StringEquals: { 'aws:SourceAccount': stack.account },
      }),
    });
    this.runtimeLogGroup?.grantWrite(this.executionRole);

    const idlePolicy = (props.idlePolicy ?? IdlePolicy.suspendAfter(Duration.minutes(15)))._render();
    const imageVersion = props.imageVersion ?? this.latestActiveVersionOf(image);
    const common: Record<string, string> = {
      [ENV.TABLE_NAME]: this.table.tableName,
      [ENV.IMAGE_ARN]: image.imageArn,
      [ENV.MAX_DURATION_SECONDS]: String(config.maxDurationSeconds),
      [ENV.IDLE_POLICY]: idlePolicy ? stack.toJsonString(idlePolicy) : '',
      [ENV.METRICS_NAMESPACE]: this.metricsNamespace,
      [ENV.SERVICE_NAME]: this.serviceName,
    };

    const tracing = props.tracing ?? lambda.Tracing.ACTIVE;
    // orchestrator: the session API.
    const orchestratorLogs = this.logGroup('OrchestratorLogs', retention, key);
    const orchestrator = new HandlerFunction(this, 'Orchestrator', {
      handler: 'orchestrator.lambda',
      description: 'Lambda MicroVMs session API: one MicroVM per session.',
      role: this.functionRole('OrchestratorRole', orchestratorLogs),
      logGroup: orchestratorLogs,
      memorySize: 512,
      timeout: Duration.seconds(30),
      architecture: lambda.Architecture.ARM_64,
      tracing,
      environment: {
        ...common,
        [ENV.IMAGE_VERSION]: imageVersion,
        [ENV.EGRESS_CONNECTORS]: stack.toJsonString([this.egress.networkConnectorArn]),
        [ENV.INGRESS_CONNECTORS]: stack.toJsonString(ingressArns),
        [ENV.EXECUTION_ROLE_ARN]: this.executionRole.roleArn,
        [ENV.RUNTIME_LOG_GROUP]: this.runtimeLogGroup?.logGroupName ?? '',
        [ENV.APP_PORTS]: stack.toJsonString(config.appPorts),
        [ENV.HOOKS_PORT]: config.hooksPort === undefined ? '' : String(config.hooksPort),
        [ENV.TOKEN_TTL_SECONDS]: String(config.tokenTtlSeconds),
        [ENV.MAX_SESSIONS]: props.maxSessions === undefined ? '' : String(props.maxSessions),
        [ENV.MAX_SESSIONS_PER_OWNER]: props.maxSessionsPerOwner === undefined ? '' : String(props.maxSessionsPerOwner),
        [ENV.OWNER_KEY]: props.sessionOwner ?? SessionOwner.PRINCIPAL,
      },
    });
    this.orchestratorFunction = orchestrator;
    image.grantRun(orchestrator, {
      executionRole: this.executionRole,
      networkConnectorArns: [this.egress.networkConnectorArn, ...ingressArns],
    });
    // the session API reads and writes single items and queries one owner's partition; it never scans.
    this.table.grant(orchestrator, ...SESSION_ITEM_ACTIONS);
    tableKey?.grantEncryptDecrypt(orchestrator);
    this.functionUrl = orchestrator.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });
    this.url = this.functionUrl.url;

    const metadata: RunConfigurationMetadata = {
      imageArn: image.imageArn,
      imageVersion,
      egressNetworkConnectors: [this.egress.networkConnectorArn],
      egressMode: this.egress.mode,
      ingressNetworkConnectors: ingressArns,
      appPorts: config.appPorts,
      hooksPort: config.hooksPort,
      tokenTtlSeconds: config.tokenTtlSeconds,
      allPortsTokens: false,
      idlePolicy,
      maximumDurationSeconds: config.maxDurationSeconds,
      executionRoleArn: this.executionRole.roleArn,
    };
    (orchestrator.node.defaultChild as lambda.CfnFunction).addMetadata(RUN_CONFIGURATION_METADATA_KEY, metadata);

    // sweeper: ground truth is the service's list of this image's MicroVMs.
    const sweeperLogs = this.logGroup('SweeperLogs', retention, key);
    const sweeper = new HandlerFunction(this, 'Sweeper', {
      handler: 'sweeper.lambda',
      description: 'Lambda MicroVMs sweeper: terminates MicroVMs no session owns and repairs stale session rows.',
      role: this.functionRole('SweeperRole', sweeperLogs),
      logGroup: sweeperLogs,
      memorySize: 512,
      // the sweeper keeps a per-run budget below this, so a large backlog finishes over several runs. Runs may
      // overlap (it is safe to run concurrently), so no reserved concurrency: reserving any fails to deploy in
      // accounts whose concurrency limit is still the new-account minimum.
      timeout: Duration.minutes(5),
      architecture: lambda.Architecture.ARM_64,
      tracing,
      environment: { ...common, [ENV.ORPHAN_GRACE_SECONDS]: String(config.orphanGraceSeconds) },
    });
    this.sweeperFunction = sweeper;
    sweeper.addToRolePolicy(new iam.PolicyStatement({
      sid: 'ListMicrovms',
      // ListMicrovms has no resource type; the sweeper filters by image itself.
      actions: ['lambda:ListMicrovms'],
      resources: ['*'],
    }));
    sweeper.addToRolePolicy(new iam.PolicyStatement({
      sid: 'InspectAndTerminateImageMicrovms',
      actions: ['lambda:GetMicrovm', 'lambda:TerminateMicrovm'],
      resources: [image.imageArn],
    }));
    this.table.grant(sweeper, ...SESSION_ITEM_ACTIONS, 'dynamodb:Scan');
    tableKey?.grantEncryptDecrypt(sweeper);
    // a sweep that waited longer than one interval is superseded by the next one.
    // (an interval from a token cannot be converted, so the floor of one minute stands in for it.)
    const maxEventAge = config.sweepInterval.isUnresolved() ? Duration.minutes(1) : config.sweepInterval;
    // a sweep that never ran or failed is recorded, not lost: the next sweep does its work either way.
    this.sweeperFailureQueue = newSweeperFailureQueue(this, key);
    sweeper.configureAsyncInvoke({ retryAttempts: 0, maxEventAge, onFailure: new destinations.SqsDestination(this.sweeperFailureQueue) });
    this.sweepSchedule = new events.Rule(this, 'SweepSchedule', {
      description: 'Runs the Lambda MicroVMs sweeper.',
      schedule: events.Schedule.rate(config.sweepInterval),
      targets: [new targets.LambdaFunction(sweeper, { retryAttempts: 0, deadLetterQueue: this.sweeperFailureQueue })],
    });

    const monitoring = new OrchestratorDashboard(this, {
      orchestrator: this,
      sweepInterval: config.sweepInterval,
      dashboard: props.dashboard ?? true,
    });
    this.sweeperErrorsAlarm = monitoring.sweeperErrorsAlarm;
    this.orphansPersistingAlarm = monitoring.orphansPersistingAlarm;
    this.quotaRejectionsAlarm = monitoring.quotaRejectionsAlarm;
    this.launchFailuresAlarm = monitoring.launchFailuresAlarm;
    this.dashboard = monitoring.dashboard;
    this.alarmTopic = props.alarmTopic ?? newAlarmTopic(this, key);
    notify(this.alarmTopic, [this.sweeperErrorsAlarm, this.orphansPersistingAlarm, this.quotaRejectionsAlarm, this.launchFailuresAlarm]);

    this.acknowledgeFindings(image);
  }

  /**
   * Lets `grantee` call the session API: `lambda:InvokeFunctionUrl` (IAM auth only) on the orchestrator function,
   * and `lambda:InvokeFunction` for calls made through the URL. Each caller sees only the sessions its own IAM
   * identity created.
   */
  public grantSessions(grantee: iam.IGrantable): iam.Grant {
    return this.orchestratorFunction.grantInvokeUrl(grantee);
  }

  /**
   * A metric emitted by the orchestrator or sweeper, in this orchestrator's namespace and `service` dimension.
   *
   * @default - sum over 5 minutes
   */
  public metric(metricName: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.metricsNamespace,
      metricName,
      statistic: cloudwatch.Stats.SUM,
      period: Duration.minutes(5),
      ...props,
      dimensionsMap: { service: this.serviceName, ...props.dimensionsMap },
    });
  }

  /** sessions whose MicroVM was launched (new sessions and relaunches). @default - sum over 5 minutes */
  public metricSessionsCreated(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.SESSIONS_CREATED, props);
  }

  /** sessions resumed from SUSPENDED. @default - sum over 5 minutes */
  public metricSessionsResumed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.SESSIONS_RESUMED, props);
  }

  /**
   * sessions ended: a `DELETE` removed a session (counted even when it had no VM), or the sweeper ended a VM past
   * its session's end.
   *
   * @default - sum over 5 minutes
   */
  public metricSessionsEnded(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.SESSIONS_ENDED, props);
  }

  /**
   * duration of a launch's `RunMicrovm` call(s), retries and generation bumps included, in milliseconds (recorded
   * when `RunMicrovm` returns, before the row is finished and the token minted).
   *
   * @default - p99 over 5 minutes
   */
  public metricLaunchLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.LAUNCH_LATENCY, { statistic: 'p99', ...props });
  }

  /** tokens minted. @default - sum over 5 minutes */
  public metricTokensMinted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.TOKENS_MINTED, props);
  }

  /** launches refused because the account's MicroVM memory quota is reached (429). @default - sum over 5 minutes */
  public metricQuotaRejections(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.QUOTA_REJECTIONS, props);
  }

  /** launches refused by `maxSessions` or `maxSessionsPerOwner` (429). @default - sum over 5 minutes */
  public metricAdmissionRejections(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.ADMISSION_REJECTIONS, props);
  }

  /**
   * MicroVM service failures that persisted after retries: answered 502/503, or a `GET` that answered 200 with the
   * last known state because `GetMicrovm` failed.
   *
   * @default - sum over 5 minutes
   */
  public metricUpstreamErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.UPSTREAM_ERRORS, props);
  }

  /**
   * Launches whose `RunMicrovm` failed after retries for any reason but the memory quota (which
   * `metricQuotaRejections` counts): throttling or 5xx that persisted, a missing image, denied permissions.
   *
   * @default - sum over 5 minutes
   */
  public metricLaunchFailures(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.LAUNCH_FAILURES, props);
  }

  /**
   * MicroVMs of the image the sweeper saw in one state (for example `RUNNING` or `SUSPENDED`).
   *
   * @default - maximum over 5 minutes
   */
  public metricVmsSeen(state: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric(METRIC.VMS_SEEN, {
      statistic: cloudwatch.Stats.MAXIMUM,
      ...props,
      dimensionsMap: { [VM_STATE_DIMENSION]: state, ...props.dimensionsMap },
    });
  }

  /** MicroVMs no session owns, found past their grace period (one is counted on each sweep that sees it). @default - sum over 5 minutes */
  public metricOrphansFound(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.ORPHANS_FOUND, props);
  }

  /**
   * unowned MicroVMs past their grace period that the sweeper left alone because a launch still in its window
   * (a LAUNCHING row) may claim them (one is counted on each sweep that sees it).
   *
   * @default - sum over 5 minutes
   */
  public metricProtectedByLaunch(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.PROTECTED_BY_LAUNCH, props);
  }

  /** orphaned MicroVMs the sweeper terminated. @default - sum over 5 minutes */
  public metricOrphansTerminated(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.ORPHANS_TERMINATED, props);
  }

  /**
   * session rows the sweeper marked TERMINATED because their VM ended, plus rows it deleted for interrupted
   * `DELETE`s and launches that died without a VM.
   *
   * @default - sum over 5 minutes
   */
  public metricRowsRepaired(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.ROWS_REPAIRED, props);
  }

  /** how long one sweep took, in milliseconds. @default - maximum over 5 minutes */
  public metricSweepDuration(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.SWEEP_DURATION, { statistic: cloudwatch.Stats.MAXIMUM, ...props });
  }

  /** errors the sweeper hit (a sweep may still finish with errors). @default - sum over 5 minutes */
  public metricSweepErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.SWEEP_ERRORS, props);
  }

  /** the image's latest ACTIVE version at deploy time, or '' (latest at launch) for an import that does not know it. */
  private latestActiveVersionOf(image: IMicrovmImage): string {
    try {
      return image.latestActiveVersion;
    } catch {
      Annotations.of(this).addWarningV2('cdk-lambda-microvms:orchestratorImageVersionUnknown',
        `${image.node.path} does not know its latest active version, so sessions launch whatever version is latest ` +
        'at launch time. Pass imageVersion to pin one.');
      return '';
    }
  }

  private logGroup(id: string, retention: logs.RetentionDays, encryptionKey?: kms.IKey): logs.LogGroup {
    return new logs.LogGroup(this, id, { retention, encryptionKey });
  }

  /** a function role with no managed policy: logs on the function's own log group only. */
  private functionRole(id: string, logGroup: logs.ILogGroup): iam.Role {
    const role = new iam.Role(this, id, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    logGroup.grantWrite(role);
    return role;
  }

  private acknowledgeFindings(image: IMicrovmImage): void {
    const cfnImage = image.node.defaultChild;
    if (cfnImage instanceof lambda.CfnMicrovmImage) {
      Validations.of(cfnImage).acknowledge({
        id: 'MicrovmChecks-EgressInternet',
        reason: `MicrovmOrchestrator ${this.node.path} launches this image only with an explicit egress connector ` +
          `(${this.egress.mode} egress, recorded in its run configuration), so its MicroVMs never inherit the ` +
          'image\'s build egress. Launching it any other way needs its own review.',
      });
    }
    acknowledgeInherentWildcards(this.orchestratorFunction, 'the sessions table it reads and writes');
    acknowledgeInherentWildcards(this.sweeperFunction,
      'the sessions table it reads and writes, and the SweeperFailures queue Lambda sends failed runs to with this role');
    const ownRoles = [
      { role: this.orchestratorFunction.role!, purpose: 'the session API function' },
      { role: this.sweeperFunction.role!, purpose: 'the sweeper function' },
      ...(this.executionRole.node.scope === this ? [{ role: this.executionRole, purpose: 'the MicroVMs\' execution role' }] : []),
    ];
    acknowledgeComplianceFindings({ orchestrator: this.orchestratorFunction, sweeper: this.sweeperFunction }, ownRoles);
  }
}

/** why a wildcard in a statement with these actions is inherent, or undefined when it is not ours to excuse. */
function wildcardReason(actions: string[]): string | undefined {
  if (actions.length === 1 && actions[0] === 'lambda:ListMicrovms') {
    return 'lambda:ListMicrovms has no resource type, so it needs Resource "*"; the sweeper lists with the image ARN as ' +
      'its filter, and its GetMicrovm and TerminateMicrovm are scoped to that image.';
  }
  if (actions.length > 0 && actions.every((a) => a === 'xray:PutTraceSegments' || a === 'xray:PutTelemetryRecords')) {
    return 'X-Ray\'s PutTraceSegments and PutTelemetryRecords have no resource type, so active tracing needs Resource "*"; ' +
      'they only write trace data.';
  }
  if (actions.length === 1 && actions[0] === 'lambda:PassNetworkConnector') {
    return 'lambda:PassNetworkConnector: the ":*" form of each connector ARN covers that connector\'s numbered versions ' +
      '(RunMicrovm may name one); only the egress and ingress connectors this orchestrator passes are listed.';
  }
  return undefined;
}

/**
 * Acknowledges the AwsSolutions-IAM5 findings a MicroVM launcher cannot avoid, one resource at a time and as they
 * appear in the function's policy, so any other wildcard still surfaces.
 */
function acknowledgeInherentWildcards(fn: lambda.IFunction, keyUses: string): void {
  const policy = fn.role?.node.tryFindChild('DefaultPolicy');
  if (!(policy instanceof iam.Policy)) return;
  // toJSON renders without freezing the statements, so later grants still work.
  const document = Stack.of(policy).resolve(policy.document.toJSON());
  // one acknowledgement per id: two statements with a "*" resource share one reason that covers both.
  const reasons = new Map<string, string[]>();
  for (const statement of document?.Statement ?? []) {
    if (statement.Effect !== 'Allow') continue;
    const actions: string[] = [statement.Action].flat();
    for (const action of actions.filter((a) => a.startsWith('kms:') && a.includes('*'))) {
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Action::${action}]`,
        reason: `${action} is the action family CDK's KMS grants use (for ${keyUses}); the statement is scoped to the orchestrator's one key.`,
      });
    }
    const reason = wildcardReason(actions);
    if (!reason) continue;
    for (const resource of [statement.Resource].flat()) {
      const flat = flattenReference(resource);
      if (!flat.includes('*')) continue;
      const id = `AwsSolutions-IAM5[Resource::${flat}]`;
      reasons.set(id, [...(reasons.get(id) ?? []), reason]);
    }
  }
  for (const [id, list] of reasons) Validations.of(policy).acknowledge({ id, reason: [...new Set(list)].join(' ') });
}

/** item-level access to the sessions table: exactly the calls the handlers make (no batch or transaction APIs). */
const SESSION_ITEM_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
];

interface ResolvedConfig {
  readonly ingressArns: string[];
  readonly appPorts: number[];
  readonly hooksPort?: number;
  readonly tokenTtlSeconds: number;
  readonly maxDurationSeconds: number;
  readonly sweepInterval: Duration;
  readonly orphanGraceSeconds: number;
  readonly removalPolicy: RemovalPolicy;
}

/** validates every prop in one place (tokens skipped) and resolves the defaults. */
function validateProps(scope: Construct, props: MicrovmOrchestratorProps): ResolvedConfig {
  const ingressArns = Ingress.renderArns(scope, props.ingress ?? [Ingress.http()], 'ingress');
  // from the image's interface, so an imported image (fromImageAttributes({ hooksPort })) is guarded too.
  const hooksPort = props.image.hooksPort !== undefined && !isToken(props.image.hooksPort) ? props.image.hooksPort : undefined;

  const appPorts = props.appPorts ?? [8080];
  if (!isToken(appPorts)) {
    if (appPorts.length === 0) {
      throw invalidProp('appPorts', appPorts, 'name at least one port', 'Tokens are minted for these ports: use [8080] for the default app port.');
    }
    for (const port of appPorts) {
      if (isToken(port)) continue;
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw invalidProp('appPorts', appPorts, 'contain only ports from 1 to 65535', `Fix or remove ${port}.`);
      }
      if (port === hooksPort) {
        throw invalidProp('appPorts', appPorts, `not include the image's hooks port ${hooksPort}`,
          'A token for the hooks port would let callers drive the lifecycle hooks: serve the app on another port.');
      }
    }
    if (new Set(appPorts).size !== appPorts.length) {
      throw invalidProp('appPorts', appPorts, 'not repeat a port', 'Remove the duplicate.');
    }
  }

  const tokenTtl = props.tokenTtl ?? Duration.minutes(5);
  if (!tokenTtl.isUnresolved()) {
    const ms = tokenTtl.toMilliseconds({ integral: false });
    if (ms % 60_000 !== 0 || ms < LIMITS.MIN_TOKEN_TTL_SECONDS * 1000 || ms > LIMITS.MAX_TOKEN_TTL_SECONDS * 1000) {
      throw invalidProp('tokenTtl', tokenTtl.toHumanString(), 'be whole minutes from 1 to 60',
        'The service mints tokens for 1 to 60 minutes; AWS recommends 15 minutes or less, refreshed before expiry.');
    }
  }

  const maxDuration = props.maxSessionDuration ?? Duration.hours(1);
  if (!maxDuration.isUnresolved()) {
    const ms = maxDuration.toMilliseconds({ integral: false });
    if (ms % 1000 !== 0 || ms < 1000 || ms > LIMITS.MAX_DURATION_SECONDS * 1000) {
      throw invalidProp('maxSessionDuration', maxDuration.toHumanString(), 'be whole seconds from 1 second to 8 hours',
        'The service ends every MicroVM after at most 8 hours, running and suspended time together.');
    }
  }

  for (const [prop, value] of [['maxSessions', props.maxSessions], ['maxSessionsPerOwner', props.maxSessionsPerOwner]] as const) {
    if (value === undefined || isToken(value)) continue;
    if (!Number.isInteger(value) || value < 1) {
      throw invalidProp(prop, value, 'be a positive integer', 'Omit it for no limit.');
    }
  }
  if (props.maxSessions !== undefined && props.maxSessionsPerOwner !== undefined &&
    !isToken(props.maxSessions) && !isToken(props.maxSessionsPerOwner) && props.maxSessionsPerOwner > props.maxSessions) {
    throw invalidProp('maxSessionsPerOwner', props.maxSessionsPerOwner, `not exceed maxSessions (${props.maxSessions})`,
      'Lower it or raise maxSessions.');
  }

  const sweepInterval = props.sweepInterval ?? Duration.minutes(5);
  if (!sweepInterval.isUnresolved()) {
    const ms = sweepInterval.toMilliseconds({ integral: false });
    if (ms % 60_000 !== 0 || ms < 60_000 || ms > 3_600_000) {
      throw invalidProp('sweepInterval', sweepInterval.toHumanString(), 'be whole minutes from 1 to 60',
        'An orphaned MicroVM bills until a sweep terminates it: sweep at least hourly.');
    }
  }

  const orphanGrace = props.orphanGracePeriod ?? Duration.minutes(10);
  if (!orphanGrace.isUnresolved()) {
    const ms = orphanGrace.toMilliseconds({ integral: false });
    if (ms % 1000 !== 0 || ms < 60_000 || ms > LIMITS.MAX_DURATION_SECONDS * 1000) {
      throw invalidProp('orphanGracePeriod', orphanGrace.toHumanString(), 'be whole seconds from 1 minute to 8 hours',
        'A shorter grace period could terminate a MicroVM whose launch is still being recorded.');
    }
  }

  if (props.encryptionKey && Token.isUnresolved(Stack.of(scope).region)) {
    throw invalidProp('encryptionKey', 'a KMS key in a region-agnostic stack', 'be used in a stack with an explicit region',
      'The sessions table names its key per region: give the stack `env: { region }`, or omit encryptionKey.');
  }

  const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
  if (removalPolicy === RemovalPolicy.SNAPSHOT) {
    throw invalidProp('removalPolicy', removalPolicy, 'be RETAIN, RETAIN_ON_UPDATE_OR_DELETE or DESTROY',
      'DynamoDB tables cannot be snapshotted by CloudFormation; point-in-time recovery is on.');
  }

  if (props.metricsNamespace !== undefined && !isToken(props.metricsNamespace) &&
    !/^[A-Za-z0-9.\-_/#:]{1,255}$/.test(props.metricsNamespace)) {
    throw invalidProp('metricsNamespace', props.metricsNamespace, 'be 1-255 characters of letters, digits and . - _ / # :',
      'Use a namespace such as "LambdaMicrovms".');
  }

  return {
    ingressArns,
    appPorts,
    hooksPort,
    tokenTtlSeconds: tokenTtl.toSeconds({ integral: false }),
    maxDurationSeconds: maxDuration.toSeconds({ integral: false }),
    sweepInterval,
    orphanGraceSeconds: orphanGrace.toSeconds({ integral: false }),
    removalPolicy,
  };
}
