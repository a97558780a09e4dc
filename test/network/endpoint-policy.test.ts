import { App, Stack, aws_ec2 as ec2, aws_iam as iam, aws_s3 as s3 } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { EndpointPolicy, MicrovmNetwork } from '../../src';

const S3_PREFIX_LIST = 'pl-63a5400a';
const DYNAMODB_PREFIX_LIST = 'pl-02cd2c6b';

function newNetwork(env = true): { stack: Stack; network: MicrovmNetwork } {
  const app = new App({ context: { 'aws:cdk:disable-creation-stack-traces': true } });
  const stack = new Stack(app, 'Stack', env ? { env: { account: '123456789012', region: 'us-east-1' } } : undefined);
  return { stack, network: new MicrovmNetwork(stack, 'Network') };
}

/** the PolicyDocument of the one endpoint of `type` ('Gateway' or 'Interface'), or undefined when it has none. */
function endpointPolicy(stack: Stack, type: 'Gateway' | 'Interface'): any {
  const endpoints = Object.values(Template.fromStack(stack).findResources('AWS::EC2::VPCEndpoint'))
    .filter((r: any) => (r.Properties.VpcEndpointType ?? 'Gateway') === type);
  expect(endpoints).toHaveLength(1);
  return (endpoints[0] as any).Properties.PolicyDocument;
}

describe('S3 gateway endpoint policy', () => {
  test('by default admits only buckets owned by the stack\'s account', () => {
    // GIVEN
    const { stack, network } = newNetwork();

    // WHEN
    network.addS3Endpoint({ prefixListId: S3_PREFIX_LIST });

    // THEN
    expect(endpointPolicy(stack, 'Gateway')).toEqual({
      Version: '2012-10-17',
      Statement: [{
        Sid: 'OnlyResourcesOfThisAccount',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: '*',
        Resource: '*',
        Condition: { StringEquals: { 'aws:ResourceAccount': '123456789012' } },
      }],
    });
  });

  test('in a region-agnostic stack the account is the deploying one', () => {
    const { stack, network } = newNetwork(false);
    network.addS3Endpoint({ prefixListId: S3_PREFIX_LIST });
    expect(endpointPolicy(stack, 'Gateway').Statement[0].Condition).toEqual({ StringEquals: { 'aws:ResourceAccount': { Ref: 'AWS::AccountId' } } });
  });

  test('buckets: exactly the listed buckets and their objects', () => {
    // GIVEN
    const { stack, network } = newNetwork();
    const cache = new s3.Bucket(stack, 'Cache', { enforceSSL: true });
    const artifacts = s3.Bucket.fromBucketName(stack, 'Artifacts', 'ci-artifacts');

    // WHEN
    network.addS3Endpoint({ prefixListId: S3_PREFIX_LIST, buckets: [cache, artifacts] });

    // THEN
    const cacheArn = stack.resolve(cache.bucketArn);
    expect(endpointPolicy(stack, 'Gateway').Statement).toEqual([{
      Sid: 'OnlyTheseResources',
      Effect: 'Allow',
      Principal: { AWS: '*' },
      Action: '*',
      Resource: [
        cacheArn,
        { 'Fn::Join': ['', [cacheArn, '/*']] },
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::ci-artifacts']] },
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::ci-artifacts/*']] },
      ],
    }]);
  });

  test('any bucket is an explicit choice, and leaves the service default (no policy)', () => {
    const { stack, network } = newNetwork();
    network.addS3Endpoint({ prefixListId: S3_PREFIX_LIST, policy: EndpointPolicy.unrestricted() });
    expect(endpointPolicy(stack, 'Gateway')).toBeUndefined();
  });

  test('buckets and policy together, or no bucket, fail with the fix', () => {
    const { stack, network } = newNetwork();
    const bucket = s3.Bucket.fromBucketName(stack, 'B', 'ci-cache');
    expect(() => network.addS3Endpoint({ prefixListId: S3_PREFIX_LIST, buckets: [bucket], policy: EndpointPolicy.accountResources() }))
      .toThrow(/^Stack\/[\w-]+: buckets must be left out when policy is given .* Keep one/);
    expect(() => network.addS3Endpoint({ prefixListId: S3_PREFIX_LIST, buckets: [] }))
      .toThrow(/^Stack\/[\w-]+: buckets must list at least one bucket, got \[\]\. Leave it out for the default/);
  });
});

describe('DynamoDB gateway endpoint policy', () => {
  test('by default admits only the tables of this account and Region', () => {
    const { stack, network } = newNetwork();
    network.addGatewayEndpoint(ec2.GatewayVpcEndpointAwsService.DYNAMODB, { prefixListId: DYNAMODB_PREFIX_LIST });
    expect(endpointPolicy(stack, 'Gateway').Statement).toEqual([{
      Sid: 'OnlyTheseResources',
      Effect: 'Allow',
      Principal: { AWS: '*' },
      Action: '*',
      Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':dynamodb:us-east-1:123456789012:table/*']] },
    }]);
  });
});

describe('interface endpoint policy', () => {
  test('by default admits only callers with this account\'s credentials', () => {
    // WHEN
    const { stack, network } = newNetwork();
    network.addInterfaceEndpoint(ec2.InterfaceVpcEndpointAwsService.BEDROCK_RUNTIME);

    // THEN
    expect(endpointPolicy(stack, 'Interface').Statement).toEqual([{
      Sid: 'OnlyCallersOfThisAccount',
      Effect: 'Allow',
      Principal: { AWS: '*' },
      Action: '*',
      Resource: '*',
      Condition: { StringEquals: { 'aws:PrincipalAccount': '123456789012' } },
    }]);
  });

  test('policy: your own statements, or the service default when you choose it', () => {
    // GIVEN
    const { stack, network } = newNetwork();
    const model = 'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0';

    // WHEN
    network.addInterfaceEndpoint(ec2.InterfaceVpcEndpointAwsService.BEDROCK_RUNTIME, {
      policy: EndpointPolicy.fromStatements([new iam.PolicyStatement({
        principals: [new iam.AnyPrincipal()], actions: ['bedrock:InvokeModel'], resources: [model],
      })]),
    });
    network.addInterfaceEndpoint(ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER, { policy: EndpointPolicy.unrestricted() });

    // THEN
    const endpoints = Object.values(Template.fromStack(stack).findResources('AWS::EC2::VPCEndpoint')) as any[];
    const byService = (name: string) => endpoints.find((e) => JSON.stringify(e.Properties.ServiceName).includes(name)).Properties;
    expect(byService('bedrock-runtime').PolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Principal: { AWS: '*' }, Action: 'bedrock:InvokeModel', Resource: model },
    ]);
    expect(byService('secretsmanager').PolicyDocument).toBeUndefined();
  });

  test('EndpointPolicy factories reject empty input with the fix', () => {
    expect(() => EndpointPolicy.resources([])).toThrow(/^EndpointPolicy.resources\(arns\) must list at least one ARN/);
    expect(() => EndpointPolicy.fromStatements([])).toThrow(/^EndpointPolicy.fromStatements\(statements\) must contain at least one statement/);
  });
});
