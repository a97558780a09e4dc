import { App, Stack, Validations, aws_iam as iam, aws_kms as kms, aws_lambda as lambda, aws_s3 as s3 } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { ImageCode, MicrovmImage } from '../../src/image';
import { MicrovmChecks } from '../../src/nag';
import { MicrovmOrchestrator, MicrovmOrchestratorProps } from '../../src/orchestrator';

function build(props: Partial<MicrovmOrchestratorProps> = {}, env?: { region: string; account: string }) {
  const app = new App();
  const stack = new Stack(app, 'Stack', { env });
  const image = new MicrovmImage(stack, 'Image', { code: ImageCode.fromBucket(s3.Bucket.fromBucketName(stack, 'B', 'artifacts'), 'a.zip') });
  const orchestrator = new MicrovmOrchestrator(stack, 'Orch', { image, ...props });
  return { app, stack, image, orchestrator };
}

/** unacknowledged findings of one level, as `rule @ path`. */
function findings(pack: AwsSolutionsChecks | MicrovmChecks, stack: Stack, severity: string): string[] {
  return pack.validateScope(stack).violations
    .filter((v) => v.severity === severity)
    .flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} @ ${r.constructPath}`));
}

function acknowledgements(root: IConstruct): Array<{ path: string; id: string; reason: string }> {
  return root.node.findAll().flatMap((c) => c.node.metadata
    .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap((m) => Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ path: c.node.path, id, reason }))));
}

describe('AwsSolutionsChecks', () => {
  test('the orchestrator with defaults has no unacknowledged error', () => {
    // WHEN
    const { stack } = build();

    // THEN
    expect(findings(new AwsSolutionsChecks(stack), stack, 'error').filter((f) => f.includes('Stack/Orch/'))).toEqual([]);
  });

  test('with a customer-managed key it has no unacknowledged error either', () => {
    // GIVEN
    const app = new App();
    const stack = new Stack(app, 'Stack', { env: { region: 'eu-west-1', account: '123456789012' } });
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const image = new MicrovmImage(stack, 'Image', { code: ImageCode.fromBucket(s3.Bucket.fromBucketName(stack, 'B', 'artifacts'), 'a.zip') });

    // WHEN
    new MicrovmOrchestrator(stack, 'Orch', { image, encryptionKey: key, executionRole: undefined });

    // THEN (the default network's own findings belong to MicrovmNetwork and are tested there.)
    expect(findings(new AwsSolutionsChecks(stack), stack, 'error')
      .filter((f) => f.includes('Stack/Orch/') && !f.includes('Stack/Orch/Network/'))).toEqual([]);
  });

  test('the inherent wildcards are acknowledged one resource at a time, with reasons', () => {
    // WHEN
    const { orchestrator } = build();

    // THEN
    const acks = acknowledgements(orchestrator).filter((a) => a.id.includes('AwsSolutions-IAM5') && !a.path.includes('/Network/'));
    expect(acks.map((a) => `${a.path} ${a.id.replace(/^Annotation::/i, '')}`).sort()).toEqual([
      'Stack/Orch/OrchestratorRole/DefaultPolicy AwsSolutions-IAM5[Resource::*]',
      'Stack/Orch/OrchestratorRole/DefaultPolicy AwsSolutions-IAM5[Resource::<OrchNetworkConnector9C025993.Arn>:*]',
      'Stack/Orch/OrchestratorRole/DefaultPolicy AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:lambda:<AWS::Region>:aws:network-connector:aws-network-connector:HTTP_INGRESS:*]',
      'Stack/Orch/SmokeTest/Role/DefaultPolicy AwsSolutions-IAM5[Resource::*]',
      'Stack/Orch/SmokeTest/Role/DefaultPolicy AwsSolutions-IAM5[Resource::<OrchNetworkConnector9C025993.Arn>:*]',
      'Stack/Orch/SmokeTest/Role/DefaultPolicy AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:lambda:<AWS::Region>:aws:network-connector:aws-network-connector:HTTP_INGRESS:*]',
      'Stack/Orch/SweeperRole/DefaultPolicy AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      'Stack/Orch/SweeperRole/DefaultPolicy AwsSolutions-IAM5[Action::kms:ReEncrypt*]',
      'Stack/Orch/SweeperRole/DefaultPolicy AwsSolutions-IAM5[Resource::*]',
    ]);
    for (const a of acks) expect(a.reason).toMatch(/ListMicrovms has no resource type|X-Ray's PutTraceSegments|numbered versions|KMS grants use/);
    // one "*" acknowledgement per policy, naming exactly the statements it covers: the session API only traces,
    // the sweeper also lists.
    const star = (role: string) => acks.find((x) => x.path.includes(`/${role}/`) && x.id.endsWith('[Resource::*]'))!.reason;
    expect(star('OrchestratorRole')).toMatch(/X-Ray's PutTraceSegments/);
    expect(star('OrchestratorRole')).not.toMatch(/ListMicrovms/);
    expect(star('SmokeTest/Role')).toMatch(/X-Ray's PutTraceSegments/);
    expect(star('SmokeTest/Role')).not.toMatch(/ListMicrovms/);
    expect(star('SweeperRole')).toMatch(/ListMicrovms has no resource type/);
    expect(star('SweeperRole')).toMatch(/X-Ray's PutTraceSegments/);
  });

  test('a wildcard a user adds later is still reported', () => {
    // GIVEN
    const { stack, orchestrator } = build();

    // WHEN
    orchestrator.orchestratorFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::data/*'] }));

    // THEN
    expect(findings(new AwsSolutionsChecks(stack), stack, 'error'))
      .toContain('AwsSolutions-IAM5[Resource::arn:aws:s3:::data/*] @ Stack/Orch/OrchestratorRole/DefaultPolicy/Resource');
  });
});

describe('MicrovmChecks', () => {
  test('an image launched by an orchestrator with defaults has no unacknowledged error', () => {
    // WHEN
    const { stack } = build();

    // THEN
    expect(findings(new MicrovmChecks(stack), stack, 'error')).toEqual([]);
  });

  test('the image alone reports its internet egress', () => {
    // GIVEN
    const app = new App();
    const stack = new Stack(app, 'Stack');

    // WHEN
    new MicrovmImage(stack, 'Image', { code: ImageCode.fromBucket(s3.Bucket.fromBucketName(stack, 'B', 'artifacts'), 'a.zip') });

    // THEN
    expect(findings(new MicrovmChecks(stack), stack, 'error')).toEqual(['MicrovmChecks-EgressInternet @ Stack/Image/Resource']);
  });

  test('the orchestrator acknowledges EgressInternet on the CfnMicrovmImage with a reason naming its egress', () => {
    // WHEN
    const { image } = build();

    // THEN
    const acks = acknowledgements(image).filter((a) => a.id.includes('MicrovmChecks-EgressInternet'));
    expect(acks).toEqual([{
      path: 'Stack/Image/Resource',
      id: expect.stringMatching(/MicrovmChecks-EgressInternet$/),
      reason: expect.stringMatching(/Stack\/Orch launches this image only with an explicit egress connector \(ISOLATED egress/),
    }]);
    expect((image.node.defaultChild as IConstruct) instanceof lambda.CfnMicrovmImage).toBe(true);
  });

  test('an orchestrator launching with internet egress is reported', () => {
    // GIVEN
    const { Egress } = jest.requireActual('../../src/network');

    // WHEN
    const { stack } = build({ egress: Egress.internet() });

    // THEN
    expect(findings(new MicrovmChecks(stack), stack, 'error')).toEqual(['MicrovmChecks-EgressInternet @ Stack/Orch/Orchestrator/Resource']);
  });
});

test('every acknowledgement the orchestrator makes carries a reason', () => {
  // WHEN
  const { stack } = build();

  // THEN
  const acks = acknowledgements(stack).filter((a) => a.path.startsWith('Stack/Orch') || a.id.includes('EgressInternet'));
  expect(acks.length).toBeGreaterThan(3);
  for (const a of acks) expect(a.reason.length).toBeGreaterThan(40);
});

test('synthesizing with both packs registered reports nothing unacknowledged from the orchestrator', () => {
  // GIVEN
  const app = new App();
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new MicrovmChecks(app));
  const stack = new Stack(app, 'Stack');
  const image = new MicrovmImage(stack, 'Image', { code: ImageCode.fromBucket(s3.Bucket.fromBucketName(stack, 'B', 'artifacts'), 'a.zip') });
  new MicrovmOrchestrator(stack, 'Orch', { image });

  // WHEN
  let report = '';
  try {
    app.synth();
  } catch (e) {
    report = (e as Error).message;
  }

  // THEN (an ERROR anywhere fails synth; the image's own findings belong to MicrovmImage.)
  expect(report).not.toMatch(/Stack\/Orch\//);
  expect(report).not.toMatch(/MicrovmChecks-EgressInternet/);
});
