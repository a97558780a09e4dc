import { CfnResource, aws_ec2 as ec2, aws_route53resolver as resolver } from 'aws-cdk-lib';
import { NagMessageLevel, NagRuleCompliance, NagRuleResult } from 'cdk-nag';
import { connectorVpcs, microvmVpcEgress, vpcIdentity } from '../private/microvm';
import { MicrovmRule } from '../private/rule';
import { findElement, render, resourcesOfType } from '../private/template';

/**
 * A MicroVM egress connector whose VPC is a resource of the same stack with no Route 53 Resolver DNS Firewall
 * rule group associated in that stack. A VPC defined elsewhere is not judged: its association (or a Firewall
 * Manager policy) cannot be seen.
 */
export const DnsUnfiltered: MicrovmRule = {
  id: 'DnsUnfiltered',
  level: NagMessageLevel.WARN,
  info: 'The VPC of a MicroVM egress connector resolves any public name: no DNS Firewall is associated with it.',
  explanation: 'Security groups, routes and Network Firewall do not see queries to the VPC resolver, so code in '
    + 'a MicroVM with no other way out can still send data in DNS queries for a domain whose name server someone '
    + 'else runs. Associate a Route 53 Resolver DNS Firewall rule group that answers only the names the VMs need '
    + '(MicrovmNetwork does unless dnsFirewall: false), or acknowledge with a reason.',
  check: (node: CfnResource): NagRuleResult => {
    const vpcEgress = microvmVpcEgress(node);
    if (!vpcEgress) return NagRuleCompliance.NOT_APPLICABLE;
    const ownVpcs = [...connectorVpcs(node, vpcEgress)].filter((vpc) => {
      const element = vpc.startsWith('ref:') ? findElement(node, vpc.slice(4)) : undefined;
      return element instanceof CfnResource && element.cfnResourceType === ec2.CfnVPC.CFN_RESOURCE_TYPE_NAME;
    });
    if (ownVpcs.length === 0) return NagRuleCompliance.NOT_APPLICABLE;
    const filtered = new Set(resourcesOfType(node, resolver.CfnFirewallRuleGroupAssociation.CFN_RESOURCE_TYPE_NAME)
      .map((association) => vpcIdentity(association, render(association)?.properties.VpcId)));
    return ownVpcs.every((vpc) => filtered.has(vpc)) ? NagRuleCompliance.COMPLIANT : NagRuleCompliance.NON_COMPLIANT;
  },
};
