import { App, CfnParameter, Stack, aws_ec2 as ec2 } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Egress, EgressMode, MicrovmNetwork } from '../../src';
import { domainListCapacity, toFirewallTargets } from '../../src/network/domain-allowlist';

function newStack(): Stack {
  const app = new App({ context: { 'aws:cdk:disable-creation-stack-traces': true } });
  return new Stack(app, 'Stack');
}

/** `{ Ref: logicalId }` of a subnet's route table, resolved. */
function tableOf(stack: Stack, subnet: ec2.ISubnet): unknown {
  return stack.resolve(subnet.routeTable.routeTableId);
}

/** the route every firewall's single endpoint id is parsed with. */
function endpointOf(firewallLogicalId: string): unknown {
  return { 'Fn::Select': [1, { 'Fn::Split': [':', { 'Fn::Select': [0, { 'Fn::GetAtt': [firewallLogicalId, 'EndpointIds'] }] }] }] };
}

/** every AWS::EC2::Route as [route table, destination, target kind, target]. */
function routes(template: Template): Array<[unknown, string, string, unknown]> {
  return Object.values(template.findResources('AWS::EC2::Route')).map(({ Properties: p }) => {
    const kind = ['GatewayId', 'NatGatewayId', 'VpcEndpointId'].find((k) => p[k] !== undefined)!;
    return [p.RouteTableId, p.DestinationCidrBlock, kind, p[kind]];
  });
}

