import { App, CfnParameter, Duration, RemovalPolicy, Stack, aws_iam as iam, aws_kms as kms, aws_lambda as lambda, aws_logs as logs, aws_s3 as s3, aws_sns as sns, aws_sqs as sqs } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Hook, ImageCode, MicrovmImage } from '../../src/image';
import { Egress, Ingress } from '../../src/network';
import { IdlePolicy, MicrovmOrchestrator, MicrovmOrchestratorProps, SmokeTest } from '../../src/orchestrator';
import { RUN_CONFIGURATION_METADATA_KEY } from '../../src/shared/metadata';
import { MicrovmLogging } from '../../src/shared/microvm-logging';

const IMAGE_ARN = { Ref: 'Image9D742C96' };
/** the smoke test custom resource of an orchestrator 'Orch' in a stack's root. */
const SMOKE_TEST_ID = 'OrchSmokeTest6BADB339';

/** an image with a code artifact already in S3, so no build context is needed; `hooksPort` adds a /ready hook. */
function newImage(stack: Stack, hooksPort?: number): MicrovmImage {
  const bucket = s3.Bucket.fromBucketName(stack, 'Artifacts', 'artifacts');
  return new MicrovmImage(stack, 'Image', {
    code: ImageCode.fromBucket(bucket, 'sandbox.zip'),
    hooks: hooksPort === undefined ? undefined : { port: hooksPort, ready: Hook.enabled() },
  });
}
const managedArn = (name: string) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':lambda:', { Ref: 'AWS::Region' }, `:aws:network-connector:aws-network-connector:${name}`]],
});

/** what PassNetworkConnector may cover for these connectors: each ARN and its `:<version>` forms, nothing else. */
function connectorResources(arns: any[]): any[] {
  return arns.flatMap((arn) => [arn, typeof arn === 'string'
    ? `${arn}:*`
    : arn['Fn::Join'] ? { 'Fn::Join': ['', [...arn['Fn::Join'][1].slice(0, -1), `${arn['Fn::Join'][1].at(-1)}:*`]] }
      : { 'Fn::Join': ['', [arn, ':*']] }]);
}

function build(props: Partial<MicrovmOrchestratorProps> = {}, hooksPort?: number) {
  const app = new App();
  const stack = new Stack(app, 'Stack');
  const image = newImage(stack, hooksPort);
  const orchestrator = new MicrovmOrchestrator(stack, 'Orch', { image, ...props });
  return { stack, image, orchestrator, template: Template.fromStack(stack) };
}

function logicalId(stack: Stack, construct: { node: { defaultChild?: unknown } } | undefined): string {
  return stack.getLogicalId(construct!.node.defaultChild as lambda.CfnFunction);
}

function env(template: Template, description: RegExp): Record<string, unknown> {
  const fns = template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp(description.source) } });
  const [fn] = Object.values(fns);
  return fn.Properties.Environment.Variables;
}

function policyOf(template: Template, stack: Stack, fn: lambda.IFunction): any[] {
  const roleId = stack.getLogicalId(fn.role!.node.defaultChild as iam.CfnRole);
  const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } });
  return Object.values(policies).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}

function metadataOf(template: Template): any {
  const fns = template.findResources('AWS::Lambda::Function', { Metadata: { [RUN_CONFIGURATION_METADATA_KEY]: Match.anyValue() } });
  expect(Object.keys(fns)).toHaveLength(1);
  return Object.values(fns)[0].Metadata[RUN_CONFIGURATION_METADATA_KEY];
}

