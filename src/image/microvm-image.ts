import {
  Annotations, Arn, ArnFormat, Names, RemovalPolicy, Stack, Tags, Token, Validations,
  aws_iam as iam, aws_kms as kms, aws_lambda as lambda, aws_logs as logs,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { BaseImage } from './base-image';
import { ImageCode } from './image-code';
import { LifecycleHooks } from './lifecycle-hooks';
import { IMicrovmImage, MicrovmImageBase } from './microvm-image-base';
import { MicrovmMemory } from './microvm-memory';
import { OsCapability } from './os-capability';
import { IMAGE_NAME_PATTERN, parseImageArn } from '../shared/contract';
import { flattenReference } from '../shared/nag-ids';
import { findTokenSecrets, renderEnvironment, validateEnvironment } from './private/render-environment';
import { renderHooks, validateHooks } from './private/render-hooks';
import { Egress } from '../network/egress';
import { EgressMode } from '../network/microvm-network';
import { acknowledgeInlinePolicy } from '../shared/compliance';
import { allowLambdaToUse, allowLogsToUse, newEncryptionKey } from '../shared/encryption';
import { MicrovmLogging, logGroupFor } from '../shared/microvm-logging';
import { warnIfRegionLacksMicrovms } from '../shared/regions';
import { invalidProp, pathOf, placeError, validateIn } from '../shared/validation';

/**
 * Properties of a {@link MicrovmImage}. Only `code` is required; every other property has a safe default.
 */
export interface MicrovmImageProps {
  /**
   * The build context: a zip with a `Dockerfile` at its root. `ImageCode.fromDirectory('./sandbox')` for a
   * local folder.
   */
  readonly code: ImageCode;

  /**
   * The image name, 1-64 characters of `[a-zA-Z0-9_-]`, unique in the account and region. It is the one property
   * whose change replaces the image, and a name stays reserved after its image is deleted, so keep it stable.
   *
   * @default - generated from the construct path: stable across deployments, so a content change adds an image
   * version instead of replacing the image
   */
  readonly imageName?: string;

  /**
   * A description of the image.
   *
   * @default - no description
   */
  readonly description?: string;

  /**
   * The Lambda-managed base image (OS layer) and its version.
   *
   * @default BaseImage.al2023()
   */
  readonly baseImage?: BaseImage;

  /**
   * The baseline memory of each MicroVM (vCPUs follow memory).
   *
   * @default MicrovmMemory.GIB_2
   */
  readonly memory?: MicrovmMemory;

  /**
   * Lifecycle hooks the application serves.
   *
   * @default - no hooks: the snapshot is taken once the application has started
   */
  readonly hooks?: LifecycleHooks;

  /**
   * Environment variables set during the build. They are frozen into the snapshot and shared by every MicroVM,
   * so reserved keys (`AWS_REGION`, `AWS_LAMBDA_*`, ...) and anything that looks like a secret fail synth:
   * credential-shaped values, secret-named keys with real values, `SecretValue`s, Secrets Manager or SSM
   * SecureString dynamic references and NoEcho parameters. At most 50 variables, values up to 4096 characters.
   *
   * @default - no variables
   */
  readonly environment?: { [key: string]: string };

  /**
   * Where the service writes the image's build (and image-level run) logs. The log group is always pinned: the
   * service ignores an empty `CloudWatch: {}` block (it then logs nothing), and its default group name differs
   * between the documentation and what third parties measured.
   *
   * - `MicrovmLogging.newLogGroup(options)`: a new log group (`logGroup`), kept `retention` (default one month),
   *   retained when it leaves the stack unless `removalPolicy` says otherwise (so a failed build's logs survive the
   *   rollback that deletes the image), encrypted with `options.encryptionKey`, else the image's `encryptionKey`.
   * - `MicrovmLogging.logGroup(group)`: that group; the build role gets `logs:CreateLogStream` and
   *   `logs:PutLogEvents` on it.
   * - `MicrovmLogging.disabled()`: no logs at all (`Logging.Disabled`), so a failed build leaves no trace;
   *   `MicrovmChecks` warns.
   *
   * @default MicrovmLogging.newLogGroup() - a new log group kept one month, retained when the stack is deleted,
   * encrypted with the image's key
   */
  readonly logging?: MicrovmLogging;

  /**
   * A customer-managed KMS key for the image (CloudFormation's `KmsKeyIdentifier`) and its build log group.
   *
   * CloudFormation documents the key as encrypting the image *configuration* at rest; whether the service also
   * uses it for the snapshots is not documented. The build role gets `kms:Decrypt` on it. For a key of this
   * app, the key policy also lets Lambda use it on behalf of this account's callers (`kms:ViaService` for Lambda in
   * the stack's Region) or as the Lambda service principal for this account (which of the two the service uses is
   * not documented), and lets CloudWatch Logs use it for this account's log groups. An imported key's policy must
   * already allow the same.
   *
   * @default - a new rotated customer-managed key (about $1 per month), unless `awsOwnedEncryption` is true
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Encrypt with keys AWS owns instead of a customer-managed key: no key to pay for, but no key policy, rotation
   * control or CloudTrail record of its use is yours. `MicrovmChecks` then warns (MicrovmChecks-NoCustomerManagedKey).
   *
   * @default false
   */
  readonly awsOwnedEncryption?: boolean;

  /**
   * Extra Linux capabilities for the container inside the MicroVM.
   *
   * @default - none
   */
  readonly additionalOsCapabilities?: OsCapability[];

  /**
   * Where the build can connect to (registries, package mirrors). The same connector is the run-time egress of
   * any MicroVM launched without one, which `MicrovmChecks` reports for internet egress.
   *
   * @default Egress.internet() - the Dockerfile is the platform team's code and usually pulls from registries
   */
  readonly buildEgress?: Egress;

  /**
   * The role the build runs as (also the role of the `ready` and `validate` hooks). It must trust
   * `lambda.amazonaws.com` with `sts:AssumeRole` and `sts:TagSession`; the image adds read access to the code
   * and write access to its log group.
   *
   * @default - a new role trusted by `lambda.amazonaws.com` from this account only, allowed exactly that
   */
  readonly buildRole?: iam.IRole;

  /**
   * Tags for the image and the resources it creates (also possible with `Tags.of(image)`).
   *
   * @default - no tags
   */
  readonly tags?: { [key: string]: string };
}

/**
 * Attributes of an image defined outside this stack, for {@link MicrovmImage.fromImageAttributes}.
 */
export interface MicrovmImageAttributes {
  /**
   * The image ARN in colon form, `arn:<partition>:lambda:<region>:<account>:microvm-image:<name>`.
   */
  readonly imageArn: string;

  /**
   * The latest active version of the image.
   *
   * @default - unknown: reading `latestActiveVersion` throws
   */
  readonly latestActiveVersion?: string;

  /**
   * The port the image's application serves its lifecycle hooks on. Give it whenever the image has hooks: a
   * `MicrovmOrchestrator` then refuses app ports (and so tokens) that include it, as it does for an image built here.
   *
   * @default - the image has no hooks port (no guard is possible)
   */
  readonly hooksPort?: number;
}

/**
 * A Lambda MicroVM image built from a Dockerfile (`AWS::Lambda::MicrovmImage`).
 *
 * @example
 * import { ImageCode, MicrovmImage } from 'cdk-lambda-microvms';
 *
 * new MicrovmImage(this, 'Image', { code: ImageCode.fromDirectory('./sandbox') });
 */
export class MicrovmImage extends MicrovmImageBase {
  /**
   * Imports an image by its ARN. Its `latestActiveVersion` is unknown.
   */
  public static fromImageArn(scope: Construct, id: string, imageArn: string): IMicrovmImage {
    return MicrovmImage.fromImageAttributes(scope, id, { imageArn });
  }

  /**
   * Imports an image by its attributes.
   */
  public static fromImageAttributes(scope: Construct, id: string, attrs: MicrovmImageAttributes): IMicrovmImage {
    const arn = attrs.imageArn;
    const parsed = Token.isUnresolved(arn) ? undefined : parseImageArn(arn);
    // an account's image: the AWS-provided base images (account `aws`) are built on, not launched.
    if (!Token.isUnresolved(arn) && (!parsed || parsed.account === 'aws')) {
      const slash = /:microvm-image\//.test(arn);
      throw placeError(pathOf(scope, id), invalidProp('imageArn', arn, 'be a MicroVM image ARN, arn:<partition>:lambda:<region>:<account>:microvm-image:<name>',
        slash ? 'Use the colon form (":microvm-image:<name>"); the service rejects the slash form.' : 'Copy the ARN from `aws lambda-microvms list-microvm-images`.'));
    }
    const port = attrs.hooksPort;
    if (port !== undefined && !Token.isUnresolved(port) && (!Number.isInteger(port) || port < 1 || port > 65535)) {
      throw placeError(pathOf(scope, id), invalidProp('hooksPort', port, 'be a port from 1 to 65535',
        'Give the port the image\'s hooks listen on, or leave it out.'));
    }
    const imageName = Token.isUnresolved(arn) ? Arn.split(arn, ArnFormat.COLON_RESOURCE_NAME).resourceName! : parsed!.name;
    class Import extends MicrovmImageBase {
      public readonly imageArn = arn;
      public readonly imageName = imageName;
      public readonly hooksPort = attrs.hooksPort;
      public get latestActiveVersion(): string {
        if (attrs.latestActiveVersion === undefined) {
          throw invalidProp('latestActiveVersion', undefined, `be known to read it from imported image ${this.node.path}`,
            'Import it with MicrovmImage.fromImageAttributes(scope, id, { imageArn, latestActiveVersion }).');
        }
        return attrs.latestActiveVersion;
      }
    }
    return new Import(scope, id, { environmentFromArn: arn });
  }

  public readonly imageArn: string;
  public readonly imageName: string;
  public readonly latestActiveVersion: string;

  /** the role the build runs as. */
  public readonly buildRole: iam.IRole;

  /**
   * the customer-managed key of the image and its build log group.
   *
   * @default - none when `awsOwnedEncryption` is true
   */
  public readonly encryptionKey?: kms.IKey;

  /**
   * the log group the image logs to.
   *
   * @default - none when logging is disabled
   */
  public readonly logGroup?: logs.ILogGroup;

  /**
   * the lifecycle hooks, as given.
   *
   * @default - no hooks
   */
  public readonly hooks?: LifecycleHooks;

  /**
   * the port the application serves its hooks on; launchers must keep it out of app tokens.
   *
   * @default - no hooks
   */
  public readonly hooksPort?: number;

  /** the baseline memory of each MicroVM. */
  public readonly memory: MicrovmMemory;

  /** what the build egress (and the default run-time egress of MicroVMs launched without one) reaches. */
  public readonly buildEgressMode: EgressMode;

  /** ARN of the build egress connector. */
  public readonly buildEgressConnectorArn: string;

  constructor(scope: Construct, id: string, props: MicrovmImageProps) {
    validateIn(pathOf(scope, id), () => {
      validateProps(props);
      props.code._validateFor(scope);
    });
    super(scope, id);
    warnIfRegionLacksMicrovms(this);

    this.imageName = props.imageName ?? Names.uniqueResourceName(this, { maxLength: 64, separator: '-' });
    this.memory = props.memory ?? MicrovmMemory.GIB_2;
    this.hooks = props.hooks;
    this.hooksPort = props.hooks?.port;
    for (const [key, value] of Object.entries(props.tags ?? {})) Tags.of(this).add(key, value);

    this.buildRole = props.buildRole ?? new iam.Role(this, 'BuildRole', {
      description: `Builds MicroVM image ${this.imageName}`,
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }).withSessionTags(),
    });

    this.encryptionKey = props.encryptionKey ?? (props.awsOwnedEncryption
      ? undefined
      : newEncryptionKey(this, `MicroVM image ${this.imageName}: image configuration and build logs`));
    if (this.encryptionKey) {
      allowLambdaToUse(this.encryptionKey);
      allowLogsToUse(this.encryptionKey);
    }

    this.logGroup = logGroupFor(this, 'LogGroup', (props.logging ?? MicrovmLogging.newLogGroup())._config(), {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.RETAIN,
      encryptionKey: this.encryptionKey,
    });
    if (this.logGroup) this.grantLogs(this.logGroup);

    if (this.encryptionKey) {
      this.buildRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [this.encryptionKey.keyArn] }));
    }

    const code = props.code.bind(this, this.buildRole);
    if (props.buildRole && !acceptsGrants(props.buildRole, Stack.of(this))) {
      // the grants above went nowhere: say what the role must already allow, or the build fails at deploy time
      // with S3_ACCESS_DENIED or without logs.
      const actions = ['s3:GetObject', ...(this.logGroup ? ['logs:CreateLogStream', 'logs:PutLogEvents'] : []),
        ...(this.encryptionKey ? ['kms:Decrypt'] : [])];
      Annotations.of(this).addWarningV2('cdk-lambda-microvms:buildRoleNotGranted',
        `buildRole cannot be given the permissions the build needs (an immutable or foreign role): make sure it allows ${
          actions.join(', ')} on this image's code object, log group and key (and kms:Decrypt on the code bucket's key, `
        + 'if it has one), and trusts lambda.amazonaws.com with sts:AssumeRole and sts:TagSession.');
    }
    const base = (props.baseImage ?? BaseImage.al2023()).bind(this);
    const egress = (props.buildEgress ?? Egress.internet()).bind(this);
    this.buildEgressMode = egress.mode;
    this.buildEgressConnectorArn = egress.networkConnectorArn;

    const resource = new lambda.CfnMicrovmImage(this, 'Resource', {
      name: this.imageName,
      description: props.description ?? '',
      baseImageArn: base.baseImageArn,
      baseImageVersion: base.baseImageVersion,
      buildRoleArn: this.buildRole.roleArn,
      codeArtifact: { uri: code.uri },
      cpuConfigurations: [{ architecture: 'ARM_64' }],
      resources: [{ minimumMemoryInMiB: this.memory.sizeInMiB }],
      additionalOsCapabilities: [...(props.additionalOsCapabilities ?? [])],
      egressNetworkConnectors: [egress.networkConnectorArn],
      environmentVariables: renderEnvironment(props.environment),
      hooks: renderHooks(props.hooks),
      logging: this.logGroup ? { cloudWatch: { logGroup: this.logGroup.logGroupName } } : { disabled: true },
      kmsKeyIdentifier: this.encryptionKey?.keyArn,
    });
    if (!props.buildRole) acknowledgeInlinePolicy(this.buildRole, 'the image build role');
    // the build starts as soon as the image exists, so its role's policies must exist first.
    resource.node.addDependency(this.buildRole);
    if (this.encryptionKey) {
      // the schema bundled with aws-cdk-lib predates KmsKeyIdentifier, which CloudFormation accepts.
      Validations.of(resource).acknowledge({
        id: 'CloudFormation-Validate::F3002',
        reason: 'KmsKeyIdentifier is a valid AWS::Lambda::MicrovmImage property missing from the bundled schema',
      });
    }
    this.node.addValidation({ validate: () => findTokenSecrets(this, props.environment) });

    this.imageArn = resource.ref;
    this.latestActiveVersion = resource.attrLatestActiveImageVersion;
  }

  private grantLogs(logGroup: logs.ILogGroup): void {
    const groupArn = Arn.format({
      service: 'logs',
      resource: 'log-group',
      resourceName: logGroup.logGroupName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      account: logGroup.env.account,
      region: logGroup.env.region,
    }, Stack.of(this));
    // the group exists already, so no logs:CreateLogGroup; streams are matched in both ARN forms.
    const streams = [`${groupArn}:*`, `${groupArn}:log-stream:*`];
    this.buildRole.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [groupArn, ...streams],
    }));
    // the service names its log streams itself, so the stream wildcard (inside this one group) cannot be avoided.
    const policy = this.buildRole.node.tryFindChild('DefaultPolicy') ?? this.buildRole;
    for (const arn of streams) {
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${flattenReference(Stack.of(this).resolve(arn))}]`,
        reason: 'The service names the build log streams itself; the wildcard covers streams of this image\'s own log group only.',
      });
    }
  }
}

/**
 * False for a role whose policy this stack cannot change: an immutable role (`fromRoleArn(..., { mutable: false })`,
 * `withoutPolicyUpdates()`, recognised by its public property-injection id, since it reports dropped statements as
 * added) or a role of another account.
 */
function acceptsGrants(role: iam.IRole, stack: Stack): boolean {
  if ((role.constructor as { PROPERTY_INJECTION_ID?: string }).PROPERTY_INJECTION_ID === 'aws-cdk-lib.aws-iam.ImmutableRole') return false;
  const account = role.env.account;
  return Token.isUnresolved(account) || Token.isUnresolved(stack.account) || account === stack.account;
}

function validateProps(props: MicrovmImageProps): void {
  if (!props || !(props.code instanceof ImageCode)) {
    throw invalidProp('code', props?.code, 'be an ImageCode', "Use ImageCode.fromDirectory('./path/with/Dockerfile').");
  }
  const name = props.imageName;
  if (name !== undefined && !Token.isUnresolved(name) && !IMAGE_NAME_PATTERN.test(name)) {
    throw invalidProp('imageName', name, 'be 1-64 characters of letters, digits, "-" and "_"', 'Leave it out for a stable generated name.');
  }
  if (props.description !== undefined && typeof props.description !== 'string') {
    throw invalidProp('description', props.description, 'be a string', 'Pass a short text.');
  }
  if (props.encryptionKey && props.awsOwnedEncryption) {
    throw invalidProp('awsOwnedEncryption', true, 'not be set together with encryptionKey',
      'Drop awsOwnedEncryption to use your key, or drop encryptionKey to use AWS-owned keys.');
  }
  validateHooks(props.hooks);
  validateEnvironment(props.environment);
  const capabilities = props.additionalOsCapabilities ?? [];
  capabilities.forEach((capability, i) => {
    if (!Object.values(OsCapability).includes(capability)) {
      throw invalidProp(`additionalOsCapabilities[${i}]`, capability, `be one of ${Object.values(OsCapability).join(', ')}`, 'Use OsCapability.ALL.');
    }
  });
  if (new Set(capabilities).size !== capabilities.length) {
    throw invalidProp('additionalOsCapabilities', capabilities, 'not repeat a capability', 'List each capability once.');
  }
  for (const [key, value] of Object.entries(props.tags ?? {})) {
    if (Token.isUnresolved(key)) continue;
    if (key.length < 1 || key.length > 128 || key.toLowerCase().startsWith('aws:')) {
      throw invalidProp('tags', key, 'have keys of 1-128 characters not starting with "aws:"', 'Rename the tag.');
    }
    if (!Token.isUnresolved(value) && (typeof value !== 'string' || value.length > 256)) {
      throw invalidProp(`tags.${key}`, value, 'be a string of at most 256 characters', 'Shorten the value.');
    }
  }
}
