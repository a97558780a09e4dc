import { Stack, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { IMAGE_ARN_PATTERN } from '../shared/contract';
import { invalidProp } from '../shared/validation';

/**
 * Options for {@link BaseImage.al2023}.
 */
export interface Al2023BaseImageOptions {
  /**
   * The managed base image version to build on, a bare integer such as `"1"` (the service reads versions back
   * as `"1.0"`, but rejects that form on input).
   *
   * @default - the `cdk-lambda-microvms:al2023BaseImageVersion` context value when set, else
   * `BaseImage.AL2023_DEFAULT_VERSION`
   */
  readonly version?: string;
}

/**
 * The Lambda-managed MicroVM base image (the OS layer under your Dockerfile) and its version.
 *
 * The version is always an explicit pin, never resolved behind your back. CloudFormation requires a version,
 * and resolving "the latest" at deploy time would need a custom resource running an SDK the Lambda runtime does
 * not ship; it would also rebuild every image whenever AWS publishes a base, and re-resolve only when its own
 * properties change, so it would drift silently anyway. A pin is reviewable and moves deliberately:
 *
 * - per image: `BaseImage.al2023({ version: '1' })` or `BaseImage.fromArn(arn, '1')`;
 * - per app: the `cdk-lambda-microvms:al2023BaseImageVersion` context key;
 * - by default: `BaseImage.AL2023_DEFAULT_VERSION`, moved in library releases.
 *
 * Base versions go DEPRECATED (60 days), then EXPIRING (no new builds) and EXPIRED (no builds, no runs). Check
 * with `aws lambda-microvms list-managed-microvm-image-versions --image-identifier <arn>` and move the pin when
 * yours is deprecated; moving it builds a new image version.
 */
export class BaseImage {
  /**
   * The AL2023 base version used when nothing else is set. It is `"0"`, the version AWS's SAM examples and
   * deployed third-party libraries build on.
   */
  public static readonly AL2023_DEFAULT_VERSION = '0';

  /**
   * Context key that moves the default AL2023 version for a whole app without a library upgrade:
   * `"cdk-lambda-microvms:al2023BaseImageVersion": "1"` in `cdk.json`, or `-c` on the command line.
   */
  public static readonly AL2023_VERSION_CONTEXT_KEY = 'cdk-lambda-microvms:al2023BaseImageVersion';

  /**
   * The managed Amazon Linux 2023 base image (`arn:<partition>:lambda:<region>:aws:microvm-image:al2023-1`).
   */
  public static al2023(options: Al2023BaseImageOptions = {}): BaseImage {
    if (options.version !== undefined) validateVersion('baseImage.version', options.version);
    return new BaseImage((scope) => {
      const stack = Stack.of(scope);
      return {
        baseImageArn: `arn:${stack.partition}:lambda:${stack.region}:aws:microvm-image:al2023-1`,
        baseImageVersion: options.version ?? contextVersion(scope) ?? BaseImage.AL2023_DEFAULT_VERSION,
      };
    });
  }

  /**
   * Any managed base image, by ARN, at an explicit version.
   *
   * @param baseImageArn the base image ARN (account field `aws` for Lambda-managed images)
   * @param version the base image version, a bare integer such as `"1"`
   */
  public static fromArn(baseImageArn: string, version: string): BaseImage {
    if (!Token.isUnresolved(baseImageArn) && !IMAGE_ARN_PATTERN.test(baseImageArn)) {
      throw invalidProp('baseImage.baseImageArn', baseImageArn, 'be a MicroVM image ARN (arn:<partition>:lambda:<region>:aws:microvm-image:<name>)',
        'Use BaseImage.al2023() for the managed Amazon Linux 2023 base.');
    }
    validateVersion('baseImage.version', version);
    return new BaseImage(() => ({ baseImageArn, baseImageVersion: version }));
  }

  private constructor(private readonly produce: (scope: IConstruct) => BaseImageConfig) {}

  /**
   * Renders the base image ARN and version for the stack that contains `scope`.
   */
  public bind(scope: IConstruct): BaseImageConfig {
    return this.produce(scope);
  }
}

/**
 * The result of binding a {@link BaseImage}.
 */
export interface BaseImageConfig {
  /** the base image ARN. */
  readonly baseImageArn: string;
  /** the base image version. */
  readonly baseImageVersion: string;
}

function contextVersion(scope: IConstruct): string | undefined {
  const value = scope.node.tryGetContext(BaseImage.AL2023_VERSION_CONTEXT_KEY);
  if (value === undefined) return undefined;
  const version = String(value);
  validateVersion(`context ${BaseImage.AL2023_VERSION_CONTEXT_KEY}`, version);
  return version;
}

function validateVersion(prop: string, version: string): void {
  if (Token.isUnresolved(version)) return;
  if (/^\d+\.0$/.test(version)) {
    throw invalidProp(prop, version, 'be the bare version the service accepts on input',
      `Use "${version.slice(0, -2)}": the service reads versions back as "N.0" but rejects that form on input.`);
  }
  if (!/^[0-9A-Za-z._-]{1,64}$/.test(version)) {
    throw invalidProp(prop, version, 'be a managed base image version such as "1"',
      'List versions with `aws lambda-microvms list-managed-microvm-image-versions`.');
  }
}
