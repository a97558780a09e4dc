import { App, Lazy, RemovalPolicy, Stack, Tags, aws_iam as iam, aws_kms as kms, aws_lambda as lambda, aws_logs as logs } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { buildContext, ENV, imageProps, newStack, SANDBOX } from './util';
import { BaseImage, Hook, ImageCode, MicrovmImage, MicrovmMemory, OsCapability } from '../../src/image';
import { Egress } from '../../src/network/egress';
import { EgressMode } from '../../src/network/microvm-network';
import { MicrovmLogging } from '../../src/shared/microvm-logging';

const code = () => ImageCode.fromDirectory(SANDBOX);

describe('defaults', () => {
  test('a code-only image renders every required property with a safe default', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new MicrovmImage(stack, 'Image', { code: code() });
    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::MicrovmImage', Match.objectEquals({
      Name: 'Stack-Image-0AAF7F44',
      Description: '',
      BaseImageArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':lambda:us-east-1:aws:microvm-image:al2023-1']] },
      BaseImageVersion: BaseImage.AL2023_DEFAULT_VERSION,
      BuildRoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ImageBuildRole'), 'Arn'] },
      CodeArtifact: { Uri: Match.stringLikeRegexp('^s3://cdk-hnb659fds-assets-123456789012-us-east-1/[0-9a-f]{64}\\.zip$') },
      CpuConfigurations: [{ Architecture: 'ARM_64' }],
      Resources: [{ MinimumMemoryInMiB: 2048 }],
      AdditionalOsCapabilities: [],
      EgressNetworkConnectors: [{
        'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':lambda:us-east-1:aws:network-connector:aws-network-connector:INTERNET_EGRESS']],
      }],
      EnvironmentVariables: [],
      Hooks: {},
      Logging: { CloudWatch: { LogGroup: { Ref: Match.stringLikeRegexp('^ImageLogGroup') } } },
      KmsKeyIdentifier: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ImageKey'), 'Arn'] },
    }));
  });

  test('the default log group keeps logs one month and is retained', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new MicrovmImage(stack, 'Image', { code: code() });
    // THEN
    Template.fromStack(stack).hasResource('AWS::Logs::LogGroup', {
      Properties: { RetentionInDays: 30 },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  test('exposes attributes: Ref as ARN, the name, the latest active version, the role and log group', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    const image = new MicrovmImage(stack, 'Image', { code: code() });
    // THEN
    const cfn = image.node.defaultChild as lambda.CfnMicrovmImage;
    expect(stack.resolve(image.imageArn)).toEqual({ Ref: stack.getLogicalId(cfn) });
    expect(image.imageName).toBe('Stack-Image-0AAF7F44');
    expect(stack.resolve(image.latestActiveVersion)).toEqual({ 'Fn::GetAtt': [stack.getLogicalId(cfn), 'LatestActiveImageVersion'] });
    expect(image.logGroup).toBeInstanceOf(logs.LogGroup);
    expect(image.buildRole).toBeInstanceOf(iam.Role);
    expect(image.memory).toBe(MicrovmMemory.GIB_2);
    expect(image.buildEgressMode).toBe(EgressMode.INTERNET);
    expect(image.hooks).toBeUndefined();
    expect(image.hooksPort).toBeUndefined();
  });

  test('the image waits for its build role and policy', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new MicrovmImage(stack, 'Image', { code: code() });
    // THEN
    const images = Template.fromStack(stack).findResources('AWS::Lambda::MicrovmImage');
    const dependsOn = Object.values(images)[0].DependsOn as string[];
    expect(dependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^ImageBuildRoleDefaultPolicy/), expect.stringMatching(/^ImageBuildRole[0-9A-F]{8}$/)]));
  });
});

