import { Fn, aws_iam as iam } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { newStack, SANDBOX } from './util';
import { ImageCode, MicrovmImage } from '../../src/image';

const IMAGE_ARN = 'arn:aws:lambda:us-east-1:123456789012:microvm-image:sandbox';
const RUN_ACTIONS = [
  'lambda:RunMicrovm',
  'lambda:GetMicrovm',
  'lambda:SuspendMicrovm',
  'lambda:ResumeMicrovm',
  'lambda:TerminateMicrovm',
  'lambda:CreateMicrovmAuthToken',
];

function launcherStatements(build: (stack: ReturnType<typeof newStack>, launcher: iam.Role) => void): any[] {
  const stack = newStack();
  const launcher = new iam.Role(stack, 'Launcher', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  build(stack, launcher);
  const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: stack.getLogicalId(launcher.node.defaultChild as iam.CfnRole) }] },
  });
  return Object.values(policies).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}

describe('grantRun', () => {
  test('grants exactly: VM actions on the image, any connector, no PassRole, and no ListMicrovms (it only exists on *)', () => {
    // WHEN
    const statements = launcherStatements((stack, launcher) => {
      MicrovmImage.fromImageArn(stack, 'Image', IMAGE_ARN).grantRun(launcher);
    });
    // THEN
    expect(statements).toEqual([
      { Effect: 'Allow', Action: RUN_ACTIONS, Resource: IMAGE_ARN },
      { Effect: 'Allow', Action: 'lambda:PassNetworkConnector', Resource: '*' },
    ]);
  });

  test('scopes PassNetworkConnector to the given connectors and their versions', () => {
    // GIVEN
    const connector = 'arn:aws:lambda:us-east-1:123456789012:network-connector:nc-1';
    const managed = 'arn:aws:lambda:us-east-1:aws:network-connector:aws-network-connector:HTTP_INGRESS';
    // WHEN
    const statements = launcherStatements((stack, launcher) => {
      MicrovmImage.fromImageArn(stack, 'Image', IMAGE_ARN).grantRun(launcher, { networkConnectorArns: [connector, managed] });
    });
    // THEN
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: 'lambda:PassNetworkConnector',
      Resource: [connector, `${connector}:*`, managed, `${managed}:*`],
    });
  });

  test('grants PassRole on the execution role only, with no PassedToService condition the service may not send', () => {
    // WHEN
    let roleRef: unknown;
    const statements = launcherStatements((stack, launcher) => {
      const execution = new iam.Role(stack, 'Execution', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      roleRef = stack.resolve(execution.roleArn);
      MicrovmImage.fromImageArn(stack, 'Image', IMAGE_ARN).grantRun(launcher, { executionRole: execution });
    });
    // THEN
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: roleRef,
    });
  });

  test('on an owned image the VM actions target its Ref', () => {
    // WHEN
    let imageRef: unknown;
    const statements = launcherStatements((stack, launcher) => {
      const image = new MicrovmImage(stack, 'Image', { code: ImageCode.fromDirectory(SANDBOX) });
      imageRef = stack.resolve(image.imageArn);
      image.grantRun(launcher);
    });
    // THEN
    expect(imageRef).toEqual({ Ref: expect.stringMatching(/^Image/) });
    expect(statements[0]).toEqual({ Effect: 'Allow', Action: RUN_ACTIONS, Resource: imageRef });
  });

  test('returns a grant that applied to the principal', () => {
    // GIVEN
    const stack = newStack();
    const launcher = new iam.Role(stack, 'Launcher', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    // WHEN
    const grant = MicrovmImage.fromImageArn(stack, 'Image', IMAGE_ARN).grantRun(launcher);
    // THEN
    expect(grant.success).toBe(true);
    expect(grant.principalStatements.length).toBe(2);
  });

  test('fails if networkConnectorArns is empty', () => {
    // GIVEN
    const stack = newStack();
    const launcher = new iam.Role(stack, 'Launcher', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    // WHEN / THEN
    expect(() => MicrovmImage.fromImageArn(stack, 'Image', IMAGE_ARN).grantRun(launcher, { networkConnectorArns: [] }))
      .toThrow(/networkConnectorArns must list at least one connector ARN, got \[\]/);
    Template.fromStack(stack).resourceCountIs('AWS::IAM::Policy', 0);
  });
});