describe('MicrovmNetwork: domain allowlist', () => {
  const stack = newStack();
  const network = new MicrovmNetwork(stack, 'Network', { allowedDomains: ['pypi.org', '*.GitHub.com', 'files.pythonhosted.org', 'pypi.org'] });
  const template = Template.fromStack(stack);
  const vpc = network.vpc;
  const group = (name: string) => vpc.selectSubnets({ subnetGroupName: name }).subnets;

  test('reports DOMAIN_ALLOWLIST through Egress.network and exposes the firewall targets', () => {
    expect(network.egressMode).toBe(EgressMode.DOMAIN_ALLOWLIST);
    expect(Egress.network(network).bind(stack).mode).toBe(EgressMode.DOMAIN_ALLOWLIST);
    expect(network.allowedDomains).toEqual(['pypi.org', '.github.com', 'files.pythonhosted.org']);
    expect(network.firewallPolicy).toBeDefined();
  });

  test('one availability zone by default: a NAT, a firewall and a MicroVM subnet, an IGW, one NAT gateway', () => {
    expect(group('Nat')).toHaveLength(1);
    expect(group('Firewall')).toHaveLength(1);
    expect(group('Microvm')).toHaveLength(1);
    expect(network.subnets).toEqual(group('Microvm'));
    template.resourceCountIs('AWS::EC2::Subnet', 3);
    template.allResourcesProperties('AWS::EC2::Subnet', { MapPublicIpOnLaunch: false });
    template.resourceCountIs('AWS::EC2::InternetGateway', 1);
    template.resourceCountIs('AWS::EC2::VPCGatewayAttachment', 1);
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
    template.resourceCountIs('AWS::EC2::EIP', 1);
    template.hasResourceProperties('AWS::EC2::NatGateway', { SubnetId: stack.resolve(group('Nat')[0].subnetId) });
  });

  test('routes exactly: MicroVMs -> firewall -> NAT -> IGW, and NAT -> firewall for the return path', () => {
    const [firewallId] = Object.keys(template.findResources('AWS::NetworkFirewall::Firewall'));
    const [natId] = Object.keys(template.findResources('AWS::EC2::NatGateway'));
    const [igwId] = Object.keys(template.findResources('AWS::EC2::InternetGateway'));
    const microvm = group('Microvm')[0];
    expect(routes(template)).toEqual(expect.arrayContaining([
      [tableOf(stack, microvm), '0.0.0.0/0', 'VpcEndpointId', endpointOf(firewallId)],
      [tableOf(stack, group('Firewall')[0]), '0.0.0.0/0', 'NatGatewayId', { Ref: natId }],
      [tableOf(stack, group('Nat')[0]), '0.0.0.0/0', 'GatewayId', { Ref: igwId }],
      [tableOf(stack, group('Nat')[0]), microvm.ipv4CidrBlock, 'VpcEndpointId', endpointOf(firewallId)],
    ]));
    expect(routes(template)).toHaveLength(4);
    expect(microvm.ipv4CidrBlock).toMatch(/^10\.0\.\d+\.\d+\/\d+$/);
  });

  test('the firewall sits in the firewall subnet and logs alerts', () => {
    template.resourceCountIs('AWS::NetworkFirewall::Firewall', 1);
    template.hasResourceProperties('AWS::NetworkFirewall::Firewall', {
      VpcId: stack.resolve(vpc.vpcId),
      SubnetMappings: [{ SubnetId: stack.resolve(group('Firewall')[0].subnetId) }],
      FirewallPolicyArn: { 'Fn::GetAtt': [Match.anyValue(), 'FirewallPolicyArn'] },
    });
    template.hasResourceProperties('AWS::NetworkFirewall::LoggingConfiguration', {
      LoggingConfiguration: { LogDestinationConfigs: [{ LogType: 'ALERT', LogDestinationType: 'CloudWatchLogs', LogDestination: { logGroup: Match.anyValue() } }] },
    });
  });

  test('the rule group is a strict-order ALLOWLIST of TLS SNI and HTTP Host with the translated targets', () => {
    template.resourceCountIs('AWS::NetworkFirewall::RuleGroup', 1);
    template.hasResourceProperties('AWS::NetworkFirewall::RuleGroup', {
      Type: 'STATEFUL',
      Capacity: 100,
      RuleGroupName: Match.stringLikeRegexp('-100$'),
      RuleGroup: {
        RuleVariables: { IPSets: { HOME_NET: { Definition: ['10.0.0.0/16'] } } },
        RulesSource: {
          RulesSourceList: {
            Targets: ['pypi.org', '.github.com', 'files.pythonhosted.org'],
            TargetTypes: ['TLS_SNI', 'HTTP_HOST'],
            GeneratedRulesType: 'ALLOWLIST',
          },
        },
        StatefulRuleOptions: { RuleOrder: 'STRICT_ORDER' },
      },
    });
  });

  test('the policy forwards everything to the stateful engine and drops established flows no rule passed', () => {
    const [ruleGroupId] = Object.keys(template.findResources('AWS::NetworkFirewall::RuleGroup'));
    template.hasResourceProperties('AWS::NetworkFirewall::FirewallPolicy', {
      FirewallPolicy: {
        StatelessDefaultActions: ['aws:forward_to_sfe'],
        StatelessFragmentDefaultActions: ['aws:forward_to_sfe'],
        StatefulEngineOptions: { RuleOrder: 'STRICT_ORDER' },
        StatefulDefaultActions: ['aws:drop_established', 'aws:alert_established'],
        StatefulRuleGroupReferences: [{ Priority: 1, ResourceArn: { 'Fn::GetAtt': [ruleGroupId, 'RuleGroupArn'] } }],
      },
    });
    expect(stack.resolve(network.firewallPolicy!.attrFirewallPolicyArn)).toEqual({ 'Fn::GetAtt': [expect.any(String), 'FirewallPolicyArn'] });
  });

  test('the connector security group allows only 443 and 80 out (the firewall decides) and DNS to the VPC resolver', () => {
    const id = stack.resolve(network.connections.securityGroups[0].securityGroupId)['Fn::GetAtt'][0];
    expect(template.toJSON().Resources[id].Properties.SecurityGroupEgress).toEqual([
      { CidrIp: '0.0.0.0/0', Description: 'HTTPS to allowlisted domains (TLS SNI checked by the firewall)', FromPort: 443, IpProtocol: 'tcp', ToPort: 443 },
      { CidrIp: '0.0.0.0/0', Description: 'HTTP to allowlisted domains (Host checked by the firewall)', FromPort: 80, IpProtocol: 'tcp', ToPort: 80 },
      { CidrIp: '10.0.0.2/32', Description: 'DNS to the VPC resolver', FromPort: 53, IpProtocol: 'udp', ToPort: 53 },
      { CidrIp: '10.0.0.2/32', Description: 'DNS to the VPC resolver', FromPort: 53, IpProtocol: 'tcp', ToPort: 53 },
    ]);
  });

  test('the connector uses only the MicroVM subnets', () => {
    template.hasResourceProperties('AWS::Lambda::NetworkConnector', {
      Configuration: { VpcEgressConfiguration: { SubnetIds: [stack.resolve(group('Microvm')[0].subnetId)], AssociatedComputeResourceTypes: ['MicroVm'] } },
    });
  });

  test('passes AwsSolutionsChecks', () => {
    expect(new AwsSolutionsChecks(stack).validateScope(stack).violations.map((v) => v.ruleName)).toEqual([]);
  });
});

