import {
  Annotations, CustomResourceProviderBase, Duration, RemovalPolicy, Stack, Token,
  aws_ec2 as ec2, aws_iam as iam, aws_kms as kms, aws_lambda as lambda, aws_s3 as s3,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { ResolvedCheckpoints } from './checkpoint-props';
import type { IMicrovmImage } from '../../image/microvm-image-base';
import type { Egress } from '../../network/egress';
import { EgressMode, MicrovmNetwork } from '../../network/microvm-network';
import { acknowledgeAll } from '../../shared/compliance';
import { ENV, IdlePolicyWire } from '../../shared/contract';
import { invalidProp } from '../../shared/validation';

/** What checkpoints are set up for: the orchestrator's key, functions, image and network. */
export interface CheckpointSetup {
  readonly config: ResolvedCheckpoints;
  /** the orchestrator's key; undefined with `awsOwnedEncryption` (the new bucket is then S3-managed). */
  readonly key?: kms.IKey;
  readonly removalPolicy: RemovalPolicy;
  readonly orchestrator: lambda.Function;
  readonly sweeper: lambda.Function;
  readonly image: IMicrovmImage;
  readonly egress: Egress;
  readonly egressMode: EgressMode;
  readonly sweepInterval: Duration;
  /** The MicroVMs' idle policy (undefined: `IdlePolicy.none()`), which `onSuspend` is checked against. */
  readonly idlePolicy?: IdlePolicyWire;
}

/** The id of the stack-wide provider behind `autoDeleteObjects` (aws-cdk-lib's `Custom::S3AutoDeleteObjects`). */
const AUTO_DELETE_PROVIDER_ID = 'Custom::S3AutoDeleteObjectsCustomResourceProvider';

/**
 * Creates (or takes) the checkpoint bucket, grants both functions exactly what a save, a restore and a session's
 * deletion need, opens the MicroVM network to the bucket and nothing else, and sets the checkpoint environment.
 */
export function setUpCheckpoints(scope: Construct, setup: CheckpointSetup): s3.IBucket {
  const { config, orchestrator, sweeper } = setup;
  const network = setup.egress._network;
  const bucket = config.bucket ?? newCheckpointBucket(scope, setup);
  const endpoint = network instanceof MicrovmNetwork ? network._allowBucket(bucket) : undefined;
  if (!config.bucket) restrictToOrchestrator(bucket as s3.Bucket, [orchestrator.role!, sweeper.role!], endpoint);
  warnIfUnreachable(scope, setup, network instanceof MicrovmNetwork, endpoint);

  for (const fn of [orchestrator, sweeper]) {
    // objects: the presigned PUT and GET are signed with the role's credentials (so the role must hold them), HEAD
    // confirms an upload (GetObject), and DELETE of a session deletes its checkpoints, found by listing its prefix.
    iam.Grant.addToPrincipal({ grantee: fn, actions: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'], resourceArns: [bucket.arnForObjects('*')] });
    iam.Grant.addToPrincipal({ grantee: fn, actions: ['s3:ListBucket'], resourceArns: [bucket.bucketArn] });
    // SSE-KMS: S3 asks for a data key on upload and decrypts on download, for the caller; kms:Encrypt is never used.
    bucket.encryptionKey?.grant(fn, 'kms:Decrypt', 'kms:GenerateDataKey');
    fn.addEnvironment(ENV.CHECKPOINT_BUCKET, bucket.bucketName);
    fn.addEnvironment(ENV.CHECKPOINT_PORT, String(config.port));
    fn.addEnvironment(ENV.CHECKPOINT_PATH, config.path);
    fn.addEnvironment(ENV.CHECKPOINT_BEFORE_END_SECONDS, String(config.beforeEndSeconds));
  }
  if (config.onSuspend) {
    checkOnSuspend(scope, setup);
    sweeper.addEnvironment(ENV.CHECKPOINT_ON_SUSPEND, 'true');
  }
  // the session API hands a requested save to the sweeper (asynchronously), which has the time to wait for the guest.
  iam.Grant.addToPrincipal({ grantee: orchestrator, actions: ['lambda:InvokeFunction'], resourceArns: [sweeper.functionArn] });
  orchestrator.addEnvironment(ENV.CHECKPOINT_WORKER_FUNCTION, sweeper.functionName);
  return bucket;
}

function newCheckpointBucket(scope: Construct, setup: CheckpointSetup): s3.Bucket {
  const { key, config } = setup;
  const destroy = setup.removalPolicy === RemovalPolicy.DESTROY;
  const bucket = new s3.Bucket(scope, 'CheckpointBucket', {
    encryption: key ? s3.BucketEncryption.KMS : s3.BucketEncryption.S3_MANAGED,
    encryptionKey: key,
    // one data key per bucket and period instead of one KMS call per object: cheaper, and the same key.
    bucketKeyEnabled: key ? true : undefined,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    // each save is a new key, never an overwrite; versions would keep what DELETE of a session deleted.
    versioned: false,
    lifecycleRules: [{
      id: 'ExpireCheckpoints',
      expiration: Duration.days(config.retentionDays),
      abortIncompleteMultipartUploadAfter: Duration.days(1),
    }],
    removalPolicy: setup.removalPolicy,
    // a bucket that still holds objects cannot be deleted: DESTROY empties it first, as it deletes the table's data.
    autoDeleteObjects: destroy,
  });
  acknowledgeAll(bucket, ['AwsSolutions-S1', 'NIST.800.53.R5-S3BucketLoggingEnabled', 'HIPAA.Security-S3BucketLoggingEnabled',
    'PCI.DSS.321-S3BucketLoggingEnabled'],
  'every request to this bucket is made or presigned by the orchestrator\'s two function roles (the bucket policy denies ' +
    'everyone else), and the functions log each save, restore and deletion with its session and key; S3 server access ' +
    'logs cannot be delivered to a bucket encrypted with SSE-KMS, so a log bucket would keep who-read-which-workspace ' +
    'under a weaker key than the workspaces. For a per-request record, enable CloudTrail S3 data events on this bucket.');
  acknowledgeAll(bucket, ['NIST.800.53.R5-S3BucketVersioningEnabled', 'HIPAA.Security-S3BucketVersioningEnabled',
    'PCI.DSS.321-S3BucketVersioningEnabled'],
  'each checkpoint is written once under its own key and never overwritten; versioning would keep the checkpoints ' +
    'that DELETE of a session deletes, against the promise that they are gone.');
  acknowledgeAll(bucket, ['NIST.800.53.R5-S3BucketReplicationEnabled', 'HIPAA.Security-S3BucketReplicationEnabled',
    'PCI.DSS.321-S3BucketReplicationEnabled'],
  'checkpoints are short-lived copies of session workspaces (expired after the retention period); a replica in a ' +
    'second Region would double where user data lives, and a lost checkpoint costs a session its files, not the service.');
  return bucket;
}

/**
 * The bucket policy: object access and listing only for the orchestrator's two roles, and their presigned URLs
 * only through the network's S3 gateway endpoint when MicroVMs reach S3 through one.
 *
 * Why not "the roles OR the endpoint", as a first sketch had it: a presigned request is signed by the role that
 * presigned it, so `aws:PrincipalArn` is that role wherever the request comes from, and the role clause alone already
 * admits the guest's uploads and downloads. An OR with `aws:SourceVpce` would admit only more: any other credentials
 * used from inside the MicroVMs (the execution role, or keys code brings in). Instead the endpoint narrows: a leaked
 * presigned URL (`s3:authType` REST-QUERY-STRING) works from inside the network only. The functions' own calls (HEAD,
 * DELETE, LIST) are header-signed and come from Lambda's network, so they are not affected.
 *
 * Administrators are not locked out: only object and listing actions are denied (the approach of data-perimeter
 * bucket policies), so bucket management (the policy itself, lifecycle, encryption, DeleteBucket) stays with IAM and
 * CloudFormation keeps updating and deleting the bucket. An administrator who must read a checkpoint, or empty the
 * bucket before deleting it, first removes this policy; the account root can always do that.
 */
function restrictToOrchestrator(bucket: s3.Bucket, roles: iam.IRole[], endpoint?: ec2.GatewayVpcEndpoint): void {
  const admitted = roles.map((r) => r.roleArn);
  // DESTROY's auto-delete function empties the bucket when it leaves the stack: it lists and deletes, nothing else.
  const autoDelete = Stack.of(bucket).node.tryFindChild(AUTO_DELETE_PROVIDER_ID);
  if (autoDelete instanceof CustomResourceProviderBase) admitted.push(autoDelete.roleArn);
  const onlyAdmitted = { StringNotEquals: { 'aws:PrincipalArn': admitted } };
  bucket.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'ObjectsOnlyForTheOrchestrator',
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: ['s3:*'],
    resources: [bucket.arnForObjects('*')],
    conditions: onlyAdmitted,
  }));
  bucket.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'ListingOnlyForTheOrchestrator',
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: ['s3:ListBucket', 's3:ListBucketVersions', 's3:ListBucketMultipartUploads'],
    resources: [bucket.bucketArn],
    conditions: onlyAdmitted,
  }));
  if (endpoint) {
    bucket.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'PresignedUrlsOnlyThroughTheNetwork',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['s3:*'],
      resources: [bucket.arnForObjects('*')],
      conditions: {
        StringEquals: { 's3:authType': 'REST-QUERY-STRING' },
        StringNotEquals: { 'aws:SourceVpce': endpoint.vpcEndpointId },
      },
    }));
  }
}

