import { aws_ec2 as ec2, aws_route53resolver as resolver } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/** names AWS answers authoritatively: service endpoints (and interface endpoints' private DNS) live here. */
const AWS_SERVICE_NAMES = ['amazonaws.com', '*.amazonaws.com'];

export interface DnsFirewallProps {
  readonly vpc: ec2.IVpc;
  /** Network Firewall targets (`name` or `.name`), already validated. */
  readonly firewallTargets: string[];
}

/**
 * Route 53 Resolver DNS Firewall on the VPC: answers only the allowlisted names and AWS service names, and
 * NXDOMAIN for the rest. Security groups cannot filter the Amazon resolver, so without this a VM can leak data
 * through queries for a domain whose authoritative server someone else controls.
 */
export class DnsFirewall extends Construct {
  public readonly ruleGroup: resolver.CfnFirewallRuleGroup;

  constructor(scope: Construct, id: string, props: DnsFirewallProps) {
    super(scope, id);
    const allowed = new resolver.CfnFirewallDomainList(this, 'Allowed', {
      domains: [...AWS_SERVICE_NAMES, ...props.firewallTargets.flatMap(toDnsFirewallDomains)],
    });
    const everything = new resolver.CfnFirewallDomainList(this, 'Everything', { domains: ['*'] });
    this.ruleGroup = new resolver.CfnFirewallRuleGroup(this, 'Rules', {
      firewallRules: [
        { priority: 100, action: 'ALLOW', firewallDomainListId: allowed.attrId },
        { priority: 200, action: 'BLOCK', blockResponse: 'NXDOMAIN', firewallDomainListId: everything.attrId },
      ],
    });
    new resolver.CfnFirewallRuleGroupAssociation(this, 'Association', {
      firewallRuleGroupId: this.ruleGroup.attrId,
      vpcId: props.vpc.vpcId,
      priority: 1000,
    });
  }
}

/** `.example.com` (Network Firewall: the domain and its subdomains) is two DNS Firewall entries. */
function toDnsFirewallDomains(target: string): string[] {
  return target.startsWith('.') ? [target.slice(1), `*${target}`] : [target];
}
