// Disposable CI runners: one MicroVM per job, no ingress, no idle suspend, a short lifetime.
// In your own app, import from 'cdk-lambda-microvms' instead of '../../src'.
import * as path from 'path';
import { App, CfnOutput, Duration, Stack, StackProps, Validations, aws_iam as iam, aws_kms as kms, aws_s3 as s3 } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Construct } from 'constructs';
import {
  Egress, Hook, IdlePolicy, ImageCode, Ingress, MicrovmChecks, MicrovmImage, MicrovmLogging, MicrovmMemory, MicrovmNetwork, MicrovmOrchestrator,
  SmokeTest,
} from '../../src';

export class CiRunnerStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    // one customer-managed key for the image (its configuration at rest, as CloudFormation documents it), the
    // sessions table and every log group: you decide who can decrypt them.
    const key = new kms.Key(this, 'Key', { enableKeyRotation: true, description: 'Encrypts the MicroVM image configuration and build logs, the sessions table and the logs' });

    const image = new MicrovmImage(this, 'Runner', {
      code: ImageCode.fromDirectory(path.join(__dirname, 'runner')),
      encryptionKey: key,
      description: 'disposable CI runner, one MicroVM per job',
      memory: MicrovmMemory.GIB_2,
      hooks: { port: 9000, ready: Hook.enabled(), run: Hook.enabled(Duration.seconds(5)) },
    });

    // jobs reach one S3 bucket (caches, artifacts) through a gateway endpoint whose policy admits that bucket only,
    // so code in a job cannot upload anywhere else, not even with credentials it brings. DNS answers only S3's names.
    // The prefix list id is per Region: find yours with
    // `aws ec2 describe-managed-prefix-lists --filters Name=prefix-list-name,Values=com.amazonaws.<region>.s3`.
    const cacheBucketName: string = this.node.tryGetContext('cacheBucket') ?? 'ci-runner-cache-bucket';
    const cache = s3.Bucket.fromBucketName(this, 'Cache', cacheBucketName);
    const network = new MicrovmNetwork(this, 'JobNetwork', { logging: MicrovmLogging.newLogGroup({ encryptionKey: key }) });
    network.addS3Endpoint({ prefixListId: this.node.tryGetContext('s3PrefixListId') ?? 'pl-63a5400a', buckets: [cache] });

    const orchestrator = new MicrovmOrchestrator(this, 'Jobs', {
      image,
      encryptionKey: key,
      egress: Egress.network(network),
      // runners take no inbound traffic; hooks are called from inside the VM.
      ingress: [Ingress.none()],
      // with no ingress there is no endpoint to check a new version through: test runner images in your pipeline.
      smokeTest: SmokeTest.disabled(),
      // idle means no inbound traffic, which a runner never has: never suspend it mid-job.
      idlePolicy: IdlePolicy.none(),
      maxSessionDuration: Duration.minutes(30),
      maxSessions: 100,
    });

    // the jobs' own credentials (the execution role) read and write cache objects, nothing else.
    orchestrator.executionRole.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['s3:GetObject', 's3:PutObject'],
      resources: [cache.arnForObjects('*')],
    }));
    Validations.of(orchestrator.executionRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${cacheBucketName}/*]`,
      reason: 'cache and artifact keys are chosen per job at run time; the role reads and writes objects of the one cache bucket only.',
    });

    // a finding you decide to accept is acknowledged where it is reported, with the reason on record.
    Validations.of(orchestrator).acknowledge({
      id: 'MicrovmChecks-NoLifetimeLimit',
      reason: 'Runners receive no inbound traffic, so an idle policy would suspend jobs mid-run; maxSessionDuration (30 minutes) bounds every VM.',
    });

    const dispatcher = new iam.Role(this, 'Dispatcher', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    orchestrator.grantSessions(dispatcher);

    new CfnOutput(this, 'SessionApiUrl', { value: orchestrator.url });
    new CfnOutput(this, 'JobVpcId', { value: network.vpc.vpcId });
  }
}

export function buildApp(app: App = new App()): App {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new MicrovmChecks(app));
  new CiRunnerStack(app, 'CiRunner', {
    // a region but no account: ARNs are concrete, and synth needs no AWS lookups (Availability Zones stay Fn::GetAZs).
    // the default S3 prefix list id below is us-east-1's: set the `s3PrefixListId` context for another Region.
    env: { region: process.env.CDK_DEFAULT_REGION ?? 'us-east-1' },
  });
  return app;
}

if (require.main === module) {
  buildApp().synth();
}