describe('MicrovmNetwork: domain allowlist across zones', () => {
  test('each zone routes through its own firewall endpoint and NAT gateway', () => {
    const stack = newStack();
    const network = new MicrovmNetwork(stack, 'Network', { allowedDomains: ['pypi.org'], maxAzs: 2, cidr: '172.16.0.0/20' });
    const template = Template.fromStack(stack);
    const group = (name: string) => network.vpc.selectSubnets({ subnetGroupName: name }).subnets;
    const firewalls = template.findResources('AWS::NetworkFirewall::Firewall');
    template.resourceCountIs('AWS::NetworkFirewall::FirewallPolicy', 1);
    template.resourceCountIs('AWS::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::NatGateway', 2);
    expect(Object.keys(firewalls)).toHaveLength(2);
    const expected: Array<[unknown, string, string, unknown]> = [];
    group('Microvm').forEach((microvm, i) => {
      const firewallSubnet = stack.resolve(group('Firewall')[i].subnetId);
      const firewallId = Object.entries(firewalls).find(([, r]) => r.Properties.SubnetMappings[0].SubnetId.Ref === firewallSubnet.Ref)![0];
      const natId = Object.entries(template.findResources('AWS::EC2::NatGateway'))
        .find(([, r]) => r.Properties.SubnetId.Ref === stack.resolve(group('Nat')[i].subnetId).Ref)![0];
      expect(microvm.availabilityZone).toEqual(group('Firewall')[i].availabilityZone);
      expected.push(
        [tableOf(stack, microvm), '0.0.0.0/0', 'VpcEndpointId', endpointOf(firewallId)],
        [tableOf(stack, group('Firewall')[i]), '0.0.0.0/0', 'NatGatewayId', { Ref: natId }],
        [tableOf(stack, group('Nat')[i]), microvm.ipv4CidrBlock, 'VpcEndpointId', endpointOf(firewallId)],
      );
    });
    const all = routes(template);
    expect(all.filter(([, , kind]) => kind !== 'GatewayId')).toEqual(expect.arrayContaining(expected));
    expect(all).toHaveLength(8); // plus one default route to the IGW per NAT subnet
    expect(all.filter(([, , kind]) => kind === 'GatewayId')).toHaveLength(2);
    // the resolver of 172.16.0.0/20 is 172.16.0.2.
    const id = stack.resolve(network.connections.securityGroups[0].securityGroupId)['Fn::GetAtt'][0];
    expect(template.toJSON().Resources[id].Properties.SecurityGroupEgress).toEqual(expect.arrayContaining([
      expect.objectContaining({ CidrIp: '172.16.0.2/32', FromPort: 53, IpProtocol: 'udp' }),
    ]));
  });

  test('the rule group capacity grows with the list and the name carries it', () => {
    const stack = newStack();
    const domains = Array.from({ length: 60 }, (_, i) => `host${i}.example.com`);
    new MicrovmNetwork(stack, 'Network', { allowedDomains: domains });
    Template.fromStack(stack).hasResourceProperties('AWS::NetworkFirewall::RuleGroup', { Capacity: 300, RuleGroupName: Match.stringLikeRegexp('-300$') });
    expect(domainListCapacity(1)).toBe(100);
    expect(domainListCapacity(25)).toBe(100);
    expect(domainListCapacity(26)).toBe(200);
  });

  test('a token list of domains skips validation and reaches the rule group', () => {
    const stack = newStack();
    const list = new CfnParameter(stack, 'Domains', { type: 'CommaDelimitedList' }).valueAsList;
    // (the DNS firewall needs the names at synth, so a token list goes with dnsFirewall: false.)
    const network = new MicrovmNetwork(stack, 'Network', { allowedDomains: list, dnsFirewall: false });
    expect(network.egressMode).toBe(EgressMode.DOMAIN_ALLOWLIST);
    Template.fromStack(stack).hasResourceProperties('AWS::NetworkFirewall::RuleGroup', {
      RuleGroup: { RulesSource: { RulesSourceList: { Targets: { Ref: 'Domains' } } } },
    });
  });

  test('a token entry skips validation', () => {
    const stack = newStack();
    const domain = new CfnParameter(stack, 'Domain').valueAsString;
    new MicrovmNetwork(stack, 'Network', { allowedDomains: ['pypi.org', domain] });
    Template.fromStack(stack).hasResourceProperties('AWS::NetworkFirewall::RuleGroup', {
      RuleGroup: { RulesSource: { RulesSourceList: { Targets: ['pypi.org', { Ref: 'Domain' }] } } },
    });
  });
});

