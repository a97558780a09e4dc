import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack, aws_ec2 as ec2, aws_lambda as lambda, aws_s3 as s3 } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { EndpointPolicy, ImageCode, MicrovmImage, MicrovmNetwork, MicrovmOrchestrator } from '../../src';
import { ENV } from '../../src/shared/contract';
import { ruleFindings } from '../nag/fixtures';
import { Fixture, getSession, newSweeper, putSession, runVm, seedVms, startFixture, stateOf } from '../orchestrator/runtime/sweeper-fixture';

// The README's "Security model" statements and "Networking" Creates/Reaches lists, each checked against what the
// library synthesizes (or, for orphan cleanup, what the sweeper does with the construct's defaults). Every test
// first finds its claim in the README, so a claim reworded without its check, or a check that no longer matches
// a claim, fails here.

const README = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8').replace(/\s+/g, ' ');
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const MINUTE = 60_000;

function claim(text: string): void {
  expect(README).toContain(text);
}

function newStack(): Stack {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return new Stack(app, 'Stack', { env: { account: ACCOUNT, region: REGION } });
}

function count(template: Template, type: string): number {
  return Object.keys(template.findResources(type)).length;
}

function only(template: Template, type: string): any {
  const found = Object.values(template.findResources(type));
  expect(found).toHaveLength(1);
  return found[0];
}

/** the DNS firewall as [allowed names, blocked names, block response]. */
function dnsFirewall(template: Template): { allowed: string[]; blocked: string[]; blockResponse: string } {
  const lists = template.findResources('AWS::Route53Resolver::FirewallDomainList');
  const rules: any[] = only(template, 'AWS::Route53Resolver::FirewallRuleGroup').Properties.FirewallRules;
  const domains = (rule: any): string[] => lists[rule.FirewallDomainListId['Fn::GetAtt'][0]].Properties?.Domains ?? [];
  const allow = rules.filter((r) => r.Action === 'ALLOW');
  const block = rules.filter((r) => r.Action === 'BLOCK');
  expect([allow.length, block.length]).toEqual([1, 1]);
  expect(allow[0].Priority).toBeLessThan(block[0].Priority);
  return { allowed: domains(allow[0]), blocked: domains(block[0]), blockResponse: block[0].BlockResponse };
}

/** egress rules of a security group, inline and separate, as "protocol from-to destination". */
function egressOf(template: Template, stack: Stack, group: ec2.ISecurityGroup): string[] {
  const id = stack.getLogicalId(group.node.defaultChild as ec2.CfnSecurityGroup);
  const inline: any[] = template.findResources('AWS::EC2::SecurityGroup')[id].Properties.SecurityGroupEgress ?? [];
  const separate = Object.values(template.findResources('AWS::EC2::SecurityGroupEgress'))
    .map((r: any) => r.Properties)
    .filter((p) => JSON.stringify(p.GroupId).includes(id));
  return [...inline, ...separate].map((r) => {
    const to = r.CidrIp ?? (r.DestinationPrefixListId ? 'prefix-list' : r.DestinationSecurityGroupId ? 'security-group' : '?');
    return `${r.IpProtocol} ${r.FromPort}-${r.ToPort} ${to}`;
  }).sort();
}

/** CDK's "no outbound traffic" placeholder: it matches no packet. */
const CLOSED = 'icmp 252-86 255.255.255.255/32';

function endpointsByService(template: Template): Record<string, any> {
  const out: Record<string, any> = {};
  for (const e of Object.values(template.findResources('AWS::EC2::VPCEndpoint')) as any[]) {
    const name = JSON.stringify(e.Properties.ServiceName).match(/(s3|dynamodb|bedrock-runtime)/)![1];
    out[name] = e.Properties;
  }
  return out;
}

