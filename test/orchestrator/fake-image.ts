import { Resource, Stack, aws_iam as iam, aws_lambda as lambda } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { GrantRunOptions, IMicrovmImage } from '../../src/image/microvm-image-base';

/** a minimal owned image for construct tests, until the real MicrovmImage is available. */
export class FakeImage extends Resource implements IMicrovmImage {
  public readonly imageArn: string;
  public readonly imageName: string;
  public readonly latestActiveVersion: string;

  constructor(scope: Construct, id: string, hooksPort?: number) {
    super(scope, id);
    const stack = Stack.of(this);
    const cfn = new lambda.CfnMicrovmImage(this, 'Resource', {
      name: 'fake-image',
      description: '',
      baseImageArn: `arn:${stack.partition}:lambda:${stack.region}:aws:microvm-image:al2023`,
      baseImageVersion: '1',
      buildRoleArn: `arn:${stack.partition}:iam::${stack.account}:role/build`,
      codeArtifact: { uri: 's3://bucket/code.zip' },
      cpuConfigurations: [{ architecture: 'ARM_64' }],
      additionalOsCapabilities: [],
      egressNetworkConnectors: [],
      environmentVariables: [],
      hooks: hooksPort === undefined ? {} : { port: hooksPort },
      logging: {},
      resources: [{ minimumMemoryInMiB: 2048 }],
    });
    this.imageArn = cfn.attrImageArn;
    this.imageName = 'fake-image';
    this.latestActiveVersion = cfn.attrLatestActiveImageVersion;
  }

  public grantRun(grantee: iam.IGrantable, options: GrantRunOptions = {}): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['lambda:RunMicrovm', 'lambda:GetMicrovm', 'lambda:SuspendMicrovm', 'lambda:ResumeMicrovm',
        'lambda:TerminateMicrovm', 'lambda:CreateMicrovmAuthToken'],
      resourceArns: [this.imageArn],
    });
    grant.combine(iam.Grant.addToPrincipal({ grantee, actions: ['lambda:ListMicrovms'], resourceArns: ['*'] }));
    grant.combine(iam.Grant.addToPrincipal({
      grantee, actions: ['lambda:PassNetworkConnector'], resourceArns: options.networkConnectorArns ?? ['*'],
    }));
    if (options.executionRole) {
      grant.combine(iam.Grant.addToPrincipal({
        grantee,
        actions: ['iam:PassRole'],
        resourceArns: [options.executionRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'lambda.amazonaws.com' } },
      }));
    }
    return grant;
  }
}
