import { App, Duration, RemovalPolicy, Stack, Token, Validations, aws_ec2 as ec2, aws_iam as iam, aws_kms as kms, aws_lambda as lambda, aws_s3 as s3 } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  CheckpointOptions, Egress, EndpointPolicy, IdlePolicy, ImageCode, MicrovmChecks, MicrovmImage, MicrovmNetwork, MicrovmOrchestrator,
  MicrovmOrchestratorProps,
} from '../../src';
import { ENV } from '../../src/shared/contract';

const ENV_US = { account: '123456789012', region: 'us-east-1' };
const IMAGE_ARN = 'arn:aws:lambda:us-east-1:123456789012:microvm-image:sandbox';

interface BuildOptions {
  props?: Partial<MicrovmOrchestratorProps>;
  checkpoints?: CheckpointOptions;
  env?: { account: string; region: string } | null;
  /** builds the egress in the stack before the orchestrator. */
  egress?: (stack: Stack) => Egress;
}

function build(options: BuildOptions = {}) {
  const app = new App({ context: { 'aws:cdk:disable-creation-stack-traces': true } });
  const stack = new Stack(app, 'Stack', options.env === null ? undefined : { env: options.env ?? ENV_US });
  const image = new MicrovmImage(stack, 'Image', { code: ImageCode.fromBucket(s3.Bucket.fromBucketName(stack, 'B', 'artifacts'), 'a.zip') });
  const egress = options.egress?.(stack);
  const orchestrator = new MicrovmOrchestrator(stack, 'Orch', {
    image,
    ...(egress ? { egress } : {}),
    ...('checkpoints' in options ? { checkpoints: options.checkpoints } : { checkpoints: { port: 8181 } }),
    ...options.props,
  });
  return { stack, image, orchestrator, template: Template.fromStack(stack) };
}

/** the validation message the orchestrator throws for these props (tokens and defaults otherwise as in `build`). */
function errorOf(checkpoints: CheckpointOptions, props: Partial<MicrovmOrchestratorProps> = {}): string {
  const app = new App();
  const stack = new Stack(app, 'Stack', { env: ENV_US });
  const image = MicrovmImage.fromImageAttributes(stack, 'Image', { imageArn: IMAGE_ARN, latestActiveVersion: '3', hooksPort: 9000 });
  try {
    new MicrovmOrchestrator(stack, 'Orch', { image, checkpoints, ...props });
  } catch (err) {
    return (err as Error).message;
  }
  return 'no error';
}

const ref = (stack: Stack, value: unknown) => stack.resolve(value);

/** the Allow statements of a function's role policy. */
function statementsOf(stack: Stack, fn: lambda.IFunction): any[] {
  const policy = fn.role!.node.findChild('DefaultPolicy') as iam.Policy;
  return stack.resolve(policy.document.toJSON()).Statement;
}

/** the statements `after` has and `before` lacks, and the ones `before` has and `after` lacks. */
function diff(before: any[], after: any[]) {
  const key = (s: any) => JSON.stringify(s);
  const had = new Set(before.map(key));
  const has = new Set(after.map(key));
  return { added: after.filter((s) => !had.has(key(s))), removed: before.filter((s) => !has.has(key(s))) };
}

function environmentOf(template: Template, stack: Stack, fn: lambda.IFunction): Record<string, unknown> {
  return template.toJSON().Resources[stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction)].Properties.Environment.Variables;
}

