import { invalidProp, isToken } from '../../shared/validation';
import { MAX_RULE_GROUP_CAPACITY, domainListCapacity, toFirewallTargets } from '../domain-allowlist';
import type { MicrovmNetworkProps } from '../microvm-network-props';

/** the Amazon-provided DNS resolver of a VPC is its base address plus two. */
export function resolverAddress(cidr: string): string {
  const value = ipv4Value(cidr.split('/')[0]) + 2;
  return [3, 2, 1, 0].map((k) => Math.floor(value / 256 ** k) % 256).join('.');
}


/** a dotted IPv4 address as a number. */
function ipv4Value(address: string): number {
  return address.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0);
}

/**
 * Validates the network's props in one place (before any child exists) and returns the allowlist as firewall
 * targets, or undefined without one.
 */
export function resolveNetworkProps(props: MicrovmNetworkProps): ResolvedNetworkProps {
  if (props.vpc) {
    const onlyWithoutVpc: Array<[string, unknown]> = [
      ['allowedDomains', props.allowedDomains], ['maxAzs', props.maxAzs], ['cidr', props.cidr], ['dnsFirewall', props.dnsFirewall],
      ['resolvableDomains', props.resolvableDomains], ['logging', props.logging?._config().description],
    ];
    for (const [prop, value] of onlyWithoutVpc) {
      if (value !== undefined) {
        throw invalidProp(prop, value, 'be left out when vpc is given (it configures the VPC this construct creates)',
          prop === 'allowedDomains'
            ? 'Drop vpc to let MicrovmNetwork build the firewall, NAT and routing, or enforce the allowlist in your own VPC.'
            : `Configure ${prop} on your own VPC instead.`);
      }
    }
  } else {
    if (props.vpcSubnets) {
      throw invalidProp('vpcSubnets', props.vpcSubnets, 'be given only with vpc', 'Leave it out: the created VPC has one MicroVM subnet per availability zone.');
    }
    if (props.securityGroups) {
      throw invalidProp('securityGroups', props.securityGroups.map((g) => g.node.path), 'be given only with vpc (they must belong to the connector\'s VPC)',
        'Leave it out and open the created security group with allowTo(...), or pass vpc too.');
    }
  }
  if (props.securityGroups && (props.securityGroups.length < 1 || props.securityGroups.length > 5)) {
    throw invalidProp('securityGroups', props.securityGroups.map((g) => g.node.path), 'contain 1 to 5 security groups', 'The connector accepts at most five.');
  }
  if (isToken(props.maxAzs) || isToken(props.cidr)) {
    const prop = isToken(props.maxAzs) ? 'maxAzs' : 'cidr';
    throw invalidProp(prop, '<token>', 'be a literal (the subnet layout is computed at synth)', `Pass ${prop} as a plain value, not a parameter or attribute.`);
  }
  if (props.maxAzs !== undefined && (!Number.isInteger(props.maxAzs) || props.maxAzs < 1 || props.maxAzs > 16)) {
    throw invalidProp('maxAzs', props.maxAzs, 'be a whole number from 1 to 16', 'Use 1 or 2 (each zone adds a subnet; with allowedDomains also a firewall endpoint and a NAT gateway).');
  }
  if (props.cidr !== undefined) {
    const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(props.cidr);
    const valid = match && match.slice(1, 5).every((o) => Number(o) <= 255) && Number(match[5]) >= 16 && Number(match[5]) <= 24;
    if (!valid) {
      throw invalidProp('cidr', props.cidr, 'be an IPv4 CIDR block from /16 to /24', 'Use for example "10.0.0.0/16".');
    }
    if (ipv4Value(props.cidr.split('/')[0]) % 2 ** (32 - Number(match[5])) !== 0) {
      throw invalidProp('cidr', props.cidr, 'start at the block\'s network address (no host bits set)',
        'Clear the host bits, for example "10.0.0.0/16" instead of "10.0.1.0/16".');
    }
  }
  if (props.networkConnectorName !== undefined && !isToken(props.networkConnectorName) && !/^[a-zA-Z0-9_-]{1,64}$/.test(props.networkConnectorName)) {
    throw invalidProp('networkConnectorName', props.networkConnectorName, 'be 1 to 64 letters, digits, "_" or "-"', 'Rename it.');
  }
  const dnsFirewall = !props.vpc && (props.dnsFirewall ?? true);
  if (dnsFirewall && isToken(props.allowedDomains)) {
    throw invalidProp('allowedDomains', '<token>', 'be a literal list when the DNS firewall is on (its entries are translated for the DNS Firewall at synth)',
      'Pass the domains as strings, or set dnsFirewall: false (MicrovmChecks then reports the unfiltered resolver).');
  }
  if (props.resolvableDomains !== undefined && !dnsFirewall) {
    throw invalidProp('resolvableDomains', props.resolvableDomains, 'be given only with the DNS firewall on',
      'Without the DNS firewall every name resolves already: leave resolvableDomains out, or drop dnsFirewall: false.');
  }
  if (props.resolvableDomains !== undefined && (isToken(props.resolvableDomains) || props.resolvableDomains.length === 0)) {
    throw invalidProp('resolvableDomains', isToken(props.resolvableDomains) ? '<token>' : [], 'be a literal list of at least one domain',
      'Pass the names as strings, or leave resolvableDomains out.');
  }
  const resolvableTargets = props.resolvableDomains ? toFirewallTargets('resolvableDomains', props.resolvableDomains) : [];
  if (props.allowedDomains === undefined) return { resolvableTargets };
  const targets = toFirewallTargets('allowedDomains', props.allowedDomains);
  if (!isToken(targets) && domainListCapacity(targets.length) > MAX_RULE_GROUP_CAPACITY) {
    throw invalidProp('allowedDomains', `${targets.length} domains`, `fit one rule group (capacity ${MAX_RULE_GROUP_CAPACITY})`,
      'Use wildcards ("*.example.com") to cover related names.');
  }
  return { allowlistTargets: targets, resolvableTargets };
}

/** The firewall forms of the network's domain lists. */
export interface ResolvedNetworkProps {
  /** `allowedDomains` as firewall targets, or undefined without an allowlist. */
  readonly allowlistTargets?: string[];
  /** `resolvableDomains` as firewall targets. */
  readonly resolvableTargets: string[];
}
