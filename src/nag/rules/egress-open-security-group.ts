import { CfnResource, Stack, aws_ec2 as ec2 } from 'aws-cdk-lib';
import { NagMessageLevel, NagRuleCompliance, NagRuleResult } from 'cdk-nag';
import { asNumber, microvmVpcEgress } from '../private/microvm';
import { MicrovmRule } from '../private/rule';
import {
  isObject, listCandidates, referenceTarget, referencedResource, render, resourcesOfType, stringCandidates,
} from '../private/template';

const SECURITY_GROUP_EGRESS_TYPE = 'AWS::EC2::SecurityGroupEgress';
const ALL_PROTOCOLS = new Set(['-1', 'all']);
const PORT_PROTOCOLS = new Set(['tcp', '6', 'udp', '17']);

/**
 * A MicroVM egress connector (`AssociatedComputeResourceTypes` includes `MicroVm`) with a security group that
 * allows all outbound traffic to the whole address space: an egress rule (inline `SecurityGroupEgress` or a
 * separate `AWS::EC2::SecurityGroupEgress`) to a `/0` IPv4 or IPv6 range (`0.0.0.0/0`, `::/0`) for all protocols
 * (`-1`) or for every TCP or UDP port, or a group with no inline egress rules at all, which EC2 gives its default
 * allow-all rule. Rules limited to some ports (a domain-allowlist design allowing 443/80 to a firewall) pass.
 */
export const EgressOpenSecurityGroup: MicrovmRule = {
  id: 'EgressOpenSecurityGroup',
  level: NagMessageLevel.ERROR,
  info: 'A MicroVM egress connector uses a security group that allows all outbound traffic to 0.0.0.0/0 or ::/0.',
  explanation: 'A VPC egress connector is the only network boundary around MicroVM code; a security group open '
    + 'to everything turns it into plain internet access through whatever NAT the subnets route to. A security '
    + 'group without inline egress rules is open too (EC2 adds an allow-all rule). Give the connector\'s security '
    + 'group no outbound rules (CDK: allowAllOutbound: false) and open only the destinations and ports needed.',
  check: (node: CfnResource): NagRuleResult => {
    const vpc = microvmVpcEgress(node);
    if (!vpc) return NagRuleCompliance.NOT_APPLICABLE;
    const groups = listCandidates(node, vpc.SecurityGroupIds).flat()
      .map((id) => referencedResource(node, id))
      .filter((sg): sg is CfnResource => sg !== undefined && isSecurityGroup(sg));
    return groups.some(isOpenGroup) ? NagRuleCompliance.NON_COMPLIANT : NagRuleCompliance.COMPLIANT;
  },
};

function isSecurityGroup(node: CfnResource): boolean {
  return node instanceof ec2.CfnSecurityGroup || node.cfnResourceType === ec2.CfnSecurityGroup.CFN_RESOURCE_TYPE_NAME;
}

function isOpenGroup(group: CfnResource): boolean {
  const rendered = render(group);
  if (!rendered) return false;
  const inline = rendered.properties.SecurityGroupEgress;
  if (inline === undefined) return true;
  const alternatives = listCandidates(group, inline);
  if (alternatives.some((rules) => rules.length === 0)) return true;
  if (alternatives.some((rules) => rules.some((rule) => isObject(rule) && isOpenRule(group, rule)))) return true;
  const groupId = Stack.of(group).resolve(group.logicalId);
  return resourcesOfType(group, SECURITY_GROUP_EGRESS_TYPE)
    .map((egress) => render(egress)?.properties ?? {})
    .some((rule) => referenceTarget(rule.GroupId) === groupId && isOpenRule(group, rule));
}

function isOpenRule(node: CfnResource, rule: Record<string, unknown>): boolean {
  const everywhere = [rule.CidrIp, rule.CidrIpv6]
    .some((cidr) => cidr !== undefined && stringCandidates(node, cidr).some((c) => /\/0+$/.test(c.trim())));
  if (!everywhere) return false;
  const protocols = stringCandidates(node, rule.IpProtocol).map((p) => p.toLowerCase());
  if (protocols.some((p) => ALL_PROTOCOLS.has(p))) return true;
  if (!protocols.some((p) => PORT_PROTOCOLS.has(p))) return false;
  const from = asNumber(rule.FromPort);
  const to = asNumber(rule.ToPort);
  // port 0 is not usable, so 1-65535 is every port as much as 0-65535 is; -1 means "all" in the EC2 API.
  return from !== undefined && to !== undefined && (from === -1 || from <= 1) && (to === -1 || to >= 65535);
}
