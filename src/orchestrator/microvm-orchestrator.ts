import {
  Annotations, Duration, Names, RemovalPolicy, Stack, Token,
  aws_cloudwatch as cloudwatch, aws_dynamodb as dynamodb, aws_events as events, aws_events_targets as targets,
  aws_iam as iam, aws_kms as kms, aws_lambda as lambda, aws_lambda_destinations as destinations, aws_logs as logs,
  aws_s3 as s3, aws_sns as sns, aws_sqs as sqs,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { IdlePolicy } from './idle-policy';
import { LifecycleEvents, OnSessionEventOptions } from './lifecycle-events';
import { MicrovmOrchestratorProps } from './microvm-orchestrator-props';
import { MicrovmOrchestratorBase } from './orchestrator-metrics';
import { acknowledgeOrchestratorFindings } from './private/acknowledgements';
import { createAlarms } from './private/alarms';
import { setUpCheckpoints } from './private/checkpoint-bucket';
import { createDashboard } from './private/dashboard';
import { defaultEgress } from './private/default-egress';
import { HandlerFunction } from './private/handler-function';
import { newAlarmTopic, newSweeperFailureQueue, notify } from './private/operations';
import { resolveProps } from './private/resolve-props';
import { SmokeTestResource } from './private/smoke-test-resource';
import { SessionOwner } from './session-owner';
import { MicrovmImage } from '../image/microvm-image';
import { IMicrovmImage } from '../image/microvm-image-base';
import { EgressConfig } from '../network/egress';
import { DEFAULT_METRICS_NAMESPACE, ENV, TABLE } from '../shared/contract';
import { allowLogsToUse, newEncryptionKey } from '../shared/encryption';
import { RUN_CONFIGURATION_METADATA_KEY, RunConfigurationMetadata } from '../shared/metadata';
import { logGroupFor } from '../shared/microvm-logging';
import { warnIfRegionLacksMicrovms } from '../shared/regions';
import { SESSION_EVENT_SOURCE, SESSION_EVENT_TYPES } from '../shared/session-events';
import { invalidProp, validateIn } from '../shared/validation';

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
export class MicrovmOrchestrator extends MicrovmOrchestratorBase {
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
  /** the function of the deploy-time smoke test, unless `smokeTest` is `SmokeTest.disabled()`. */
  public readonly smokeTestFunction?: lambda.IFunction;
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
  /** the bus the session lifecycle events go to, unless `lifecycleEvents` is `LifecycleEvents.disabled()`. */
  public readonly eventBus?: events.IEventBus;
  /**
   * the bucket session workspaces are saved to (see `checkpoints`).
   *
   * @default - none without `checkpoints`
   */
  public readonly checkpointBucket?: s3.IBucket;

  constructor(scope: Construct, id: string, props: MicrovmOrchestratorProps) {
    super(scope, id);
    warnIfRegionLacksMicrovms(this);
    const config = validateIn(this, () => resolveProps(this, props));
    const stack = Stack.of(this);
    const image = props.image;
    this.metricsNamespace = props.metricsNamespace ?? DEFAULT_METRICS_NAMESPACE;
    this.serviceName = Names.uniqueResourceName(this, { maxLength: 64, separator: '-' });

    this.encryptionKey = props.encryptionKey ?? (props.awsOwnedEncryption
      ? undefined
      : newEncryptionKey(this, `MicroVM orchestrator ${this.node.path}: sessions table, logs, alarm topic, failure queue`));
    const key = this.encryptionKey;
    if (key) allowLogsToUse(key);

    const egress = props.egress ?? defaultEgress(this, key);
    this.egress = egress.bind(this);
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

    const logDefaults = { retention: logs.RetentionDays.ONE_MONTH, encryptionKey: key };
    this.runtimeLogGroup = logGroupFor(this, 'RuntimeLogs', config.runtimeLogging, logDefaults);
    this.executionRole = props.executionRole ?? new iam.Role(this, 'ExecutionRole', {
      description: 'Lambda MicroVMs launched by this orchestrator: runtime logs only (readable by every guest process).',
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com').withSessionTags().withConditions({
        StringEquals: { 'aws:SourceAccount': stack.account },
      }),
    });
    this.runtimeLogGroup?.grantWrite(this.executionRole);

    const idlePolicy = (props.idlePolicy ?? IdlePolicy.suspendAfter(Duration.minutes(15)))._render();
    const tracing = props.tracing ?? lambda.Tracing.ACTIVE;
    let imageVersion = props.imageVersion ?? this.latestActiveVersionOf(image, config.smokeTest === undefined);
    if (config.smokeTest) {
      // the version the orchestrator launches is the one the smoke test passed, never a newer untested one.
      const smokeTest = new SmokeTestResource(this, 'SmokeTest', {
        image,
        imageVersion,
        check: config.smokeTest,
        executionRole: this.executionRole,
        runtimeLogGroup: this.runtimeLogGroup,
        egressConnectorArn: this.egress.networkConnectorArn,
        ingressConnectorArns: ingressArns,
        logGroup: logGroupFor(this, 'SmokeTestLogs', config.logging, logDefaults)!,
        tracing,
      });
      this.smokeTestFunction = smokeTest.function;
      imageVersion = smokeTest.imageVersion;
    }
    this.eventBus = (props.lifecycleEvents ?? LifecycleEvents.defaultBus())._bind(this);
    const common: Record<string, string> = {
      ...this.eventsEnvironment(image, props),
      [ENV.TABLE_NAME]: this.table.tableName,
      [ENV.IMAGE_ARN]: image.imageArn,
      [ENV.MAX_DURATION_SECONDS]: String(config.maxDurationSeconds),
      [ENV.IDLE_POLICY]: idlePolicy ? stack.toJsonString(idlePolicy) : '',
      [ENV.METRICS_NAMESPACE]: this.metricsNamespace,
      [ENV.SERVICE_NAME]: this.serviceName,
    };

    // orchestrator: the session API.
    const orchestratorLogs = logGroupFor(this, 'OrchestratorLogs', config.logging, logDefaults)!;
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
        // only with shell, so an orchestrator without it keeps the environment (and the function version) it had.
        ...(config.shellAllowedPrincipalArns ? { [ENV.SHELL_ALLOWED_PRINCIPALS]: stack.toJsonString(config.shellAllowedPrincipalArns) } : {}),
      },
    });
    this.orchestratorFunction = orchestrator;
    image.grantRun(orchestrator, {
      executionRole: this.executionRole,
      networkConnectorArns: [this.egress.networkConnectorArn, ...ingressArns],
      shellTokens: config.shellAllowedPrincipalArns !== undefined,
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
      shellAllowedPrincipalArns: config.shellAllowedPrincipalArns,
    };
    (orchestrator.node.defaultChild as lambda.CfnFunction).addMetadata(RUN_CONFIGURATION_METADATA_KEY, metadata);

    // sweeper: ground truth is the service's list of this image's MicroVMs.
    const sweeperLogs = logGroupFor(this, 'SweeperLogs', config.logging, logDefaults)!;
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
      environment: {
        ...common,
        [ENV.ORPHAN_GRACE_SECONDS]: String(config.orphanGraceSeconds),
        // the version the session API launches: never pruned, and its live-VM count reads 0 rather than no data.
        [ENV.IMAGE_VERSION]: imageVersion,
        [ENV.KEEP_VERSIONS]: config.keepVersions === undefined ? '' : String(config.keepVersions),
      },
    });
    this.sweeperFunction = sweeper;
    // the sweeper lists this image's MicroVMs and terminates the ones no session owns; it never launches. To save
    // checkpoints it also resumes a suspended MicroVM and mints a token for its checkpoint port.
    image.grantManage(sweeper, { checkpoints: config.checkpoints !== undefined });
    if (config.keepVersions !== undefined) image.grantPrune(sweeper);
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

    if (config.checkpoints) {
      // only with checkpoints, so an orchestrator without them keeps its environment (and function versions).
      this.checkpointBucket = validateIn(this, () => setUpCheckpoints(this, {
        config: config.checkpoints!,
        key,
        removalPolicy: config.removalPolicy,
        orchestrator,
        sweeper,
        image,
        egress,
        egressMode: this.egress.mode,
        sweepInterval: config.sweepInterval,
        idlePolicy,
      }));
    }

    // both publish lifecycle events: PutEvents on that one bus.
    this.eventBus?.grantPutEventsTo(orchestrator);
    this.eventBus?.grantPutEventsTo(sweeper);

    const functions = { orchestrator, sweeper };
    const alarms = createAlarms(this, this, functions, config.sweepInterval);
    this.sweeperErrorsAlarm = alarms.sweeperErrors;
    this.orphansPersistingAlarm = alarms.orphansPersisting;
    this.quotaRejectionsAlarm = alarms.quotaRejections;
    this.launchFailuresAlarm = alarms.launchFailures;
    if (props.dashboard ?? true) this.dashboard = createDashboard(this, this, functions, alarms);
    this.alarmTopic = props.alarmTopic ?? newAlarmTopic(this, key);
    notify(this.alarmTopic, [this.sweeperErrorsAlarm, this.orphansPersistingAlarm, this.quotaRejectionsAlarm, this.launchFailuresAlarm]);

    acknowledgeOrchestratorFindings({
      scope: this,
      egressMode: this.egress.mode,
      orchestratorFunction: this.orchestratorFunction,
      sweeperFunction: this.sweeperFunction,
      smokeTestFunction: this.smokeTestFunction,
      executionRole: this.executionRole,
    }, image);
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
   * An EventBridge rule on this orchestrator's session lifecycle events (its bus, its source, and its own events
   * when several orchestrators share the bus), optionally only some detail-types (see `SessionEventType`).
   */
  public onSessionEvent(id: string, options: OnSessionEventOptions = {}): events.Rule {
    const known: string[] = Object.values(SESSION_EVENT_TYPES);
    validateIn(this, () => {
      if (!this.eventBus) {
        throw invalidProp('lifecycleEvents', 'LifecycleEvents.disabled()', `publish events for onSessionEvent('${id}') to have any`,
          'Use LifecycleEvents.defaultBus() or LifecycleEvents.toBus(bus), or remove the rule.');
      }
      const detailTypes = options.detailTypes;
      if (detailTypes && (detailTypes.length === 0 || detailTypes.some((t) => !known.includes(t)))) {
        throw invalidProp(`onSessionEvent('${id}').detailTypes`, detailTypes, `be a non-empty list of ${known.map((t) => `'${t}'`).join(', ')}`,
          'Use the SessionEventType constants, or leave detailTypes out for every event.');
      }
    });
    const { detailTypes, target, eventPattern, ...ruleProps } = options;
    return new events.Rule(this, id, {
      ...ruleProps,
      eventBus: this.eventBus,
      eventPattern: {
        ...eventPattern,
        source: [SESSION_EVENT_SOURCE],
        ...detailTypes ? { detailType: detailTypes } : {},
        detail: { ...eventPattern?.detail, service: [this.serviceName] },
      },
      targets: target ? [target] : undefined,
    });
  }

  /** The events' bus and the usage's memory and pricing (nothing for events when they are disabled). */
  private eventsEnvironment(image: IMicrovmImage, props: MicrovmOrchestratorProps): Record<string, string> {
    const pricing = props.usagePricing;
    const memoryMiB = pricing?.baselineMemory?.sizeInMiB ?? (image instanceof MicrovmImage ? image.memory.sizeInMiB : undefined);
    if (pricing) {
      validateIn(this, () => {
        for (const [name, rate] of Object.entries({ perGbSecond: pricing.perGbSecond, perVcpuSecond: pricing.perVcpuSecond })) {
          if (!Token.isUnresolved(rate) && !(Number.isFinite(rate) && rate >= 0)) {
            throw invalidProp(`usagePricing.${name}`, Number.isNaN(rate) ? 'NaN' : rate, 'be a number >= 0', 'Use the price per second from the Lambda pricing page.');
          }
        }
        if (pricing.currency !== undefined && !/^[A-Z]{3}$/.test(pricing.currency)) {
          throw invalidProp('usagePricing.currency', pricing.currency, 'be an ISO 4217 code of 3 capital letters', "Use for example 'USD'.");
        }
        if (memoryMiB === undefined) {
          throw invalidProp('usagePricing.baselineMemory', undefined, 'be set for an imported image (it does not know its memory)',
            'Pass usagePricing.baselineMemory, for example MicrovmMemory.GIB_2.');
        }
      });
    }
    return {
      ...this.eventBus ? { [ENV.EVENT_BUS_NAME]: this.eventBus.eventBusArn } : {},
      ...memoryMiB !== undefined ? { [ENV.BASELINE_MEMORY_MIB]: String(memoryMiB) } : {},
      ...pricing ? {
        [ENV.USAGE_PRICING]: Stack.of(this).toJsonString({
          perGbSecond: pricing.perGbSecond, perVcpuSecond: pricing.perVcpuSecond, currency: pricing.currency ?? 'USD',
        }),
      } : {},
    };
  }

  /**
   * The image's latest ACTIVE version at deploy time, or '' for an import that does not know it: the smoke test
   * then resolves it at deploy time, and without one sessions launch whatever is latest at launch time.
   */
  private latestActiveVersionOf(image: IMicrovmImage, warn: boolean): string {
    try {
      return image.latestActiveVersion;
    } catch {
      if (warn) {
        Annotations.of(this).addWarningV2('cdk-lambda-microvms:orchestratorImageVersionUnknown',
          `${image.node.path} does not know its latest active version, so sessions launch whatever version is latest ` +
        'at launch time. Pass imageVersion to pin one.');
      }
      return '';
    }
  }

  /** a function role with no managed policy: logs on the function's log group only (its own, or the one `logging` names). */
  private functionRole(id: string, logGroup: logs.ILogGroup): iam.Role {
    const role = new iam.Role(this, id, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    logGroup.grantWrite(role);
    return role;
  }
}

/** item-level access to the sessions table: exactly the calls the handlers make (no batch or transaction APIs). */
const SESSION_ITEM_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
];