describe('the checkpoint bucket (defaults)', () => {
  const { stack, orchestrator, template } = build();
  const without = build({ checkpoints: undefined });
  const bucket = orchestrator.checkpointBucket!;
  const bucketArn = ref(stack, bucket.bucketArn);
  const objects = ref(stack, bucket.arnForObjects('*'));
  const roleArn = (fn: lambda.IFunction) => ref(stack, fn.role!.roleArn);

  test('is encrypted with the orchestrator key, TLS only, private, owner-enforced, expired after 7 days, unversioned and retained', () => {
    // THEN
    expect(Token.isUnresolved(bucket.bucketName)).toBe(true);
    template.resourceCountIs('AWS::S3::Bucket', 1);
    template.templateMatches({
      Resources: {
        [stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket)]: {
          Type: 'AWS::S3::Bucket',
          DeletionPolicy: 'Retain',
          UpdateReplacePolicy: 'Retain',
          Properties: Match.exact({
            BucketEncryption: {
              ServerSideEncryptionConfiguration: [{
                BucketKeyEnabled: true,
                ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: ref(stack, orchestrator.encryptionKey!.keyArn) },
              }],
            },
            LifecycleConfiguration: {
              Rules: [{ Id: 'ExpireCheckpoints', Status: 'Enabled', ExpirationInDays: 7, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }],
            },
            OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
            PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
          }),
        },
      },
    });
  });

  test('its policy denies objects and listing to everyone but the two function roles, and presigned URLs outside the network', () => {
    // THEN
    const admitted = { StringNotEquals: { 'aws:PrincipalArn': [roleArn(orchestrator.orchestratorFunction), roleArn(orchestrator.sweeperFunction)] } };
    const endpointId = ref(stack, (orchestrator.node.findChild('Network').node.findChild('Endpoint-s3').node.findChild('Endpoint') as ec2.GatewayVpcEndpoint).vpcEndpointId);
    template.resourceCountIs('AWS::S3::BucketPolicy', 1);
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: ref(stack, bucket.bucketName),
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Deny', Principal: { AWS: '*' }, Action: 's3:*', Resource: [bucketArn, objects], Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
          { Effect: 'Deny', Principal: { AWS: '*' }, Action: 's3:*', Resource: [bucketArn, objects], Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } },
          { Sid: 'ObjectsOnlyForTheOrchestrator', Effect: 'Deny', Principal: { AWS: '*' }, Action: 's3:*', Resource: objects, Condition: admitted },
          {
            Sid: 'ListingOnlyForTheOrchestrator',
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: ['s3:ListBucket', 's3:ListBucketVersions', 's3:ListBucketMultipartUploads'],
            Resource: bucketArn,
            Condition: admitted,
          },
          {
            Sid: 'PresignedUrlsOnlyThroughTheNetwork',
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 's3:*',
            Resource: objects,
            Condition: { StringEquals: { 's3:authType': 'REST-QUERY-STRING' }, StringNotEquals: { 'aws:SourceVpce': endpointId } },
          },
        ],
      },
    });
  });

  test('the policy allows nothing and never denies bucket management, so administrators and CloudFormation keep it', () => {
    // THEN
    const statements = Object.values(template.findResources('AWS::S3::BucketPolicy'))[0].Properties.PolicyDocument.Statement;
    expect(statements.filter((s: any) => s.Effect === 'Allow')).toEqual([]);
    // the only statements on the bucket ARN itself with s3:* are the transport rules CDK adds (TLS).
    for (const s of statements.filter((x: any) => x.Sid)) {
      const resources = [s.Resource].flat();
      if (resources.some((r: unknown) => JSON.stringify(r) === JSON.stringify(bucketArn))) expect(s.Action).not.toContain('s3:*');
    }
  });

  test('the session API role gets exactly object access, listing, the key for S3 and invoking the sweeper', () => {
    // THEN
    const { added, removed } = diff(
      statementsOf(without.stack, without.orchestrator.orchestratorFunction), statementsOf(stack, orchestrator.orchestratorFunction));
    expect(removed).toEqual([]);
    expect(added).toEqual([
      { Effect: 'Allow', Action: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'], Resource: objects },
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: bucketArn },
      { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: ref(stack, orchestrator.encryptionKey!.keyArn) },
      { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: ref(stack, orchestrator.sweeperFunction.functionArn) },
    ]);
  });

  test('the sweeper role gets the same object access and key, plus resuming and minting tokens on the image', () => {
    // THEN
    const { added, removed } = diff(
      statementsOf(without.stack, without.orchestrator.sweeperFunction), statementsOf(stack, orchestrator.sweeperFunction));
    const imageArn = ref(stack, (stack.node.findChild('Image') as MicrovmImage).imageArn);
    expect(removed).toEqual([{ Effect: 'Allow', Action: ['lambda:GetMicrovm', 'lambda:TerminateMicrovm'], Resource: imageArn }]);
    expect(added).toEqual([
      { Effect: 'Allow', Action: ['lambda:GetMicrovm', 'lambda:TerminateMicrovm', 'lambda:ResumeMicrovm', 'lambda:SuspendMicrovm', 'lambda:CreateMicrovmAuthToken'], Resource: imageArn },
      { Effect: 'Allow', Action: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'], Resource: objects },
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: bucketArn },
      { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: ref(stack, orchestrator.encryptionKey!.keyArn) },
    ]);
  });

  test('both functions get the checkpoint environment; only the session API names the worker', () => {
    // THEN
    const checkpointVars = (fn: lambda.IFunction) => Object.fromEntries(Object.entries(environmentOf(template, stack, fn))
      .filter(([name]) => name.startsWith('MICROVM_CHECKPOINT_')));
    const common = {
      [ENV.CHECKPOINT_BUCKET]: ref(stack, bucket.bucketName),
      [ENV.CHECKPOINT_PORT]: '8181',
      [ENV.CHECKPOINT_PATH]: '/checkpoint',
      [ENV.CHECKPOINT_BEFORE_END_SECONDS]: '900',
    };
    expect(checkpointVars(orchestrator.orchestratorFunction)).toEqual({
      ...common, [ENV.CHECKPOINT_WORKER_FUNCTION]: ref(stack, orchestrator.sweeperFunction.functionName),
    });
    expect(checkpointVars(orchestrator.sweeperFunction)).toEqual(common);
  });

  test('the isolated default network gets an S3 gateway endpoint scoped to the bucket and HTTPS to the S3 prefix list', () => {
    // THEN
    const network = orchestrator.node.findChild('Network') as MicrovmNetwork;
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 1);
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.s3']] },
      RouteTableIds: network.subnets.map((s) => ref(stack, s.routeTable.routeTableId)),
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Sid: 'OnlyTheseResources', Effect: 'Allow', Principal: { AWS: '*' }, Action: '*', Resource: [bucketArn, objects] }],
      },
    });
    const rules = Object.values(template.findResources('AWS::EC2::SecurityGroupEgress')).map((r) => r.Properties);
    expect(rules).toEqual([{
      GroupId: ref(stack, network.connections.securityGroups[0].securityGroupId),
      DestinationPrefixListId: expect.stringMatching(/^pl-/),
      Description: 'HTTPS from MicroVMs to s3 through its gateway endpoint',
      FromPort: 443,
      IpProtocol: 'tcp',
      ToPort: 443,
    }]);
  });

  test('the bucket keys of the role policies are acknowledged as one bucket\'s run-time keys', () => {
    // THEN
    for (const fn of [orchestrator.orchestratorFunction, orchestrator.sweeperFunction]) {
      const policy = fn.role!.node.findChild('DefaultPolicy');
      const acks = policy.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((m) => Object.entries(m.data as Record<string, string>));
      const ack = acks.find(([id]) => id.includes(`AwsSolutions-IAM5[Resource::<${stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket)}.Arn>/*]`));
      expect(ack?.[1]).toMatch(/^s3:PutObject, s3:GetObject, s3:DeleteObject on the checkpoint bucket's objects/);
    }
  });
});