describe('README Networking: Isolated (the default)', () => {
  const stack = newStack();
  const network = new MicrovmNetwork(stack, 'Net');
  const template = Template.fromStack(stack);

  test('Creates: a VPC with isolated subnets in two zones, no internet gateway, no NAT, no route out', () => {
    claim('a VPC with isolated subnets in two Availability Zones (no internet gateway, no NAT, no route out)');
    expect(count(template, 'AWS::EC2::VPC')).toBe(1);
    const subnets = Object.values(template.findResources('AWS::EC2::Subnet')) as any[];
    expect(subnets).toHaveLength(2);
    expect(new Set(subnets.map((s) => JSON.stringify(s.Properties.AvailabilityZone))).size).toBe(2);
    expect(subnets.every((s) => s.Properties.MapPublicIpOnLaunch === false)).toBe(true);
    for (const type of ['AWS::EC2::InternetGateway', 'AWS::EC2::NatGateway', 'AWS::EC2::EgressOnlyInternetGateway',
      'AWS::EC2::Route', 'AWS::EC2::TransitGatewayAttachment', 'AWS::EC2::VPNGateway']) {
      expect([type, count(template, type)]).toEqual([type, 0]);
    }
  });

  test('Creates: a security group with no outbound rules, and the default group stripped', () => {
    claim('a security group with **no** outbound rules; the VPC\'s default security group stripped of its rules (CDK\'s `restrictDefaultSecurityGroup` custom resource: one Lambda function and its role)');
    expect(egressOf(template, stack, network.connections.securityGroups[0])).toEqual([CLOSED]);
    expect(count(template, 'Custom::VpcRestrictDefaultSG')).toBe(1);
  });

  test('Creates: the connector, its own operator role, flow logs with retention, and the DNS firewall', () => {
    claim('a `MICRO_VM` network connector on them with its own operator role; VPC flow logs to a log group with retention; and a Route 53 Resolver **DNS firewall** on the VPC (two domain lists, a rule group and its association)');
    const connector = only(template, 'AWS::Lambda::NetworkConnector');
    expect(JSON.stringify(connector.Properties)).toMatch(/MicroVm|MICRO_VM/i);
    expect(count(template, 'AWS::EC2::FlowLog')).toBe(1);
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup')) as any[];
    expect(groups.length).toBeGreaterThan(0);
    expect(groups.every((g) => typeof g.Properties.RetentionInDays === 'number')).toBe(true);
    expect(count(template, 'AWS::Route53Resolver::FirewallDomainList')).toBe(2);
    const association = only(template, 'AWS::Route53Resolver::FirewallRuleGroupAssociation');
    expect(association.Properties.VpcId).toEqual({ Ref: stack.getLogicalId(network.vpc.node.defaultChild as ec2.CfnVPC) });
  });

  test('Reaches: nothing; the DNS firewall answers only the names the network needs, NXDOMAIN for the rest', () => {
    claim('**Reaches**: nothing outside the VM. The DNS firewall answers only the names the network needs');
    claim('and NXDOMAIN for every other name');
    const dns = dnsFirewall(template);
    expect(dns.allowed).toEqual([]); // no endpoints, no allowlist: nothing resolves
    expect(dns.blocked).toEqual(['*']);
    expect(dns.blockResponse).toBe('NXDOMAIN');
  });

  test('`dnsFirewall: false` turns it off, and MicrovmChecks warns (DnsUnfiltered)', () => {
    claim('`dnsFirewall: false` turns it off; the VMs can then resolve any public name, and `MicrovmChecks` warns (`DnsUnfiltered`)');
    const other = newStack();
    const open = new MicrovmNetwork(other, 'Net', { dnsFirewall: false });
    expect(count(Template.fromStack(other), 'AWS::Route53Resolver::FirewallRuleGroupAssociation')).toBe(0);
    expect(ruleFindings(open.networkConnector.node.defaultChild as lambda.CfnNetworkConnector, 'DnsUnfiltered'))
      .toEqual(['MicrovmChecks-DnsUnfiltered']);
  });
});

