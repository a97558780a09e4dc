import { Aws, Stack } from 'aws-cdk-lib';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, IConstruct } from 'constructs';
import {
  acknowledgeAll, acknowledgeInlinePolicy, LAMBDA_CONCURRENCY_RULES, LAMBDA_DLQ_RULES, LAMBDA_INSIDE_VPC_RULES,
} from '../../shared/compliance';

/** The construct id aws-cdk-lib gives the stack's one `AwsCustomResource` function. */
const SINGLETON_ID = 'AWS679f53fac002430cb0da5b7982bd2287';

/**
 * The ID of an AWS-managed prefix list (`com.amazonaws.<region>.<service>`), read at deploy time with one
 * `ec2:DescribeManagedPrefixLists` call (on create and update; nothing on delete): for stacks without an explicit
 * region and account, where a synth-time lookup cannot run.
 */
export function prefixListAtDeploy(scope: Construct, service: string): string {
  const name = `com.amazonaws.${Aws.REGION}.${service}`;
  const call: cr.AwsSdkCall = {
    service: 'EC2',
    action: 'describeManagedPrefixLists',
    parameters: { Filters: [{ Name: 'prefix-list-name', Values: [name] }] },
    physicalResourceId: cr.PhysicalResourceId.of(name),
    outputPaths: ['PrefixLists.0.PrefixListId'],
  };
  const lookup = new cr.AwsCustomResource(scope, 'PrefixListLookup', {
    onCreate: call,
    onUpdate: call,
    // DescribeManagedPrefixLists has no resource-level permissions: the only statement is this read on "*".
    policy: cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: cr.AwsCustomResourcePolicy.ANY_RESOURCE }),
    installLatestAwsSdk: false,
  });
  const policy = lookup.node.findChild('CustomResourcePolicy');
  acknowledgeAll(policy, ['AwsSolutions-IAM5[Resource::*]'],
    'ec2:DescribeManagedPrefixLists (read-only) has no resource-level permissions; it is the only action granted.');
  acknowledgeInlinePolicy(policy, "the prefix list lookup of aws-cdk-lib's AwsCustomResource function");
  acknowledgeSingleton(Stack.of(scope).node.tryFindChild(SINGLETON_ID));
  return lookup.getResponseField('PrefixLists.0.PrefixListId');
}

/** aws-cdk-lib's function behind every `AwsCustomResource` of the stack: what the packs find on it, and why it stays. */
function acknowledgeSingleton(singleton: IConstruct | undefined): void {
  if (!singleton) return;
  acknowledgeAll(singleton, ['AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]'],
    "aws-cdk-lib's AwsCustomResource function writes its own logs with the basic execution policy; it runs once per deploy.");
  // aws-cdk-lib picks this function's runtime (determineLatestNodeRuntime), which can trail the newest nodejs<N>.x it
  // knows, as it does in 2.278; overriding it would run aws-cdk-lib's handler on a runtime it was not released for.
  acknowledgeAll(singleton, ['AwsSolutions-L1'],
    'aws-cdk-lib chooses the runtime of its AwsCustomResource function and releases its handler for that runtime; it ' +
    'makes one read-only EC2 call per deployment and handles no user data.');
  acknowledgeAll(singleton, LAMBDA_INSIDE_VPC_RULES,
    'the function makes read-only AWS API calls (DescribeManagedPrefixLists) over TLS with SigV4 during a deployment and ' +
    'serves no listener; a VPC would add endpoints or NAT and isolate nothing.');
  acknowledgeAll(singleton, LAMBDA_CONCURRENCY_RULES,
    'only CloudFormation invokes it, once per lookup per deployment; a reservation fails to deploy in accounts at the ' +
    'new-account concurrency limit and bounds nothing.');
  acknowledgeAll(singleton, LAMBDA_DLQ_RULES,
    'only CloudFormation invokes it, as a custom resource, and waits for its answer: a failure fails the deployment, ' +
    'where it must show; a queued event would be read by no one.');
  acknowledgeAll(singleton, ['Serverless-LambdaDefaultMemorySize', 'Serverless-LambdaTracing'],
    "aws-cdk-lib's AwsCustomResource function (memory and tracing are its own) runs one read per deployment; tuning or " +
    'tracing it buys nothing.');
}