describe('options', () => {
  test('path, retention and beforeEnd reach the bucket and the environment', () => {
    // WHEN
    const { stack, orchestrator, template } = build({
      checkpoints: { port: 7000, path: '/save', retention: Duration.days(30), beforeEnd: Duration.minutes(20) },
      props: { maxSessionDuration: Duration.hours(8) },
    });

    // THEN
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 30 })] },
    });
    expect(environmentOf(template, stack, orchestrator.sweeperFunction)).toMatchObject({
      [ENV.CHECKPOINT_PORT]: '7000',
      [ENV.CHECKPOINT_PATH]: '/save',
      [ENV.CHECKPOINT_BEFORE_END_SECONDS]: '1200',
    });
  });

  test('with awsOwnedEncryption the bucket is S3-managed and no key is granted', () => {
    // WHEN
    const { stack, orchestrator, template } = build({ props: { awsOwnedEncryption: true } });

    // THEN
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
    });
    for (const fn of [orchestrator.orchestratorFunction, orchestrator.sweeperFunction]) {
      expect(statementsOf(stack, fn).flatMap((s) => [s.Action].flat()).filter((a: string) => a.startsWith('kms:'))).toEqual([]);
    }
  });

  test('with removalPolicy DESTROY the bucket is deleted and emptied first, and the emptying role is admitted', () => {
    // WHEN
    const { stack, orchestrator, template } = build({ props: { removalPolicy: RemovalPolicy.DESTROY } });

    // THEN
    const id = stack.getLogicalId(orchestrator.checkpointBucket!.node.defaultChild as s3.CfnBucket);
    expect(template.toJSON().Resources[id].DeletionPolicy).toBe('Delete');
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 1);
    const statements = Object.values(template.findResources('AWS::S3::BucketPolicy'))[0].Properties.PolicyDocument.Statement;
    const objectsDeny = statements.find((s: any) => s.Sid === 'ObjectsOnlyForTheOrchestrator');
    expect(objectsDeny.Condition.StringNotEquals['aws:PrincipalArn']).toEqual([
      ref(stack, orchestrator.orchestratorFunction.role!.roleArn),
      ref(stack, orchestrator.sweeperFunction.role!.roleArn),
      { 'Fn::GetAtt': ['CustomS3AutoDeleteObjectsCustomResourceProviderRole3B1BD092', 'Arn'] },
    ]);
  });

  test('a bucket passed in is used as it is: no new bucket, no policy of ours, grants on it and its key', () => {
    // GIVEN
    const app = new App();
    const stack = new Stack(app, 'Stack', { env: ENV_US });
    const key = new kms.Key(stack, 'UserKey', { enableKeyRotation: true });
    const bucket = new s3.Bucket(stack, 'UserBucket', { encryptionKey: key, enforceSSL: true });
    const image = new MicrovmImage(stack, 'Image', { code: ImageCode.fromBucket(s3.Bucket.fromBucketName(stack, 'B', 'artifacts'), 'a.zip') });

    // WHEN
    const orchestrator = new MicrovmOrchestrator(stack, 'Orch', { image, egress: Egress.internet(), checkpoints: { port: 8181, bucket } });

    // THEN
    const template = Template.fromStack(stack);
    expect(orchestrator.checkpointBucket).toBe(bucket);
    template.resourceCountIs('AWS::S3::Bucket', 1);
    const policy = Object.values(template.findResources('AWS::S3::BucketPolicy'))[0].Properties.PolicyDocument.Statement;
    expect(policy.map((x: any) => x.Sid)).toEqual([undefined]);
    const { added } = diff([], statementsOf(stack, orchestrator.sweeperFunction));
    expect(added).toEqual(expect.arrayContaining([
      { Effect: 'Allow', Action: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'], Resource: stack.resolve(bucket.arnForObjects('*')) },
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: stack.resolve(bucket.bucketArn) },
      { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: stack.resolve(key.keyArn) },
    ]));
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
  });
});

