import { RemovalPolicy, aws_logs as logs } from 'aws-cdk-lib';
import { ImageLoggingSpec } from './private/logging-spec';

/**
 * Options for a log group the image creates.
 */
export interface ImageLogGroupOptions {
  /**
   * How long build and run logs are kept.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly retention?: logs.RetentionDays;

  /**
   * What happens to the log group when it leaves the stack. Retained by default so a failed build's logs
   * survive the rollback that deletes the image.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Where the service writes the image's build (and image-level run) logs.
 *
 * The log group is always pinned: the service ignores an empty `CloudWatch: {}` block (it then logs nothing),
 * and its default group name differs between the documentation and what third parties measured.
 */
export class ImageLogging {
  /**
   * A log group created with the image, with a retention (the default).
   */
  public static newLogGroup(options: ImageLogGroupOptions = {}): ImageLogging {
    return new ImageLogging('NEW', undefined, options);
  }

  /**
   * An existing log group. The build role gets `logs:CreateLogStream` and `logs:PutLogEvents` on it.
   */
  public static logGroup(logGroup: logs.ILogGroup): ImageLogging {
    return new ImageLogging('EXISTING', logGroup);
  }

  /**
   * No logs at all: a failed build then leaves no trace. `MicrovmChecks` warns.
   */
  public static disabled(): ImageLogging {
    return new ImageLogging('DISABLED');
  }

  private constructor(
    private readonly kind: 'NEW' | 'EXISTING' | 'DISABLED',
    private readonly existing?: logs.ILogGroup,
    private readonly options: ImageLogGroupOptions = {},
  ) {}

  /**
   * What the image should do, for `MicrovmImage`.
   *
   * @internal
   */
  public _config(): ImageLoggingSpec {
    return { kind: this.kind, logGroup: this.existing, options: this.options };
  }
}
