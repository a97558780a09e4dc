import { Aws, CfnMapping, CfnParameter, aws_ec2 as ec2, aws_lambda as lambda } from 'aws-cdk-lib';
import { closedSecurityGroup, microvmConnector, newStack, ruleFindings } from './fixtures';

const RULE = 'EgressOpenSecurityGroup';
const FLAGGED = ['MicrovmChecks-EgressOpenSecurityGroup'];

function withEgress(rules: ec2.CfnSecurityGroup.EgressProperty[]): lambda.CfnNetworkConnector {
  const stack = newStack();
  const sg = new ec2.CfnSecurityGroup(stack, 'Sg', { groupDescription: 'sg', vpcId: 'vpc-1', securityGroupEgress: rules });
  return microvmConnector(stack, sg);
}

describe('EgressOpenSecurityGroup', () => {
  test('passes with a closed security group', () => {
    const stack = newStack();
    const connector = microvmConnector(stack, closedSecurityGroup(stack));
    expect(ruleFindings(connector, RULE)).toEqual([]);
  });

  test('passes with HTTPS and HTTP to 0.0.0.0/0 only (the domain-allowlist design behind a firewall)', () => {
    const connector = withEgress([
      { ipProtocol: 'tcp', fromPort: 443, toPort: 443, cidrIp: '0.0.0.0/0' },
      { ipProtocol: 'tcp', fromPort: 80, toPort: 80, cidrIp: '0.0.0.0/0' },
      { ipProtocol: 'tcp', fromPort: 443, toPort: 443, cidrIpv6: '::/0' },
    ]);
    expect(ruleFindings(connector, RULE)).toEqual([]);
  });

  test('passes with all traffic to a private range', () => {
    const connector = withEgress([{ ipProtocol: '-1', cidrIp: '10.0.0.0/16' }]);
    expect(ruleFindings(connector, RULE)).toEqual([]);
  });

  test('follows Fn::FindInMap: fails when the CIDR a mapping could pick is /0, passes when every one is private', () => {
    for (const [cidrs, expected] of [[['10.0.0.0/16', '0.0.0.0/0'], FLAGGED], [['10.0.0.0/16', '10.1.0.0/16'], []]] as const) {
      const stack = newStack();
      const mapping = new CfnMapping(stack, 'Cidrs', { mapping: { 'us-east-1': { cidr: cidrs[0] }, 'eu-west-1': { cidr: cidrs[1] } } });
      const sg = new ec2.CfnSecurityGroup(stack, 'Sg', {
        groupDescription: 'sg',
        vpcId: 'vpc-1',
        securityGroupEgress: [{ ipProtocol: '-1', cidrIp: mapping.findInMap(Aws.REGION, 'cidr') }],
      });
      expect(ruleFindings(microvmConnector(stack, sg), RULE)).toEqual(expected);
    }
  });

  test('does not apply to a WebFunction connector', () => {
    const stack = newStack();
    const sg = new ec2.CfnSecurityGroup(stack, 'Sg', { groupDescription: 'sg', vpcId: 'vpc-1' });
    const connector = microvmConnector(stack, sg);
    connector.addPropertyOverride('Configuration.VpcEgressConfiguration.AssociatedComputeResourceTypes', ['WebFunction']);
    expect(ruleFindings(connector, RULE)).toEqual([]);
  });

  test('passes with a security group outside the stack (it cannot be inspected)', () => {
    const stack = newStack();
    const connector = microvmConnector(stack, closedSecurityGroup(stack));
    connector.addPropertyOverride('Configuration.VpcEgressConfiguration.SecurityGroupIds', ['sg-0123456789abcdef0']);
    expect(ruleFindings(connector, RULE)).toEqual([]);
  });

  test.each([
    ['all protocols to 0.0.0.0/0', { ipProtocol: '-1', cidrIp: '0.0.0.0/0' }],
    ['all protocols to ::/0', { ipProtocol: '-1', cidrIpv6: '::/0' }],
    ['all protocols spelled "all"', { ipProtocol: 'all', cidrIp: '0.0.0.0/0' }],
    ['every TCP port', { ipProtocol: 'tcp', fromPort: 0, toPort: 65535, cidrIp: '0.0.0.0/0' }],
    ['every UDP port over IPv6', { ipProtocol: 'udp', fromPort: 1, toPort: 65535, cidrIpv6: '::/0' }],
    ['every TCP port by protocol number', { ipProtocol: '6', fromPort: 0, toPort: 65535, cidrIp: '0.0.0.0/0' }],
    ['any /0 range', { ipProtocol: '-1', cidrIp: '10.0.0.0/0' }],
  ])('fails if an inline rule allows %s', (_name, rule) => {
    const connector = withEgress([{ ipProtocol: 'tcp', fromPort: 443, toPort: 443, cidrIp: '0.0.0.0/0' }, rule]);
    expect(ruleFindings(connector, RULE)).toEqual(FLAGGED);
  });

  test('fails if the security group has no inline egress rules (EC2 adds allow-all)', () => {
    const stack = newStack();
    const sg = new ec2.CfnSecurityGroup(stack, 'Sg', { groupDescription: 'sg', vpcId: 'vpc-1' });
    expect(ruleFindings(microvmConnector(stack, sg), RULE)).toEqual(FLAGGED);
  });

  test('fails if a separate AWS::EC2::SecurityGroupEgress opens the group (GetAtt and Ref forms)', () => {
    const stack = newStack();
    const sg = closedSecurityGroup(stack, 'A');
    new ec2.CfnSecurityGroupEgress(stack, 'OpenA', { groupId: sg.attrGroupId, ipProtocol: '-1', cidrIp: '0.0.0.0/0' });
    const sgB = closedSecurityGroup(stack, 'B');
    new ec2.CfnSecurityGroupEgress(stack, 'OpenB', { groupId: sgB.ref, ipProtocol: '-1', cidrIpv6: '::/0' });
    expect(ruleFindings(microvmConnector(stack, sg, 'ConnectorA'), RULE)).toEqual(FLAGGED);
    expect(ruleFindings(microvmConnector(stack, sgB, 'ConnectorB'), RULE)).toEqual(FLAGGED);
  });

  test('passes if a separate egress rule only opens one port', () => {
    const stack = newStack();
    const sg = closedSecurityGroup(stack);
    new ec2.CfnSecurityGroupEgress(stack, 'Https', { groupId: sg.attrGroupId, ipProtocol: 'tcp', fromPort: 443, toPort: 443, cidrIp: '0.0.0.0/0' });
    expect(ruleFindings(microvmConnector(stack, sg), RULE)).toEqual([]);
  });

  test('fails if an escape hatch opens a closed group', () => {
    const stack = newStack();
    const sg = closedSecurityGroup(stack);
    const connector = microvmConnector(stack, sg);
    expect(ruleFindings(connector, RULE)).toEqual([]);
    sg.addPropertyOverride('SecurityGroupEgress', [{ CidrIp: '0.0.0.0/0', IpProtocol: '-1' }]);
    expect(ruleFindings(connector, RULE)).toEqual(FLAGGED);
  });

  test('fails if the CIDR is a parameter that defaults to 0.0.0.0/0', () => {
    const stack = newStack();
    const cidr = new CfnParameter(stack, 'EgressCidr', { default: '0.0.0.0/0' });
    const sg = new ec2.CfnSecurityGroup(stack, 'Sg', {
      groupDescription: 'sg', vpcId: 'vpc-1', securityGroupEgress: [{ ipProtocol: '-1', cidrIp: cidr.valueAsString }],
    });
    expect(ruleFindings(microvmConnector(stack, sg), RULE)).toEqual(FLAGGED);
  });

  test('checks aws-cdk-lib L2s too: allowAllOutbound fails, a closed group passes', () => {
    const stack = newStack();
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-1', availabilityZones: ['us-east-1a'], privateSubnetIds: ['subnet-1'],
    });
    const open = new lambda.NetworkConnector(stack, 'Open', {
      configuration: lambda.NetworkConnectorConfiguration.vpcEgress({
        computeType: lambda.NetworkConnectorComputeType.MICRO_VM,
        vpc,
        securityGroups: [new ec2.SecurityGroup(stack, 'OpenSg', { vpc, allowAllOutbound: true })],
      }),
    });
    const closed = new lambda.NetworkConnector(stack, 'Closed', {
      configuration: lambda.NetworkConnectorConfiguration.vpcEgress({
        computeType: lambda.NetworkConnectorComputeType.MICRO_VM,
        vpc,
        securityGroups: [new ec2.SecurityGroup(stack, 'ClosedSg', { vpc, allowAllOutbound: false })],
      }),
    });
    expect(ruleFindings(open.resource, RULE)).toEqual(FLAGGED);
    expect(ruleFindings(closed.resource, RULE)).toEqual([]);
  });
});
