import { Lazy, aws_ec2 as ec2 } from 'aws-cdk-lib';

/** CDK's rule for "no outbound traffic": 255.255.255.255/32 cannot be a destination and icmp 252/86 is no ICMP type. */
const NO_TRAFFIC_RULE: ec2.CfnSecurityGroup.EgressProperty = {
  cidrIp: '255.255.255.255/32',
  description: 'Disallow all traffic',
  ipProtocol: 'icmp',
  fromPort: 252,
  toPort: 86,
};

/**
 * Keeps CDK's no-traffic placeholder inline while the group has no other inline outbound rule.
 *
 * CDK drops the placeholder as soon as any outbound rule is added, even one it renders as a separate
 * `AWS::EC2::SecurityGroupEgress` (security group and prefix list peers). The group then declares no inline
 * egress, so EC2 gives it the default allow-all rule until CloudFormation creates the separate rule: a window
 * in which the connector's interfaces could reach anything, and a template that reads as open.
 */
export function keepNoTrafficRule(group: ec2.SecurityGroup): void {
  const cfn = group.node.defaultChild as ec2.CfnSecurityGroup;
  // the L2 keeps mutating this array (it is the group's list of inline rules), so read it at synthesis.
  const inlineRules = cfn.securityGroupEgress as ec2.CfnSecurityGroup.EgressProperty[];
  cfn.securityGroupEgress = Lazy.any({ produce: () => (inlineRules.length > 0 ? inlineRules : [NO_TRAFFIC_RULE]) });
}