describe('allowedDomains validation', () => {
  test('translates wildcards, lowercases and drops duplicates', () => {
    expect(toFirewallTargets('allowedDomains', ['*.Example.COM', 'example.com', 'xn--bcher-kva.example', 'a-b.c1.io', 'EXAMPLE.com']))
      .toEqual(['.example.com', 'example.com', 'xn--bcher-kva.example', 'a-b.c1.io']);
  });

  test('accepts a 253-character name', () => {
    const label = 'a'.repeat(63);
    const name = `${label}.${label}.${label}.${'b'.repeat(61)}`;
    expect(name).toHaveLength(253);
    expect(toFirewallTargets('allowedDomains', [name])).toEqual([name]);
  });

  test.each<[string, string, RegExp]>([
    ['empty', '', /^Stack\/Network: allowedDomains\[0\] must be a domain name such as "pypi.org" or "\*.github.com", got ""/],
    ['blank', '  ', /^Stack\/Network: allowedDomains\[0\] must be a domain name/],
    ['whitespace', 'pypi .org', /must not contain whitespace, got "pypi .org"/],
    ['scheme', 'https://pypi.org', /must be a domain name without a scheme, got "https:\/\/pypi.org"\. The firewall matches the TLS SNI/],
    ['path', 'github.com/org/repo', /must be a domain name without a path, query or fragment, got "github.com\/org\/repo"/],
    ['query', 'example.com?x=1', /without a path, query or fragment/],
    ['user info', 'user@example.com', /without user information/],
    ['port', 'pypi.org:443', /must be a domain name without a port and not an IPv6 address, got "pypi.org:443"/],
    ['IPv6', '2001:db8::1', /without a port and not an IPv6 address.*allowTo/],
    ['IPv4', '192.0.2.10', /must be a domain name, not an IP address, got "192.0.2.10".*allowTo\(ec2\.Peer\.ipv4/],
    ['star', '*', /must not allow every domain, got "\*"/],
    ['star dot', '*.', /must not allow every domain/],
    ['trailing dot', 'pypi.org.', /must not end with a dot, got "pypi.org."\. Write "pypi.org"\./],
    ['inner wildcard', 'api.*.example.com', /must use a wildcard only as a leading "\*\." .*got "api.\*.example.com"/],
    ['partial wildcard', '*example.com', /must use a wildcard only as a leading/],
    ['double wildcard', '*.*.example.com', /must use a wildcard only as a leading/],
    ['trailing wildcard', 'example.*', /must use a wildcard only as a leading/],
    ['underscore', 'my_host.example.com', /labels of 1-63 letters.*Fix the label "my_host"/],
    ['leading hyphen', '-bad.example.com', /Fix the label "-bad"/],
    ['empty label', 'a..example.com', /Fix the label ""/],
    ['unicode', 'bücher.example', /punycode/],
    ['long label', `${'a'.repeat(64)}.com`, /labels of 1-63/],
    ['too long', `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.${'e'.repeat(60)}.com`, /must be at most 253 characters long/],
    ['single label', 'localhost', /must be a fully qualified domain name with at least two labels, got "localhost"/],
    ['whole TLD', '*.com', /must not cover a whole top-level domain, got "\*.com"/],
  ])('fails if an entry is %s', (_name, value, message) => {
    expect(() => new MicrovmNetwork(newStack(), 'Network', { allowedDomains: ['pypi.org', value].slice(value === '' || value === '  ' ? 1 : 0) }))
      .toThrow(message);
  });

  test('names the index of the bad entry', () => {
    expect(() => toFirewallTargets('allowedDomains', ['pypi.org', 'github.com', 'https://x.io'])).toThrow(/^allowedDomains\[2\] must/);
  });

  test('fails if the list is empty', () => {
    expect(() => new MicrovmNetwork(newStack(), 'Network', { allowedDomains: [] }))
      .toThrow('allowedDomains must name at least one domain, got []. Leave allowedDomains out for an isolated network with no internet egress.');
  });

  test('fails if the list does not fit one rule group', () => {
    const domains = Array.from({ length: 7600 }, (_, i) => `h${i}.example.com`);
    expect(() => new MicrovmNetwork(newStack(), 'Network', { allowedDomains: domains }))
      .toThrow('allowedDomains must fit one rule group (capacity 30000), got "7600 domains"');
  });
});
