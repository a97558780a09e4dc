import { Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { Ingress } from '../../network/ingress';
import { IAM_ROLE_OR_USER_ARN_PATTERN, LIMITS } from '../../shared/contract';
import { MicrovmLogging, MicrovmLoggingSpec } from '../../shared/microvm-logging';
import { durationInRange, invalidProp, isToken } from '../../shared/validation';
import type { MicrovmOrchestratorProps } from '../microvm-orchestrator-props';
import { SmokeTest } from '../smoke-test';
import { ResolvedCheckpoints, resolveCheckpoints } from './checkpoint-props';
import type { SmokeTestCheck } from './smoke-test-resource';

/** The orchestrator's props, validated and with their defaults. */
export interface ResolvedConfig {
  readonly ingressArns: string[];
  /** the principals allowed shell tokens, or undefined without `shell`. */
  readonly shellAllowedPrincipalArns?: string[];
  readonly appPorts: number[];
  readonly hooksPort?: number;
  readonly tokenTtlSeconds: number;
  readonly maxDurationSeconds: number;
  readonly sweepInterval: Duration;
  readonly orphanGraceSeconds: number;
  readonly removalPolicy: RemovalPolicy;
  /** the release check, or undefined when `SmokeTest.disabled()`. */
  readonly smokeTest?: SmokeTestCheck;
  /** the functions' logging: a new group each, or one existing group (never disabled). */
  readonly logging: MicrovmLoggingSpec;
  /** the MicroVMs' runtime logging. */
  readonly runtimeLogging: MicrovmLoggingSpec;
  /** how many newest image versions pruning keeps; undefined when `pruneVersions` is false. */
  readonly keepVersions?: number;
  /** the checkpoint options, or undefined without `checkpoints`. */
  readonly checkpoints?: ResolvedCheckpoints;
}

/** Newest image versions the sweeper keeps by default. */
const DEFAULT_KEEP_VERSIONS = 10;

/** Validates every prop in one place (tokens skipped) and resolves the defaults. */
export function resolveProps(scope: Construct, props: MicrovmOrchestratorProps): ResolvedConfig {
  const shellAllowedPrincipalArns = props.shell === undefined ? undefined : validateShell(props.shell.allowedPrincipalArns);
  const ingress = props.ingress ?? [Ingress.http()];
  if (shellAllowedPrincipalArns !== undefined) {
    const exclusive = ingress.find((i) => i.connectorName === 'ALL_INGRESS' || i.connectorName === 'NO_INGRESS');
    if (exclusive) {
      throw invalidProp('ingress', ingress.map((i) => i.connectorName), `not be ${exclusive.connectorName} alone when shell is set`,
        'shell adds Ingress.shell() to the ingress connectors, and this library does not combine ALL_INGRESS or NO_INGRESS with others: '
        + 'use [Ingress.http()] or remove shell.');
    }
  }
  const withShell = shellAllowedPrincipalArns !== undefined && !ingress.some((i) => i.connectorName === 'SHELL_INGRESS')
    ? [...ingress, Ingress.shell()] : ingress;
  const ingressArns = Ingress._renderArns(scope, withShell, 'ingress');
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

  const tokenTtl = durationInRange('tokenTtl', props.tokenTtl ?? Duration.minutes(5),
    { unit: 'minutes', min: LIMITS.MIN_TOKEN_TTL_SECONDS, max: LIMITS.MAX_TOKEN_TTL_SECONDS, rule: 'be whole minutes from 1 to 60' },
    'The service mints tokens for 1 to 60 minutes; AWS recommends 15 minutes or less, refreshed before expiry.');

  const maxDuration = durationInRange('maxSessionDuration', props.maxSessionDuration ?? Duration.hours(1),
    { unit: 'seconds', min: 1, max: LIMITS.MAX_DURATION_SECONDS, rule: 'be whole seconds from 1 second to 8 hours' },
    'The service ends every MicroVM after at most 8 hours, running and suspended time together.');

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

  const sweepInterval = durationInRange('sweepInterval', props.sweepInterval ?? Duration.minutes(5),
    { unit: 'minutes', min: 60, max: 3600, rule: 'be whole minutes from 1 to 60' },
    'An orphaned MicroVM bills until a sweep terminates it: sweep at least hourly.');

  const orphanGrace = durationInRange('orphanGracePeriod', props.orphanGracePeriod ?? Duration.minutes(10),
    { unit: 'seconds', min: 60, max: LIMITS.MAX_DURATION_SECONDS, rule: 'be whole seconds from 1 minute to 8 hours' },
    'A shorter grace period could terminate a MicroVM whose launch is still being recorded.');

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

  const keepVersions = props.keepVersions ?? DEFAULT_KEEP_VERSIONS;
  if (props.pruneVersions === false && props.keepVersions !== undefined) {
    throw invalidProp('keepVersions', props.keepVersions, 'be omitted when pruneVersions is false',
      'Remove keepVersions, or set pruneVersions to true to prune old image versions.');
  }
  if (!isToken(keepVersions) && (!Number.isInteger(keepVersions) || keepVersions < 1 || keepVersions > LIMITS.VERSIONS_PER_IMAGE - 1)) {
    throw invalidProp('keepVersions', keepVersions, `be a whole number from 1 to ${LIMITS.VERSIONS_PER_IMAGE - 1}`,
      `An image holds at most ${LIMITS.VERSIONS_PER_IMAGE} versions, so keeping more leaves no room for the next build; ` +
      'set pruneVersions: false to keep every version.');
  }

  const ingressNone = (props.ingress ?? []).some((i) => i.connectorName === 'NO_INGRESS');
  const smokeTest = (props.smokeTest ?? SmokeTest.http())._resolve(appPorts, ingressNone);
  const logging = (props.logging ?? MicrovmLogging.newLogGroup())._config();
  if (logging.kind === 'DISABLED') {
    throw invalidProp('logging', logging.description,
      'keep the orchestrator and sweeper logs (they are the audit trail of every session launched and every MicroVM terminated)',
      'Use MicrovmLogging.newLogGroup({ retention }) to keep them for less time, or MicrovmLogging.logGroup(group) to send them to a group you own.');
  }

  const maxDurationSeconds = maxDuration.toSeconds({ integral: false });
  const checkpoints = props.checkpoints === undefined ? undefined
    : resolveCheckpoints(props.checkpoints, { appPorts, hooksPort, maxDurationSeconds });

  return {
    logging,
    runtimeLogging: (props.runtimeLogging ?? MicrovmLogging.newLogGroup())._config(),
    ingressArns,
    shellAllowedPrincipalArns,
    appPorts,
    hooksPort,
    tokenTtlSeconds: tokenTtl.toSeconds({ integral: false }),
    maxDurationSeconds,
    sweepInterval,
    orphanGraceSeconds: orphanGrace.toSeconds({ integral: false }),
    removalPolicy,
    smokeTest,
    keepVersions: props.pruneVersions === false ? undefined : keepVersions,
    checkpoints,
  };
}

/** The allowed principals of `shell`: a non-empty list of IAM role or user ARNs without repeats (tokens skipped). */
function validateShell(arns: string[]): string[] {
  const prop = 'shell.allowedPrincipalArns';
  if (isToken(arns)) return arns;
  if (!Array.isArray(arns) || arns.length === 0) {
    throw invalidProp(prop, arns, 'name at least one IAM role or user ARN',
      'List the roles and users that may open a shell (e.g. [operatorRole.roleArn]), or omit shell.');
  }
  for (const arn of arns) {
    if (isToken(arn)) continue;
    if (typeof arn !== 'string' || !IAM_ROLE_OR_USER_ARN_PATTERN.test(arn)) {
      throw invalidProp(prop, arns, 'contain only IAM role or user ARNs (arn:aws:iam::<account>:role/<path/>Name or :user/<path/>name)',
        `Fix ${JSON.stringify(arn)}: a role session (arn:aws:sts::...:assumed-role/Role/session) is named by its role's ARN, which matches every session of the role.`);
    }
  }
  const duplicate = arns.find((a, i) => !isToken(a) && arns.indexOf(a) !== i);
  if (duplicate) throw invalidProp(prop, arns, 'not repeat a principal', `Remove the second ${JSON.stringify(duplicate)}.`);
  return arns;
}