describe('sessions table', () => {
  test('has the contract keys, on-demand billing, PITR, TTL and deletion protection; DynamoDB\'s own key in a region-agnostic stack', () => {
    // WHEN (build() makes a region-agnostic stack, where a TableV2 cannot name a key)
    const { template } = build();

    // THEN
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        KeySchema: [{ AttributeName: 'owner', KeyType: 'HASH' }, { AttributeName: 'sessionId', KeyType: 'RANGE' }],
        AttributeDefinitions: [{ AttributeName: 'owner', AttributeType: 'S' }, { AttributeName: 'sessionId', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        SSESpecification: { SSEEnabled: false },
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
        Replicas: [Match.objectLike({
          DeletionProtectionEnabled: true,
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        })],
      },
    });
  });

  test('in a stack with a Region, the table, logs, topic and queue use the orchestrator\'s own rotated key by default', () => {
    // GIVEN
    const stack = new Stack(new App(), 'Stack', { env: { region: 'us-east-1', account: '123456789012' } });

    // WHEN
    const orchestrator = new MicrovmOrchestrator(stack, 'Orch', { image: newImage(stack) });

    // THEN
    const template = Template.fromStack(stack);
    const keyArn = { 'Fn::GetAtt': [stack.getLogicalId(orchestrator.encryptionKey!.node.defaultChild as kms.CfnKey), 'Arn'] };
    template.hasResource('AWS::KMS::Key', { Properties: { EnableKeyRotation: true }, DeletionPolicy: 'Retain' });
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
      Replicas: [Match.objectLike({ SSESpecification: { KMSMasterKeyId: keyArn } })],
    });
    // flow logs, runtime logs, and the smoke test's, the session API's and the sweeper's function logs.
    expect(Object.keys(template.findResources('AWS::Logs::LogGroup', { Properties: { KmsKeyId: keyArn } }))).toHaveLength(5);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: keyArn });
    template.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: keyArn });
    // the services that write to the encrypted topic and queue for this account may use the key for that.
    const statements: any[] = Object.values(template.findResources('AWS::KMS::Key', { Properties: { Description: Match.stringLikeRegexp('orchestrator') } }))[0]
      .Properties.KeyPolicy.Statement;
    for (const [sid, service] of [['CloudWatchAlarmsToTopic', 'cloudwatch.amazonaws.com'], ['EventBridgeDeadLetters', 'events.amazonaws.com']]) {
      expect(statements.find((st) => st.Sid === sid)).toEqual({
        Sid: sid,
        Effect: 'Allow',
        Principal: { Service: service },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: '*',
        Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
      });
    }
  });

  test('uses the customer-managed key when encryptionKey is given', () => {
    // GIVEN
    const app = new App();
    const stack = new Stack(app, 'Stack', { env: { region: 'eu-west-1', account: '123456789012' } });
    const key = new kms.Key(stack, 'Key');

    // WHEN
    new MicrovmOrchestrator(stack, 'Orch', { image: newImage(stack), encryptionKey: key });

    // THEN
    const template = Template.fromStack(stack);
    const keyArn = { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] };
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
      Replicas: [Match.objectLike({ SSESpecification: { KMSMasterKeyId: keyArn } })],
    });
    // the runtime, function and (default network's) flow log groups are encrypted with it too, and CloudWatch Logs may use it.
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup', { Properties: { KmsKeyId: keyArn } }));
    expect(groups).toHaveLength(5);
    template.resourceCountIs('AWS::KMS::Key', 2); // the user's, and the image's own (newImage builds one)
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([Match.objectLike({
          Principal: { Service: 'logs.eu-west-1.amazonaws.com' },
          Action: Match.arrayWith(['kms:Decrypt*', 'kms:GenerateDataKey*']),
          Condition: {
            ArnLike: {
              'kms:EncryptionContext:aws:logs:arn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':logs:eu-west-1:123456789012:log-group:*']] },
            },
          },
        })]),
      },
    });
  });

  test('two orchestrators can share one key', () => {
    // GIVEN
    const app = new App();
    const stack = new Stack(app, 'Stack', { env: { region: 'eu-west-1', account: '123456789012' } });
    const key = new kms.Key(stack, 'Key');
    const image = newImage(stack);

    // WHEN
    new MicrovmOrchestrator(stack, 'A', { image, encryptionKey: key });
    new MicrovmOrchestrator(stack, 'B', { image, encryptionKey: key });

    // THEN
    const [keyResource] = Object.values(Template.fromStack(stack).findResources('AWS::KMS::Key')) as any[];
    const logsStatements = keyResource.Properties.KeyPolicy.Statement.filter((st: any) => st.Principal?.Service === 'logs.eu-west-1.amazonaws.com');
    expect(logsStatements).toHaveLength(1);
  });

  test('removalPolicy DESTROY deletes the table and turns deletion protection off', () => {
    // WHEN
    const { template } = build({ removalPolicy: RemovalPolicy.DESTROY });

    // THEN
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Delete',
      Properties: { Replicas: [Match.objectLike({ DeletionProtectionEnabled: false })] },
    });
  });
});

describe('orchestrator function', () => {
  test('is behind a Function URL with AWS_IAM auth', () => {
    // WHEN
    const { stack, orchestrator, template } = build();

    // THEN
    template.resourceCountIs('AWS::Lambda::Url', 1);
    template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'AWS_IAM',
      TargetFunctionArn: { 'Fn::GetAtt': [logicalId(stack, orchestrator.orchestratorFunction), 'Arn'] },
    });
    expect(stack.resolve(orchestrator.url)).toEqual({ 'Fn::GetAtt': [stack.getLogicalId(orchestrator.functionUrl.node.defaultChild as lambda.CfnUrl), 'FunctionUrl'] });
  });

  test('runs nodejs24.x with 512 MB, 30 s and its own log group with retention', () => {
    // WHEN
    const { stack, orchestrator, template } = build();

    // THEN
    const logsId = stack.getLogicalId(orchestrator.node.findChild('OrchestratorLogs').node.defaultChild as logs.CfnLogGroup);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('session API'),
      Runtime: 'nodejs24.x',
      MemorySize: 512,
      Timeout: 30,
      LoggingConfig: { LogGroup: { Ref: logsId } },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    expect(Object.keys(template.findResources('AWS::Logs::LogGroup', { Properties: { RetentionInDays: Match.absent() } }))).toEqual([]);
  });

  test('gets its whole configuration through the ENV names', () => {
    // WHEN
    const { stack, orchestrator, template } = build({}, 9000);

    // THEN
    const o = orchestrator as any;
    const vars = env(template, /session API/);
    expect(vars).toEqual({
      SESSIONS_TABLE_NAME: { Ref: stack.getLogicalId(o.table.node.defaultChild) },
      MICROVM_IMAGE_ARN: IMAGE_ARN,
      // the version the smoke test passed, never the image's latest directly.
      MICROVM_IMAGE_VERSION: { 'Fn::GetAtt': [SMOKE_TEST_ID, 'ImageVersion'] },
      MICROVM_EGRESS_CONNECTORS: { 'Fn::Join': ['', ['["', { 'Fn::GetAtt': [expect.stringMatching(/^OrchNetworkConnector/), 'Arn'] }, '"]']] },
      MICROVM_INGRESS_CONNECTORS: expect.anything(),
      MICROVM_EXECUTION_ROLE_ARN: { 'Fn::GetAtt': [stack.getLogicalId(o.executionRole.node.defaultChild), 'Arn'] },
      MICROVM_RUNTIME_LOG_GROUP: { Ref: stack.getLogicalId(o.runtimeLogGroup.node.defaultChild) },
      MICROVM_APP_PORTS: '[8080]',
      MICROVM_HOOKS_PORT: '9000',
      MICROVM_TOKEN_TTL_SECONDS: '300',
      MICROVM_IDLE_POLICY: '{"maxIdleDurationSeconds":900,"suspendedDurationSeconds":3600,"autoResumeEnabled":true}',
      MICROVM_MAX_DURATION_SECONDS: '3600',
      MICROVM_MAX_SESSIONS: '',
      MICROVM_MAX_SESSIONS_PER_OWNER: '',
      MICROVM_OWNER_KEY: 'PRINCIPAL',
      // lifecycle events go to the default bus; the usage knows the image's baseline memory.
      MICROVM_EVENT_BUS_NAME: {
        'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':event-bus/default']],
      },
      MICROVM_BASELINE_MEMORY_MIB: '2048',
      POWERTOOLS_METRICS_NAMESPACE: 'LambdaMicrovms',
      POWERTOOLS_SERVICE_NAME: orchestrator.serviceName,
      AWS_NODEJS_CONNECTION_REUSE_ENABLED: '1',
    });
    expect(stack.resolve(vars.MICROVM_INGRESS_CONNECTORS)).toEqual({
      'Fn::Join': ['', ['["arn:', { Ref: 'AWS::Partition' }, ':lambda:', { Ref: 'AWS::Region' }, ':aws:network-connector:aws-network-connector:HTTP_INGRESS"]']],
    });
    expect(orchestrator.serviceName).toMatch(/^Stack-Orch-[A-F0-9]{8}$/);
  });

  test('records the run configuration as metadata on its CfnFunction', () => {
    // WHEN
    const { stack, orchestrator, template } = build({}, 9000);

    // THEN
    const connectorArn = { 'Fn::GetAtt': [expect.stringMatching(/^OrchNetworkConnector/), 'Arn'] };
    expect(metadataOf(template)).toEqual({
      imageArn: IMAGE_ARN,
      imageVersion: { 'Fn::GetAtt': [SMOKE_TEST_ID, 'ImageVersion'] },
      egressNetworkConnectors: [connectorArn],
      egressMode: 'ISOLATED',
      ingressNetworkConnectors: [managedArn('HTTP_INGRESS')],
      appPorts: [8080],
      hooksPort: 9000,
      tokenTtlSeconds: 300,
      allPortsTokens: false,
      idlePolicy: { maxIdleDurationSeconds: 900, suspendedDurationSeconds: 3600, autoResumeEnabled: true },
      maximumDurationSeconds: 3600,
      executionRoleArn: { 'Fn::GetAtt': [stack.getLogicalId(orchestrator.executionRole.node.defaultChild as iam.CfnRole), 'Arn'] },
    });
  });
});

