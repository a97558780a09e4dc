import { App, Duration, Stack, aws_s3 as s3 } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ImageCode, MicrovmImage } from '../../src/image';
import { Ingress } from '../../src/network';
import { MicrovmOrchestrator, MicrovmOrchestratorProps, SmokeTest } from '../../src/orchestrator';

const SMOKE_TEST_ID = 'OrchSmokeTest6BADB339';

function build(props: Partial<MicrovmOrchestratorProps> = {}) {
  const app = new App();
  const stack = new Stack(app, 'Stack', { env: { account: '123456789012', region: 'us-east-1' } });
  const image = new MicrovmImage(stack, 'Image', { code: ImageCode.fromBucket(s3.Bucket.fromBucketName(stack, 'B', 'artifacts'), 'a.zip') });
  const orchestrator = new MicrovmOrchestrator(stack, 'Orch', { image, ...props });
  return { stack, image, orchestrator, template: Template.fromStack(stack) };
}

function buildError(props: Partial<MicrovmOrchestratorProps>): string {
  try {
    build(props);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected synth to fail');
}

describe('the default smoke test', () => {
  test('tests the image\'s latest version with the orchestrator\'s run configuration: GET / on the first app port, 200 in 30 s', () => {
    // WHEN
    const { stack, orchestrator, template } = build({ appPorts: [8443, 8080] });

    // THEN
    template.hasResourceProperties('Custom::MicrovmSmokeTest', {
      ServiceToken: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OrchSmokeTestFunction'), 'Arn'] },
      ImageArn: { Ref: 'Image9D742C96' },
      ImageVersion: { 'Fn::GetAtt': ['Image9D742C96', 'LatestActiveImageVersion'] },
      ExecutionRoleArn: stack.resolve(orchestrator.executionRole.roleArn),
      RuntimeLogGroup: stack.resolve(orchestrator.runtimeLogGroup!.logGroupName),
      EgressConnectors: [stack.resolve(orchestrator.egress.networkConnectorArn)],
      IngressConnectors: [Match.objectLike({ 'Fn::Join': Match.anyValue() })],
      Port: '8443',
      Path: '/',
      ExpectedStatus: '200',
      TimeoutSeconds: '30',
      Payload: '',
    });
  });

  test('its function runs for up to 15 minutes, and the resource waits for the function\'s permissions', () => {
    // WHEN
    const { stack, orchestrator, template } = build();

    // THEN
    const fnId = stack.getLogicalId(orchestrator.smokeTestFunction!.node.defaultChild as any);
    expect(template.toJSON().Resources[fnId].Properties).toMatchObject({ Timeout: 900, Architectures: ['arm64'] });
    const dependsOn: string[] = template.toJSON().Resources[SMOKE_TEST_ID].DependsOn;
    expect(dependsOn.some((id) => /^OrchSmokeTestRoleDefaultPolicy/.test(id))).toBe(true);
  });

  test('the function may launch, watch, token, terminate and deactivate versions of this image only: exact actions', () => {
    // WHEN
    const { stack, orchestrator, template } = build();

    // THEN
    const roleId = stack.getLogicalId(orchestrator.smokeTestFunction!.role!.node.defaultChild as any);
    const policies = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } }));
    expect(policies).toHaveLength(1);
    const statements: any[] = policies[0].Properties.PolicyDocument.Statement;
    const onImage = statements.filter((st) => JSON.stringify(st.Resource) === JSON.stringify({ Ref: 'Image9D742C96' }));
    expect(onImage).toHaveLength(1);
    expect([onImage[0].Action].flat().sort()).toEqual([
      'lambda:CreateMicrovmAuthToken',
      'lambda:GetMicrovm',
      'lambda:GetMicrovmImage',
      'lambda:RunMicrovm',
      'lambda:TerminateMicrovm',
      'lambda:UpdateMicrovmImageVersion',
    ]);
    const actions = statements.flatMap((st) => [st.Action].flat()).sort();
    expect(actions).toEqual([
      'iam:PassRole',
      'lambda:CreateMicrovmAuthToken',
      'lambda:GetMicrovm',
      'lambda:GetMicrovmImage',
      'lambda:PassNetworkConnector',
      'lambda:RunMicrovm',
      'lambda:TerminateMicrovm',
      'lambda:UpdateMicrovmImageVersion',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
  });

  test('SmokeTest.http options reach the resource', () => {
    // WHEN
    const { template } = build({
      appPorts: [8080, 3000],
      smokeTest: SmokeTest.http({ path: '/health?deep=1', expectedStatus: 204, timeout: Duration.minutes(2), port: 3000, payload: '{"task":"probe"}' }),
    });

    // THEN
    template.hasResourceProperties('Custom::MicrovmSmokeTest', {
      Port: '3000', Path: '/health?deep=1', ExpectedStatus: '204', TimeoutSeconds: '120', Payload: '{"task":"probe"}',
    });
  });
});

