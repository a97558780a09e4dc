import { App, CfnParameter, Stack, aws_ec2 as ec2 } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { MicrovmNetwork } from '../../src';

function newStack(): Stack {
  return new Stack(new App({ context: { 'aws:cdk:disable-creation-stack-traces': true } }), 'Stack');
}

/** the DNS Firewall rules as [priority, action, block response, domains]. */
function dnsRules(template: Template): Array<[number, string, string | undefined, string[]]> {
  const lists = template.findResources('AWS::Route53Resolver::FirewallDomainList');
  const [group] = Object.values(template.findResources('AWS::Route53Resolver::FirewallRuleGroup'));
  return group.Properties.FirewallRules.map((rule: any) => [
    rule.Priority, rule.Action, rule.BlockResponse, lists[rule.FirewallDomainListId['Fn::GetAtt'][0]].Properties.Domains,
  ]);
}

describe('MicrovmNetwork: DNS firewall', () => {
  test('is off by default', () => {
    const stack = newStack();
    new MicrovmNetwork(stack, 'Network');
    Template.fromStack(stack).resourceCountIs('AWS::Route53Resolver::FirewallRuleGroupAssociation', 0);
  });

  test('isolated: resolves AWS service names only, NXDOMAIN for the rest', () => {
    const stack = newStack();
    const network = new MicrovmNetwork(stack, 'Network', { dnsFirewall: true });
    const template = Template.fromStack(stack);
    expect(dnsRules(template)).toEqual([
      [100, 'ALLOW', undefined, ['amazonaws.com', '*.amazonaws.com']],
      [200, 'BLOCK', 'NXDOMAIN', ['*']],
    ]);
    template.hasResourceProperties('AWS::Route53Resolver::FirewallRuleGroupAssociation', {
      VpcId: stack.resolve(network.vpc.vpcId),
      Priority: 1000,
      FirewallRuleGroupId: { 'Fn::GetAtt': [Object.keys(template.findResources('AWS::Route53Resolver::FirewallRuleGroup'))[0], 'Id'] },
    });
  });

  test('allowlist: also resolves the allowed domains, a wildcard covering its apex as the network firewall does', () => {
    const stack = newStack();
    new MicrovmNetwork(stack, 'Network', { allowedDomains: ['pypi.org', '*.github.com'], dnsFirewall: true });
    expect(dnsRules(Template.fromStack(stack))[0]).toEqual(
      [100, 'ALLOW', undefined, ['amazonaws.com', '*.amazonaws.com', 'pypi.org', 'github.com', '*.github.com']]);
  });

  test('passes AwsSolutionsChecks', () => {
    const stack = newStack();
    new MicrovmNetwork(stack, 'Network', { dnsFirewall: true });
    expect(new AwsSolutionsChecks(stack).validateScope(stack).violations.map((v) => v.ruleName)).toEqual([]);
  });

  test('fails if the domain list is a token', () => {
    const stack = newStack();
    const list = new CfnParameter(stack, 'Domains', { type: 'CommaDelimitedList' }).valueAsList;
    expect(() => new MicrovmNetwork(stack, 'Network', { allowedDomains: list, dnsFirewall: true }))
      .toThrow(/^allowedDomains must be a literal list when dnsFirewall is on/);
  });

  test('a token entry passes through unvalidated', () => {
    const stack = newStack();
    const domain = new CfnParameter(stack, 'Domain').valueAsString;
    new MicrovmNetwork(stack, 'Network', { allowedDomains: [domain], dnsFirewall: true });
    expect(dnsRules(Template.fromStack(stack))[0][3]).toEqual(['amazonaws.com', '*.amazonaws.com', { Ref: 'Domain' }]);
  });

  test('fails if combined with vpc', () => {
    const stack = newStack();
    expect(() => new MicrovmNetwork(stack, 'Network', { vpc: new ec2.Vpc(stack, 'Vpc'), dnsFirewall: true }))
      .toThrow(/^dnsFirewall must be left out when vpc is given/);
  });
});