describe('default egress', () => {
  test('is a new isolated MicrovmNetwork: no internet or NAT gateway, a connector for MicroVMs', () => {
    // WHEN
    const { template, orchestrator } = build();

    // THEN
    expect(orchestrator.egress.mode).toBe('ISOLATED');
    template.resourceCountIs('AWS::Lambda::NetworkConnector', 1);
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.hasResourceProperties('AWS::Lambda::NetworkConnector', {
      Configuration: { VpcEgressConfiguration: Match.objectLike({ AssociatedComputeResourceTypes: ['MicroVm'] }) },
    });
  });
});

describe('execution role', () => {
  test('trusts lambda.amazonaws.com with AssumeRole and TagSession for this account only', () => {
    // WHEN
    const { template } = build();

    // THEN
    template.hasResourceProperties('AWS::IAM::Role', {
      Description: Match.stringLikeRegexp('runtime logs only'),
      AssumeRolePolicyDocument: {
        Statement: [{
          Action: ['sts:AssumeRole', 'sts:TagSession'],
          Effect: 'Allow',
          Principal: { Service: 'lambda.amazonaws.com' },
          Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
        }],
      },
      ManagedPolicyArns: Match.absent(),
    });
  });

  test('may only write to the runtime log group', () => {
    // WHEN
    const { stack, orchestrator, template } = build();

    // THEN
    const roleId = stack.getLogicalId(orchestrator.executionRole.node.defaultChild as iam.CfnRole);
    const policies = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } }));
    expect(policies.flatMap((p: any) => p.Properties.PolicyDocument.Statement)).toEqual([{
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Effect: 'Allow',
      Resource: { 'Fn::GetAtt': [stack.getLogicalId(orchestrator.runtimeLogGroup!.node.defaultChild as logs.CfnLogGroup), 'Arn'] },
    }]);
  });

  test('a given executionRole is used and passed instead of a new one', () => {
    // GIVEN
    const app = new App();
    const stack = new Stack(app, 'Stack');
    const role = iam.Role.fromRoleArn(stack, 'Given', 'arn:aws:iam::123456789012:role/vm', { mutable: false });

    // WHEN
    const orchestrator = new MicrovmOrchestrator(stack, 'Orch', { image: newImage(stack), executionRole: role });

    // THEN
    const template = Template.fromStack(stack);
    expect(orchestrator.executionRole).toBe(role);
    expect(orchestrator.node.tryFindChild('ExecutionRole')).toBeUndefined();
    expect(env(template, /session API/).MICROVM_EXECUTION_ROLE_ARN).toBe('arn:aws:iam::123456789012:role/vm');
    expect(policyOf(template, stack, orchestrator.orchestratorFunction)).toContainEqual(
      expect.objectContaining({ Action: 'iam:PassRole', Resource: 'arn:aws:iam::123456789012:role/vm' }));
  });
});

