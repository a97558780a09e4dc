import { App, CfnParameter, Stack, aws_ec2 as ec2 } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { MicrovmNetwork } from '../../src';

const REGION = 'us-east-1';

function newStack(env = true): Stack {
  const app = new App({ context: { 'aws:cdk:disable-creation-stack-traces': true } });
  return new Stack(app, 'Stack', env ? { env: { account: '123456789012', region: REGION } } : undefined);
}

/** the DNS Firewall rules as [priority, action, block response, redirection action, domains]. */
function dnsRules(template: Template): Array<[number, string, string | undefined, string | undefined, string[]]> {
  const lists = template.findResources('AWS::Route53Resolver::FirewallDomainList');
  const [group] = Object.values(template.findResources('AWS::Route53Resolver::FirewallRuleGroup'));
  return group.Properties.FirewallRules.map((rule: any) => [
    rule.Priority, rule.Action, rule.BlockResponse, rule.FirewallDomainRedirectionAction,
    lists[rule.FirewallDomainListId['Fn::GetAtt'][0]].Properties?.Domains ?? [],
  ]);
}

function allowed(template: Template): string[] {
  return dnsRules(template)[0][4];
}

/**
 * How Route 53 Resolver DNS Firewall matches a query against a domain list: `*.example.com` matches every name
 * below example.com (not example.com itself), `*` matches everything, anything else matches exactly.
 */
function answers(domains: string[], name: string): boolean {
  return domains.some((d) => d === '*' || d === name || (d.startsWith('*.') && name.endsWith(d.slice(1))));
}