describe('README Networking: AWS services without the internet', () => {
  function build(configure: (net: MicrovmNetwork, stack: Stack) => void) {
    const stack = newStack();
    const network = new MicrovmNetwork(stack, 'Net');
    configure(network, stack);
    return { stack, network, template: Template.fromStack(stack) };
  }

  const all = build((net) => {
    net.addInterfaceEndpoint(ec2.InterfaceVpcEndpointAwsService.BEDROCK_RUNTIME);
    net.addS3Endpoint();
    net.addGatewayEndpoint(ec2.GatewayVpcEndpointAwsService.DYNAMODB);
  });

  test('Creates: an interface endpoint with its own group that accepts HTTPS from the VMs only', () => {
    claim('an interface endpoint, with its own security group that accepts HTTPS from the VMs only, and the matching outbound rule on the VMs\' group');
    const { template, stack, network } = all;
    const vmGroup = stack.getLogicalId(network.connections.securityGroups[0].node.defaultChild as ec2.CfnSecurityGroup);
    const bedrock = endpointsByService(template)['bedrock-runtime'];
    expect(bedrock.SecurityGroupIds).toHaveLength(1);
    const endpointGroup = bedrock.SecurityGroupIds[0]['Fn::GetAtt'][0];
    expect(endpointGroup).not.toBe(vmGroup);
    const ingress = [
      ...template.findResources('AWS::EC2::SecurityGroup')[endpointGroup].Properties.SecurityGroupIngress ?? [],
      ...Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).map((r: any) => r.Properties)
        .filter((p) => JSON.stringify(p.GroupId).includes(endpointGroup)),
    ];
    expect(ingress.map((r: any) => [r.IpProtocol, r.FromPort, r.ToPort, r.SourceSecurityGroupId?.['Fn::GetAtt']?.[0]]))
      .toEqual([['tcp', 443, 443, vmGroup]]);
    // S3 and DynamoDB: the prefix-list lookups synthesize one dummy ID offline, so their identical rules merge.
    expect(egressOf(template, stack, network.connections.securityGroups[0])).toEqual(
      [CLOSED, 'tcp 443-443 prefix-list', 'tcp 443-443 security-group'].sort());
  });

  test('Creates: gateway endpoints get routes and a 443 rule to the prefix list, no security group', () => {
    claim('a gateway endpoint (S3, DynamoDB): routes in the VMs\' subnets and an outbound 443 rule to the service\'s prefix list, no security group');
    const endpoints = endpointsByService(all.template);
    for (const gateway of [endpoints.s3, endpoints.dynamodb]) {
      expect(gateway.VpcEndpointType).toBe('Gateway');
      expect(gateway.SecurityGroupIds).toBeUndefined();
      expect(gateway.RouteTableIds).toHaveLength(2);
    }
  });

  test('Reaches: S3 admits buckets of the stack\'s account by default, exactly the listed buckets with `buckets`', () => {
    claim('| `addS3Endpoint()` | buckets of the stack\'s account (`aws:ResourceAccount`)');
    claim('`addS3Endpoint({ buckets: [cache] })` admits exactly those buckets and their objects');
    const s3Policy = endpointsByService(all.template).s3.PolicyDocument.Statement;
    expect(s3Policy).toEqual([expect.objectContaining({
      Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringEquals: { 'aws:ResourceAccount': ACCOUNT } },
    })]);

    const listed = build((net, stack) => net.addS3Endpoint({ buckets: [s3.Bucket.fromBucketName(stack, 'Cache', 'ci-cache')] }));
    const statements = endpointsByService(listed.template).s3.PolicyDocument.Statement;
    expect(statements).toHaveLength(1);
    expect(statements[0].Condition).toBeUndefined();
    expect(JSON.stringify(statements[0].Resource)).toContain('ci-cache');
    expect(statements[0].Resource).toHaveLength(2); // the bucket and its objects, nothing else
  });

  test('Reaches: DynamoDB admits tables of the stack\'s account and Region; interface endpoints this account\'s callers', () => {
    claim('| DynamoDB gateway | tables of the stack\'s account and Region |');
    claim('| interface endpoints | callers signing with the stack\'s account\'s credentials (`aws:PrincipalAccount`) |');
    const endpoints = endpointsByService(all.template);
    const [table] = endpoints.dynamodb.PolicyDocument.Statement;
    expect(JSON.stringify(table.Resource)).toMatch(/:dynamodb:us-east-1:123456789012:table\/\*/);
    const [callers] = endpoints['bedrock-runtime'].PolicyDocument.Statement;
    expect(callers.Condition).toEqual({ StringEquals: { 'aws:PrincipalAccount': ACCOUNT } });
  });

  test('"any resource of any account" is EndpointPolicy.unrestricted(), reported as an ERROR until acknowledged', () => {
    claim('"Any resource of any account" is an explicit choice, `policy: EndpointPolicy.unrestricted()`, and `MicrovmChecks` reports it as an ERROR (`EndpointPolicyOpen`)');
    const open = build((net) => net.addS3Endpoint({ policy: EndpointPolicy.unrestricted() }));
    expect(endpointsByService(open.template).s3.PolicyDocument).toBeUndefined();
    const endpointOf = (net: MicrovmNetwork) => net.node.findAll()
      .filter((c): c is ec2.CfnVPCEndpoint => c instanceof ec2.CfnVPCEndpoint);
    expect(endpointOf(open.network).flatMap((e) => ruleFindings(e, 'EndpointPolicyOpen'))).toEqual(['MicrovmChecks-EndpointPolicyOpen']);
    expect(endpointOf(all.network).flatMap((e) => ruleFindings(e, 'EndpointPolicyOpen'))).toEqual([]);
  });

  test('the endpoints\' service names, and only those, resolve through the DNS firewall', () => {
    claim('on each, an **endpoint policy**, and the service\'s names in the DNS firewall');
    const { allowed } = dnsFirewall(all.template);
    for (const name of ['bedrock-runtime.us-east-1.amazonaws.com', 's3.us-east-1.amazonaws.com', 'dynamodb.us-east-1.amazonaws.com']) {
      expect(allowed).toContain(name);
    }
    expect(allowed.every((d) => d.endsWith('.amazonaws.com'))).toBe(true);
  });
});