describe('networks', () => {
  test('an isolated network with an S3 endpoint already is reused: its policy also admits the bucket', () => {
    // GIVEN
    let network!: MicrovmNetwork;
    let other!: s3.IBucket;

    // WHEN
    const { stack, orchestrator, template } = build({
      env: null,
      egress: (s) => {
        network = new MicrovmNetwork(s, 'Net');
        other = s3.Bucket.fromBucketName(s, 'Other', 'cache');
        network.addS3Endpoint({ prefixListId: 'pl-63a5400a', buckets: [other] });
        return Egress.network(network);
      },
    });

    // THEN
    const bucket = orchestrator.checkpointBucket!;
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 1);
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      PolicyDocument: {
        Statement: [
          { Sid: 'OnlyTheseResources', Effect: 'Allow', Principal: { AWS: '*' }, Action: '*', Resource: [ref(stack, other.bucketArn), ref(stack, other.arnForObjects('*'))] },
          { Effect: 'Allow', Principal: { AWS: '*' }, Action: '*', Resource: [ref(stack, bucket.bucketArn), ref(stack, bucket.arnForObjects('*'))] },
        ],
      },
    });
    template.resourceCountIs('AWS::EC2::SecurityGroupEgress', 1);
  });

  test('an unrestricted S3 endpoint is left unrestricted (a statement would narrow it)', () => {
    // WHEN
    const { template } = build({
      egress: (s) => {
        const network = new MicrovmNetwork(s, 'Net');
        network.addS3Endpoint({ policy: EndpointPolicy.unrestricted() });
        return Egress.network(network);
      },
    });

    // THEN
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', { PolicyDocument: Match.absent() });
  });

  test('in a stack without region and account (cdk init\'s), the isolated network reads the S3 prefix list at deploy time', () => {
    // GIVEN
    const { stack, template } = build({ env: null });

    // THEN the endpoint is scoped to the bucket as with a lookup, and 443 goes to the prefix list the read returns
    const lookups = template.findResources('Custom::AWS');
    expect(Object.keys(lookups)).toHaveLength(1);
    const [id, lookup] = Object.entries(lookups)[0];
    // the call, with the stack's region where CloudFormation puts it in
    const parts: unknown[] = stack.resolve(lookup.Properties.Create)['Fn::Join'][1];
    const call = JSON.parse(parts.map((p) => (typeof p === 'string' ? p : (expect(p).toEqual({ Ref: 'AWS::Region' }), '<region>'))).join(''));
    expect(call).toMatchObject({
      service: 'EC2',
      action: 'describeManagedPrefixLists',
      parameters: { Filters: [{ Name: 'prefix-list-name', Values: ['com.amazonaws.<region>.s3'] }] },
      physicalResourceId: { id: 'com.amazonaws.<region>.s3' },
      outputPaths: ['PrefixLists.0.PrefixListId'],
    });
    const egress = Object.values(template.findResources('AWS::EC2::SecurityGroupEgress')).map((r) => r.Properties)
      .filter((p) => p.DestinationPrefixListId !== undefined);
    expect(egress).toEqual([expect.objectContaining({ FromPort: 443, ToPort: 443, DestinationPrefixListId: { 'Fn::GetAtt': [id, 'PrefixLists.0.PrefixListId'] } })]);
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', { ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.s3']] } });
    // the lookup's one permission: the read, which has no resource-level permissions.
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [{ Action: 'ec2:DescribeManagedPrefixLists', Effect: 'Allow', Resource: '*' }] },
    });
  });

  test('an allowlist network gets the bucket\'s regional name (firewall and DNS), not s3.<region>.amazonaws.com, and no endpoint', () => {
    // GIVEN
    let network!: MicrovmNetwork;

    // WHEN
    const { stack, orchestrator, template } = build({
      egress: (s) => {
        network = new MicrovmNetwork(s, 'Net', { allowedDomains: ['pypi.org'] });
        return Egress.network(network);
      },
    });

    // THEN
    const name = ref(stack, orchestrator.checkpointBucket!.bucketRegionalDomainName);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    template.hasResourceProperties('AWS::NetworkFirewall::RuleGroup', {
      Capacity: 100,
      RuleGroup: { RulesSource: { RulesSourceList: { Targets: ['pypi.org', name], GeneratedRulesType: 'ALLOWLIST' } } },
    });
    template.hasResourceProperties('AWS::Route53Resolver::FirewallDomainList', { Domains: ['pypi.org', name] });
    expect(JSON.stringify(template.toJSON())).not.toMatch(/"s3\.us-east-1\.amazonaws\.com"/);
    const statements = Object.values(template.findResources('AWS::S3::BucketPolicy'))[0].Properties.PolicyDocument.Statement;
    expect(statements.map((x: any) => x.Sid)).toEqual([undefined, undefined, 'ObjectsOnlyForTheOrchestrator', 'ListingOnlyForTheOrchestrator']);
  });

  test('internet egress opens nothing and warns about nothing', () => {
    // WHEN
    const { stack, template } = build({ egress: () => Egress.internet() });

    // THEN
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('checkpointBucketReachability'));
  });

  test('a connector this library did not build gets a warning: the guest must reach the bucket on its own', () => {
    // WHEN
    const { stack } = build({
      egress: (s) => Egress.connector(lambda.NetworkConnector.fromNetworkConnectorArn(s, 'C',
        'arn:aws:lambda:us-east-1:123456789012:network-connector:mine')),
    });

    // THEN
    Annotations.fromStack(stack).hasWarning('/Stack/Orch', Match.stringLikeRegexp('nothing was opened for the checkpoint bucket'));
  });
});