describe('least privilege', () => {
  test('orchestrator: MicroVM actions on the image ARN only, no ListMicrovms, connectors and role scoped, no table scan', () => {
    // WHEN
    const { stack, orchestrator, template } = build();

    // THEN
    const statements = policyOf(template, stack, orchestrator.orchestratorFunction);
    const onImage = statements.filter((s) => JSON.stringify(s.Action).includes('Microvm'));
    expect(onImage.length).toBeGreaterThan(0);
    for (const s of onImage) expect(s.Resource).toEqual(IMAGE_ARN);
    // "*" only for X-Ray's trace writes (active tracing), which have no resource type. The session API never lists
    // MicroVMs, so it does not hold ListMicrovms (which could only be granted on "*").
    expect(statements.filter((s) => s.Resource === '*')).toEqual([
      { Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' },
    ]);
    expect(JSON.stringify(statements)).not.toContain('ListMicrovms');
    expect(statements).toContainEqual(expect.objectContaining({
      Action: 'lambda:PassNetworkConnector',
      Resource: connectorResources([{ 'Fn::GetAtt': [expect.stringMatching(/^OrchNetworkConnector/), 'Arn'] }, managedArn('HTTP_INGRESS')]),
    }));
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: { 'Fn::GetAtt': [stack.getLogicalId(orchestrator.executionRole.node.defaultChild as iam.CfnRole), 'Arn'] },
    });
    const dynamo = statements.filter((s) => JSON.stringify(s.Action).includes('dynamodb:'));
    expect(dynamo).toHaveLength(1);
    expect(dynamo[0].Action).not.toContain('dynamodb:Scan');
    expect([...dynamo[0].Action].sort()).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem']);
  });

  test('sweeper: list on *, get and terminate on the image ARN, version pruning on the image ARN, nothing else, table scan allowed', () => {
    // WHEN
    const { stack, orchestrator, template } = build();

    // THEN
    const statements = policyOf(template, stack, orchestrator.sweeperFunction);
    const microvm = statements.filter((s) => JSON.stringify(s.Action).includes('lambda:'));
    expect(microvm).toEqual([
      { Action: 'lambda:ListMicrovms', Effect: 'Allow', Resource: '*' },
      { Action: ['lambda:GetMicrovm', 'lambda:TerminateMicrovm'], Effect: 'Allow', Resource: IMAGE_ARN },
      { Action: ['lambda:ListMicrovmImageVersions', 'lambda:DeleteMicrovmImageVersion', 'lambda:GetMicrovmImage'], Effect: 'Allow', Resource: IMAGE_ARN },
    ]);
    expect(JSON.stringify(statements)).not.toMatch(/iam:PassRole|RunMicrovm|PassNetworkConnector|UpdateMicrovmImageVersion/);
    const dynamo = statements.filter((s) => JSON.stringify(s.Action).includes('dynamodb:'));
    expect(dynamo).toHaveLength(1);
    expect([...dynamo[0].Action].sort()).toEqual([
      'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:UpdateItem',
    ]);
  });

  test('function roles have no managed policies and write only to their own log group', () => {
    // WHEN
    const { stack, orchestrator, template } = build();

    // THEN
    for (const fn of [orchestrator.orchestratorFunction, orchestrator.sweeperFunction]) {
      const role = template.toJSON().Resources[stack.getLogicalId(fn.role!.node.defaultChild as iam.CfnRole)];
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      const logStatements = policyOf(template, stack, fn).filter((s) => JSON.stringify(s.Action).includes('logs:'));
      expect(logStatements).toHaveLength(1);
      expect(logStatements[0].Resource['Fn::GetAtt'][0]).toMatch(fn === orchestrator.orchestratorFunction ? /OrchestratorLogs/ : /SweeperLogs/);
    }
  });

  test('with encryptionKey both functions may use the key', () => {
    // GIVEN
    const app = new App();
    const stack = new Stack(app, 'Stack', { env: { region: 'eu-west-1', account: '123456789012' } });
    const key = new kms.Key(stack, 'Key');

    // WHEN
    const orchestrator = new MicrovmOrchestrator(stack, 'Orch', { image: newImage(stack), encryptionKey: key });

    // THEN
    const template = Template.fromStack(stack);
    for (const fn of [orchestrator.orchestratorFunction, orchestrator.sweeperFunction]) {
      expect(policyOf(template, stack, fn)).toContainEqual(expect.objectContaining({
        Action: expect.arrayContaining(['kms:Decrypt', 'kms:Encrypt']),
        Resource: { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] },
      }));
    }
  });
});

describe('grantSessions', () => {
  test('grants lambda:InvokeFunctionUrl on the orchestrator, AWS_IAM auth only', () => {
    // GIVEN
    const app = new App();
    const stack = new Stack(app, 'Stack');
    const orchestrator = new MicrovmOrchestrator(stack, 'Orch', { image: newImage(stack) });
    const caller = new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });

    // WHEN
    orchestrator.grantSessions(caller);

    // THEN
    const template = Template.fromStack(stack);
    const fnArn = { 'Fn::GetAtt': [logicalId(stack, orchestrator.orchestratorFunction), 'Arn'] };
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: stack.getLogicalId(caller.node.defaultChild as iam.CfnRole) }],
      PolicyDocument: {
        Statement: Match.arrayWith([{
          Action: 'lambda:InvokeFunctionUrl',
          Effect: 'Allow',
          Resource: fnArn,
          Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } },
        }]),
      },
    });
    // function URLs also check lambda:InvokeFunction, limited here to calls that come through the URL.
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: stack.getLogicalId(caller.node.defaultChild as iam.CfnRole) }],
      PolicyDocument: {
        Statement: Match.arrayWith([{
          Action: 'lambda:InvokeFunction',
          Effect: 'Allow',
          Resource: fnArn,
          Condition: { Bool: { 'lambda:InvokedViaFunctionUrl': true } },
        }]),
      },
    });
  });
});

describe('sweeper', () => {
  test('runs every 5 minutes by default, without retries of stale sweeps', () => {
    // WHEN
    const { stack, orchestrator, template } = build();

    // THEN
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalId(stack, orchestrator.sweeperFunction), 'Arn'] } })],
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 300 });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('sweeper'),
      Runtime: 'nodejs24.x',
      Timeout: 300,
    });
  });

  test('gets the table, image, lifetime, grace period and metrics config', () => {
    // WHEN
    const { orchestrator, template } = build({ orphanGracePeriod: Duration.minutes(20), maxSessionDuration: Duration.hours(2) });

    // THEN
    expect(env(template, /sweeper/)).toEqual({
      SESSIONS_TABLE_NAME: expect.anything(),
      MICROVM_IMAGE_ARN: IMAGE_ARN,
      MICROVM_MAX_DURATION_SECONDS: '7200',
      MICROVM_IDLE_POLICY: '{"maxIdleDurationSeconds":900,"suspendedDurationSeconds":3600,"autoResumeEnabled":true}',
      MICROVM_ORPHAN_GRACE_SECONDS: '1200',
      // the version the smoke test passed is the one pruning never deletes.
      MICROVM_IMAGE_VERSION: { 'Fn::GetAtt': [SMOKE_TEST_ID, 'ImageVersion'] },
      MICROVM_KEEP_VERSIONS: '10',
      MICROVM_EVENT_BUS_NAME: {
        'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':event-bus/default']],
      },
      MICROVM_BASELINE_MEMORY_MIB: '2048',
      POWERTOOLS_METRICS_NAMESPACE: 'LambdaMicrovms',
      POWERTOOLS_SERVICE_NAME: orchestrator.serviceName,
      AWS_NODEJS_CONNECTION_REUSE_ENABLED: '1',
    });
    expect(env(template, /sweeper/).SESSIONS_TABLE_NAME).toEqual(env(template, /session API/).SESSIONS_TABLE_NAME);
  });

  test('waits 10 minutes before an unowned MicroVM may be terminated by default', () => {
    expect(env(build().template, /sweeper/).MICROVM_ORPHAN_GRACE_SECONDS).toBe('600');
  });

  test('sweepInterval sets the schedule and the event age', () => {
    // WHEN
    const { template } = build({ sweepInterval: Duration.minutes(15) });

    // THEN
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(15 minutes)' });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumEventAgeInSeconds: 900 });
  });
});

