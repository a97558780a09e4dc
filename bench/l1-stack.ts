// the code-interpreter example (examples/code-interpreter/app.ts) written with L1 constructs only: the same
// resources with the same main properties, as a user would write them by hand without this library. Assets
// (the image's build context and the two bundled handlers) still go through `aws_s3_assets.Asset`, the only way
// to stage files for an L1. It is the synth-time baseline of bench/synth.ts, never deployed.
import * as path from 'path';
import {
  Aws,
  CfnOutput,
  Fn,
  Stack,
  StackProps,
  Validations,
  aws_cloudwatch as cloudwatch,
  aws_dynamodb as dynamodb,
  aws_ec2 as ec2,
  aws_events as events,
  aws_iam as iam,
  aws_kms as kms,
  aws_lambda as lambda,
  aws_logs as logs,
  aws_s3_assets as assets,
  CfnCustomResource,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';

const ROOT = path.join(__dirname, '..');
const LAMBDA_TRUST = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] };

function policy(statements: unknown[]): unknown {
  return { Version: '2012-10-17', Statement: statements };
}

function arn(service: string, resource: string, region: string = Aws.REGION, account: string = Aws.ACCOUNT_ID): string {
  return `arn:${Aws.PARTITION}:${service}:${region}:${account}:${resource}`;
}