describe('validation', () => {
  test('fails if the port is an app port', () => {
    expect(errorOf({ port: 8080 })).toBe(
      'Stack/Orch: checkpoints.port must differ from every app port (8080), got 8080. Clients get tokens for the app ports, and a token ' +
      'for the checkpoint port would let them drive saves and read the upload URL: serve checkpoints on a port of their own.');
  });

  test('fails if the port is the image\'s hooks port', () => {
    expect(errorOf({ port: 9000 })).toBe(
      'Stack/Orch: checkpoints.port must differ from the image\'s hooks port 9000, got 9000. The hooks port serves /run and the other ' +
      'lifecycle hooks: serve checkpoints on a port of their own.');
  });

  test('fails if the port is not a port', () => {
    expect(errorOf({ port: 70000 })).toMatch(/^Stack\/Orch: checkpoints.port must be a port from 1 to 65535, got 70000\./);
  });

  test('fails if the path does not start with "/" or carries a query', () => {
    expect(errorOf({ port: 8181, path: 'checkpoint' })).toBe(
      'Stack/Orch: checkpoints.path must start with "/" and contain no whitespace, "?" or "#", got "checkpoint". Write the path alone, for example "/checkpoint".');
    expect(errorOf({ port: 8181, path: '/save?now=1' })).toMatch(/checkpoints.path must start with "\/"/);
  });

  test('fails if retention is not whole days, or less than one', () => {
    expect(errorOf({ port: 8181, retention: Duration.hours(36) })).toBe(
      'Stack/Orch: checkpoints.retention must be whole days, at least 1, got "1 day 12 hours". S3 lifecycle rules expire objects in whole days: use for example Duration.days(7).');
    expect(errorOf({ port: 8181, retention: Duration.hours(12) })).toMatch(/checkpoints.retention must be whole days, at least 1, got "12 hours"/);
  });

  test('fails if retention is given with a bucket of the user\'s', () => {
    const bucket = s3.Bucket.fromBucketName(new Stack(), 'B', 'mine');
    expect(errorOf({ port: 8181, bucket, retention: Duration.days(3) })).toMatch(/checkpoints.retention must be left out when checkpoints.bucket is given/);
  });

  test('fails if beforeEnd is not shorter than the maximum session duration', () => {
    expect(errorOf({ port: 8181, beforeEnd: Duration.hours(1) })).toBe(
      'Stack/Orch: checkpoints.beforeEnd must be whole seconds, at least 1 second and less than maxSessionDuration (1 hour), got "1 hour". ' +
      'The sweeper saves a session this long before its end: lower it, or raise maxSessionDuration.');
    expect(errorOf({ port: 8181, beforeEnd: Duration.hours(2) }, { maxSessionDuration: Duration.hours(3) })).toBe('no error');
  });

  test('tokens skip validation', () => {
    expect(errorOf({ port: Token.asNumber({ Ref: 'Port' }), path: Token.asString({ Ref: 'Path' }) })).toBe('no error');
  });

  test('a beforeEnd shorter than one sweep interval is a warning', () => {
    const { stack } = build({ checkpoints: { port: 8181, beforeEnd: Duration.minutes(2) } });
    Annotations.fromStack(stack).hasWarning('/Stack/Orch', Match.stringLikeRegexp('shorter than sweepInterval'));
  });
});

