import {
  aws_ec2 as ec2,
  aws_logs as logs,
  aws_networkfirewall as networkfirewall,
  Fn,
  Lazy,
  Names,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { domainListCapacity } from './domain-allowlist';
import { LogGroupDefaults, MicrovmLoggingSpec, logGroupFor } from '../shared/microvm-logging';

/** the subnets of one availability zone that the allowlist routing ties together. */
export interface AllowlistZone {
  /** where the connector's network interfaces live. */
  readonly microvmSubnet: ec2.ISubnet;
  /** where the firewall endpoint lives. */
  readonly firewallSubnet: ec2.ISubnet;
  /** where the NAT gateway lives (routes 0.0.0.0/0 to the internet gateway). */
  readonly natSubnet: ec2.PublicSubnet;
}

export interface DomainFirewallProps {
  readonly vpc: ec2.IVpc;
  readonly vpcCidr: string;
  readonly zones: AllowlistZone[];
  /** Network Firewall domain list targets (already validated and translated); read at synthesis, so later additions count. */
  readonly targets: string[];
  /** where the alert logs go: a new group (`AlertLogs`) or an existing one, never disabled. */
  readonly logging: MicrovmLoggingSpec;
  /** the defaults of a new alert log group. */
  readonly logDefaults: LogGroupDefaults;
}

/**
 * AWS Network Firewall in front of a NAT gateway, per availability zone, passing only TLS and HTTP to an
 * allowlist of domains.
 *
 * Traffic flows MicroVM subnet -> firewall endpoint -> NAT gateway -> internet gateway, and back
 * NAT subnet -> firewall endpoint -> MicroVM subnet, so the firewall sees both directions of every flow.
 *
 * Each zone gets its own firewall with one endpoint: `EndpointIds` of a multi-subnet firewall come back in no
 * guaranteed order, and a route to another zone's endpoint would break symmetric routing. Endpoints are billed
 * per endpoint-hour either way, and all firewalls share one policy and rule group.
 */
export class DomainFirewall extends Construct {
  public readonly ruleGroup: networkfirewall.CfnRuleGroup;
  public readonly policy: networkfirewall.CfnFirewallPolicy;
  public readonly firewalls: networkfirewall.CfnFirewall[] = [];
  public readonly logGroup: logs.ILogGroup;

  constructor(scope: Construct, id: string, props: DomainFirewallProps) {
    super(scope, id);
    const capacity = () => domainListCapacity(props.targets.length);
    const name = this.resourceName(100);
    this.ruleGroup = new networkfirewall.CfnRuleGroup(this, 'DomainAllowlist', {
      // capacity cannot change in place: a new name lets CloudFormation replace the group when it must grow.
      ruleGroupName: Lazy.string({ produce: () => `${name}-${capacity()}` }),
      type: 'STATEFUL',
      capacity: Lazy.number({ produce: capacity }),
      description: 'MicroVM egress: TLS (SNI) and HTTP (Host) to these domains only.',
      ruleGroup: {
        ruleVariables: { ipSets: { HOME_NET: { definition: [props.vpcCidr] } } },
        rulesSource: {
          rulesSourceList: {
            targets: Lazy.list({ produce: () => [...props.targets] }),
            targetTypes: ['TLS_SNI', 'HTTP_HOST'],
            generatedRulesType: 'ALLOWLIST',
          },
        },
        statefulRuleOptions: { ruleOrder: 'STRICT_ORDER' },
      },
    });

    this.policy = new networkfirewall.CfnFirewallPolicy(this, 'Policy', {
      firewallPolicyName: this.resourceName(128),
      description: 'MicroVM egress: domain allowlist, everything else dropped.',
      firewallPolicy: {
        // every packet goes to the stateful engine; nothing is decided statelessly.
        statelessDefaultActions: ['aws:forward_to_sfe'],
        statelessFragmentDefaultActions: ['aws:forward_to_sfe'],
        statefulEngineOptions: { ruleOrder: 'STRICT_ORDER' },
        statefulRuleGroupReferences: [{ resourceArn: this.ruleGroup.attrRuleGroupArn, priority: 1 }],
        // handshakes must pass so the engine can read the SNI/Host; any established flow no rule passed is dropped and logged.
        statefulDefaultActions: ['aws:drop_established', 'aws:alert_established'],
      },
    });

    this.logGroup = logGroupFor(this, 'AlertLogs', props.logging, props.logDefaults)!;

    props.zones.forEach((zone, i) => {
      const firewall = new networkfirewall.CfnFirewall(this, `Firewall${i + 1}`, {
        firewallName: this.resourceName(120, `${i + 1}`),
        description: `MicroVM egress domain allowlist, ${zone.microvmSubnet.availabilityZone}.`,
        firewallPolicyArn: this.policy.attrFirewallPolicyArn,
        vpcId: props.vpc.vpcId,
        subnetMappings: [{ subnetId: zone.firewallSubnet.subnetId }],
      });
      this.firewalls.push(firewall);
      new networkfirewall.CfnLoggingConfiguration(this, `Firewall${i + 1}Logging`, {
        firewallArn: firewall.attrFirewallArn,
        loggingConfiguration: {
          logDestinationConfigs: [{
            logType: 'ALERT',
            logDestinationType: 'CloudWatchLogs',
            logDestination: { logGroup: this.logGroup.logGroupName },
          }],
        },
      });
      // EndpointIds is a list of "<az>:<vpce-id>"; this firewall has exactly one.
      const endpointId = Fn.select(1, Fn.split(':', Fn.select(0, firewall.attrEndpointIds)));
      const nat = zone.natSubnet.addNatGateway();

      new ec2.CfnRoute(this, `Microvm${i + 1}ToFirewall`, {
        routeTableId: zone.microvmSubnet.routeTable.routeTableId,
        destinationCidrBlock: '0.0.0.0/0',
        vpcEndpointId: endpointId,
      });
      new ec2.CfnRoute(this, `Firewall${i + 1}ToNat`, {
        routeTableId: zone.firewallSubnet.routeTable.routeTableId,
        destinationCidrBlock: '0.0.0.0/0',
        natGatewayId: nat.ref,
      });
      // return path: without it replies would skip the firewall and it would drop the asymmetric flow.
      new ec2.CfnRoute(this, `Nat${i + 1}ToFirewall`, {
        routeTableId: zone.natSubnet.routeTable.routeTableId,
        destinationCidrBlock: zone.microvmSubnet.ipv4CidrBlock,
        vpcEndpointId: endpointId,
      });
    });
  }

  private resourceName(maxLength: number, suffix?: string): string {
    const base = Names.uniqueResourceName(this, { maxLength: maxLength - (suffix ? suffix.length + 1 : 0), separator: '-' });
    return suffix ? `${base}-${suffix}` : base;
  }
}
