import * as fs from 'fs';
import * as path from 'path';
import { CfnResource, Stack, Validations, aws_ec2 as ec2, aws_lambda as lambda } from 'aws-cdk-lib';
import { NagMessageLevel } from 'cdk-nag';
import { INTERNET_EGRESS, closedSecurityGroup, compliantImage, executionRole, findingsFor, microvmConnector, newApp, newStack, runConfigurationFunction, violations } from './fixtures';
import { MicrovmChecks } from '../../src';
import { MICROVM_RULES } from '../../src/nag/rules';

describe('MicrovmChecks pack contract', () => {
  test('lists every rule id and level exactly', () => {
    // THEN
    expect(MICROVM_RULES.map((r) => [`MicrovmChecks-${r.id}`, r.level])).toEqual([
      ['MicrovmChecks-EgressInternet', NagMessageLevel.ERROR],
      ['MicrovmChecks-EgressOpenSecurityGroup', NagMessageLevel.ERROR],
      ['MicrovmChecks-EndpointPolicyOpen', NagMessageLevel.ERROR],
      ['MicrovmChecks-SnapshotSecret', NagMessageLevel.ERROR],
      ['MicrovmChecks-LoggingDisabled', NagMessageLevel.WARN],
      ['MicrovmChecks-DnsUnfiltered', NagMessageLevel.WARN],
      ['MicrovmChecks-NoCustomerManagedKey', NagMessageLevel.WARN],
      ['MicrovmChecks-AllOsCapabilities', NagMessageLevel.WARN],
      ['MicrovmChecks-TokenScope', NagMessageLevel.WARN],
      ['MicrovmChecks-HooksPortInAppPorts', NagMessageLevel.WARN],
      ['MicrovmChecks-NoLifetimeLimit', NagMessageLevel.WARN],
      ['MicrovmChecks-ExecutionRoleWildcard', NagMessageLevel.WARN],
      ['MicrovmChecks-ShellIngress', NagMessageLevel.WARN],
    ]);
  });

  test('every rule has an info and an explanation with a fix', () => {
    for (const rule of MICROVM_RULES) {
      expect(rule.info.length).toBeGreaterThan(20);
      expect(rule.explanation.length).toBeGreaterThan(80);
    }
  });

  test('RULES.md documents exactly these rules, in this order, at these levels', () => {
    // GIVEN the rules table of RULES.md
    const rows = fs.readFileSync(path.join(__dirname, '..', '..', 'RULES.md'), 'utf8')
      .split('\n')
      .map((line) => line.match(/^\| `(MicrovmChecks-\w+)` \| (ERROR|WARN|INFO) \|/))
      .filter((m): m is RegExpMatchArray => m !== null)
      .map((m) => [m[1], { ERROR: NagMessageLevel.ERROR, WARN: NagMessageLevel.WARN, INFO: NagMessageLevel.INFO }[m[2]]]);

    // THEN
    expect(rows).toEqual(MICROVM_RULES.map((r) => [`MicrovmChecks-${r.id}`, r.level]));
  });

  test('has the pack name MicrovmChecks', () => {
    expect(new MicrovmChecks().name).toBe('MicrovmChecks');
  });

  test('reports every rule at its level when everything is wrong', () => {
    // GIVEN: one image and one run configuration that break every rule.
    const stack = newStack();
    const sg = closedSecurityGroup(stack, 'OpenSg');
    sg.addPropertyOverride('SecurityGroupEgress', [{ CidrIp: '0.0.0.0/0', IpProtocol: '-1' }]);
    // in a VPC of the stack without a DNS firewall, with an S3 endpoint that has no policy
    const vpc = new ec2.CfnVPC(stack, 'Vpc', { cidrBlock: '10.0.0.0/16' });
    const subnet = new ec2.CfnSubnet(stack, 'Subnet', { vpcId: vpc.ref, cidrBlock: '10.0.0.0/24' });
    new ec2.CfnVPCEndpoint(stack, 'S3', { vpcId: vpc.ref, serviceName: 'com.amazonaws.us-east-1.s3' });
    new lambda.CfnNetworkConnector(stack, 'OpenConnector', {
      configuration: {
        vpcEgressConfiguration: {
          associatedComputeResourceTypes: ['MicroVm'], networkProtocol: 'IPv4', securityGroupIds: [sg.attrGroupId], subnetIds: [subnet.ref],
        },
      },
    });
    const image = compliantImage(stack, 'Image', {
      egressNetworkConnectors: [INTERNET_EGRESS],
      environmentVariables: [{ key: 'DB_PASSWORD', value: 'correct-horse-battery-staple' }],
      logging: { disabled: true },
      kmsKeyIdentifier: undefined,
      additionalOsCapabilities: ['ALL'],
    });
    executionRole(stack, [{ Effect: 'Allow', Action: '*', Resource: '*' }]);
    runConfigurationFunction(stack, image, {
      egressMode: 'INTERNET',
      tokenTtlSeconds: 3600,
      appPorts: [8080, 9000],
      idlePolicy: undefined,
      ingressNetworkConnectors: [
        'arn:aws:lambda:us-east-1:aws:network-connector:aws-network-connector:HTTP_INGRESS',
        'arn:aws:lambda:us-east-1:aws:network-connector:aws-network-connector:SHELL_INGRESS',
      ],
    });

    // WHEN
    const report = violations(stack);

    // THEN
    const levels = Object.fromEntries(report.map((v) => [v.ruleName.replace(/\[.*$/, ''), v.severity]));
    expect(levels).toEqual(Object.fromEntries(MICROVM_RULES.map((r) => [
      `MicrovmChecks-${r.id}`, r.level === NagMessageLevel.ERROR ? 'error' : 'warning',
    ])));
  });

  test('a compliant raw L1 image and run configuration have no findings', () => {
    // GIVEN
    const stack = newStack();
    runConfigurationFunction(stack, compliantImage(stack));

    // THEN
    expect(violations(stack)).toEqual([]);
  });

  test('findings name the resource path and carry the rule info', () => {
    // GIVEN
    const stack = newStack();
    const image = compliantImage(stack, 'Image', { kmsKeyIdentifier: undefined });

    // WHEN
    const [violation] = violations(stack);

    // THEN
    expect(violation.ruleName).toBe('MicrovmChecks-NoCustomerManagedKey');
    expect(violation.violatingResources.map((r) => r.constructPath)).toEqual([image.node.path]);
    expect(violation.description).toMatch(/customer-managed KMS key/);
  });
});

describe('acknowledging findings', () => {
  test('an acknowledged finding is not reported, others still are', () => {
    // GIVEN
    const stack = newStack();
    const image = compliantImage(stack, 'Image', { kmsKeyIdentifier: undefined, additionalOsCapabilities: ['ALL'] });

    // WHEN
    Validations.of(image).acknowledge({ id: 'MicrovmChecks-NoCustomerManagedKey', reason: 'service-owned key is enough for test data' });

    // THEN
    expect(violations(stack).map((v) => v.ruleName)).toEqual(['MicrovmChecks-AllOsCapabilities']);
  });

  test('an acknowledgement on a parent scope covers its resources', () => {
    // GIVEN
    const stack = newStack();
    compliantImage(stack, 'Image', { kmsKeyIdentifier: undefined });

    // WHEN
    Validations.of(stack).acknowledge({ id: 'MicrovmChecks-NoCustomerManagedKey', reason: 'whole stack uses service keys' });

    // THEN
    expect(violations(stack)).toEqual([]);
  });

  test('a finding with a location is acknowledged by its full id', () => {
    // GIVEN
    const stack = newStack();
    const image = compliantImage(stack, 'Image', {
      environmentVariables: [
        { key: 'API_TOKEN', value: 'not-a-placeholder-value' },
        { key: 'DB_PASSWORD', value: 'another-real-looking-one' },
      ],
    });

    // WHEN
    Validations.of(image).acknowledge({ id: 'MicrovmChecks-SnapshotSecret[EnvironmentVariables::API_TOKEN]', reason: 'rotated test token' });

    // THEN
    expect(violations(stack).map((v) => v.ruleName)).toEqual(['MicrovmChecks-SnapshotSecret[EnvironmentVariables::DB_PASSWORD]']);
  });

  test('fails synth on an unacknowledged ERROR and passes once acknowledged', () => {
    // GIVEN
    const app = newApp();
    const stack = new Stack(app, 'Stack', { env: { account: '123456789012', region: 'us-east-1' } });
    const image = compliantImage(stack, 'Image', { egressNetworkConnectors: [INTERNET_EGRESS] });
    Validations.of(app).addPlugins(new MicrovmChecks(app));

    // THEN
    expect(() => app.synth()).toThrow(/MicrovmChecks-EgressInternet/);

    // GIVEN a fresh app with the finding acknowledged
    const app2 = newApp();
    const stack2 = new Stack(app2, 'Stack', { env: { account: '123456789012', region: 'us-east-1' } });
    const image2 = compliantImage(stack2, 'Image', { egressNetworkConnectors: [INTERNET_EGRESS] });
    Validations.of(app2).addPlugins(new MicrovmChecks(app2));
    Validations.of(image2).acknowledge({ id: 'MicrovmChecks-EgressInternet', reason: 'trusted build that pulls from public registries' });

    // THEN
    expect(() => app2.synth()).not.toThrow();
    expect(image.node.path).toBe(image2.node.path);
  });
});

describe('reading CloudFormation, not constructs', () => {
  test('checks a plain CfnResource of type AWS::Lambda::MicrovmImage (hand-written or imported templates)', () => {
    // GIVEN
    const stack = newStack();
    const raw = new CfnResource(stack, 'Raw', {
      type: 'AWS::Lambda::MicrovmImage',
      properties: {
        Name: 'raw',
        BaseImageArn: 'arn:aws:lambda:us-east-1:aws:microvm-image:al2023',
        BuildRoleArn: 'arn:aws:iam::123456789012:role/b',
        CodeArtifact: { Uri: 's3://b/k.zip' },
        EgressNetworkConnectors: [INTERNET_EGRESS],
        Logging: { Disabled: true },
        EnvironmentVariables: [{ Key: 'LOG_LEVEL', Value: 'debug' }],
      },
    });

    // THEN
    expect(findingsFor(raw)).toEqual([
      'MicrovmChecks-EgressInternet', 'MicrovmChecks-LoggingDisabled', 'MicrovmChecks-NoCustomerManagedKey',
    ]);
  });

  test('does not guess about cross-stack references validated before synthesis prepared them', () => {
    // GIVEN: the connector lives in another stack of the same app.
    const app = newApp();
    const env = { account: '123456789012', region: 'us-east-1' };
    const network = new Stack(app, 'Network', { env });
    const connector = microvmConnector(network, closedSecurityGroup(network));
    const stack = new Stack(app, 'Images', { env });
    const image = compliantImage(stack, 'Image', { egressNetworkConnectors: [connector.attrArn] });

    // WHEN
    const before = findingsFor(image);
    Validations.of(app).addPlugins(new MicrovmChecks(app));
    app.synth();

    // THEN: no finding before synthesis, and synthesis (which resolves the export) passes the pack too.
    expect(before).toEqual([]);
    expect(findingsFor(image)).toEqual([]);
  });

  test('never throws on malformed properties or metadata', () => {
    // GIVEN: shapes CloudFormation would reject, written through escape hatches.
    const stack = newStack();
    const image = compliantImage(stack);
    image.addPropertyOverride('EgressNetworkConnectors', 42);
    image.addPropertyOverride('EnvironmentVariables', 'oops');
    image.addPropertyOverride('Logging', 'on');
    image.addPropertyOverride('Hooks', [1]);
    const fn = runConfigurationFunction(stack, image);
    fn.addOverride('Metadata.cdk-lambda-microvms:run-configuration', {
      appPorts: 'all', egressNetworkConnectors: { 'Fn::Weird': [] }, executionRoleArn: 7, idlePolicy: 'none', imageArn: null,
    });

    // WHEN
    const descriptions = violations(stack).map((v) => v.description);

    // THEN: every finding is a real one, none is "Rule threw an error".
    expect(descriptions.length).toBeGreaterThan(0);
    expect(descriptions.join('\n')).not.toMatch(/Rule threw an error/);
  });
});