describe('onSuspend', () => {
  test('tells the sweeper alone to save each suspension; off by default', () => {
    // GIVEN
    const on = build({ checkpoints: { port: 8181, onSuspend: true } });
    const off = build();
    const flag = (b: ReturnType<typeof build>, fn: lambda.IFunction) => environmentOf(b.template, b.stack, fn)[ENV.CHECKPOINT_ON_SUSPEND];

    // THEN
    expect(flag(on, on.orchestrator.sweeperFunction)).toBe('true');
    expect(flag(on, on.orchestrator.orchestratorFunction)).toBeUndefined();
    expect(flag(off, off.orchestrator.sweeperFunction)).toBeUndefined();
    // the grants are the ones every checkpoint setup has: resuming and suspending are already the sweeper's.
    expect(statementsOf(on.stack, on.orchestrator.sweeperFunction)).toEqual(statementsOf(off.stack, off.orchestrator.sweeperFunction));
    Annotations.fromStack(on.stack).hasNoWarning('/Stack/Orch', Match.stringLikeRegexp('onSuspend'));
  });

  test('fails if the idle policy terminates a suspended MicroVM before the next sweep could save it', () => {
    const short = IdlePolicy.suspendAfter(Duration.minutes(15), { terminateAfter: Duration.minutes(2) });
    expect(errorOf({ port: 8181, onSuspend: true }, { idlePolicy: short })).toBe(
      'Stack/Orch: idlePolicy.terminateAfter must be at least sweepInterval (5 minutes) when checkpoints.onSuspend is on, got "2 minutes". ' +
      'The sweeper saves a suspension on its next run, and a MicroVM terminated before it is lost: raise terminateAfter in ' +
      'IdlePolicy.suspendAfter(idle, { terminateAfter }) to at least sweepInterval plus a few minutes for the save, or shorten sweepInterval.');
    const none = IdlePolicy.suspendAfter(Duration.minutes(15), { terminateAfter: Duration.seconds(0) });
    expect(errorOf({ port: 8181, onSuspend: true }, { idlePolicy: none }))
      .toMatch(/terminateAfter must be at least sweepInterval/);
    // the same idle policy without onSuspend, a short sweep interval, or no idle policy at all: fine.
    expect(errorOf({ port: 8181 }, { idlePolicy: short })).toBe('no error');
    expect(errorOf({ port: 8181, onSuspend: true }, { idlePolicy: short, sweepInterval: Duration.minutes(1) })).toBe('no error');
    expect(errorOf({ port: 8181, onSuspend: true }, { idlePolicy: IdlePolicy.none() })).toBe('no error');
  });

  test('warns when a MicroVM can be resumed and suspended again between two sweeps', () => {
    const { stack } = build({
      checkpoints: { port: 8181, onSuspend: true },
      props: { idlePolicy: IdlePolicy.suspendAfter(Duration.minutes(2)), sweepInterval: Duration.minutes(10) },
    });
    Annotations.fromStack(stack).hasWarning('/Stack/Orch', Match.stringLikeRegexp(
      'sweepInterval \\(10 minutes\\) is longer than the idle policy\'s suspendAfter \\(2 minutes\\).*not saved'));
  });
});