describe('props', () => {
  test('imageVersion pins the version in env and metadata (without a smoke test)', () => {
    // WHEN
    const { template } = build({ imageVersion: '3', smokeTest: SmokeTest.disabled() });

    // THEN
    expect(env(template, /session API/).MICROVM_IMAGE_VERSION).toBe('3');
    expect(metadataOf(template).imageVersion).toBe('3');
  });

  test('a pinned imageVersion is smoke-tested too, and launched once it passed', () => {
    // WHEN
    const { template } = build({ imageVersion: '3' });

    // THEN
    template.hasResourceProperties('Custom::MicrovmSmokeTest', { ImageVersion: '3' });
    expect(env(template, /session API/).MICROVM_IMAGE_VERSION).toEqual({ 'Fn::GetAtt': [SMOKE_TEST_ID, 'ImageVersion'] });
  });

  test('an imported image that knows its latest active version launches that version', () => {
    // GIVEN
    const app = new App();
    const stack = new Stack(app, 'Stack');
    const image = MicrovmImage.fromImageAttributes(stack, 'Image', {
      imageArn: 'arn:aws:lambda:us-east-1:123456789012:microvm-image:sandbox',
      latestActiveVersion: '7',
    });

    // WHEN
    new MicrovmOrchestrator(stack, 'Orch', { image });

    // THEN the smoke test tests that version, and the orchestrator launches what passed.
    const template = Template.fromStack(stack);
    template.hasResourceProperties('Custom::MicrovmSmokeTest', {
      ImageArn: 'arn:aws:lambda:us-east-1:123456789012:microvm-image:sandbox',
      ImageVersion: '7',
    });
    expect(env(template, /session API/)).toEqual(expect.objectContaining({
      MICROVM_IMAGE_ARN: 'arn:aws:lambda:us-east-1:123456789012:microvm-image:sandbox',
      MICROVM_IMAGE_VERSION: { 'Fn::GetAtt': [SMOKE_TEST_ID, 'ImageVersion'] },
    }));
  });

  test('an imported image with no known version: the smoke test resolves the latest at deploy time, with no warning', () => {
    // GIVEN
    const app = new App();
    const stack = new Stack(app, 'Stack');
    const image = MicrovmImage.fromImageArn(stack, 'Image', 'arn:aws:lambda:us-east-1:123456789012:microvm-image:sandbox');

    // WHEN
    new MicrovmOrchestrator(stack, 'Orch', { image });

    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('Custom::MicrovmSmokeTest', { ImageVersion: '' });
    expect(env(template, /session API/).MICROVM_IMAGE_VERSION).toEqual({ 'Fn::GetAtt': [SMOKE_TEST_ID, 'ImageVersion'] });
    Annotations.fromStack(stack).hasNoWarning('/Stack/Orch', Match.anyValue());
  });

  test('an imported image with no known version and no smoke test launches the latest at launch time, with a warning', () => {
    // GIVEN
    const app = new App();
    const stack = new Stack(app, 'Stack');
    const image = MicrovmImage.fromImageArn(stack, 'Image', 'arn:aws:lambda:us-east-1:123456789012:microvm-image:sandbox');

    // WHEN
    new MicrovmOrchestrator(stack, 'Orch', { image, smokeTest: SmokeTest.disabled() });

    // THEN
    const template = Template.fromStack(stack);
    expect(env(template, /session API/).MICROVM_IMAGE_VERSION).toBe('');
    Annotations.fromStack(stack).hasWarning('/Stack/Orch', Match.stringLikeRegexp('Pass imageVersion to pin one'));
  });

  test('Egress.internet() is passed explicitly and recorded as INTERNET; no network is created', () => {
    // WHEN
    const { template } = build({ egress: Egress.internet() });

    // THEN
    template.resourceCountIs('AWS::Lambda::NetworkConnector', 0);
    template.resourceCountIs('AWS::EC2::VPC', 0);
    expect(metadataOf(template)).toEqual(expect.objectContaining({ egressMode: 'INTERNET', egressNetworkConnectors: [managedArn('INTERNET_EGRESS')] }));
  });

  test('Egress.connector() uses the given connector and reports VPC', () => {
    // GIVEN
    const app = new App();
    const stack = new Stack(app, 'Stack');
    const connector = lambda.NetworkConnector.fromNetworkConnectorArn(stack, 'C', 'arn:aws:lambda:us-east-1:123456789012:network-connector:nc-1');

    // WHEN
    new MicrovmOrchestrator(stack, 'Orch', { image: newImage(stack), egress: Egress.connector(connector) });

    // THEN
    const template = Template.fromStack(stack);
    expect(env(template, /session API/).MICROVM_EGRESS_CONNECTORS).toBe('["arn:aws:lambda:us-east-1:123456789012:network-connector:nc-1"]');
    expect(metadataOf(template).egressMode).toBe('VPC');
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Action: 'lambda:PassNetworkConnector',
          Resource: connectorResources(['arn:aws:lambda:us-east-1:123456789012:network-connector:nc-1', managedArn('HTTP_INGRESS')]),
        })]),
      },
    });
  });

  test('ingress connectors are rendered, validated and passable', () => {
    // WHEN
    const { template } = build({ ingress: [Ingress.http(), Ingress.shell()] });

    // THEN
    expect(metadataOf(template).ingressNetworkConnectors).toEqual([managedArn('HTTP_INGRESS'), managedArn('SHELL_INGRESS')]);
  });

  test('appPorts, tokenTtl, maxSessionDuration and admission limits reach env and metadata', () => {
    // WHEN
    const { template } = build({
      appPorts: [8080, 3000],
      tokenTtl: Duration.minutes(15),
      maxSessionDuration: Duration.hours(8),
      maxSessions: 100,
      maxSessionsPerOwner: 3,
    });

    // THEN
    const vars = env(template, /session API/);
    expect(vars).toEqual(expect.objectContaining({
      MICROVM_APP_PORTS: '[8080,3000]',
      MICROVM_TOKEN_TTL_SECONDS: '900',
      MICROVM_MAX_DURATION_SECONDS: '28800',
      MICROVM_MAX_SESSIONS: '100',
      MICROVM_MAX_SESSIONS_PER_OWNER: '3',
      MICROVM_HOOKS_PORT: '',
    }));
    expect(metadataOf(template)).toEqual(expect.objectContaining({ appPorts: [8080, 3000], tokenTtlSeconds: 900, maximumDurationSeconds: 28800 }));
    expect(metadataOf(template).hooksPort).toBeUndefined();
  });

  test('IdlePolicy.none() sends no idle policy', () => {
    // WHEN
    const { template } = build({ idlePolicy: IdlePolicy.none() });

    // THEN
    expect(env(template, /session API/).MICROVM_IDLE_POLICY).toBe('');
    expect(metadataOf(template).idlePolicy).toBeUndefined();
  });

  test('a custom idle policy is rendered whole', () => {
    // WHEN
    const idlePolicy = IdlePolicy.suspendAfter(Duration.minutes(2), { terminateAfter: Duration.seconds(0), autoResume: false });
    const { template } = build({ idlePolicy });

    // THEN
    expect(env(template, /session API/).MICROVM_IDLE_POLICY).toBe('{"maxIdleDurationSeconds":120,"suspendedDurationSeconds":0,"autoResumeEnabled":false}');
  });

  test('runtimeLogging: MicrovmLogging.disabled() creates no runtime log group and grants the VMs nothing', () => {
    // WHEN
    const { stack, orchestrator, template } = build({ runtimeLogging: MicrovmLogging.disabled() });

    // THEN
    expect(orchestrator.runtimeLogGroup).toBeUndefined();
    expect(env(template, /session API/).MICROVM_RUNTIME_LOG_GROUP).toBe('');
    expect(Object.keys(template.findResources('AWS::Logs::LogGroup')).filter((id) => /Runtime/.test(id))).toEqual([]);
    expect(orchestrator.node.tryFindChild('RuntimeLogs')).toBeUndefined();
    const roleId = stack.getLogicalId(orchestrator.executionRole.node.defaultChild as iam.CfnRole);
    expect(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } })).toEqual({});
  });

  test('runtimeLogging: MicrovmLogging.newLogGroup(options) shapes the runtime log group only', () => {
    // GIVEN
    const app = new App();
    const stack = new Stack(app, 'Stack');
    const key = new kms.Key(stack, 'LogKey');

    // WHEN
    const orchestrator = new MicrovmOrchestrator(stack, 'Orch', {
      image: newImage(stack),
      runtimeLogging: MicrovmLogging.newLogGroup({
        retention: logs.RetentionDays.ONE_YEAR, removalPolicy: RemovalPolicy.DESTROY, encryptionKey: key,
      }),
    });

    // THEN
    const template = Template.fromStack(stack);
    const runtimeId = stack.getLogicalId(orchestrator.node.findChild('RuntimeLogs').node.defaultChild as logs.CfnLogGroup);
    expect(template.toJSON().Resources[runtimeId]).toMatchObject({
      Properties: { RetentionInDays: 365, KmsKeyId: { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] } },
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Delete',
    });
    // CloudWatch Logs may use the key it was given.
    template.hasResourceProperties('AWS::KMS::Key', {
      Description: Match.absent(),
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'CloudWatchLogsOfThisAccount' })]) },
    });
    // the function log groups keep their defaults.
    for (const id of ['OrchestratorLogs', 'SweeperLogs']) {
      const group = template.toJSON().Resources[stack.getLogicalId(orchestrator.node.findChild(id).node.defaultChild as logs.CfnLogGroup)];
      expect(group).toMatchObject({ Properties: { RetentionInDays: 30 }, DeletionPolicy: 'Retain' });
    }
  });

  test('runtimeLogging: MicrovmLogging.logGroup(existing) sends the VMs there and lets the execution role write to it', () => {
    // GIVEN
    const app = new App();
    const stack = new Stack(app, 'Stack');
    const existing = new logs.LogGroup(stack, 'Existing');

    // WHEN
    const orchestrator = new MicrovmOrchestrator(stack, 'Orch', { image: newImage(stack), runtimeLogging: MicrovmLogging.logGroup(existing) });

    // THEN
    const template = Template.fromStack(stack);
    expect(orchestrator.runtimeLogGroup).toBe(existing);
    expect(orchestrator.node.tryFindChild('RuntimeLogs')).toBeUndefined();
    expect(env(template, /session API/).MICROVM_RUNTIME_LOG_GROUP).toEqual(stack.resolve(existing.logGroupName));
    const roleId = stack.getLogicalId(orchestrator.executionRole.node.defaultChild as iam.CfnRole);
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: roleId }],
      PolicyDocument: { Statement: [Match.objectLike({ Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: stack.resolve(existing.logGroupArn) })] },
    });
  });

  test('logging: MicrovmLogging.newLogGroup(options) shapes both function log groups, not the runtime one', () => {
    // WHEN
    const { stack, orchestrator, template } = build({
      logging: MicrovmLogging.newLogGroup({ retention: logs.RetentionDays.ONE_YEAR, removalPolicy: RemovalPolicy.DESTROY }),
    });

    // THEN
    const groups = template.toJSON().Resources;
    const idOf = (id: string) => stack.getLogicalId(orchestrator.node.findChild(id).node.defaultChild as logs.CfnLogGroup);
    for (const id of ['OrchestratorLogs', 'SweeperLogs']) {
      expect(groups[idOf(id)]).toMatchObject({ Properties: { RetentionInDays: 365 }, DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
      // still encrypted with the orchestrator's own key.
      expect(groups[idOf(id)].Properties.KmsKeyId).toEqual(stack.resolve(orchestrator.encryptionKey!.keyArn));
    }
    expect(groups[idOf('RuntimeLogs')]).toMatchObject({ Properties: { RetentionInDays: 30 }, DeletionPolicy: 'Retain' });
  });

  test('logging: MicrovmLogging.logGroup(existing) receives every function\'s logs, and each role may write to it', () => {
    // GIVEN
    const app = new App();
    const stack = new Stack(app, 'Stack');
    const existing = new logs.LogGroup(stack, 'Existing');

    // WHEN
    const orchestrator = new MicrovmOrchestrator(stack, 'Orch', { image: newImage(stack), logging: MicrovmLogging.logGroup(existing) });

    // THEN
    const template = Template.fromStack(stack);
    expect(orchestrator.node.tryFindChild('OrchestratorLogs')).toBeUndefined();
    expect(orchestrator.node.tryFindChild('SweeperLogs')).toBeUndefined();
    expect(orchestrator.node.tryFindChild('SmokeTestLogs')).toBeUndefined();
    const fns = template.findResources('AWS::Lambda::Function', { Properties: { LoggingConfig: { LogGroup: stack.resolve(existing.logGroupName) } } });
    const all = [orchestrator.orchestratorFunction, orchestrator.sweeperFunction, orchestrator.smokeTestFunction!];
    expect(Object.keys(fns).sort()).toEqual(all.map((fn) => logicalId(stack, fn)).sort());
    for (const fn of all) {
      expect(policyOf(template, stack, fn)).toContainEqual(expect.objectContaining({
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: stack.resolve(existing.logGroupArn),
      }));
    }
    // the runtime log group is still the orchestrator's own.
    expect(orchestrator.runtimeLogGroup).toBeDefined();
    expect(orchestrator.runtimeLogGroup).not.toBe(existing);
  });

  test('metricsNamespace reaches both functions and the metrics', () => {
    // WHEN
    const { orchestrator, template } = build({ metricsNamespace: 'Acme/Sandboxes' });

    // THEN
    expect(env(template, /session API/).POWERTOOLS_METRICS_NAMESPACE).toBe('Acme/Sandboxes');
    expect(env(template, /sweeper/).POWERTOOLS_METRICS_NAMESPACE).toBe('Acme/Sandboxes');
    expect(orchestrator.metricSessionsCreated().namespace).toBe('Acme/Sandboxes');
  });

  test('dashboard false creates no dashboard but keeps the alarms', () => {
    // WHEN
    const { orchestrator, template } = build({ dashboard: false });

    // THEN
    expect(orchestrator.dashboard).toBeUndefined();
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 4);
  });
});

