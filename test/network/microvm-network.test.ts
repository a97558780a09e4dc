import { App, CfnParameter, RemovalPolicy, Stack, aws_ec2 as ec2, aws_kms as kms, aws_logs as logs } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Egress, EgressMode, MicrovmLogging, MicrovmNetwork } from '../../src';

/** CDK's rule for a security group with no outbound rules: it matches no traffic. */
const NO_EGRESS = [{ CidrIp: '255.255.255.255/32', Description: 'Disallow all traffic', FromPort: 252, IpProtocol: 'icmp', ToPort: 86 }];

function newStack(env = false): Stack {
  const app = new App({ context: { 'aws:cdk:disable-creation-stack-traces': true } });
  return new Stack(app, 'Stack', env ? { env: { account: '123456789012', region: 'us-east-1' } } : undefined);
}

/** the security group resource of the network's (only) connector security group. */
function connectorGroup(template: Template, stack: Stack, network: MicrovmNetwork): Record<string, any> {
  const id = stack.resolve(network.connections.securityGroups[0].securityGroupId)['Fn::GetAtt'][0];
  return template.toJSON().Resources[id];
}

describe('MicrovmNetwork: isolated (defaults)', () => {
  const stack = newStack();
  const network = new MicrovmNetwork(stack, 'Network');
  const template = Template.fromStack(stack);

  test('creates a VPC with two private isolated subnets and nothing that leads out', () => {
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::Subnet', 2);
    template.allResourcesProperties('AWS::EC2::Subnet', { MapPublicIpOnLaunch: false });
    for (const type of ['AWS::EC2::Route', 'AWS::EC2::InternetGateway', 'AWS::EC2::VPCGatewayAttachment', 'AWS::EC2::NatGateway',
      'AWS::EC2::EIP', 'AWS::EC2::EgressOnlyInternetGateway', 'AWS::EC2::TransitGatewayAttachment', 'AWS::EC2::VPCPeeringConnection',
      'AWS::EC2::VPNGateway', 'AWS::NetworkFirewall::Firewall', 'AWS::EC2::VPCCidrBlock']) {
      template.resourceCountIs(type, 0);
    }
    expect(network.vpc.isolatedSubnets).toHaveLength(2);
    expect(network.vpc.publicSubnets).toHaveLength(0);
    expect(network.vpc.privateSubnets).toHaveLength(0);
  });

  test('reports ISOLATED and binds through Egress.network', () => {
    expect(network.egressMode).toBe(EgressMode.ISOLATED);
    expect(network.allowedDomains).toEqual([]);
    expect(network.firewallPolicy).toBeUndefined();
    const config = Egress.network(network).bind(stack);
    expect(config.mode).toBe(EgressMode.ISOLATED);
    expect(stack.resolve(config.networkConnectorArn)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^NetworkConnector/), 'Arn'] });
    expect(stack.resolve(network.networkConnectorArn)).toEqual(stack.resolve(config.networkConnectorArn));
  });

  test('the connector security group has no outbound rule but CDK\'s match-nothing placeholder, and no inbound rule', () => {
    const group = connectorGroup(template, stack, network);
    expect(group.Properties.SecurityGroupEgress).toEqual(NO_EGRESS);
    expect(group.Properties.SecurityGroupIngress).toBeUndefined();
    template.resourceCountIs('AWS::EC2::SecurityGroupEgress', 0);
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
  });

  test('restricts the VPC default security group and records flow logs', () => {
    template.resourceCountIs('Custom::VpcRestrictDefaultSG', 1);
    template.hasResourceProperties('AWS::EC2::FlowLog', { ResourceType: 'VPC', TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
  });

  test('creates a MicroVm IPv4 connector on the VPC subnets and the closed security group', () => {
    template.resourceCountIs('AWS::Lambda::NetworkConnector', 1);
    template.hasResourceProperties('AWS::Lambda::NetworkConnector', {
      Configuration: {
        VpcEgressConfiguration: {
          AssociatedComputeResourceTypes: ['MicroVm'],
          NetworkProtocol: 'IPv4',
          SubnetIds: network.vpc.isolatedSubnets.map((s) => stack.resolve(s.subnetId)),
          SecurityGroupIds: [stack.resolve(network.connections.securityGroups[0].securityGroupId)],
        },
      },
      OperatorRole: stack.resolve(network.operatorRole.roleArn),
    });
  });

  test('the operator role trusts lambda.amazonaws.com with no condition and has no managed policy', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }],
      },
      Description: Match.stringLikeRegexp('network connector'),
    });
    const role = template.toJSON().Resources[stack.resolve(network.operatorRole.roleArn)['Fn::GetAtt'][0]];
    expect(role.Properties.AssumeRolePolicyDocument.Statement[0].Condition).toBeUndefined();
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  test('the operator policy is inline and scoped to the connector subnets, security group and tagged interfaces', () => {
    const role = template.toJSON().Resources[stack.resolve(network.operatorRole.roleArn)['Fn::GetAtt'][0]];
    expect(role.Properties.Policies).toHaveLength(1);
    const statements = role.Properties.Policies[0].PolicyDocument.Statement;
    const arn = (resource: string, id: unknown) => ({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ec2:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:${resource}/`, id]],
    });
    const interfaces = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ec2:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':network-interface/*']] };
    expect(statements).toEqual([
      {
        Sid: 'CreateInterfacesInConnectorSubnetsAndGroups',
        Effect: 'Allow',
        Action: 'ec2:CreateNetworkInterface',
        Resource: [
          ...network.subnets.map((s) => arn('subnet', stack.resolve(s.subnetId))),
          arn('security-group', stack.resolve(network.connections.securityGroups[0].securityGroupId)),
        ],
      },
      {
        Sid: 'CreateConnectorTaggedInterfaces',
        Effect: 'Allow',
        Action: 'ec2:CreateNetworkInterface',
        Resource: interfaces,
        Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['aws:lambda:networkConnectorName', 'aws:lambda:networkConnectorId'] } },
      },
      {
        Sid: 'TagInterfacesOnCreate',
        Effect: 'Allow',
        Action: 'ec2:CreateTags',
        Resource: interfaces,
        Condition: {
          StringEquals: {
            'ec2:CreateAction': 'CreateNetworkInterface',
            'ec2:ManagedResourceOperator': 'network-connectors.lambda.amazonaws.com',
          },
        },
      },
    ]);
    // no separate AWS::IAM::Policy can attach after the connector validated the role.
    template.resourcePropertiesCountIs('AWS::IAM::Policy', { Roles: [{ Ref: stack.resolve(network.operatorRole.roleName).Ref }] }, 0);
  });

  test('emits no unacknowledged warning (the connector L2 warns about a role it does not modify)', () => {
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
  });

  test('passes AwsSolutionsChecks with the one acknowledged interface wildcard', () => {
    const report = new AwsSolutionsChecks(stack).validateScope(stack);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });

  test('maxAzs and cidr shape the VPC', () => {
    const other = newStack();
    const small = new MicrovmNetwork(other, 'Network', { maxAzs: 1, cidr: '192.168.0.0/24' });
    const t = Template.fromStack(other);
    t.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: '192.168.0.0/24' });
    t.resourceCountIs('AWS::EC2::Subnet', 1);
    expect(small.subnets).toHaveLength(1);
  });
});

describe('MicrovmNetwork: logging', () => {
  /** the log group resources of `template` by the last part of their construct path. */
  function logGroups(stack: Stack, network: MicrovmNetwork): Record<string, any> {
    const resources = Template.fromStack(stack).toJSON().Resources;
    const found: Record<string, any> = {};
    for (const child of network.node.findAll()) {
      if (child instanceof logs.CfnLogGroup) found[child.node.scope!.node.id] = resources[stack.getLogicalId(child)];
    }
    return found;
  }
  const allowedDomains = ['pypi.org'];

  test('by default: a flow log group and an alert log group, each kept one year, retained, on CloudWatch Logs\' own encryption', () => {
    const stack = newStack();
    const network = new MicrovmNetwork(stack, 'Network', { allowedDomains });
    const groups = logGroups(stack, network);
    expect(Object.keys(groups).sort()).toEqual(['AlertLogs', 'FlowLogs']);
    for (const group of Object.values(groups)) {
      expect(group).toMatchObject({ Properties: { RetentionInDays: 365 }, DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
      expect(group.Properties.KmsKeyId).toBeUndefined();
    }
  });

  test('MicrovmLogging.newLogGroup(options) applies retention, removal policy and key to the flow and alert log groups', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'Key');
    const network = new MicrovmNetwork(stack, 'Network', {
      allowedDomains,
      logging: MicrovmLogging.newLogGroup({ retention: logs.RetentionDays.ONE_WEEK, removalPolicy: RemovalPolicy.DESTROY, encryptionKey: key }),
    });
    const keyArn = stack.resolve(key.keyArn);
    const groups = logGroups(stack, network);
    expect(Object.keys(groups).sort()).toEqual(['AlertLogs', 'FlowLogs']);
    for (const group of Object.values(groups)) {
      expect(group).toMatchObject({ Properties: { RetentionInDays: 7, KmsKeyId: keyArn }, DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
    }
    Template.fromStack(stack).hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'CloudWatchLogsOfThisAccount' })]) },
    });
  });

  test('MicrovmLogging.logGroup(existing) receives the flow logs and the alert logs; no group is created', () => {
    const stack = newStack();
    const existing = new logs.LogGroup(stack, 'Existing');
    const network = new MicrovmNetwork(stack, 'Network', { allowedDomains, logging: MicrovmLogging.logGroup(existing) });
    const t = Template.fromStack(stack);
    expect(logGroups(stack, network)).toEqual({});
    t.hasResourceProperties('AWS::EC2::FlowLog', { LogGroupName: stack.resolve(existing.logGroupName), TrafficType: 'ALL' });
    t.hasResourceProperties('AWS::NetworkFirewall::LoggingConfiguration', {
      LoggingConfiguration: { LogDestinationConfigs: [Match.objectLike({ LogType: 'ALERT', LogDestination: { logGroup: stack.resolve(existing.logGroupName) } })] },
    });
    // the flow log delivery role may write to it.
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['logs:PutLogEvents']), Resource: stack.resolve(existing.logGroupArn) })]) },
    });
  });

  test('MicrovmLogging.disabled() leaves flow logs out but keeps the firewall alert logs (with the defaults)', () => {
    const stack = newStack();
    const network = new MicrovmNetwork(stack, 'Network', { allowedDomains, logging: MicrovmLogging.disabled() });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::EC2::FlowLog', 0);
    const groups = logGroups(stack, network);
    expect(Object.keys(groups)).toEqual(['AlertLogs']);
    expect(groups.AlertLogs).toMatchObject({ Properties: { RetentionInDays: 365 }, DeletionPolicy: 'Retain' });
    t.resourceCountIs('AWS::NetworkFirewall::LoggingConfiguration', 1);
  });

  test('MicrovmLogging.disabled() on an isolated network creates no log group at all', () => {
    const stack = newStack();
    new MicrovmNetwork(stack, 'Network', { logging: MicrovmLogging.disabled() });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::EC2::FlowLog', 0);
    t.resourceCountIs('AWS::Logs::LogGroup', 0);
  });
});

describe('MicrovmNetwork: opening explicitly', () => {
  test('allowTo adds exactly one outbound rule and removes the placeholder', () => {
    const stack = newStack();
    const network = new MicrovmNetwork(stack, 'Network');
    network.allowTo(ec2.Peer.ipv4('10.20.0.0/16'), ec2.Port.tcp(5432), 'database');
    const group = connectorGroup(Template.fromStack(stack), stack, network);
    expect(group.Properties.SecurityGroupEgress).toEqual([
      { CidrIp: '10.20.0.0/16', Description: 'database', FromPort: 5432, IpProtocol: 'tcp', ToPort: 5432 },
    ]);
  });

  test('allowTo a security group adds the matching inbound rule on it', () => {
    const stack = newStack();
    const network = new MicrovmNetwork(stack, 'Network');
    const db = new ec2.SecurityGroup(stack, 'Db', { vpc: network.vpc, allowAllOutbound: false });
    network.allowTo(db, ec2.Port.tcp(5432));
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
      GroupId: stack.resolve(network.connections.securityGroups[0].securityGroupId),
      DestinationSecurityGroupId: stack.resolve(db.securityGroupId),
      FromPort: 5432,
      ToPort: 5432,
      IpProtocol: 'tcp',
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: stack.resolve(db.securityGroupId),
      SourceSecurityGroupId: stack.resolve(network.connections.securityGroups[0].securityGroupId),
      FromPort: 5432,
      ToPort: 5432,
      IpProtocol: 'tcp',
    });
  });

  test('fails if allowTo names every IPv4 or IPv6 address', () => {
    const network = new MicrovmNetwork(newStack(), 'Network');
    expect(() => network.allowTo(ec2.Peer.anyIpv4(), ec2.Port.tcp(443)))
      .toThrow('allowTo(peer) must be narrower than every address, got "0.0.0.0/0". Name the CIDR');
    expect(() => network.allowTo(ec2.Peer.anyIpv6(), ec2.Port.tcp(443))).toThrow(/got "::\/0"/);
  });

  test('addInterfaceEndpoint: the endpoint accepts 443 from the connector only, and the connector may send 443 to it', () => {
    const stack = newStack();
    const network = new MicrovmNetwork(stack, 'Network');
    const endpoint = network.addInterfaceEndpoint(ec2.InterfaceVpcEndpointAwsService.BEDROCK_RUNTIME);
    const template = Template.fromStack(stack);
    const connectorSg = stack.resolve(network.connections.securityGroups[0].securityGroupId);
    const endpointSg = stack.resolve(endpoint.connections.securityGroups[0].securityGroupId);
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Interface',
      ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.bedrock-runtime']] },
      PrivateDnsEnabled: true,
      SubnetIds: network.subnets.map((s) => stack.resolve(s.subnetId)),
      SecurityGroupIds: [endpointSg],
    });
    expect(template.findResources('AWS::EC2::SecurityGroupIngress')).toEqual({
      [Object.keys(template.findResources('AWS::EC2::SecurityGroupIngress'))[0]]: {
        Type: 'AWS::EC2::SecurityGroupIngress',
        Properties: {
          GroupId: endpointSg,
          SourceSecurityGroupId: connectorSg,
          IpProtocol: 'tcp',
          FromPort: 443,
          ToPort: 443,
          Description: 'HTTPS from MicroVMs to bedrock-runtime',
        },
      },
    });
    template.resourcePropertiesCountIs('AWS::EC2::SecurityGroupEgress', {
      GroupId: connectorSg,
      DestinationSecurityGroupId: endpointSg,
      IpProtocol: 'tcp',
      FromPort: 443,
      ToPort: 443,
      Description: 'HTTPS from MicroVMs to bedrock-runtime',
    }, 1);
    template.resourceCountIs('AWS::EC2::SecurityGroupEgress', 1);
    // the endpoint's own group sends nothing, and the connector group keeps no other rule.
    expect(template.toJSON().Resources[endpointSg['Fn::GetAtt'][0]].Properties.SecurityGroupEgress).toEqual(NO_EGRESS);
    expect(connectorGroup(template, stack, network).Properties.SecurityGroupEgress).toEqual(NO_EGRESS);
  });

  test('fails if the same interface endpoint is added twice', () => {
    const network = new MicrovmNetwork(newStack(), 'Network');
    network.addInterfaceEndpoint(ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER, { privateDnsEnabled: false });
    expect(() => network.addInterfaceEndpoint(ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER))
      .toThrow('addInterfaceEndpoint(service) must be added once per network, got "secretsmanager"');
  });

  test('addS3Endpoint: a gateway endpoint on the connector subnets and 443 to the S3 prefix list', () => {
    const stack = newStack();
    const network = new MicrovmNetwork(stack, 'Network');
    network.addS3Endpoint({ prefixListId: 'pl-63a5400a' });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.s3']] },
      RouteTableIds: network.subnets.map((s) => stack.resolve(s.routeTable.routeTableId)),
    });
    // the prefix list rule is a separate resource; the placeholder stays inline so the group never defaults to allow-all.
    expect(connectorGroup(template, stack, network).Properties.SecurityGroupEgress).toEqual(NO_EGRESS);
    expect(Object.values(template.findResources('AWS::EC2::SecurityGroupEgress')).map((r) => r.Properties)).toEqual([{
      GroupId: stack.resolve(network.connections.securityGroups[0].securityGroupId),
      DestinationPrefixListId: 'pl-63a5400a',
      Description: 'HTTPS from MicroVMs to s3 through its gateway endpoint',
      FromPort: 443,
      IpProtocol: 'tcp',
      ToPort: 443,
    }]);
    // a gateway endpoint adds a route to the prefix list, never a default route.
    template.resourceCountIs('AWS::EC2::Route', 0);
  });

  test('addGatewayEndpoint looks the prefix list up by name when the stack has an environment', () => {
    const stack = newStack(true);
    const network = new MicrovmNetwork(stack, 'Network');
    network.addGatewayEndpoint(ec2.GatewayVpcEndpointAwsService.DYNAMODB);
    const egress = Object.values(Template.fromStack(stack).findResources('AWS::EC2::SecurityGroupEgress')).map((r) => r.Properties);
    expect(egress).toEqual([expect.objectContaining({ FromPort: 443, ToPort: 443, IpProtocol: 'tcp', DestinationPrefixListId: expect.stringMatching(/^pl-/) })]);
  });

  test('reads the prefix list at deploy time when the stack has no region and account, and needs no lookup given an ID', () => {
    // a stack without env: one read of the prefix list by name, at deploy time
    const stack = newStack();
    new MicrovmNetwork(stack, 'Network').addGatewayEndpoint(ec2.GatewayVpcEndpointAwsService.DYNAMODB);
    const template = Template.fromStack(stack);
    const [id] = Object.keys(template.findResources('Custom::AWS'));
    const egress = Object.values(template.findResources('AWS::EC2::SecurityGroupEgress')).map((r) => r.Properties);
    expect(egress).toEqual([expect.objectContaining({ FromPort: 443, ToPort: 443, DestinationPrefixListId: { 'Fn::GetAtt': [id, 'PrefixLists.0.PrefixListId'] } })]);
    // an ID given: neither a read nor a lookup
    const given = newStack();
    new MicrovmNetwork(given, 'Network').addS3Endpoint({ prefixListId: 'pl-63a5400a' });
    const givenTemplate = Template.fromStack(given);
    givenTemplate.resourceCountIs('Custom::AWS', 0);
    givenTemplate.hasResourceProperties('AWS::EC2::SecurityGroupEgress', { DestinationPrefixListId: 'pl-63a5400a' });
  });

  test('fails if the prefix list ID is malformed', () => {
    const network = new MicrovmNetwork(newStack(), 'Network');
    expect(() => network.addS3Endpoint({ prefixListId: 'com.amazonaws.us-east-1.s3' }))
      .toThrow('prefixListId must be a prefix list ID like "pl-63a5400a", got "com.amazonaws.us-east-1.s3"');
  });

  test('fails if the same gateway endpoint is added twice', () => {
    const network = new MicrovmNetwork(newStack(), 'Network');
    network.addS3Endpoint({ prefixListId: 'pl-63a5400a' });
    expect(() => network.addS3Endpoint({ prefixListId: 'pl-63a5400a' })).toThrow(/must be added once per network, got "s3"/);
  });
});

describe('MicrovmNetwork: bring your own VPC', () => {
  test('uses the given VPC, subnets and security groups and reports VPC', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 1 });
    const group = new ec2.SecurityGroup(stack, 'Group', { vpc, allowAllOutbound: false });
    const network = new MicrovmNetwork(stack, 'Network', { vpc, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }, securityGroups: [group] });
    const template = Template.fromStack(stack);
    expect(network.egressMode).toBe(EgressMode.VPC);
    expect(network.vpc).toBe(vpc);
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::SecurityGroup', 1);
    template.hasResourceProperties('AWS::Lambda::NetworkConnector', {
      Configuration: {
        VpcEgressConfiguration: {
          SubnetIds: vpc.privateSubnets.map((s) => stack.resolve(s.subnetId)),
          SecurityGroupIds: [stack.resolve(group.securityGroupId)],
        },
      },
    });
  });

  test('without security groups, creates the closed one in the given VPC on its private subnets', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 1 });
    const network = new MicrovmNetwork(stack, 'Network', { vpc });
    const template = Template.fromStack(stack);
    expect(connectorGroup(template, stack, network).Properties).toMatchObject({ VpcId: stack.resolve(vpc.vpcId), SecurityGroupEgress: NO_EGRESS });
    expect(network.subnets).toEqual(vpc.privateSubnets);
    template.resourceCountIs('AWS::NetworkFirewall::Firewall', 0);
  });

  test('works with an imported VPC', () => {
    const stack = newStack();
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-12345678', availabilityZones: ['us-east-1a'], isolatedSubnetIds: ['subnet-12345678'], isolatedSubnetRouteTableIds: ['rtb-12345678'],
    });
    new MicrovmNetwork(stack, 'Network', { vpc });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::NetworkConnector', {
      Configuration: { VpcEgressConfiguration: { SubnetIds: ['subnet-12345678'] } },
    });
  });

  test.each([
    ['allowedDomains', { allowedDomains: ['pypi.org'] }],
    ['maxAzs', { maxAzs: 1 }],
    ['cidr', { cidr: '10.1.0.0/16' }],
    ['logging', { logging: MicrovmLogging.newLogGroup() }],
    ['logging', { logging: MicrovmLogging.disabled() }],
  ])('fails if %s is combined with vpc', (prop, extra) => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc');
    expect(() => new MicrovmNetwork(stack, 'Network', { vpc, ...extra })).toThrow(new RegExp(`^Stack/Network: ${prop} must be left out when vpc is given`));
  });

  test('fails if vpcSubnets or securityGroups come without vpc', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc');
    const group = new ec2.SecurityGroup(stack, 'Group', { vpc });
    expect(() => new MicrovmNetwork(stack, 'A', { vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } }))
      .toThrow(/^Stack\/[\w-]+: vpcSubnets must be given only with vpc/);
    expect(() => new MicrovmNetwork(stack, 'B', { securityGroups: [group] }))
      .toThrow('securityGroups must be given only with vpc (they must belong to the connector\'s VPC), got ["Stack/Group"]');
  });

  test('fails if securityGroups is empty or has more than five', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc');
    const groups = [1, 2, 3, 4, 5, 6].map((i) => new ec2.SecurityGroup(stack, `G${i}`, { vpc }));
    expect(() => new MicrovmNetwork(stack, 'A', { vpc, securityGroups: [] })).toThrow(/^Stack\/[\w-]+: securityGroups must contain 1 to 5 security groups, got \[\]/);
    expect(() => new MicrovmNetwork(stack, 'B', { vpc, securityGroups: groups })).toThrow(/^Stack\/[\w-]+: securityGroups must contain 1 to 5/);
  });
});

describe('MicrovmNetwork: prop validation', () => {
  test.each([0, 17, 1.5, -1])('fails if maxAzs is %p', (maxAzs) => {
    expect(() => new MicrovmNetwork(newStack(), 'Network', { maxAzs })).toThrow(`maxAzs must be a whole number from 1 to 16, got ${maxAzs}`);
  });

  test.each(['10.0.0.0', '10.0.0.0/8', '10.0.0.0/28', '300.0.0.0/16', 'ten/16'])('fails if cidr is %p', (cidr) => {
    expect(() => new MicrovmNetwork(newStack(), 'Network', { cidr })).toThrow(`cidr must be an IPv4 CIDR block from /16 to /24, got "${cidr}"`);
  });

  test('fails if cidr has host bits set', () => {
    expect(() => new MicrovmNetwork(newStack(), 'Network', { cidr: '10.0.1.0/16' }))
      .toThrow('cidr must start at the block\'s network address (no host bits set), got "10.0.1.0/16"');
  });

  test.each(['', 'has space', 'x'.repeat(65)])('fails if networkConnectorName is %p', (name) => {
    expect(() => new MicrovmNetwork(newStack(), 'Network', { networkConnectorName: name })).toThrow(/^Stack\/[\w-]+: networkConnectorName must be 1 to 64 letters/);
  });

  test('passes networkConnectorName to the connector', () => {
    const stack = newStack();
    new MicrovmNetwork(stack, 'Network', { networkConnectorName: 'sandbox-egress' });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::NetworkConnector', { Name: 'sandbox-egress' });
  });

  test('tokens skip validation', () => {
    const stack = newStack();
    const name = new CfnParameter(stack, 'Name').valueAsString;
    expect(() => new MicrovmNetwork(stack, 'Network', { networkConnectorName: name })).not.toThrow();
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::NetworkConnector', { Name: { Ref: 'Name' } });
  });

  test('fails if maxAzs or cidr is a token: the subnet layout is computed at synth', () => {
    const stack = newStack();
    const azs = new CfnParameter(stack, 'Azs', { type: 'Number' }).valueAsNumber;
    const cidr = new CfnParameter(stack, 'Cidr').valueAsString;
    expect(() => new MicrovmNetwork(stack, 'A', { maxAzs: azs })).toThrow('maxAzs must be a literal (the subnet layout is computed at synth), got "<token>"');
    expect(() => new MicrovmNetwork(stack, 'B', { cidr })).toThrow(/^Stack\/[\w-]+: cidr must be a literal/);
  });
});