/**
 * Warns when the MicroVMs may not reach the bucket (a VPC this library did not build), and when the sweep interval is
 * longer than `beforeEnd` (a session could end between two sweeps, unsaved).
 */
function warnIfUnreachable(scope: Construct, setup: CheckpointSetup, ownNetwork: boolean, endpoint?: ec2.GatewayVpcEndpoint): void {
  const opened = endpoint !== undefined || (ownNetwork && setup.egressMode === EgressMode.DOMAIN_ALLOWLIST);
  if (!opened && setup.egressMode !== EgressMode.INTERNET) {
    Annotations.of(scope).addWarningV2('cdk-lambda-microvms:checkpointBucketReachability',
      `checkpoints: the MicroVMs' egress is ${setup.egressMode} through a connector or VPC this library did not build, so ` +
      'nothing was opened for the checkpoint bucket. The guest uploads and downloads with presigned HTTPS URLs of the ' +
      "bucket's regional virtual-hosted name (<bucket>.s3.<region>.amazonaws.com): add an S3 gateway endpoint to the " +
      'connector\'s subnets, or a route and a rule to S3 on 443, or saves and restores fail.');
  }
  const sweep = setup.sweepInterval;
  if (!sweep.isUnresolved() && !Token.isUnresolved(setup.config.beforeEndSeconds) && setup.config.beforeEndSeconds < sweep.toSeconds()) {
    Annotations.of(scope).addWarningV2('cdk-lambda-microvms:checkpointBeforeEndShorterThanSweep',
      `checkpoints.beforeEnd (${setup.config.beforeEndSeconds} seconds) is shorter than sweepInterval ` +
      `(${sweep.toHumanString()}), so a session can reach its end between two sweeps without being saved: make beforeEnd ` +
      'at least one sweep interval plus the time a save takes.');
  }
}

