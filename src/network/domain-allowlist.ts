import { invalidProp, isToken } from '../shared/validation';

/** longest DNS name the firewall can see in a TLS SNI or HTTP Host header. */
const MAX_DOMAIN_LENGTH = 253;

/** one DNS label: letters, digits and inner hyphens, 1-63 characters (punycode `xn--` labels included). */
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/**
 * Validates `allowedDomains` patterns and translates them to AWS Network Firewall domain list targets.
 *
 * `example.com` stays an exact match; `*.example.com` becomes `.example.com`, which the firewall matches
 * against `example.com` and every name below it. Patterns are lowercased (DNS names are case-insensitive) and
 * duplicates dropped. Tokens are passed through unvalidated.
 *
 * @returns the firewall targets, in the order given
 */
export function toFirewallTargets(prop: string, patterns: string[]): string[] {
  if (isToken(patterns)) return patterns;
  if (patterns.length === 0) {
    throw invalidProp(prop, patterns, 'name at least one domain',
      'Leave allowedDomains out for an isolated network with no internet egress.');
  }
  const targets: string[] = [];
  patterns.forEach((pattern, i) => {
    const target = isToken(pattern) ? pattern : toFirewallTarget(`${prop}[${i}]`, pattern);
    if (!targets.includes(target)) targets.push(target);
  });
  return targets;
}

function toFirewallTarget(prop: string, pattern: string): string {
  if (typeof pattern !== 'string' || pattern.trim() === '') {
    throw invalidProp(prop, pattern, 'be a domain name such as "pypi.org" or "*.github.com"', 'Remove the empty entry.');
  }
  const domain = pattern.toLowerCase();
  if (/\s/.test(domain)) {
    throw invalidProp(prop, pattern, 'not contain whitespace', 'Write the bare domain name, for example "pypi.org".');
  }
  if (domain.includes('://')) {
    throw invalidProp(prop, pattern, 'be a domain name without a scheme',
      'The firewall matches the TLS SNI and HTTP Host names only: write "pypi.org", not "https://pypi.org".');
  }
  if (/[/?#]/.test(domain)) {
    throw invalidProp(prop, pattern, 'be a domain name without a path, query or fragment',
      'The firewall cannot see URL paths inside TLS: allow the whole domain, for example "github.com".');
  }
  if (domain.includes('@')) {
    throw invalidProp(prop, pattern, 'be a domain name without user information', 'Write only the host name.');
  }
  if (domain.includes(':') || domain.startsWith('[')) {
    throw invalidProp(prop, pattern, 'be a domain name without a port and not an IPv6 address',
      'Domain rules apply to ports 443 (TLS SNI) and 80 (HTTP Host): write the host name only. ' +
      'To reach an IP address, use network.allowTo(ec2.Peer.ipv4(...), port) instead.');
  }
  if (IPV4.test(domain)) {
    throw invalidProp(prop, pattern, 'be a domain name, not an IP address',
      'Domain rules match names, not addresses: use network.allowTo(ec2.Peer.ipv4("<ip>/32"), port) instead.');
  }
  if (domain === '*' || domain === '*.') {
    throw invalidProp(prop, pattern, 'not allow every domain',
      'An allowlist of "*" is the open internet: list the domains the workload needs, or use Egress.internet() deliberately.');
  }
  if (domain.endsWith('.')) {
    throw invalidProp(prop, pattern, 'not end with a dot', `Write "${domain.replace(/\.+$/, '')}".`);
  }
  const wildcard = domain.startsWith('*.');
  const name = wildcard ? domain.slice(2) : domain;
  if (name.includes('*')) {
    throw invalidProp(prop, pattern, 'use a wildcard only as a leading "*." (for example "*.example.com")',
      'The firewall matches exact names or a name and all its subdomains: write "*.example.com" or list each name.');
  }
  if (name.length > MAX_DOMAIN_LENGTH) {
    throw invalidProp(prop, pattern, `be at most ${MAX_DOMAIN_LENGTH} characters long (without the "*.")`, 'Shorten the domain name.');
  }
  const labels = name.split('.');
  const bad = labels.find((label) => !LABEL.test(label));
  if (bad !== undefined) {
    throw invalidProp(prop, pattern,
      'be made of dot-separated labels of 1-63 letters, digits or inner hyphens',
      `Fix the label ${JSON.stringify(bad)}; write internationalised names in punycode ("xn--...").`);
  }
  if (labels.length < 2) {
    throw invalidProp(prop, pattern, wildcard ? 'not cover a whole top-level domain' : 'be a fully qualified domain name with at least two labels',
      'Name the registrable domain, for example "example.com" or "*.example.com".');
  }
  return wildcard ? `.${name}` : name;
}

/**
 * Rule group capacity for a domain list: fixed at creation, so round it up to leave room for a few more
 * domains without replacing the rule group (the firewall generates a handful of rules per domain and target type).
 */
export function domainListCapacity(domainCount: number): number {
  return Math.max(100, Math.ceil((domainCount * 4) / 100) * 100);
}

/** largest stateful rule group capacity AWS Network Firewall accepts by default. */
export const MAX_RULE_GROUP_CAPACITY = 30_000;
