import { Stack, aws_ec2 as ec2, aws_lambda as lambda, aws_route53resolver as resolver } from 'aws-cdk-lib';
import { closedSecurityGroup, microvmConnector, newStack, ruleFindings } from './fixtures';
import { MicrovmNetwork } from '../../src';

const RULE = 'DnsUnfiltered';
const FLAGGED = ['MicrovmChecks-DnsUnfiltered'];

/** A VPC of the stack with one subnet, and a MicroVM egress connector in it (all raw L1). */
function microvmVpc(stack: Stack): { vpc: ec2.CfnVPC; connector: lambda.CfnNetworkConnector } {
  const vpc = new ec2.CfnVPC(stack, 'Vpc', { cidrBlock: '10.0.0.0/16' });
  const subnet = new ec2.CfnSubnet(stack, 'Subnet', { vpcId: vpc.ref, cidrBlock: '10.0.0.0/24' });
  const connector = microvmConnector(stack, closedSecurityGroup(stack));
  connector.addPropertyOverride('Configuration.VpcEgressConfiguration.SubnetIds', [subnet.ref]);
  return { vpc, connector };
}

function associate(stack: Stack, vpcId: string): void {
  const list = new resolver.CfnFirewallDomainList(stack, 'Everything', { domains: ['*'] });
  const group = new resolver.CfnFirewallRuleGroup(stack, 'Rules', {
    firewallRules: [{ priority: 100, action: 'BLOCK', blockResponse: 'NXDOMAIN', firewallDomainListId: list.attrId }],
  });
  new resolver.CfnFirewallRuleGroupAssociation(stack, 'Association', { firewallRuleGroupId: group.attrId, vpcId, priority: 1000 });
}

describe('DnsUnfiltered', () => {
  test('warns for a MicroVM connector in a VPC of the stack with no DNS Firewall association', () => {
    const stack = newStack();
    const { connector } = microvmVpc(stack);
    expect(ruleFindings(connector, RULE)).toEqual(FLAGGED);
  });

  test('passes when a rule group is associated with that VPC', () => {
    const stack = newStack();
    const { vpc, connector } = microvmVpc(stack);
    associate(stack, vpc.ref);
    expect(ruleFindings(connector, RULE)).toEqual([]);
  });

  test('an association with another VPC does not count', () => {
    const stack = newStack();
    const { connector } = microvmVpc(stack);
    associate(stack, new ec2.CfnVPC(stack, 'Other', { cidrBlock: '10.1.0.0/16' }).ref);
    expect(ruleFindings(connector, RULE)).toEqual(FLAGGED);
  });

  test('does not judge a VPC defined outside the stack (its association cannot be seen)', () => {
    const stack = newStack();
    const connector = microvmConnector(stack, closedSecurityGroup(stack)); // subnet-12345678 in vpc-12345678
    expect(ruleFindings(connector, RULE)).toEqual([]);
  });

  test('MicrovmNetwork: on by default, so nothing to report; dnsFirewall: false is reported', () => {
    const stack = newStack();
    const filtered = new MicrovmNetwork(stack, 'Filtered');
    const unfiltered = new MicrovmNetwork(stack, 'Unfiltered', { dnsFirewall: false });
    const cfn = (n: MicrovmNetwork) => n.networkConnector.node.defaultChild as lambda.CfnNetworkConnector;
    expect(ruleFindings(cfn(filtered), RULE)).toEqual([]);
    expect(ruleFindings(cfn(unfiltered), RULE)).toEqual(FLAGGED);
  });

  test('MicrovmNetwork in your own VPC of the same stack is reported: its resolver is unfiltered', () => {
    const stack = newStack();
    const network = new MicrovmNetwork(stack, 'Network', { vpc: new ec2.Vpc(stack, 'Vpc', { natGateways: 0 }) });
    expect(ruleFindings(network.networkConnector.node.defaultChild as lambda.CfnNetworkConnector, RULE)).toEqual(FLAGGED);
  });
});