describe('image name', () => {
  test('is stable across syntheses while the content changes (a new version, never a replacement)', () => {
    // GIVEN two build contexts that differ only in the Dockerfile
    const first = buildContext({ Dockerfile: 'FROM public.ecr.aws/lambda/microvms:al2023-minimal\nCMD ["sleep", "1"]\n' });
    const second = buildContext({ Dockerfile: 'FROM public.ecr.aws/lambda/microvms:al2023-minimal\nCMD ["sleep", "2"]\n' });
    // WHEN the same app is synthesized once with each
    const synth = (dir: string) => {
      const stack = newStack('Sandbox');
      new MicrovmImage(stack, 'Image', { code: ImageCode.fromDirectory(dir) });
      return imageProps(stack);
    };
    const a = synth(first);
    const b = synth(second);
    // THEN
    expect(a.Name).toBe(b.Name);
    expect(a.CodeArtifact.Uri).not.toBe(b.CodeArtifact.Uri);
  });

  test('is unique per construct path and fits the service pattern', () => {
    // GIVEN
    const stack = newStack('A'.repeat(80));
    // WHEN
    const one = new MicrovmImage(stack, 'One', { code: code() });
    const two = new MicrovmImage(stack, 'Two'.repeat(30), { code: code() });
    // THEN
    expect(one.imageName).not.toBe(two.imageName);
    for (const name of [one.imageName, two.imageName]) expect(name).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
  });

  test('uses imageName when given', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    const image = new MicrovmImage(stack, 'Image', { code: code(), imageName: 'code_interpreter-1' });
    // THEN
    expect(imageProps(stack).Name).toBe('code_interpreter-1');
    expect(image.imageName).toBe('code_interpreter-1');
  });

  test.each(['', 'has space', 'a.b', 'x'.repeat(65)])('fails if imageName is %j', (name) => {
    // GIVEN
    const stack = newStack();
    // WHEN / THEN
    expect(() => new MicrovmImage(stack, 'Image', { code: code(), imageName: name }))
      .toThrow(/imageName must be 1-64 characters of letters, digits, "-" and "_", got .*Leave it out/);
  });
});

