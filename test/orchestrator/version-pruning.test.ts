import * as path from 'path';
import { App, Stack, Token, aws_cloudwatch as cloudwatch, aws_iam as iam, aws_lambda as lambda, aws_s3 as s3 } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ImageCode, MicrovmImage } from '../../src/image';
import { MicrovmOrchestrator, MicrovmOrchestratorProps, SmokeTest } from '../../src/orchestrator';
import { ENV, METRIC } from '../../src/shared/contract';
import { moduleGraph } from '../support/module-graph';

const PRUNE_ACTIONS = ['lambda:ListMicrovmImageVersions', 'lambda:DeleteMicrovmImageVersion', 'lambda:GetMicrovmImage'];
const SWEEPER_ENTRY = path.join(__dirname, '..', '..', 'src', 'orchestrator', 'sweeper.lambda.ts');

function build(props: Partial<MicrovmOrchestratorProps> = {}) {
  const app = new App();
  const stack = new Stack(app, 'Stack', { env: { account: '123456789012', region: 'us-east-1' } });
  const image = new MicrovmImage(stack, 'Image', { code: ImageCode.fromBucket(s3.Bucket.fromBucketName(stack, 'B', 'artifacts'), 'a.zip') });
  const orchestrator = new MicrovmOrchestrator(stack, 'Orch', { image, ...props });
  return { stack, image, orchestrator, template: Template.fromStack(stack) };
}

function envOf(stack: Stack, template: Template, fn: lambda.IFunction): Record<string, unknown> {
  const id = stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction);
  return template.toJSON().Resources[id].Properties.Environment.Variables;
}

/** the Allow statements of a function's role policy that hold `action`. */
function statementsWith(stack: Stack, fn: lambda.IFunction, action: string): any[] {
  const policy = fn.role!.node.findChild('DefaultPolicy') as iam.Policy;
  const document = stack.resolve(policy.document.toJSON());
  return document.Statement.filter((s: any) => [s.Action].flat().includes(action));
}

describe('version pruning: the sweeper function', () => {
  test('gets keepVersions (default 10) and the version the session API launches', () => {
    // GIVEN the default orchestrator (smoke-tested version)
    const { stack, orchestrator, template } = build();

    // WHEN
    const sweeper = envOf(stack, template, orchestrator.sweeperFunction);
    const sessions = envOf(stack, template, orchestrator.orchestratorFunction);

    // THEN
    expect(sweeper[ENV.KEEP_VERSIONS]).toBe('10');
    expect(sweeper[ENV.IMAGE_VERSION]).toEqual(sessions[ENV.IMAGE_VERSION]);
    expect(sweeper[ENV.IMAGE_VERSION]).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/SmokeTest/), 'ImageVersion'] });
  });

  test('a pinned version and keepVersions reach the sweeper as given', () => {
    const { stack, orchestrator, template } = build({ imageVersion: '7', smokeTest: SmokeTest.disabled(), keepVersions: 3 });
    expect(envOf(stack, template, orchestrator.sweeperFunction)).toMatchObject({ [ENV.IMAGE_VERSION]: '7', [ENV.KEEP_VERSIONS]: '3' });
  });

  test('gets exactly ListMicrovmImageVersions, DeleteMicrovmImageVersion and GetMicrovmImage, on the image ARN only', () => {
    const { stack, image, orchestrator } = build();

    const statements = statementsWith(stack, orchestrator.sweeperFunction, 'lambda:DeleteMicrovmImageVersion');

    expect(statements).toEqual([{ Effect: 'Allow', Action: PRUNE_ACTIONS, Resource: stack.resolve(image.imageArn) }]);
    // the session API never prunes
    expect(statementsWith(stack, orchestrator.orchestratorFunction, 'lambda:DeleteMicrovmImageVersion')).toEqual([]);
  });

  test('the grant holds exactly the image calls the sweeper handler makes', () => {
    const commands = new Set<string>();
    for (const source of moduleGraph(SWEEPER_ENTRY).values()) {
      for (const m of source.matchAll(/new (\w+MicrovmImage\w*)Command\(/g)) commands.add(`lambda:${m[1]}`);
    }
    expect([...commands].sort()).toEqual([...PRUNE_ACTIONS].sort());
  });

  test('pruneVersions: false leaves keepVersions empty and grants nothing to delete', () => {
    const { stack, orchestrator, template } = build({ pruneVersions: false });
    expect(envOf(stack, template, orchestrator.sweeperFunction)[ENV.KEEP_VERSIONS]).toBe('');
    expect(statementsWith(stack, orchestrator.sweeperFunction, 'lambda:DeleteMicrovmImageVersion')).toEqual([]);
    expect(statementsWith(stack, orchestrator.sweeperFunction, 'lambda:ListMicrovmImageVersions')).toEqual([]);
  });
});