describe('validation', () => {
  test.each<[string, Partial<MicrovmOrchestratorProps>, RegExp]>([
    ['appPorts is empty', { appPorts: [] }, /appPorts must name at least one port, got \[\]/],
    ['an app port is 0', { appPorts: [0] }, /appPorts must contain only ports from 1 to 65535, got \[0\]/],
    ['an app port is above 65535', { appPorts: [65536] }, /appPorts must contain only ports from 1 to 65535/],
    ['an app port is not an integer', { appPorts: [80.5] }, /appPorts must contain only ports from 1 to 65535/],
    ['an app port repeats', { appPorts: [8080, 8080] }, /appPorts must not repeat a port/],
    ['tokenTtl is under a minute', { tokenTtl: Duration.seconds(30) }, /tokenTtl must be whole minutes from 1 to 60, got "30 seconds"/],
    ['tokenTtl is over 60 minutes', { tokenTtl: Duration.minutes(61) }, /tokenTtl must be whole minutes from 1 to 60/],
    ['tokenTtl is not whole minutes', { tokenTtl: Duration.seconds(90) }, /tokenTtl must be whole minutes from 1 to 60/],
    ['maxSessionDuration is over 8 hours', { maxSessionDuration: Duration.seconds(28_801) }, /maxSessionDuration must be whole seconds from 1 second to 8 hours/],
    ['maxSessionDuration is under a second', { maxSessionDuration: Duration.millis(500) }, /maxSessionDuration must be whole seconds/],
    ['maxSessions is 0', { maxSessions: 0 }, /maxSessions must be a positive integer, got 0/],
    ['maxSessionsPerOwner is fractional', { maxSessionsPerOwner: 1.5 }, /maxSessionsPerOwner must be a positive integer, got 1.5/],
    ['maxSessionsPerOwner exceeds maxSessions', { maxSessions: 2, maxSessionsPerOwner: 3 }, /maxSessionsPerOwner must not exceed maxSessions \(2\), got 3/],
    ['sweepInterval is under a minute', { sweepInterval: Duration.seconds(30) }, /sweepInterval must be whole minutes from 1 to 60/],
    ['sweepInterval is over an hour', { sweepInterval: Duration.minutes(61) }, /sweepInterval must be whole minutes from 1 to 60/],
    ['orphanGracePeriod is under a minute', { orphanGracePeriod: Duration.seconds(59) }, /orphanGracePeriod must be whole seconds from 1 minute to 8 hours/],
    ['removalPolicy is SNAPSHOT', { removalPolicy: RemovalPolicy.SNAPSHOT }, /removalPolicy must be RETAIN, RETAIN_ON_UPDATE_OR_DELETE or DESTROY/],
    ['ingress is empty', { ingress: [] }, /ingress must name at least one ingress connector/],
    ['ingress combines NO_INGRESS with others', { ingress: [Ingress.none(), Ingress.http()] }, /ingress must not combine NO_INGRESS/],
    ['encryptionKey is used in a region-agnostic stack', { encryptionKey: kms.Key.fromKeyArn(new Stack(), 'K', 'arn:aws:kms:us-east-1:123456789012:key/k') },
      /encryptionKey must be used in a stack with an explicit region/],
    ['metricsNamespace has spaces', { metricsNamespace: 'my namespace' }, /metricsNamespace must be 1-255 characters/],
    ['logging is disabled', { logging: MicrovmLogging.disabled() },
      /^Stack\/Orch: logging must keep the orchestrator and sweeper logs \(they are the audit trail of every session launched and every MicroVM terminated\), got "MicrovmLogging.disabled\(\)". Use MicrovmLogging.newLogGroup/],
  ])('fails if %s', (_name, props, message) => {
    expect(() => build(props)).toThrow(message);
  });

  test('fails if appPorts includes the image hooks port', () => {
    expect(() => build({ appPorts: [8080, 9000] }, 9000)).toThrow(/appPorts must not include the image's hooks port 9000, got \[8080,9000\]/);
  });

  test('accepts the bounds', () => {
    expect(() => build({
      appPorts: [1, 65535],
      tokenTtl: Duration.minutes(60),
      maxSessionDuration: Duration.seconds(1),
      sweepInterval: Duration.minutes(1),
      orphanGracePeriod: Duration.hours(8),
      maxSessions: 1,
      maxSessionsPerOwner: 1,
    })).not.toThrow();
  });

  test('skips validation for tokens', () => {
    // GIVEN
    const app = new App();
    const stack = new Stack(app, 'Stack');
    const n = (id: string) => new CfnParameter(stack, id, { type: 'Number' }).valueAsNumber;

    // WHEN
    new MicrovmOrchestrator(stack, 'Orch', {
      image: newImage(stack),
      appPorts: [n('Port')],
      tokenTtl: Duration.seconds(n('Ttl')),
      sweepInterval: Duration.minutes(n('Sweep')),
      maxSessionDuration: Duration.seconds(n('Max')),
      maxSessions: n('MaxSessions'),
      maxSessionsPerOwner: n('PerOwner'),
      orphanGracePeriod: Duration.seconds(n('Grace')),
    });

    // THEN
    const template = Template.fromStack(stack);
    const vars = env(template, /session API/);
    expect(JSON.stringify(vars.MICROVM_APP_PORTS)).toContain('Port');
    expect(vars.MICROVM_TOKEN_TTL_SECONDS).toEqual({ Ref: 'Ttl' });
    expect(vars.MICROVM_MAX_SESSIONS).toEqual({ Ref: 'MaxSessions' });
    expect(env(template, /sweeper/).MICROVM_ORPHAN_GRACE_SECONDS).toEqual({ Ref: 'Grace' });
    expect(vars.MICROVM_MAX_DURATION_SECONDS).toEqual({ Ref: 'Max' });
    expect(vars.MICROVM_MAX_SESSIONS_PER_OWNER).toEqual({ Ref: 'PerOwner' });
    // the schedule's rate is the parameter itself, not a default that merely has "Sweep" in its logical id.
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: { 'Fn::Join': ['', ['rate(', { Ref: 'Sweep' }, ' minutes)']] },
    });
  });

  test('an error names the construct path, so two orchestrators of one app are told apart', () => {
    const app = new App();
    const stack = new Stack(app, 'Stack');
    const image = newImage(stack);
    new MicrovmOrchestrator(stack, 'Interpreter', { image });
    expect(() => new MicrovmOrchestrator(stack, 'Runners', { image, tokenTtl: Duration.seconds(30) }))
      .toThrow(/^Stack\/Runners: tokenTtl must be whole minutes from 1 to 60, got "30 seconds"\. /);
  });
});