describe('README Networking: Explicit peers', () => {
  test('Creates: one outbound rule per call, and the matching inbound rule when the peer is a security group', () => {
    claim('one outbound rule per call, and the matching inbound rule when the peer is a security group');
    const stack = newStack();
    const network = new MicrovmNetwork(stack, 'Net');
    const cache = new ec2.SecurityGroup(stack, 'Cache', { vpc: network.vpc });
    network.allowTo(cache, ec2.Port.tcp(6379));
    const template = Template.fromStack(stack);
    expect(egressOf(template, stack, network.connections.securityGroups[0])).toEqual([CLOSED, 'tcp 6379-6379 security-group']);
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).map((r: any) => r.Properties);
    expect(ingress.map((p) => [p.FromPort, p.GroupId['Fn::GetAtt'][0]]))
      .toEqual([[6379, stack.getLogicalId(cache.node.defaultChild as ec2.CfnSecurityGroup)]]);
  });
});

describe('README Networking: Domain allowlist', () => {
  function build(maxAzs?: number) {
    const stack = newStack();
    const network = new MicrovmNetwork(stack, 'Net', { allowedDomains: ['pypi.org', '*.github.com'], maxAzs });
    return { stack, network, template: Template.fromStack(stack) };
  }
  const one = build();

  test('Creates: an internet gateway, and in the one default zone a firewall, a NAT gateway with its Elastic IP', () => {
    claim('on top of the isolated VPC, an internet gateway, and per zone (one by default) a firewall subnet, a public subnet, an AWS Network Firewall endpoint');
    claim('a NAT gateway with its Elastic IP');
    const t = one.template;
    expect([count(t, 'AWS::EC2::InternetGateway'), count(t, 'AWS::NetworkFirewall::Firewall'), count(t, 'AWS::EC2::NatGateway'), count(t, 'AWS::EC2::EIP')])
      .toEqual([1, 1, 1, 1]);
    expect(count(t, 'AWS::NetworkFirewall::FirewallPolicy')).toBe(1);
  });

  test('Creates: the VMs\' group opens TCP 443 and 80, and UDP and TCP 53 to the VPC resolver, nothing else', () => {
    claim('The VMs\' security group opens TCP 443 and 80, and UDP and TCP 53 to the VPC resolver.');
    // (the placeholder goes once the group has real rules: it is only there to stop EC2's default allow-all.)
    expect(egressOf(one.template, one.stack, one.network.connections.securityGroups[0])).toEqual([
      'tcp 443-443 0.0.0.0/0', 'tcp 80-80 0.0.0.0/0', 'tcp 53-53 10.0.0.2/32', 'udp 53-53 10.0.0.2/32',
    ].sort());
  });

  test('the DNS firewall also answers the listed domains', () => {
    claim('The DNS firewall also answers the listed domains.');
    const { allowed } = dnsFirewall(one.template);
    expect(allowed).toEqual(expect.arrayContaining(['pypi.org', 'github.com', '*.github.com']));
  });

  test('Costs: for the default single zone; `maxAzs: 2` doubles it', () => {
    claim('before traffic, for the default single zone. `maxAzs: 2` doubles it and adds zone resilience.');
    const two = build(2).template;
    expect([count(two, 'AWS::NetworkFirewall::Firewall'), count(two, 'AWS::EC2::NatGateway'), count(two, 'AWS::EC2::EIP')]).toEqual([2, 2, 2]);
  });
});

