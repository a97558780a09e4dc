import { Stack, aws_ec2 as ec2, aws_lambda as lambda } from 'aws-cdk-lib';
import { closedSecurityGroup, microvmConnector, newStack, ruleFindings } from './fixtures';
import { EndpointPolicy, MicrovmNetwork } from '../../src';

const RULE = 'EndpointPolicyOpen';
const FLAGGED = ['MicrovmChecks-EndpointPolicyOpen'];

/** A VPC of the stack with one subnet, and a MicroVM egress connector in it (all raw L1). */
function microvmVpc(stack: Stack, computeTypes = ['MicroVm']): { vpc: ec2.CfnVPC; connector: lambda.CfnNetworkConnector } {
  const vpc = new ec2.CfnVPC(stack, 'Vpc', { cidrBlock: '10.0.0.0/16' });
  const subnet = new ec2.CfnSubnet(stack, 'Subnet', { vpcId: vpc.ref, cidrBlock: '10.0.0.0/24' });
  const connector = microvmConnector(stack, closedSecurityGroup(stack));
  connector.addPropertyOverride('Configuration.VpcEgressConfiguration.SubnetIds', [subnet.ref]);
  connector.addPropertyOverride('Configuration.VpcEgressConfiguration.AssociatedComputeResourceTypes', computeTypes);
  return { vpc, connector };
}

function endpoint(stack: Stack, vpcId: string, policyDocument?: unknown, id = 'Endpoint'): ec2.CfnVPCEndpoint {
  return new ec2.CfnVPCEndpoint(stack, id, { vpcId, serviceName: 'com.amazonaws.us-east-1.s3', vpcEndpointType: 'Gateway', policyDocument });
}

const OPEN_STATEMENT = { Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' };

describe('EndpointPolicyOpen', () => {
  test('fails for an endpoint without a policy in a MicroVM connector\'s VPC (the service default admits every account)', () => {
    const stack = newStack();
    const { vpc } = microvmVpc(stack);
    expect(ruleFindings(endpoint(stack, vpc.ref), RULE)).toEqual(FLAGGED);
  });

  test('fails for an unconditioned "*" statement, in any of its spellings, and with any actions', () => {
    for (const statement of [
      OPEN_STATEMENT,
      { ...OPEN_STATEMENT, Principal: { AWS: '*' } },
      { ...OPEN_STATEMENT, Principal: { AWS: ['*'] }, Resource: ['*'] },
      { ...OPEN_STATEMENT, Action: 's3:PutObject' },
      { Effect: 'Allow', Principal: '*', Action: 's3:*', NotResource: 'arn:aws:s3:::logs/*' },
      { ...OPEN_STATEMENT, Condition: {} },
    ]) {
      const stack = newStack();
      const { vpc } = microvmVpc(stack);
      expect([statement, ruleFindings(endpoint(stack, vpc.ref, { Version: '2012-10-17', Statement: [statement] }), RULE)])
        .toEqual([statement, FLAGGED]);
    }
  });

  test('reads a policy given as a JSON string (CloudFormation accepts one; an override can write it)', () => {
    for (const [statement, expected] of [[OPEN_STATEMENT, FLAGGED], [{ ...OPEN_STATEMENT, Resource: 'arn:aws:s3:::cache/*' }, []]] as const) {
      const stack = newStack();
      const { vpc } = microvmVpc(stack);
      const e = endpoint(stack, vpc.ref);
      e.addPropertyOverride('PolicyDocument', JSON.stringify({ Statement: statement }));
      expect(ruleFindings(e, RULE)).toEqual(expected);
    }
  });

  test('passes with a condition on the account, or with named resources', () => {
    for (const statement of [
      { ...OPEN_STATEMENT, Condition: { StringEquals: { 'aws:ResourceAccount': '123456789012' } } },
      { ...OPEN_STATEMENT, Condition: { StringEquals: { 'aws:PrincipalAccount': '123456789012' } } },
      { ...OPEN_STATEMENT, Resource: ['arn:aws:s3:::cache', 'arn:aws:s3:::cache/*'] },
      { Effect: 'Deny', Principal: '*', Action: '*', Resource: '*' },
    ]) {
      const stack = newStack();
      const { vpc } = microvmVpc(stack);
      expect([statement, ruleFindings(endpoint(stack, vpc.ref, { Statement: [statement] }), RULE)]).toEqual([statement, []]);
    }
  });

  test('does not apply to an endpoint in another VPC, or in the VPC of a connector that does not serve MicroVMs', () => {
    const stack = newStack();
    microvmVpc(stack);
    const other = new ec2.CfnVPC(stack, 'Other', { cidrBlock: '10.1.0.0/16' });
    expect(ruleFindings(endpoint(stack, other.ref), RULE)).toEqual([]);

    const web = newStack();
    const { vpc } = microvmVpc(web, ['WebFunction']);
    expect(ruleFindings(endpoint(web, vpc.ref), RULE)).toEqual([]);
  });

  test('finds the connector\'s VPC through its security group too (an imported VPC id)', () => {
    const stack = newStack();
    microvmConnector(stack, closedSecurityGroup(stack)); // the fixture's group is in vpc-12345678
    expect(ruleFindings(endpoint(stack, 'vpc-12345678'), RULE)).toEqual(FLAGGED);
    expect(ruleFindings(endpoint(stack, 'vpc-87654321', undefined, 'Elsewhere'), RULE)).toEqual([]);
  });

  describe('on MicrovmNetwork', () => {
    function network(): { stack: Stack; network: MicrovmNetwork } {
      const stack = newStack();
      return { stack, network: new MicrovmNetwork(stack, 'Network') };
    }

    test('the default policies pass', () => {
      const { network: n } = network();
      const s3 = n.addS3Endpoint({ prefixListId: 'pl-63a5400a' });
      const ddb = n.addGatewayEndpoint(ec2.GatewayVpcEndpointAwsService.DYNAMODB, { prefixListId: 'pl-02cd2c6b' });
      const bedrock = n.addInterfaceEndpoint(ec2.InterfaceVpcEndpointAwsService.BEDROCK_RUNTIME);
      for (const e of [s3, ddb, bedrock]) expect(ruleFindings(e.node.defaultChild as ec2.CfnVPCEndpoint, RULE)).toEqual([]);
    });

    test('EndpointPolicy.unrestricted() is reported, on gateway and interface endpoints', () => {
      const { network: n } = network();
      const s3 = n.addS3Endpoint({ prefixListId: 'pl-63a5400a', policy: EndpointPolicy.unrestricted() });
      const secrets = n.addInterfaceEndpoint(ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER, { policy: EndpointPolicy.unrestricted() });
      for (const e of [s3, secrets]) expect(ruleFindings(e.node.defaultChild as ec2.CfnVPCEndpoint, RULE)).toEqual(FLAGGED);
    });
  });
});