describe('without checkpoints', () => {
  test('nothing is added: no bucket, no endpoint, no checkpoint environment, no bucket property', () => {
    // WHEN
    const { stack, orchestrator, template } = build({ checkpoints: undefined });

    // THEN
    expect(orchestrator.checkpointBucket).toBeUndefined();
    template.resourceCountIs('AWS::S3::Bucket', 0);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    template.resourceCountIs('AWS::EC2::SecurityGroupEgress', 0);
    for (const fn of [orchestrator.orchestratorFunction, orchestrator.sweeperFunction]) {
      expect(Object.keys(environmentOf(template, stack, fn)).filter((k) => k.includes('CHECKPOINT'))).toEqual([]);
      expect(statementsOf(stack, fn).flatMap((s) => [s.Action].flat())
        .filter((a: string) => a.startsWith('s3:') || a === 'lambda:InvokeFunction')).toEqual([]);
    }
    // the sweeper still only lists, inspects and terminates.
    expect(statementsOf(stack, orchestrator.sweeperFunction).flatMap((s) => [s.Action].flat())
      .filter((a: string) => ['lambda:ResumeMicrovm', 'lambda:SuspendMicrovm', 'lambda:CreateMicrovmAuthToken'].includes(a))).toEqual([]);
  });
});

describe('nag', () => {
  const findings = (pack: AwsSolutionsChecks | MicrovmChecks, stack: Stack) => pack.validateScope(stack).violations
    .filter((v) => v.severity === 'error')
    .flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} @ ${r.constructPath}`));

  test('with checkpoints on, AwsSolutionsChecks and MicrovmChecks report no unacknowledged error', () => {
    // WHEN
    const { stack } = build();

    // THEN
    expect(findings(new AwsSolutionsChecks(stack), stack).filter((f) => f.includes('Stack/Orch/') && !f.includes('Stack/Orch/Network/'))).toEqual([]);
    expect(findings(new MicrovmChecks(stack), stack)).toEqual([]);
  });

  test('the server access log finding is acknowledged on the bucket with its reason', () => {
    // WHEN
    const { orchestrator } = build();

    // THEN
    const acks = orchestrator.checkpointBucket!.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.entries(m.data as Record<string, string>));
    const s1 = acks.find(([id]) => id.includes('AwsSolutions-S1'));
    expect(s1?.[1]).toMatch(/CloudTrail S3 data events/);
  });
});
