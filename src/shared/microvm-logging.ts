import { RemovalPolicy, aws_kms as kms, aws_logs as logs } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { allowLogsToUse } from './encryption';

/**
 * Options for a log group a construct of this library creates. The defaults depend on the prop the
 * `MicrovmLogging` is passed to; each prop documents them.
 */
export interface MicrovmLogGroupOptions {
  /**
   * How long the logs are kept.
   *
   * @default - `MicrovmImage.logging`: logs.RetentionDays.ONE_MONTH; `MicrovmOrchestrator.logging` and
   * `runtimeLogging`: logs.RetentionDays.ONE_MONTH; `MicrovmNetwork.logging`: logs.RetentionDays.ONE_YEAR
   */
  readonly retention?: logs.RetentionDays;

  /**
   * What happens to the log group when it leaves the stack.
   *
   * @default RemovalPolicy.RETAIN - for every prop: logs outlive the stack (a failed image build's logs survive
   * the rollback that deletes the image)
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * A customer-managed KMS key for the log group. CloudWatch Logs is added to the policy of a key in this app;
   * an imported key's policy must already allow it.
   *
   * @default - `MicrovmImage.logging`: the image's `encryptionKey`; `MicrovmOrchestrator.logging` and
   * `runtimeLogging`: the orchestrator's `encryptionKey`; `MicrovmNetwork.logging`: CloudWatch Logs' own encryption
   * (a network created by `MicrovmOrchestrator` gets the orchestrator's key). None with `awsOwnedEncryption`.
   */
  readonly encryptionKey?: kms.IKey;
}

/**
 * Where a construct of this library writes its logs: `MicrovmImage.logging`, `MicrovmOrchestrator.logging` and
 * `runtimeLogging`, and `MicrovmNetwork.logging`.
 *
 * @example
 * import { aws_logs as logs } from 'aws-cdk-lib';
 * import { IMicrovmImage, MicrovmLogging, MicrovmOrchestrator } from 'cdk-lambda-microvms';
 *
 * declare const image: IMicrovmImage;
 * declare const auditLogs: logs.ILogGroup;
 * new MicrovmOrchestrator(this, 'Sessions', {
 *   image,
 *   logging: MicrovmLogging.logGroup(auditLogs),
 *   runtimeLogging: MicrovmLogging.newLogGroup({ retention: logs.RetentionDays.ONE_WEEK }),
 * });
 */
export class MicrovmLogging {
  /**
   * A log group created by the construct (the default of every logging prop), with these options. Each prop
   * documents its defaults.
   */
  public static newLogGroup(options: MicrovmLogGroupOptions = {}): MicrovmLogging {
    return new MicrovmLogging('NEW', undefined, options);
  }

  /**
   * An existing log group (aws-cdk-lib's `logGroup` pattern). The writers get `logs:CreateLogStream` and
   * `logs:PutLogEvents` on it where the construct owns their role; its retention, removal policy and key are yours.
   */
  public static logGroup(logGroup: logs.ILogGroup): MicrovmLogging {
    return new MicrovmLogging('EXISTING', logGroup);
  }

  /**
   * No log group. Each prop documents what that turns off, and `MicrovmOrchestrator.logging` rejects it.
   */
  public static disabled(): MicrovmLogging {
    return new MicrovmLogging('DISABLED');
  }

  private constructor(
    private readonly kind: MicrovmLoggingKind,
    private readonly existing?: logs.ILogGroup,
    private readonly options: MicrovmLogGroupOptions = {},
  ) {}

  /**
   * What the construct should do with this logging choice.
   *
   * @internal
   */
  public _config(): MicrovmLoggingSpec {
    const description = this.kind === 'NEW' ? 'MicrovmLogging.newLogGroup(...)'
      : this.kind === 'EXISTING' ? 'MicrovmLogging.logGroup(...)' : 'MicrovmLogging.disabled()';
    return { kind: this.kind, logGroup: this.existing, options: this.options, description };
  }
}

/** The three shapes of a {@link MicrovmLogging}. */
type MicrovmLoggingKind = 'NEW' | 'EXISTING' | 'DISABLED';

/**
 * What a {@link MicrovmLogging} asks of the construct that uses it (not exported from the library: it only
 * leaves `_config()`, which is internal).
 */
export interface MicrovmLoggingSpec {
  readonly kind: MicrovmLoggingKind;
  /** the group of `MicrovmLogging.logGroup(...)`. */
  readonly logGroup?: logs.ILogGroup;
  /** the options of `MicrovmLogging.newLogGroup(...)` (empty otherwise). */
  readonly options: MicrovmLogGroupOptions;
  /** the factory call, for error messages. */
  readonly description: string;
}

/** The defaults of one logging prop, for {@link logGroupFor}. */
export interface LogGroupDefaults {
  readonly retention: logs.RetentionDays;
  /** left out: the `LogGroup` default (RETAIN). */
  readonly removalPolicy?: RemovalPolicy;
  readonly encryptionKey?: kms.IKey;
}

/**
 * The log group `spec` asks for: created as `scope/id` with the prop's defaults (its key, if any, opened to
 * CloudWatch Logs), the existing one, or undefined when disabled.
 */
export function logGroupFor(scope: Construct, id: string, spec: MicrovmLoggingSpec, defaults: LogGroupDefaults): logs.ILogGroup | undefined {
  if (spec.kind === 'EXISTING') return spec.logGroup;
  if (spec.kind === 'DISABLED') return undefined;
  const encryptionKey = spec.options.encryptionKey ?? defaults.encryptionKey;
  if (encryptionKey) allowLogsToUse(encryptionKey);
  return new logs.LogGroup(scope, id, {
    retention: spec.options.retention ?? defaults.retention,
    removalPolicy: spec.options.removalPolicy ?? defaults.removalPolicy,
    encryptionKey,
  });
}