describe('README Security model: least privilege', () => {
  const stack = newStack();
  const image = new MicrovmImage(stack, 'Image', { code: ImageCode.fromBucket(s3.Bucket.fromBucketName(stack, 'B', 'artifacts'), 'a.zip') });
  const orchestrator = new MicrovmOrchestrator(stack, 'Orch', { image });
  const template = Template.fromStack(stack);

  /** every action the role's policies (inline and attached) allow. */
  function actionsOf(role: { node: { defaultChild?: unknown } }): string[] {
    const roleId = stack.getLogicalId(role.node.defaultChild as any);
    const inline = (template.findResources('AWS::IAM::Role')[roleId].Properties.Policies ?? []).flatMap((p: any) => p.PolicyDocument.Statement);
    const attached = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p: any) => JSON.stringify(p.Properties.Roles).includes(roleId))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    return [...inline, ...attached].flatMap((s: any) => [s.Action].flat());
  }

  test('the session API\'s role holds no list permission; only the sweeper lists VMs', () => {
    claim('and holds no list permission; only the sweeper lists VMs, with the image as its filter.');
    expect(actionsOf(orchestrator.orchestratorFunction.role!).filter((a) => /List/.test(a))).toEqual([]);
    expect(actionsOf(orchestrator.sweeperFunction.role!)).toContain('lambda:ListMicrovms');
  });

  test('the VM execution role writes logs only', () => {
    claim('the VM execution role writes logs only');
    const actions = actionsOf(orchestrator.executionRole);
    expect(actions.length).toBeGreaterThan(0);
    expect(actions.every((a) => /^logs:(CreateLogStream|PutLogEvents|CreateLogGroup|DescribeLogStreams)$/.test(a))).toBe(true);
  });

  test('the build role reads one S3 object, writes one log group and decrypts with the image\'s key', () => {
    claim('the build role reads one S3 object, writes one log group and decrypts with the image\'s key');
    const roleId = stack.getLogicalId(image.buildRole.node.defaultChild as any);
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p: any) => JSON.stringify(p.Properties.Roles).includes(roleId))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement)
      .concat(...(template.findResources('AWS::IAM::Role')[roleId].Properties.Policies ?? []).map((p: any) => p.PolicyDocument.Statement));
    const byService = (prefix: string) => statements.filter((s: any) => [s.Action].flat().some((a: string) => a.startsWith(prefix)));
    const reads = byService('s3:');
    expect(reads.flatMap((s: any) => [s.Action].flat()).every((a: string) => a.startsWith('s3:Get'))).toBe(true);
    expect(new Set(reads.map((s: any) => JSON.stringify(s.Resource)))).toEqual(new Set([JSON.stringify(reads[0].Resource)]));
    expect(JSON.stringify(reads[0].Resource)).toContain('artifacts/a.zip');
    const logs = byService('logs:');
    expect(new Set(logs.map((s: any) => JSON.stringify(s.Resource))).size).toBe(1);
    expect(byService('kms:').flatMap((s: any) => [s.Action].flat())).toEqual(['kms:Decrypt']);
    expect(statements.every((s: any) => [s.Action].flat().every((a: string) => /^(s3|logs|kms):/.test(a)))).toBe(true);
  });
});