describe('options', () => {
  test('renders memory, description, capabilities and base image', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new MicrovmImage(stack, 'Image', {
      code: code(),
      memory: MicrovmMemory.GIB_8,
      description: 'code interpreter',
      additionalOsCapabilities: [OsCapability.ALL],
      baseImage: BaseImage.al2023({ version: '1' }),
    });
    // THEN
    const props = imageProps(stack);
    expect(props.Resources).toEqual([{ MinimumMemoryInMiB: 8192 }]);
    expect(props.Description).toBe('code interpreter');
    expect(props.AdditionalOsCapabilities).toEqual(['ALL']);
    expect(props.BaseImageVersion).toBe('1');
  });

  test('renders the build egress connector and exposes its mode', () => {
    // GIVEN
    const stack = newStack();
    const connector = lambda.NetworkConnector.fromNetworkConnectorArn(stack, 'Connector',
      'arn:aws:lambda:us-east-1:123456789012:network-connector:nc-0123456789abcdef');
    // WHEN
    const image = new MicrovmImage(stack, 'Image', { code: code(), buildEgress: Egress.connector(connector) });
    // THEN
    expect(imageProps(stack).EgressNetworkConnectors).toEqual(['arn:aws:lambda:us-east-1:123456789012:network-connector:nc-0123456789abcdef']);
    expect(image.buildEgressMode).toBe(EgressMode.VPC);
    expect(image.buildEgressConnectorArn).toBe('arn:aws:lambda:us-east-1:123456789012:network-connector:nc-0123456789abcdef');
  });

  test('applies tags to the image, its role and its log group', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new MicrovmImage(stack, 'Image', { code: code(), tags: { team: 'platform' } });
    // THEN
    const template = Template.fromStack(stack);
    expect(imageProps(stack).Tags).toEqual([{ Key: 'team', Value: 'platform' }]);
    template.hasResourceProperties('AWS::IAM::Role', { Tags: [{ Key: 'team', Value: 'platform' }] });
    template.hasResourceProperties('AWS::Logs::LogGroup', { Tags: [{ Key: 'team', Value: 'platform' }] });
  });

  test('Tags.of(image) reaches the image', () => {
    // GIVEN
    const stack = newStack();
    const image = new MicrovmImage(stack, 'Image', { code: code() });
    // WHEN
    Tags.of(image).add('cost-center', '42');
    // THEN
    expect(imageProps(stack).Tags).toEqual([{ Key: 'cost-center', Value: '42' }]);
  });

  test.each([
    [{ '': 'x' }, /tags must have keys of 1-128 characters/],
    [{ 'aws:owner': 'x' }, /tags must have keys of 1-128 characters not starting with "aws:", got "aws:owner"/],
    [{ k: 'v'.repeat(257) }, /tags.k must be a string of at most 256 characters/],
  ])('fails if tags are %j', (tags, message) => {
    // GIVEN
    const stack = newStack();
    // WHEN / THEN
    expect(() => new MicrovmImage(stack, 'Image', { code: code(), tags })).toThrow(message);
  });

  test('fails if a capability repeats or is unknown', () => {
    // GIVEN
    const stack = newStack();
    // WHEN / THEN
    expect(() => new MicrovmImage(stack, 'Image', { code: code(), additionalOsCapabilities: [OsCapability.ALL, OsCapability.ALL] }))
      .toThrow(/additionalOsCapabilities must not repeat a capability/);
    expect(() => new MicrovmImage(stack, 'Image2', { code: code(), additionalOsCapabilities: ['SYS_ADMIN' as OsCapability] }))
      .toThrow(/additionalOsCapabilities\[0\] must be one of ALL, got "SYS_ADMIN"/);
  });

  test('fails if code is not an ImageCode', () => {
    // GIVEN
    const stack = newStack();
    // WHEN / THEN
    expect(() => new MicrovmImage(stack, 'Image', { code: './sandbox' as unknown as ImageCode }))
      .toThrow(/code must be an ImageCode, got "\.\/sandbox"\. Use ImageCode.fromDirectory/);
  });

  test('validates every prop before creating anything', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    expect(() => new MicrovmImage(stack, 'Image', { code: code(), imageName: 'bad name' })).toThrow(/imageName/);
    // THEN no construct (and so no asset or role) was left behind
    expect(stack.node.tryFindChild('Image')).toBeUndefined();
  });
});

describe('tokens', () => {
  test('skip validation of name, description, tags and hooks port', () => {
    // GIVEN
    const stack = newStack();
    const lazy = Lazy.string({ produce: () => 'computed' });
    // WHEN
    new MicrovmImage(stack, 'Image', {
      code: code(),
      imageName: lazy,
      description: lazy,
      tags: { owner: lazy },
      hooks: { port: Lazy.number({ produce: () => 9000 }), ready: Hook.enabled() },
    });
    // THEN
    const props = imageProps(stack);
    expect(props.Name).toBe('computed');
    expect(props.Hooks.Port).toBe(9000);
  });
});