describe('importers', () => {
  test('fromImageArn derives the name and the environment', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    const image = MicrovmImage.fromImageArn(stack, 'Image', 'arn:aws:lambda:eu-west-1:210987654321:microvm-image:other_image-1');
    // THEN
    expect(image.imageArn).toBe('arn:aws:lambda:eu-west-1:210987654321:microvm-image:other_image-1');
    expect(image.imageName).toBe('other_image-1');
    expect(image.env).toEqual({ account: '210987654321', region: 'eu-west-1' });
  });

  test('fromImageArn: reading latestActiveVersion fails with a fix', () => {
    // GIVEN
    const image = MicrovmImage.fromImageArn(newStack(), 'Image', IMAGE_ARN);
    // WHEN / THEN
    expect(() => image.latestActiveVersion).toThrow(/latestActiveVersion must be known to read it from imported image Stack\/Image, got undefined\. Import it with MicrovmImage.fromImageAttributes/);
  });

  test('fromImageAttributes carries the latest active version', () => {
    // WHEN
    const image = MicrovmImage.fromImageAttributes(newStack(), 'Image', { imageArn: IMAGE_ARN, latestActiveVersion: '7' });
    // THEN
    expect(image.latestActiveVersion).toBe('7');
    expect(image.imageName).toBe('sandbox');
  });

  test('a token ARN is accepted and its name is split out at deploy time', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    const image = MicrovmImage.fromImageArn(stack, 'Image', Fn.importValue('ImageArn'));
    // THEN
    expect(stack.resolve(image.imageName)).toEqual({ 'Fn::Select': [6, { 'Fn::Split': [':', { 'Fn::ImportValue': 'ImageArn' }] }] });
  });

  test('fails if the ARN uses the slash form', () => {
    expect(() => MicrovmImage.fromImageArn(newStack(), 'Image', 'arn:aws:lambda:us-east-1:123456789012:microvm-image/sandbox'))
      .toThrow(/imageArn must be a MicroVM image ARN.*Use the colon form/);
  });

  test('fails if the ARN is not a MicroVM image ARN', () => {
    expect(() => MicrovmImage.fromImageArn(newStack(), 'Image', 'arn:aws:lambda:us-east-1:123456789012:function:sandbox'))
      .toThrow(/imageArn must be a MicroVM image ARN, arn:<partition>:lambda:<region>:<account>:microvm-image:<name>, got "arn:aws:lambda:us-east-1:123456789012:function:sandbox"/);
  });

  test('an imported image in the template is only referenced, never created', () => {
    // GIVEN
    const stack = newStack();
    const launcher = new iam.Role(stack, 'Launcher', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    // WHEN
    MicrovmImage.fromImageArn(stack, 'Image', IMAGE_ARN).grantRun(launcher);
    // THEN
    Template.fromStack(stack).resourceCountIs('AWS::Lambda::MicrovmImage', 0);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Resource: IMAGE_ARN })]) },
    });
  });
});

describe('grantManage', () => {
  test('grants exactly: list on * (it has no resource type), get and terminate on the image, nothing that launches', () => {
    // WHEN
    const statements = launcherStatements((stack, cleaner) => {
      MicrovmImage.fromImageArn(stack, 'Image', IMAGE_ARN).grantManage(cleaner);
    });
    // THEN
    expect(statements).toEqual([
      { Effect: 'Allow', Action: 'lambda:ListMicrovms', Resource: '*' },
      { Effect: 'Allow', Action: ['lambda:GetMicrovm', 'lambda:TerminateMicrovm'], Resource: IMAGE_ARN },
    ]);
  });
});