describe('SmokeTest.disabled()', () => {
  test('no resource and no function; the orchestrator launches the image\'s latest version directly', () => {
    // WHEN
    const { orchestrator, template } = build({ smokeTest: SmokeTest.disabled() });

    // THEN
    template.resourceCountIs('Custom::MicrovmSmokeTest', 0);
    expect(orchestrator.smokeTestFunction).toBeUndefined();
    const fns = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Handler: 'index.handler' } }));
    expect(fns).toHaveLength(2);
    const api = fns.find((f) => /session API/.test(f.Properties.Description))!;
    expect(api.Properties.Environment.Variables.MICROVM_IMAGE_VERSION).toEqual({ 'Fn::GetAtt': ['Image9D742C96', 'LatestActiveImageVersion'] });
  });

  test('is how an orchestrator with Ingress.none() runs: the default fails synth, naming the fix', () => {
    expect(buildError({ ingress: [Ingress.none()] })).toBe(
      'Stack/Orch: smokeTest must reach the app through the VM\'s endpoint, which Ingress.none() closes, got "SmokeTest.http()". ' +
      'Pass smokeTest: SmokeTest.disabled() for an outbound-only worker, or give the orchestrator an ingress.');
    expect(() => build({ ingress: [Ingress.none()], smokeTest: SmokeTest.disabled() })).not.toThrow();
  });
});

describe('validation', () => {
  test.each([
    ['a path without /', SmokeTest.http({ path: 'health' }), /smokeTest\.path must start with \/ and contain no whitespace, got "health"/],
    ['a status that is not HTTP', SmokeTest.http({ expectedStatus: 700 }), /smokeTest\.expectedStatus must be an HTTP status from 100 to 599, got 700/],
    ['a timeout over 10 minutes', SmokeTest.http({ timeout: Duration.minutes(11) }), /smokeTest\.timeout must be whole seconds from 1 second to 10 minutes, got "11 minutes"/],
    ['a port that is not an app port', SmokeTest.http({ port: 9000 }), /smokeTest\.port must be one of the orchestrator's appPorts \[8080\], got 9000/],
    ['an oversize payload', SmokeTest.http({ payload: 'x'.repeat(4097) }), /smokeTest\.payload must be at most 4096 bytes, got "4097 bytes"/],
  ])('fails on %s', (_what, smokeTest, message) => {
    expect(buildError({ smokeTest })).toMatch(message);
  });

  test.each([
    ['an AWS access key id', '{"key":"AKIAIOSFODNN7EXAMPLE"}'],
    ['a secret-named JSON field', '{"apiToken":"s3cr3t-v4lue-for-the-probe"}'],
    ['a Secrets Manager reference', '{{resolve:secretsmanager:prod/db:SecretString:password}}'],
  ])('refuses a payload holding %s, and never prints it', (_what, payload) => {
    const message = buildError({ smokeTest: SmokeTest.http({ payload }) });
    expect(message).toMatch(/^Stack\/Orch: smokeTest\.payload must not hold a secret: it looks like .+ The payload is written into the template\./);
    expect(message).not.toContain(payload);
  });

  test('test data that only looks structured passes', () => {
    expect(() => build({ smokeTest: SmokeTest.http({ payload: '{"task":"print(1)","user":"probe"}' }) })).not.toThrow();
  });
});