export class L1CodeInterpreterStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const serviceName = 'CodeInterpreter-Conversations';
    const namespace = 'LambdaMicrovms';

    const key = new kms.CfnKey(this, 'Key', {
      description: 'Encrypts the MicroVM image configuration and build logs, the sessions table and the logs',
      enableKeyRotation: true,
      keyPolicy: policy([
        { Effect: 'Allow', Principal: { AWS: `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:root` }, Action: 'kms:*', Resource: '*' },
        {
          Effect: 'Allow',
          Principal: { Service: `logs.${Aws.REGION}.amazonaws.com` },
          Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
          Resource: '*',
          Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': arn('logs', 'log-group:*') } },
        },
      ]),
    });

    // ---- image ----
    const context = new assets.Asset(this, 'InterpreterContext', { path: path.join(ROOT, 'examples', 'code-interpreter', 'sandbox') });
    const buildLogs = new logs.CfnLogGroup(this, 'InterpreterLogGroup', { retentionInDays: 30 });
    const buildRole = new iam.CfnRole(this, 'InterpreterBuildRole', {
      description: 'Builds MicroVM image CodeInterpreter-interpreter',
      assumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{
          Effect: 'Allow',
          Principal: { Service: 'lambda.amazonaws.com' },
          Action: ['sts:AssumeRole', 'sts:TagSession'],
          Condition: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
        }],
      },
    });
    const buildPolicy = new iam.CfnPolicy(this, 'InterpreterBuildPolicy', {
      policyName: 'InterpreterBuildPolicy',
      roles: [buildRole.ref],
      policyDocument: policy([
        {
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: [
            arn('logs', `log-group:${buildLogs.ref}`),
            arn('logs', `log-group:${buildLogs.ref}:*`),
            arn('logs', `log-group:${buildLogs.ref}:log-stream:*`),
          ],
        },
        { Effect: 'Allow', Action: 'kms:Decrypt', Resource: key.attrArn },
        { Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:${Aws.PARTITION}:s3:::${context.s3BucketName}/${context.s3ObjectKey}` },
      ]),
    });
    const image = new lambda.CfnMicrovmImage(this, 'Interpreter', {
      name: 'CodeInterpreter-interpreter',
      description: 'Python code interpreter, one MicroVM per conversation',
      additionalOsCapabilities: [],
      baseImageArn: `arn:${Aws.PARTITION}:lambda:${Aws.REGION}:aws:microvm-image:al2023-1`,
      baseImageVersion: '0',
      buildRoleArn: buildRole.attrArn,
      codeArtifact: { uri: context.s3ObjectUrl },
      cpuConfigurations: [{ architecture: 'ARM_64' }],
      egressNetworkConnectors: [`arn:${Aws.PARTITION}:lambda:${Aws.REGION}:aws:network-connector:aws-network-connector:INTERNET_EGRESS`],
      environmentVariables: [{ key: 'EXECUTION_TIMEOUT_SECONDS', value: '30' }, { key: 'LOG_LEVEL', value: 'info' }],
      hooks: {
        port: 9000,
        microvmHooks: { resume: 'DISABLED', run: 'ENABLED', runTimeoutInSeconds: 5, suspend: 'DISABLED', terminate: 'DISABLED' },
        microvmImageHooks: { ready: 'ENABLED', readyTimeoutInSeconds: 120, validate: 'DISABLED' },
      },
      kmsKeyIdentifier: key.attrArn,
      logging: { cloudWatch: { logGroup: buildLogs.ref } },
      resources: [{ minimumMemoryInMiB: 1024 }],
    });
    image.node.addDependency(buildPolicy);
    // what the library does too: the schema bundled with aws-cdk-lib predates KmsKeyIdentifier.
    Validations.of(image).acknowledge({ id: 'CloudFormation-Validate::F3002', reason: 'KmsKeyIdentifier is missing from the bundled schema' });

    // ---- isolated network ----
    const vpc = new ec2.CfnVPC(this, 'Vpc', {
      cidrBlock: '10.0.0.0/16',
      enableDnsHostnames: true,
      enableDnsSupport: true,
      instanceTenancy: 'default',
      tags: [{ key: 'Name', value: 'CodeInterpreter/Isolated/Vpc' }],
    });
    const subnets = [0, 1].map((i) => {
      const subnet = new ec2.CfnSubnet(this, `Subnet${i + 1}`, {
        vpcId: vpc.ref,
        availabilityZone: Fn.select(i, Fn.getAzs()),
        cidrBlock: i === 0 ? '10.0.0.0/17' : '10.0.128.0/17',
        mapPublicIpOnLaunch: false,
        tags: [{ key: 'Name', value: `CodeInterpreter/Isolated/Vpc/MicrovmSubnet${i + 1}` }],
      });
      const routes = new ec2.CfnRouteTable(this, `Subnet${i + 1}RouteTable`, { vpcId: vpc.ref });
      new ec2.CfnSubnetRouteTableAssociation(this, `Subnet${i + 1}RouteTableAssociation`, { routeTableId: routes.ref, subnetId: subnet.ref });
      return subnet;
    });
    const restrictRole = new iam.CfnRole(this, 'RestrictDefaultSgRole', {
      assumeRolePolicyDocument: LAMBDA_TRUST,
      managedPolicyArns: [`arn:${Aws.PARTITION}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole`],
      policies: [{
        policyName: 'Inline',
        policyDocument: policy([{
          Effect: 'Allow',
          Action: ['ec2:AuthorizeSecurityGroupIngress', 'ec2:AuthorizeSecurityGroupEgress', 'ec2:RevokeSecurityGroupIngress', 'ec2:RevokeSecurityGroupEgress'],
          Resource: [arn('ec2', `security-group/${vpc.attrDefaultSecurityGroup}`)],
        }]),
      }],
    });
    const restrictFn = new lambda.CfnFunction(this, 'RestrictDefaultSgHandler', {
      runtime: 'nodejs24.x',
      handler: 'index.handler',
      role: restrictRole.attrArn,
      timeout: 900,
      memorySize: 128,
      description: 'Removes all inbound/outbound rules from the VPC default security group',
      code: { zipFile: 'exports.handler = async () => ({ PhysicalResourceId: "restrict" });' },
    });
    new CfnCustomResource(this, 'RestrictDefaultSg', { serviceToken: restrictFn.attrArn }).addPropertyOverride('DefaultSecurityGroupId', vpc.attrDefaultSecurityGroup);
    const flowLogs = new logs.CfnLogGroup(this, 'FlowLogs', { retentionInDays: 365 });
    const flowRole = new iam.CfnRole(this, 'FlowLogRole', {
      assumeRolePolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'vpc-flow-logs.amazonaws.com' }, Action: 'sts:AssumeRole' }] },
    });
    new iam.CfnPolicy(this, 'FlowLogPolicy', {
      policyName: 'FlowLogPolicy',
      roles: [flowRole.ref],
      policyDocument: policy([{ Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'], Resource: flowLogs.attrArn }]),
    });
    new ec2.CfnFlowLog(this, 'FlowLog', {
      resourceId: vpc.ref,
      resourceType: 'VPC',
      trafficType: 'ALL',
      logDestinationType: 'cloud-watch-logs',
      logGroupName: flowLogs.ref,
      deliverLogsPermissionArn: flowRole.attrArn,
    });
    const sg = new ec2.CfnSecurityGroup(this, 'SecurityGroup', {
      vpcId: vpc.ref,
      groupDescription: 'MicroVM network connector: outbound traffic only where opened explicitly',
      securityGroupEgress: [{ cidrIp: '255.255.255.255/32', description: 'Disallow all traffic', ipProtocol: 'icmp', fromPort: 252, toPort: 86 }],
    });
    const eni = arn('ec2', 'network-interface/*');
    const operatorRole = new iam.CfnRole(this, 'OperatorRole', {
      description: 'Lets AWS Lambda manage the network interfaces of one MicroVM network connector.',
      assumeRolePolicyDocument: LAMBDA_TRUST,
      policies: [{
        policyName: 'NetworkConnectorOperator',
        policyDocument: policy([
          {
            Effect: 'Allow',
            Action: 'ec2:CreateNetworkInterface',
            Resource: [...subnets.map((s) => arn('ec2', `subnet/${s.ref}`)), arn('ec2', `security-group/${sg.attrGroupId}`)],
          },
          {
            Effect: 'Allow',
            Action: 'ec2:CreateNetworkInterface',
            Resource: eni,
            Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['aws:lambda:networkConnectorName', 'aws:lambda:networkConnectorId'] } },
          },
          {
            Effect: 'Allow',
            Action: 'ec2:CreateTags',
            Resource: eni,
            Condition: { StringEquals: { 'ec2:CreateAction': 'CreateNetworkInterface', 'ec2:ManagedResourceOperator': 'network-connectors.lambda.amazonaws.com' } },
          },
        ]),
      }],
    });
    const connector = new lambda.CfnNetworkConnector(this, 'Connector', {
      operatorRole: operatorRole.attrArn,
      configuration: {
        vpcEgressConfiguration: {
          associatedComputeResourceTypes: ['MicroVm'],
          networkProtocol: 'IPv4',
          securityGroupIds: [sg.attrGroupId],
          subnetIds: subnets.map((s) => s.ref),
        },
      },
    });

    // ---- sessions table, execution role, orchestrator and sweeper ----
    const table = new dynamodb.CfnGlobalTable(this, 'Table', {
      attributeDefinitions: [{ attributeName: 'owner', attributeType: 'S' }, { attributeName: 'sessionId', attributeType: 'S' }],
      keySchema: [{ attributeName: 'owner', keyType: 'HASH' }, { attributeName: 'sessionId', keyType: 'RANGE' }],
      billingMode: 'PAY_PER_REQUEST',
      replicas: [{
        region: Aws.REGION,
        deletionProtectionEnabled: true,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        sseSpecification: { kmsMasterKeyId: key.attrArn },
      }],
      sseSpecification: { sseEnabled: true, sseType: 'KMS' },
      timeToLiveSpecification: { attributeName: 'ttl', enabled: true },
    });
    const runtimeLogs = new logs.CfnLogGroup(this, 'RuntimeLogs', { retentionInDays: 30, kmsKeyId: key.attrArn });
    const executionRole = new iam.CfnRole(this, 'ExecutionRole', {
      description: 'Lambda MicroVMs launched by this orchestrator: runtime logs only.',
      assumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{
          Effect: 'Allow',
          Principal: { Service: 'lambda.amazonaws.com' },
          Action: ['sts:AssumeRole', 'sts:TagSession'],
          Condition: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
        }],
      },
    });
    new iam.CfnPolicy(this, 'ExecutionPolicy', {
      policyName: 'ExecutionPolicy',
      roles: [executionRole.ref],
      policyDocument: policy([{ Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: runtimeLogs.attrArn }]),
    });
    const ingress = `arn:${Aws.PARTITION}:lambda:${Aws.REGION}:aws:network-connector:aws-network-connector:HTTP_INGRESS`;
    const idlePolicy = JSON.stringify({ maxIdleDurationSeconds: 900, suspendedDurationSeconds: 3600, autoResumeEnabled: true });
    const tableActions = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:ConditionCheckItem'];
    const keyUse = { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'], Resource: key.attrArn };
    const commonEnv = {
      SESSIONS_TABLE_NAME: table.ref,
      MICROVM_IMAGE_ARN: image.ref,
      MICROVM_MAX_DURATION_SECONDS: '7200',
      MICROVM_IDLE_POLICY: idlePolicy,
      POWERTOOLS_METRICS_NAMESPACE: namespace,
      POWERTOOLS_SERVICE_NAME: serviceName,
      AWS_NODEJS_CONNECTION_REUSE_ENABLED: '1',
    };

    const orchestratorCode = new assets.Asset(this, 'OrchestratorCode', { path: path.join(ROOT, 'assets', 'orchestrator', 'orchestrator.lambda') });
    const orchestratorLogs = new logs.CfnLogGroup(this, 'OrchestratorLogs', { retentionInDays: 30, kmsKeyId: key.attrArn });
    const orchestratorRole = new iam.CfnRole(this, 'OrchestratorRole', { assumeRolePolicyDocument: LAMBDA_TRUST });
    new iam.CfnPolicy(this, 'OrchestratorPolicy', {
      policyName: 'OrchestratorPolicy',
      roles: [orchestratorRole.ref],
      policyDocument: policy([
        { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: orchestratorLogs.attrArn },
        {
          Effect: 'Allow',
          Action: ['lambda:RunMicrovm', 'lambda:GetMicrovm', 'lambda:SuspendMicrovm', 'lambda:ResumeMicrovm', 'lambda:TerminateMicrovm', 'lambda:CreateMicrovmAuthToken'],
          Resource: image.ref,
        },
        { Effect: 'Allow', Action: 'lambda:ListMicrovms', Resource: '*' },
        { Effect: 'Allow', Action: 'lambda:PassNetworkConnector', Resource: [connector.attrArn, `${connector.attrArn}:*`, ingress, `${ingress}:*`] },
        { Effect: 'Allow', Action: 'iam:PassRole', Resource: executionRole.attrArn, Condition: { StringEquals: { 'iam:PassedToService': 'lambda.amazonaws.com' } } },
        { Effect: 'Allow', Action: tableActions, Resource: table.attrArn },
        keyUse,
      ]),
    });
    const orchestrator = new lambda.CfnFunction(this, 'Orchestrator', {
      description: 'Lambda MicroVMs session API: one MicroVM per session.',
      runtime: 'nodejs24.x',
      architectures: ['arm64'],
      handler: 'index.handler',
      memorySize: 512,
      timeout: 30,
      role: orchestratorRole.attrArn,
      code: { s3Bucket: orchestratorCode.s3BucketName, s3Key: orchestratorCode.s3ObjectKey },
      loggingConfig: { logGroup: orchestratorLogs.ref },
      environment: {
        variables: {
          ...commonEnv,
          MICROVM_IMAGE_VERSION: image.attrLatestActiveImageVersion,
          MICROVM_EGRESS_CONNECTORS: `["${connector.attrArn}"]`,
          MICROVM_INGRESS_CONNECTORS: `["${ingress}"]`,
          MICROVM_EXECUTION_ROLE_ARN: executionRole.attrArn,
          MICROVM_RUNTIME_LOG_GROUP: runtimeLogs.ref,
          MICROVM_APP_PORTS: '[8080]',
          MICROVM_HOOKS_PORT: '9000',
          MICROVM_TOKEN_TTL_SECONDS: '300',
          MICROVM_MAX_SESSIONS_PER_OWNER: '50',
        },
      },
    });
    const url = new lambda.CfnUrl(this, 'OrchestratorUrl', { authType: 'AWS_IAM', targetFunctionArn: orchestrator.attrArn });

    const sweeperCode = new assets.Asset(this, 'SweeperCode', { path: path.join(ROOT, 'assets', 'orchestrator', 'sweeper.lambda') });
    const sweeperLogs = new logs.CfnLogGroup(this, 'SweeperLogs', { retentionInDays: 30, kmsKeyId: key.attrArn });
    const sweeperRole = new iam.CfnRole(this, 'SweeperRole', { assumeRolePolicyDocument: LAMBDA_TRUST });
    new iam.CfnPolicy(this, 'SweeperPolicy', {
      policyName: 'SweeperPolicy',
      roles: [sweeperRole.ref],
      policyDocument: policy([
        { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: sweeperLogs.attrArn },
        { Sid: 'ListMicrovms', Effect: 'Allow', Action: 'lambda:ListMicrovms', Resource: '*' },
        { Sid: 'InspectAndTerminateImageMicrovms', Effect: 'Allow', Action: ['lambda:GetMicrovm', 'lambda:TerminateMicrovm'], Resource: image.ref },
        { Effect: 'Allow', Action: [...tableActions, 'dynamodb:Scan'], Resource: table.attrArn },
        keyUse,
      ]),
    });
    const sweeper = new lambda.CfnFunction(this, 'Sweeper', {
      description: 'Lambda MicroVMs sweeper: terminates MicroVMs no session owns and repairs stale session rows.',
      runtime: 'nodejs24.x',
      architectures: ['arm64'],
      handler: 'index.handler',
      memorySize: 512,
      timeout: 300,
      role: sweeperRole.attrArn,
      code: { s3Bucket: sweeperCode.s3BucketName, s3Key: sweeperCode.s3ObjectKey },
      loggingConfig: { logGroup: sweeperLogs.ref },
      environment: { variables: { ...commonEnv, MICROVM_ORPHAN_GRACE_SECONDS: '600' } },
    });
    new lambda.CfnEventInvokeConfig(this, 'SweeperInvokeConfig', {
      functionName: sweeper.ref, qualifier: '$LATEST', maximumEventAgeInSeconds: 300, maximumRetryAttempts: 0,
    });
    const schedule = new events.CfnRule(this, 'SweepSchedule', {
      description: 'Runs the Lambda MicroVMs sweeper.',
      scheduleExpression: 'rate(5 minutes)',
      state: 'ENABLED',
      targets: [{ arn: sweeper.attrArn, id: 'Target0', retryPolicy: { maximumRetryAttempts: 0 } }],
    });
    new lambda.CfnPermission(this, 'SweepSchedulePermission', {
      action: 'lambda:InvokeFunction', functionName: sweeper.attrArn, principal: 'events.amazonaws.com', sourceArn: schedule.attrArn,
    });

    // ---- alarms and dashboard ----
    const serviceMetric = (metricId: string, metricName: string) => ({
      id: metricId,
      returnData: false,
      metricStat: { metric: { namespace, metricName, dimensions: [{ name: 'service', value: serviceName }] }, period: 300, stat: 'Sum' },
    });
    const fnErrors = (fn: lambda.CfnFunction) => ({
      id: 'fnErrors',
      returnData: false,
      metricStat: { metric: { namespace: 'AWS/Lambda', metricName: 'Errors', dimensions: [{ name: 'FunctionName', value: fn.ref }] }, period: 300, stat: 'Sum' },
    });
    new cloudwatch.CfnAlarm(this, 'SweeperErrorsAlarm', {
      alarmDescription: 'The MicroVM sweeper failed on two consecutive sweeps: orphaned MicroVMs may be billing.',
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      threshold: 1,
      treatMissingData: 'notBreaching',
      metrics: [{ id: 'expr_1', expression: 'FILL(sweepErrors, 0) + FILL(fnErrors, 0)', label: 'sweeper errors', returnData: true }, serviceMetric('sweepErrors', 'SweepErrors'), fnErrors(sweeper)],
    });
    const simpleAlarm = (alarmId: string, metricName: string, description: string, periods: number) => new cloudwatch.CfnAlarm(this, alarmId, {
      alarmDescription: description,
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      evaluationPeriods: periods,
      datapointsToAlarm: periods,
      threshold: 1,
      treatMissingData: 'notBreaching',
      namespace,
      metricName,
      dimensions: [{ name: 'service', value: serviceName }],
      period: 300,
      statistic: 'Sum',
    });
    simpleAlarm('OrphansPersistingAlarm', 'OrphansFound', 'The sweeper found MicroVMs no session owns on three consecutive sweeps.', 3);
    simpleAlarm('QuotaRejectionsAlarm', 'QuotaRejections', 'Sessions were refused because the account\'s MicroVM memory quota is reached.', 1);
    new cloudwatch.CfnAlarm(this, 'LaunchFailuresAlarm', {
      alarmDescription: 'Session requests failed with 502/503 after retries, or the orchestrator function crashed.',
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      threshold: 5,
      treatMissingData: 'notBreaching',
      metrics: [{ id: 'expr_1', expression: 'FILL(upstream, 0) + FILL(fnErrors, 0)', label: 'launch failures', returnData: true }, serviceMetric('upstream', 'UpstreamErrors'), fnErrors(orchestrator)],
    });
    const widget = (title: string, metrics: string[], y: number) => ({
      type: 'metric',
      width: 12,
      height: 6,
      x: (y % 2) * 12,
      y: Math.floor(y / 2) * 6,
      properties: { title, region: Aws.REGION, stat: 'Sum', period: 300, view: 'timeSeries', metrics: metrics.map((m) => [namespace, m, 'service', serviceName]) },
    });
    new cloudwatch.CfnDashboard(this, 'Dashboard', {
      dashboardBody: Stack.of(this).toJsonString({
        widgets: [
          widget('Sessions', ['SessionsCreated', 'SessionsEnded', 'SessionsResumed'], 0),
          widget('Tokens', ['TokensMinted'], 1),
          widget('Launch latency', ['LaunchLatency'], 2),
          widget('Rejections', ['AdmissionRejections', 'QuotaRejections'], 3),
          widget('Upstream errors', ['UpstreamErrors'], 4),
          widget('Sweeper', ['OrphansFound', 'OrphansTerminated', 'SweepErrors'], 5),
        ],
      }),
    });

    // ---- the agent backend that calls the session API ----
    const agent = new iam.CfnRole(this, 'AgentBackend', {
      assumeRolePolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:root` }, Action: 'sts:AssumeRole' }] },
    });
    new iam.CfnPolicy(this, 'AgentBackendPolicy', {
      policyName: 'AgentBackendPolicy',
      roles: [agent.ref],
      policyDocument: policy([
        { Effect: 'Allow', Action: 'lambda:InvokeFunctionUrl', Resource: orchestrator.attrArn, Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } } },
        { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: orchestrator.attrArn, Condition: { Bool: { 'lambda:InvokedViaFunctionUrl': true } } },
      ]),
    });

    new CfnOutput(this, 'SessionApiUrl', { value: url.attrFunctionUrl });
    new CfnOutput(this, 'AgentBackendRoleArn', { value: agent.attrArn });
  }
}