/**
 * `onSuspend` is kept only if a sweep runs while the MicroVM is suspended: it fails synth when the idle policy
 * terminates a suspended MicroVM before the next sweep can come, and warns when a MicroVM can be resumed and suspended
 * again between two sweeps (that second suspension is then not saved).
 */
function checkOnSuspend(scope: Construct, setup: CheckpointSetup): void {
  const idle = setup.idlePolicy;
  const sweep = setup.sweepInterval;
  if (!idle || sweep.isUnresolved()) return;
  const sweepSeconds = sweep.toSeconds();
  const terminateAfter = idle.suspendedDurationSeconds;
  if (!Token.isUnresolved(terminateAfter) && terminateAfter < sweepSeconds) {
    throw invalidProp('idlePolicy.terminateAfter', Duration.seconds(terminateAfter).toHumanString(),
      `be at least sweepInterval (${sweep.toHumanString()}) when checkpoints.onSuspend is on`,
      'The sweeper saves a suspension on its next run, and a MicroVM terminated before it is lost: raise terminateAfter in ' +
      'IdlePolicy.suspendAfter(idle, { terminateAfter }) to at least sweepInterval plus a few minutes for the save, or shorten sweepInterval.');
  }
  const idleSeconds = idle.maxIdleDurationSeconds;
  if (!Token.isUnresolved(idleSeconds) && idleSeconds < sweepSeconds) {
    Annotations.of(scope).addWarningV2('cdk-lambda-microvms:checkpointOnSuspendSweepSlowerThanIdle',
      `checkpoints.onSuspend: sweepInterval (${sweep.toHumanString()}) is longer than the idle policy's suspendAfter ` +
      `(${Duration.seconds(idleSeconds).toHumanString()}), so a MicroVM resumed by traffic can be suspended again before ` +
      'a sweep sees it running, and that suspension is not saved: make sweepInterval at most suspendAfter.');
  }
}