describe('README Security model: orphan cleanup, with the construct\'s defaults', () => {
  // the sweep interval and grace period as the construct synthesizes them by default.
  const stack = newStack();
  const image = MicrovmImage.fromImageArn(stack, 'Image', 'arn:aws:lambda:us-east-1:123456789012:microvm-image:sandbox');
  new MicrovmOrchestrator(stack, 'Orch', { image });
  const template = Template.fromStack(stack);
  const schedule: string = only(template, 'AWS::Events::Rule').Properties.ScheduleExpression;
  const intervalMs = Number(schedule.match(/^rate\((\d+) minutes\)$/)![1]) * MINUTE;
  const graceSeconds = Number((Object.values(template.findResources('AWS::Lambda::Function')) as any[])
    .map((f) => f.Properties.Environment?.Variables?.[ENV.ORPHAN_GRACE_SECONDS]).find((v) => v !== undefined));

  let fx: Fixture;
  beforeEach(async () => {
    fx = await startFixture();
  });
  afterEach(async () => fx.stop());

  test.each([0, 1, 2.5, 4.9])('an orphan ends 15-20 minutes after launch, on the third or fourth sweep (first sweep %s min after launch)', async (phase) => {
    claim('With the defaults that is 15-20 minutes after launch (the third or fourth sweep)');
    expect([intervalMs, graceSeconds]).toEqual([5 * MINUTE, 600]);
    const [vm] = seedVms(fx, 1, 0);
    const launched = fx.emulator.now();
    fx.emulator.advanceTime(phase * MINUTE);
    let sweeps = 0;
    while (stateOf(fx, vm) === 'RUNNING' && sweeps < 10) {
      await newSweeper(fx, { orphanGracePeriodSeconds: graceSeconds }).run();
      sweeps++;
      if (stateOf(fx, vm) === 'RUNNING') fx.emulator.advanceTime(intervalMs);
    }
    const endedAfter = (fx.emulator.now() - launched) / MINUTE;
    expect(endedAfter).toBeGreaterThanOrEqual(15);
    expect(endedAfter).toBeLessThanOrEqual(20);
    expect([3, 4]).toContain(sweeps);
  });

  test('a row whose VM is listed TERMINATED is marked TERMINATED on the next sweep, and stays for GET', async () => {
    claim('A session row whose VM is listed TERMINATED is marked TERMINATED on the next complete sweep; the row stays for `GET` until the table\'s TTL removes it a day later.');
    const vm = await runVm(fx, 'ended-on-its-own');
    await putSession(fx, { sessionId: 'ended-on-its-own', microvmId: vm });
    fx.emulator.terminateExternally(vm);
    fx.emulator.advanceTime(MINUTE);
    expect(stateOf(fx, vm)).toBe('TERMINATED');
    await newSweeper(fx, { orphanGracePeriodSeconds: graceSeconds }).run();
    expect(await getSession(fx, 'ended-on-its-own')).toMatchObject({ vmState: 'TERMINATED', microvmId: vm, status: 'ACTIVE' });
  });
});
