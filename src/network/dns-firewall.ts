import { Lazy, aws_ec2 as ec2, aws_route53resolver as resolver } from 'aws-cdk-lib';
import { Construct } from 'constructs';

export interface DnsFirewallProps {
  readonly vpc: ec2.IVpc;
  /** DNS Firewall domain entries (`name` or `*.name`) the resolver answers; read at synthesis, so later endpoints count. */
  readonly allowed: () => string[];
}

/**
 * Route 53 Resolver DNS Firewall on the VPC: answers only the names the network needs and NXDOMAIN for the rest.
 * Security groups cannot filter the Amazon resolver, so without this a VM can leak data through queries for a
 * domain whose authoritative server someone else controls.
 *
 * The allow rule trusts the redirection chain of an allowed name (`TRUST_REDIRECTION_DOMAIN`): the CNAME targets
 * of an allowed name (a CDN's host, S3's regional aliases) are not names the user can list in advance, and the
 * chain is chosen by the allowed domain's owner, not by code in the VM.
 */
export class DnsFirewall extends Construct {
  public readonly ruleGroup: resolver.CfnFirewallRuleGroup;
  public readonly allowedList: resolver.CfnFirewallDomainList;

  constructor(scope: Construct, id: string, props: DnsFirewallProps) {
    super(scope, id);
    this.allowedList = new resolver.CfnFirewallDomainList(this, 'Allowed', {
      // a network without endpoints or allowlist answers nothing: the list is then empty (CloudFormation: no Domains).
      domains: Lazy.list({ produce: () => [...new Set(props.allowed())] }, { omitEmpty: true }),
    });
    const everything = new resolver.CfnFirewallDomainList(this, 'Everything', { domains: ['*'] });
    this.ruleGroup = new resolver.CfnFirewallRuleGroup(this, 'Rules', {
      firewallRules: [
        { priority: 100, action: 'ALLOW', firewallDomainListId: this.allowedList.attrId, firewallDomainRedirectionAction: 'TRUST_REDIRECTION_DOMAIN' },
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
export function toDnsFirewallDomains(target: string): string[] {
  return target.startsWith('.') ? [target.slice(1), `*${target}`] : [target];
}

/**
 * The names a VM resolves to use an AWS service through an endpoint of this VPC, in `region`. Interface endpoints'
 * private DNS names follow `<service parts reversed>.<region>.amazonaws.com` (`ecr.api` is `api.ecr.<region>...`,
 * `ecr.dkr` is `*.dkr.ecr.<region>...`); the wildcard covers those and S3's virtual-hosted bucket names, and the
 * `vpce.amazonaws.com` forms are the endpoint-specific names used without private DNS. DynamoDB's account-based
 * endpoints are `<account>.ddb.<region>.amazonaws.com`. All of these are answered by AWS's own name servers.
 */
export function serviceDnsNames(shortName: string, region: string): string[] {
  const host = `${shortName.split('.').reverse().join('.')}.${region}.amazonaws.com`;
  const names = [host, `*.${host}`, `*.${shortName.split('.').reverse().join('.')}.${region}.vpce.amazonaws.com`];
  if (shortName === 's3') names.push('s3.amazonaws.com', '*.s3.amazonaws.com');
  if (shortName === 'dynamodb') names.push(`*.ddb.${region}.amazonaws.com`);
  return names;
}