describe('operations defaults that the compliance packs ask for', () => {
  test('every alarm notifies the alarm topic on ALARM and OK; a user topic replaces the default one', () => {
    // GIVEN
    const stack = new Stack(new App(), 'Stack', { env: { region: 'us-east-1', account: '123456789012' } });
    const topic = new sns.Topic(stack, 'Pager');

    // WHEN
    const orchestrator = new MicrovmOrchestrator(stack, 'Orch', { image: newImage(stack), alarmTopic: topic });

    // THEN
    const template = Template.fromStack(stack);
    expect(orchestrator.alarmTopic).toBe(topic);
    template.resourceCountIs('AWS::SNS::Topic', 1);
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(4);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: stack.getLogicalId(topic.node.defaultChild as sns.CfnTopic) }]);
      expect(alarm.Properties.OKActions).toEqual(alarm.Properties.AlarmActions);
    }
  });

  test('a sweep that fails or never runs lands in the failure queue: schedule DLQ and on-failure destination', () => {
    // WHEN
    const { stack, orchestrator, template } = build();

    // THEN
    const queueArn = { 'Fn::GetAtt': [stack.getLogicalId(orchestrator.sweeperFailureQueue.node.defaultChild as sqs.CfnQueue), 'Arn'] };
    template.hasResourceProperties('AWS::Events::Rule', { Targets: [Match.objectLike({ DeadLetterConfig: { Arn: queueArn } })] });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 0,
      DestinationConfig: { OnFailure: { Destination: queueArn } },
    });
    template.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 1209600 });
  });

  test('every function traces with X-Ray by default, and tracing can be turned off', () => {
    const tracing = (t: Template) => Object.values(t.findResources('AWS::Lambda::Function', { Properties: { Handler: 'index.handler' } }))
      .map((r) => r.Properties.TracingConfig?.Mode);
    expect(tracing(build().template)).toEqual(['Active', 'Active', 'Active']);
    expect(tracing(build({ tracing: lambda.Tracing.DISABLED }).template)).toEqual([undefined, undefined, undefined]);
  });
});