describe('MicrovmNetwork: DNS firewall (on by default)', () => {
  test('a created VPC gets the rule group: allow what the network needs, trusting its CNAME chain, NXDOMAIN for the rest', () => {
    // GIVEN
    const stack = newStack();

    // WHEN
    const network = new MicrovmNetwork(stack, 'Network');

    // THEN
    const template = Template.fromStack(stack);
    expect(dnsRules(template)).toEqual([
      [100, 'ALLOW', undefined, 'TRUST_REDIRECTION_DOMAIN', []],
      [200, 'BLOCK', 'NXDOMAIN', undefined, ['*']],
    ]);
    template.hasResourceProperties('AWS::Route53Resolver::FirewallRuleGroupAssociation', {
      VpcId: stack.resolve(network.vpc.vpcId),
      Priority: 1000,
      FirewallRuleGroupId: { 'Fn::GetAtt': [stack.resolve((network.dnsFirewallRuleGroup!).logicalId), 'Id'] },
    });
    // (an isolated network with no endpoint needs no name at all, not even AWS's: the allow list is empty.)
  });

  test('the endpoints\' service names resolve, including endpoints added after the network', () => {
    // GIVEN
    const stack = newStack();
    const network = new MicrovmNetwork(stack, 'Network');

    // WHEN
    network.addInterfaceEndpoint(ec2.InterfaceVpcEndpointAwsService.BEDROCK_RUNTIME);
    network.addInterfaceEndpoint(ec2.InterfaceVpcEndpointAwsService.ECR);
    network.addInterfaceEndpoint(ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER);
    network.addInterfaceEndpoint(ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER);
    network.addS3Endpoint({ prefixListId: 'pl-63a5400a' });
    network.addGatewayEndpoint(ec2.GatewayVpcEndpointAwsService.DYNAMODB, { prefixListId: 'pl-02cd2c6b' });

    // THEN the names SDKs in the VM resolve (the services' documented private DNS names and S3's and DynamoDB's
    // regional, virtual-hosted and account-based names) are answered
    const domains = allowed(Template.fromStack(stack));
    for (const name of [
      'bedrock-runtime.us-east-1.amazonaws.com',
      'api.ecr.us-east-1.amazonaws.com',
      '123456789012.dkr.ecr.us-east-1.amazonaws.com',
      'secretsmanager.us-east-1.amazonaws.com',
      'vpce-0a1b2c3d4e5f-abcdefgh.bedrock-runtime.us-east-1.vpce.amazonaws.com',
      's3.us-east-1.amazonaws.com',
      'cache-bucket.s3.us-east-1.amazonaws.com',
      'cache-bucket.s3.amazonaws.com',
      'dynamodb.us-east-1.amazonaws.com',
      '123456789012.ddb.us-east-1.amazonaws.com',
    ]) {
      expect([name, answers(domains, name)]).toEqual([name, true]);
    }
    // AND services without an endpoint, and every other name, are NXDOMAIN
    for (const name of ['sts.us-east-1.amazonaws.com', 'sqs.us-east-1.amazonaws.com', 'amazonaws.com', 'pypi.org',
      'c2VjcmV0.exfil.attacker.example', 'bedrock-runtime.us-west-2.amazonaws.com']) {
      expect([name, answers(domains, name)]).toEqual([name, false]);
    }
  });

  test('in a region-agnostic stack the names follow the deploy Region', () => {
    // GIVEN
    const stack = newStack(false);
    const network = new MicrovmNetwork(stack, 'Network');

    // WHEN
    network.addInterfaceEndpoint(ec2.InterfaceVpcEndpointAwsService.BEDROCK_RUNTIME);

    // THEN
    expect(allowed(Template.fromStack(stack))).toContainEqual({ 'Fn::Join': ['', ['bedrock-runtime.', { Ref: 'AWS::Region' }, '.amazonaws.com']] });
  });

  test('allowlist: the allowed domains resolve, a wildcard covering its apex as the network firewall does', () => {
    // WHEN
    const stack = newStack();
    new MicrovmNetwork(stack, 'Network', { allowedDomains: ['pypi.org', '*.github.com'] });

    // THEN
    const domains = allowed(Template.fromStack(stack));
    expect(domains).toEqual(['pypi.org', 'github.com', '*.github.com']);
    for (const name of ['pypi.org', 'github.com', 'api.github.com']) expect(answers(domains, name)).toBe(true);
    for (const name of ['files.pythonhosted.org', 'github.com.attacker.example', 'example.com']) expect(answers(domains, name)).toBe(false);
  });

  test('resolvableDomains adds names (private hosted zones of allowTo peers)', () => {
    // WHEN
    const stack = newStack();
    new MicrovmNetwork(stack, 'Network', { resolvableDomains: ['db.internal.example.com', '*.cache.internal'] });

    // THEN
    expect(allowed(Template.fromStack(stack))).toEqual(['db.internal.example.com', 'cache.internal', '*.cache.internal']);
  });

  test('resolvableDomains is validated like allowedDomains', () => {
    const stack = newStack();
    expect(() => new MicrovmNetwork(stack, 'A', { resolvableDomains: ['https://db.internal'] }))
      .toThrow(/^Stack\/[\w-]+: resolvableDomains\[0\] must be a domain name without a scheme/);
    expect(() => new MicrovmNetwork(stack, 'B', { resolvableDomains: [] }))
      .toThrow(/^Stack\/[\w-]+: resolvableDomains must be a literal list of at least one domain, got \[\]/);
    expect(() => new MicrovmNetwork(stack, 'C', { resolvableDomains: ['db.internal'], dnsFirewall: false }))
      .toThrow(/^Stack\/[\w-]+: resolvableDomains must be given only with the DNS firewall on/);
  });

  test('dnsFirewall: false creates no rule group (MicrovmChecks-DnsUnfiltered then reports the connector)', () => {
    // WHEN
    const stack = newStack();
    const network = new MicrovmNetwork(stack, 'Network', { dnsFirewall: false });

    // THEN
    expect(network.dnsFirewallRuleGroup).toBeUndefined();
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Route53Resolver::FirewallRuleGroupAssociation', 0);
    template.resourceCountIs('AWS::Route53Resolver::FirewallDomainList', 0);
  });

  test('an interface endpoint whose private DNS name cannot be derived is a synth warning', () => {
    // GIVEN
    const stack = newStack();
    const network = new MicrovmNetwork(stack, 'Network');

    // WHEN
    network.addInterfaceEndpoint(new ec2.InterfaceVpcEndpointAwsService('notebook', 'aws.sagemaker'));

    // THEN
    Annotations.fromStack(stack).hasWarning('/Stack/Network',
      Match.stringLikeRegexp('cannot derive the private DNS name of the interface endpoint for "notebook".*add its private DNS name to resolvableDomains'));
  });

  test('passes AwsSolutionsChecks', () => {
    const stack = newStack();
    new MicrovmNetwork(stack, 'Network');
    expect(new AwsSolutionsChecks(stack).validateScope(stack).violations.map((v) => v.ruleName)).toEqual([]);
  });

  test('fails if the domain list is a token, and names the way out', () => {
    const stack = newStack();
    const list = new CfnParameter(stack, 'Domains', { type: 'CommaDelimitedList' }).valueAsList;
    expect(() => new MicrovmNetwork(stack, 'Network', { allowedDomains: list }))
      .toThrow(/^Stack\/[\w-]+: allowedDomains must be a literal list when the DNS firewall is on .* or set dnsFirewall: false/);
  });

  test('a token entry passes through unvalidated', () => {
    const stack = newStack();
    const domain = new CfnParameter(stack, 'Domain').valueAsString;
    new MicrovmNetwork(stack, 'Network', { allowedDomains: [domain] });
    expect(allowed(Template.fromStack(stack))).toEqual([{ Ref: 'Domain' }]);
  });

  test('is not created in your own VPC, and cannot be asked for there', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc');
    new MicrovmNetwork(stack, 'Network', { vpc });
    Template.fromStack(stack).resourceCountIs('AWS::Route53Resolver::FirewallRuleGroupAssociation', 0);
    expect(() => new MicrovmNetwork(stack, 'Other', { vpc, dnsFirewall: true }))
      .toThrow(/^Stack\/[\w-]+: dnsFirewall must be left out when vpc is given/);
  });
});
