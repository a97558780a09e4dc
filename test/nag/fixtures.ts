import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnResource, PolicyViolation, Stack, aws_ec2 as ec2, aws_iam as iam, aws_lambda as lambda, aws_logs as logs } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { MicrovmChecks } from '../../src/nag';
import { RUN_CONFIGURATION_METADATA_KEY } from '../../src/shared/metadata';

/**
 * Raw L1 building blocks for MicrovmChecks tests: nothing here uses this library's L2s, so the tests prove the
 * pack reads CloudFormation, not our constructs.
 */

export const ACCOUNT = '123456789012';
export const INTERNET_EGRESS = 'arn:aws:lambda:us-east-1:aws:network-connector:aws-network-connector:INTERNET_EGRESS';

/**
 * An app for these tests: no bundling, and no built-in CloudFormation schema validation at synth (not what
 * these tests check, and it costs seconds per synth).
 */
export function newApp(): App {
  return new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
}

export function newStack(app: App = newApp(), id = 'Stack'): Stack {
  return new Stack(app, id, { env: { account: ACCOUNT, region: 'us-east-1' } });
}

/** A closed security group: CDK's placeholder rule that matches no traffic. */
export function closedSecurityGroup(scope: IConstruct, id = 'Sg'): ec2.CfnSecurityGroup {
  return new ec2.CfnSecurityGroup(scope, id, {
    groupDescription: 'closed',
    vpcId: 'vpc-12345678',
    securityGroupEgress: [{ cidrIp: '255.255.255.255/32', ipProtocol: 'icmp', fromPort: 252, toPort: 86, description: 'Disallow all traffic' }],
  });
}

export function microvmConnector(scope: IConstruct, sg: ec2.CfnSecurityGroup, id = 'Connector'): lambda.CfnNetworkConnector {
  return new lambda.CfnNetworkConnector(scope, id, {
    configuration: {
      vpcEgressConfiguration: {
        associatedComputeResourceTypes: ['MicroVm'],
        networkProtocol: 'IPv4',
        securityGroupIds: [sg.attrGroupId],
        subnetIds: ['subnet-12345678'],
      },
    },
  });
}

/** A log group, a VPC egress connector with a closed security group, and an image that passes every image rule. */
export function compliantImage(scope: IConstruct, id = 'Image', overrides: Partial<lambda.CfnMicrovmImageProps> = {}): lambda.CfnMicrovmImage {
  const logGroup = new logs.CfnLogGroup(scope, `${id}Logs`, { retentionInDays: 30 });
  const connector = microvmConnector(scope, closedSecurityGroup(scope, `${id}Sg`), `${id}Connector`);
  return new lambda.CfnMicrovmImage(scope, id, {
    name: 'image',
    description: 'test image',
    baseImageArn: 'arn:aws:lambda:us-east-1:aws:microvm-image:al2023',
    baseImageVersion: '1',
    buildRoleArn: `arn:aws:iam::${ACCOUNT}:role/build`,
    codeArtifact: { uri: 's3://bucket/code.zip' },
    cpuConfigurations: [{ architecture: 'ARM_64' }],
    additionalOsCapabilities: [],
    egressNetworkConnectors: [connector.attrArn],
    environmentVariables: [{ key: 'LOG_LEVEL', value: 'debug' }],
    hooks: { port: 9000 },
    logging: { cloudWatch: { logGroup: logGroup.ref } },
    resources: [{ minimumMemoryInMiB: 2048 }],
    kmsKeyIdentifier: `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
    ...overrides,
  });
}

/** A minimal execution role trusted by Lambda, allowed to write to one log group. */
export function executionRole(scope: IConstruct, statements: unknown[] = [{
  Effect: 'Allow',
  Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
  Resource: `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/vm:*`,
}]): iam.CfnRole {
  return new iam.CfnRole(scope, 'ExecutionRole', {
    assumeRolePolicyDocument: {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] }],
    },
    policies: [{ policyName: 'vm', policyDocument: { Version: '2012-10-17', Statement: statements } }],
  });
}

/**
 * A raw CfnFunction carrying a run configuration that passes every run-configuration rule, with `overrides`
 * merged in (a key set to `undefined` is removed).
 */
export function runConfigurationFunction(
  scope: IConstruct,
  image: lambda.CfnMicrovmImage,
  overrides: Record<string, unknown> = {},
  id = 'Orchestrator',
): lambda.CfnFunction {
  const role = scope.node.tryFindChild('ExecutionRole') as iam.CfnRole | undefined ?? executionRole(scope);
  const connector = microvmConnector(scope, closedSecurityGroup(scope, `${id}Sg`), `${id}Connector`);
  const fn = new lambda.CfnFunction(scope, id, {
    code: { zipFile: 'exports.handler = async () => {};' },
    handler: 'index.handler',
    runtime: 'nodejs24.x',
    role: `arn:aws:iam::${ACCOUNT}:role/orchestrator`,
  });
  const config: Record<string, unknown> = {
    imageArn: image.ref,
    imageVersion: image.attrLatestActiveImageVersion,
    egressNetworkConnectors: [connector.attrArn],
    egressMode: 'ISOLATED',
    ingressNetworkConnectors: ['arn:aws:lambda:us-east-1:aws:network-connector:aws-network-connector:HTTP_INGRESS'],
    appPorts: [8080],
    hooksPort: 9000,
    tokenTtlSeconds: 300,
    allPortsTokens: false,
    idlePolicy: { maxIdleDurationSeconds: 900, suspendedDurationSeconds: 3600, autoResumeEnabled: true },
    maximumDurationSeconds: 3600,
    executionRoleArn: role.attrArn,
    ...overrides,
  };
  for (const key of Object.keys(config)) if (config[key] === undefined) delete config[key];
  fn.addMetadata(RUN_CONFIGURATION_METADATA_KEY, config);
  return fn;
}

/** Violations of the pack over `scope`, as `ruleName` strings. */
export function violations(scope: IConstruct): PolicyViolation[] {
  return new MicrovmChecks(scope).validateScope(scope).violations;
}

/** Rule names MicrovmChecks reports for `resource` (findings included), sorted. */
export function findingsFor(resource: CfnResource): string[] {
  const scope = Stack.of(resource);
  return violations(scope)
    .filter((v) => v.violatingResources.some((r) => r.constructPath === resource.node.path))
    .map((v) => v.ruleName)
    .sort();
}

/** Rule names of one rule (`MicrovmChecks-<id>` or `MicrovmChecks-<id>[...]`) reported for `resource`. */
export function ruleFindings(resource: CfnResource, id: string): string[] {
  return findingsFor(resource).filter((name) => name === `MicrovmChecks-${id}` || name.startsWith(`MicrovmChecks-${id}[`));
}

/** A build context directory in the system temp folder, removed by the caller. */
export function buildContext(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nag-context-'));
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  return dir;
}