describe('logging', () => {
  test('a new log group with a custom retention and removal policy', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new MicrovmImage(stack, 'Image', {
      code: code(),
      logging: MicrovmLogging.newLogGroup({ retention: logs.RetentionDays.ONE_YEAR, removalPolicy: RemovalPolicy.DESTROY }),
    });
    // THEN
    Template.fromStack(stack).hasResource('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 365 }, DeletionPolicy: 'Delete' });
  });

  test('a new log group with its own key: the group uses it and CloudWatch Logs may use it; the image keeps its key', () => {
    // GIVEN
    const stack = newStack();
    const logKey = new kms.Key(stack, 'LogKey');
    // WHEN
    const image = new MicrovmImage(stack, 'Image', { code: code(), logging: MicrovmLogging.newLogGroup({ encryptionKey: logKey }) });
    // THEN
    const template = Template.fromStack(stack);
    const arnOf = (key: kms.IKey) => ({ 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] });
    template.hasResource('AWS::Logs::LogGroup', { Properties: { KmsKeyId: arnOf(logKey), RetentionInDays: 30 }, DeletionPolicy: 'Retain' });
    expect(imageProps(stack).KmsKeyIdentifier).toEqual(arnOf(image.encryptionKey!));
    const logKeyPolicy = template.toJSON().Resources[stack.getLogicalId(logKey.node.defaultChild as kms.CfnKey)].Properties.KeyPolicy;
    expect(logKeyPolicy.Statement).toContainEqual(expect.objectContaining({ Sid: 'CloudWatchLogsOfThisAccount' }));
  });

  test('an existing log group is pinned and the build role may write only to it', () => {
    // GIVEN
    const stack = newStack();
    const group = logs.LogGroup.fromLogGroupName(stack, 'Existing', '/platform/images');
    // WHEN
    const image = new MicrovmImage(stack, 'Image', { code: code(), logging: MicrovmLogging.logGroup(group) });
    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Logs::LogGroup', 0);
    expect(imageProps(stack).Logging).toEqual({ CloudWatch: { LogGroup: '/platform/images' } });
    expect(image.logGroup).toBe(group);
    const arn = (suffix: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:logs:us-east-1:123456789012:log-group:/platform/images${suffix}`]] });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([{
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: [arn(''), arn(':*'), arn(':log-stream:*')],
        }]),
      },
    });
  });

  test('disabled logging renders Disabled: true, creates no group and grants no logs access', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    const image = new MicrovmImage(stack, 'Image', { code: code(), logging: MicrovmLogging.disabled() });
    // THEN
    const template = Template.fromStack(stack);
    expect(imageProps(stack).Logging).toEqual({ Disabled: true });
    template.resourceCountIs('AWS::Logs::LogGroup', 0);
    expect(image.logGroup).toBeUndefined();
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toContain('logs:');
  });

  test('never renders an empty CloudWatch block', () => {
    // GIVEN
    const stacks = [MicrovmLogging.newLogGroup(), MicrovmLogging.disabled()].map((logging, i) => {
      const stack = newStack(`S${i}`);
      new MicrovmImage(stack, 'Image', { code: code(), logging });
      return stack;
    });
    // THEN
    for (const stack of stacks) {
      const logging = imageProps(stack).Logging;
      expect(logging.CloudWatch === undefined || logging.CloudWatch.LogGroup !== undefined).toBe(true);
    }
  });
});

describe('build role', () => {
  test('trusts lambda.amazonaws.com with AssumeRole and TagSession from this account only', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new MicrovmImage(stack, 'Image', { code: code() });
    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [{
          Effect: 'Allow',
          Principal: { Service: 'lambda.amazonaws.com' },
          Action: ['sts:AssumeRole', 'sts:TagSession'],
          Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
        }],
      },
      ManagedPolicyArns: Match.absent(),
    });
  });

  test('is allowed exactly: logs on its log group, GetObject on its code object, Decrypt with its key', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new MicrovmImage(stack, 'Image', { code: code() });
    // THEN
    const template = Template.fromStack(stack);
    const group = { Ref: Match.stringLikeRegexp('^ImageLogGroup') };
    const groupArn = (suffix: string[]) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':logs:us-east-1:123456789012:log-group:', group, ...suffix]] });
    const policies = template.findResources('AWS::IAM::Policy');
    expect(Object.keys(policies)).toHaveLength(1);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: [groupArn([]), groupArn([':*']), groupArn([':log-stream:*'])],
          },
          { Effect: 'Allow', Action: 'kms:Decrypt', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ImageKey'), 'Arn'] } },
          {
            Effect: 'Allow',
            Action: 's3:GetObject',
            Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, Match.stringLikeRegexp('^:s3:::cdk-hnb659fds-assets-123456789012-us-east-1/[0-9a-f]{64}\\.zip$')]] },
          },
        ],
      },
    });
  });

  test('a user role gets the same grants and is used for the build', () => {
    // GIVEN
    const stack = newStack();
    const role = new iam.Role(stack, 'MyBuildRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    // WHEN
    const image = new MicrovmImage(stack, 'Image', { code: code(), buildRole: role });
    // THEN
    const template = Template.fromStack(stack);
    expect(image.buildRole).toBe(role);
    template.resourceCountIs('AWS::IAM::Role', 1);
    expect(imageProps(stack).BuildRoleArn).toEqual({ 'Fn::GetAtt': [stack.getLogicalId(role.node.defaultChild as iam.CfnRole), 'Arn'] });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: stack.getLogicalId(role.node.defaultChild as iam.CfnRole) }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 's3:GetObject' })]) },
    });
  });

  test('an imported immutable role is used as is', () => {
    // GIVEN
    const stack = newStack();
    const role = iam.Role.fromRoleArn(stack, 'Imported', 'arn:aws:iam::123456789012:role/image-builder', { mutable: false });
    // WHEN
    new MicrovmImage(stack, 'Image', { code: code(), buildRole: role });
    // THEN
    expect(imageProps(stack).BuildRoleArn).toBe('arn:aws:iam::123456789012:role/image-builder');
    Template.fromStack(stack).resourceCountIs('AWS::IAM::Policy', 0);
  });

  test('an immutable role gets a warning naming every permission the build needs from it', () => {
    // GIVEN
    const stack = newStack();
    const role = iam.Role.fromRoleArn(stack, 'Imported', 'arn:aws:iam::123456789012:role/image-builder', { mutable: false });
    // WHEN
    new MicrovmImage(stack, 'Image', { code: code(), buildRole: role, encryptionKey: new kms.Key(stack, 'Key') });
    // THEN
    const warnings = Annotations.fromStack(stack).findWarning('/Stack/Image', Match.stringLikeRegexp('buildRole cannot be given'));
    expect(warnings).toHaveLength(1);
    const text = JSON.stringify(warnings[0].entry.data);
    for (const action of ['logs:CreateLogStream', 'logs:PutLogEvents', 'kms:Decrypt', 's3:GetObject', 'sts:TagSession']) {
      expect(text).toContain(action);
    }
  });

  test('a role of this stack gets its grants and no warning', () => {
    // GIVEN
    const stack = newStack();
    const role = new iam.Role(stack, 'Builder', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    // WHEN
    new MicrovmImage(stack, 'Image', { code: code(), buildRole: role });
    // THEN
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('buildRole cannot be given'))).toEqual([]);
  });
});

describe('encryption key', () => {
  test('sets KmsKeyIdentifier and lets the build role decrypt with that key only', () => {
    // GIVEN
    const stack = newStack();
    const key = new kms.Key(stack, 'Key');
    // WHEN
    new MicrovmImage(stack, 'Image', { code: code(), encryptionKey: key });
    // THEN
    const keyArn = { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] };
    expect(imageProps(stack).KmsKeyIdentifier).toEqual(keyArn);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: keyArn }]) },
    });
  });

  test('by default a new rotated key encrypts the image and its build logs, and the build role may decrypt with it', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    const image = new MicrovmImage(stack, 'Image', { code: code() });
    // THEN
    const template = Template.fromStack(stack);
    const keyArn = { 'Fn::GetAtt': [stack.getLogicalId(image.encryptionKey!.node.defaultChild as kms.CfnKey), 'Arn'] };
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.hasResource('AWS::KMS::Key', { Properties: { EnableKeyRotation: true }, DeletionPolicy: 'Retain' });
    expect(imageProps(stack).KmsKeyIdentifier).toEqual(keyArn);
    template.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: keyArn });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: keyArn }]) },
    });
  });

  test('the key policy lets Lambda use the key either way the service may call KMS, and CloudWatch Logs for this account', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new MicrovmImage(stack, 'Image', { code: code() });
    // THEN
    const statements: any[] = Object.values(Template.fromStack(stack).findResources('AWS::KMS::Key'))[0].Properties.KeyPolicy.Statement;
    const bySid = Object.fromEntries(statements.filter((st) => st.Sid).map((st) => [st.Sid, st]));
    expect(bySid.LambdaOnBehalfOfThisAccount).toMatchObject({
      Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::123456789012:root']] } },
      Condition: { StringEquals: { 'kms:ViaService': 'lambda.us-east-1.amazonaws.com', 'kms:CallerAccount': '123456789012' } },
    });
    expect(bySid.LambdaServiceForThisAccount).toMatchObject({
      Principal: { Service: 'lambda.amazonaws.com' },
      Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
    });
    expect(bySid.CloudWatchLogsOfThisAccount).toMatchObject({ Principal: { Service: 'logs.us-east-1.amazonaws.com' } });
  });

  test('awsOwnedEncryption: no key, no KmsKeyIdentifier and no KMS permission', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    const image = new MicrovmImage(stack, 'Image', { code: code(), awsOwnedEncryption: true });
    // THEN
    expect(image.encryptionKey).toBeUndefined();
    expect(imageProps(stack).KmsKeyIdentifier).toBeUndefined();
    Template.fromStack(stack).resourceCountIs('AWS::KMS::Key', 0);
    expect(JSON.stringify(Template.fromStack(stack).findResources('AWS::IAM::Policy'))).not.toContain('kms:');
  });

  test('acknowledges only the bundled schema gap for KmsKeyIdentifier', () => {
    // GIVEN
    const app = new App({ context: { '@aws-cdk/core:validateAgainstDefaultRules': true } });
    const stack = new Stack(app, 'Stack', { env: ENV });
    // WHEN
    new MicrovmImage(stack, 'Image', { code: code(), encryptionKey: new kms.Key(stack, 'Key') });
    // THEN synthesis passes the built-in schema validation
    expect(() => app.synth()).not.toThrow();
  });
});

describe('hooks', () => {
  test('are rendered and the port is exposed', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    const image = new MicrovmImage(stack, 'Image', { code: code(), hooks: { port: 9000, ready: Hook.enabled(), run: Hook.enabled() } });
    // THEN
    expect(image.hooksPort).toBe(9000);
    expect(imageProps(stack).Hooks).toMatchObject({ Port: 9000, MicrovmImageHooks: { Ready: 'ENABLED' }, MicrovmHooks: { Run: 'ENABLED' } });
  });

  test('fails (before anything is created) if the hooks are invalid', () => {
    // GIVEN
    const stack = newStack();
    // WHEN / THEN
    expect(() => new MicrovmImage(stack, 'Image', { code: code(), hooks: { port: 9000, run: Hook.enabled() } })).toThrow(/hooks.ready must be enabled/);
    expect(stack.node.tryFindChild('Image')).toBeUndefined();
  });
});

describe('synthesis', () => {
  test('produces no warnings or errors with defaults', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new MicrovmImage(stack, 'Image', { code: code() });
    // THEN
    const annotations = Annotations.fromStack(stack);
    expect(annotations.findWarning('*', Match.anyValue())).toEqual([]);
    expect(annotations.findError('*', Match.anyValue())).toEqual([]);
  });

  test('passes the CloudFormation schema validation bundled with aws-cdk-lib, with every option set', () => {
    // GIVEN
    const app = new App({ context: { '@aws-cdk/core:validateAgainstDefaultRules': true } });
    const stack = new Stack(app, 'Stack', { env: ENV });
    // WHEN
    new MicrovmImage(stack, 'Default', { code: code() });
    new MicrovmImage(stack, 'Full', {
      code: code(),
      description: 'full',
      memory: MicrovmMemory.MIB_512,
      hooks: {
        port: 9000,
        ready: Hook.enabled(),
        validate: Hook.enabled(),
        run: Hook.enabled(),
        resume: Hook.enabled(),
        suspend: Hook.enabled(),
        terminate: Hook.enabled(),
      },
      environment: { LOG_LEVEL: 'debug' },
      additionalOsCapabilities: [OsCapability.ALL],
      logging: MicrovmLogging.disabled(),
      tags: { team: 'platform' },
    });
    // THEN
    expect(() => app.synth()).not.toThrow();
  });
});