describe('keepVersions validation', () => {
  test.each([0, 50, 1.5, -1])('fails if keepVersions is %p', (keepVersions) => {
    expect(() => build({ keepVersions })).toThrow(
      `Stack/Orch: keepVersions must be a whole number from 1 to 49, got ${keepVersions}. An image holds at most 50 versions`);
  });

  test('fails if keepVersions is given with pruneVersions: false', () => {
    expect(() => build({ keepVersions: 5, pruneVersions: false })).toThrow(
      'Stack/Orch: keepVersions must be omitted when pruneVersions is false, got 5.');
  });

  test.each([1, 49])('accepts %p', (keepVersions) => {
    const { stack, orchestrator, template } = build({ keepVersions });
    expect(envOf(stack, template, orchestrator.sweeperFunction)[ENV.KEEP_VERSIONS]).toBe(String(keepVersions));
  });

  test('a token skips validation', () => {
    expect(() => build({ keepVersions: Token.asNumber({ Ref: 'Keep' }) })).not.toThrow();
  });
});

describe('grantPrune', () => {
  test('on an imported image: the three actions on its ARN', () => {
    // GIVEN
    const stack = new Stack();
    const image = MicrovmImage.fromImageArn(stack, 'Image', 'arn:aws:lambda:us-east-1:123456789012:microvm-image:sandbox');
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });

    // WHEN
    image.grantPrune(role);

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [{ Effect: 'Allow', Action: PRUNE_ACTIONS, Resource: 'arn:aws:lambda:us-east-1:123456789012:microvm-image:sandbox' }],
      },
    });
  });
});

describe('drift and pruning metrics', () => {
  test('metricLiveVmsByVersion searches LiveVms by ImageVersion in this orchestrator\'s namespace and service', () => {
    const { orchestrator } = build({ metricsNamespace: 'Acme/Sandbox' });

    const expression = orchestrator.metricLiveVmsByVersion() as cloudwatch.MathExpression;

    expect(expression).toBeInstanceOf(cloudwatch.MathExpression);
    expect(expression.expression).toBe(
      `SEARCH('{Acme/Sandbox,ImageVersion,service} MetricName="LiveVms" service="${orchestrator.serviceName}"', 'Maximum', 300)`);
  });

  test('metricLiveVms, metricVersionsDeleted and metricVersionQuotaNear', () => {
    const { orchestrator } = build();
    expect(orchestrator.metricLiveVms('7').dimensions).toEqual({ service: orchestrator.serviceName, ImageVersion: '7' });
    expect(orchestrator.metricVersionsDeleted()).toMatchObject({ metricName: METRIC.VERSIONS_DELETED, statistic: 'Sum' });
    expect(orchestrator.metricVersionQuotaNear()).toMatchObject({ metricName: METRIC.VERSION_QUOTA_NEAR, statistic: 'Maximum' });
  });

  test('the dashboard has a "Live VMs per image version" widget over that search, and one for pruning', () => {
    const { orchestrator, template } = build();
    const dashboard = Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0] as any;
    const body = JSON.parse((dashboard.Properties.DashboardBody['Fn::Join'][1] as unknown[])
      .map((p) => typeof p === 'string' ? p : 'REF').join(''));

    const widget = body.widgets.find((w: any) => w.properties.title === 'Live VMs per image version');
    expect(widget.properties.metrics).toEqual([[expect.objectContaining({
      expression: expect.stringContaining(`MetricName="LiveVms" service="${orchestrator.serviceName}"`),
    })]]);
    const pruning = body.widgets.find((w: any) => w.properties.title === 'Image versions pruned');
    expect(JSON.stringify(pruning.properties.metrics)).toMatch(/VersionsDeleted.*VersionQuotaNear/);
  });

  test('without a dashboard, pruning is still configured', () => {
    const { template } = build({ dashboard: false });
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    template.hasResourceProperties('AWS::Lambda::Function', Match.objectLike({
      Environment: { Variables: Match.objectLike({ [ENV.KEEP_VERSIONS]: '10' }) },
    }));
  });
});
