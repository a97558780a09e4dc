import {
  Annotations,
  Lazy,
  RemovalPolicy,
  aws_ec2 as ec2,
  aws_iam as iam,
  aws_kms as kms,
  aws_lambda as lambda,
  aws_logs as logs,
  aws_networkfirewall as networkfirewall,
  aws_route53resolver as resolver,
  aws_s3 as s3,
  Stack,
  Token,
  Validations,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { DnsFirewall, serviceDnsNames, toDnsFirewallDomains } from './dns-firewall';
import { MAX_RULE_GROUP_CAPACITY, domainListCapacity, toFirewallTargets } from './domain-allowlist';
import { DomainFirewall } from './domain-firewall';
import { EgressMode, IMicrovmNetwork } from './egress';
import { EndpointPolicy } from './endpoint-policy';
import { createOperatorRole } from './operator-role';
import { acknowledgeInlinePolicy } from '../shared/compliance';
import { allowLogsToUse } from '../shared/encryption';
import { flattenReference } from '../shared/nag-ids';
import { warnIfRegionLacksMicrovms } from '../shared/regions';
import { invalidProp, isToken } from '../shared/validation';

const DEFAULT_CIDR = '10.0.0.0/16';
const MICROVM_SUBNETS = 'Microvm';
const FIREWALL_SUBNETS = 'Firewall';
const NAT_SUBNETS = 'Nat';
const HTTPS = 443;

/**
 * Properties for a {@link MicrovmNetwork}.
 */
export interface MicrovmNetworkProps {
  /**
   * Internet egress limited to these domains, enforced by AWS Network Firewall (TLS SNI on port 443, HTTP Host
   * on port 80) behind a NAT gateway.
   *
   * Write `pypi.org` for exactly that name, `*.github.com` for `github.com` and every name below it (the
   * firewall's wildcard form `.github.com` also matches the bare domain). Names are lowercased. Rejected:
   * schemes, paths, ports, IP addresses, `*`, wildcards other than a leading `*.`, and invalid or over-long names.
   *
   * Cost, per availability zone (us-east-1 list prices at the time of writing, verify on the AWS pricing
   * pages): a Network Firewall endpoint at about $0.395 per hour plus $0.065 per GB processed, a NAT gateway at
   * about $0.045 per hour plus $0.045 per GB (AWS waives NAT gateway hours and GB up to the matching firewall
   * endpoint usage), a public IPv4 address at $0.005 per hour, and internet data transfer out. One zone is
   * roughly $290 a month with the NAT waiver ($325 without) before traffic.
   *
   * Not available with `vpc`: the firewall needs routing this construct designs.
   *
   * @default - no internet egress: the VPC has no route out
   */
  readonly allowedDomains?: string[];

  /**
   * Whether a Route 53 Resolver DNS Firewall on the created VPC answers only the names the network needs, and
   * NXDOMAIN for everything else. The names it answers: the AWS service names of the VPC endpoints added with
   * `addInterfaceEndpoint`, `addGatewayEndpoint` and `addS3Endpoint`, the `allowedDomains`, and
   * `resolvableDomains`.
   *
   * Security groups do not filter the Amazon-provided resolver, so without it even an isolated VM can resolve any
   * public name, and code can leak data in queries for a domain whose name server someone else runs. With
   * `false`, `MicrovmChecks-DnsUnfiltered` reports the connector. Names in private hosted zones are blocked too
   * unless listed in `resolvableDomains`.
   *
   * Costs about $0.60 per million queries, plus $0.0015 per listed domain per month (us-east-1 list prices at
   * the time of writing, verify on the Route 53 pricing page). Not available with `vpc`.
   *
   * @default true
   */
  readonly dnsFirewall?: boolean;

  /**
   * More names the DNS firewall answers, written like `allowedDomains` (`db.internal.example.com`,
   * `*.internal.example.com`): names in your private hosted zones of peers opened with `allowTo`, or an AWS name
   * the endpoints do not cover. Resolving a name opens no network path. Only with the DNS firewall on.
   *
   * @default - only the endpoints' service names and `allowedDomains`
   */
  readonly resolvableDomains?: string[];

  /**
   * How many availability zones the created VPC spans (one MicroVM subnet each; with `allowedDomains`, also one
   * firewall endpoint and one NAT gateway each, billed per hour).
   *
   * @default - 2 for an isolated network; 1 with `allowedDomains`, to keep the hourly cost down
   */
  readonly maxAzs?: number;

  /**
   * IPv4 CIDR of the created VPC, /16 to /24.
   *
   * @default '10.0.0.0/16'
   */
  readonly cidr?: string;

  /**
   * Whether the created VPC records flow logs (all traffic, to a CloudWatch Logs group): the record of what
   * sandboxes tried to reach. CloudWatch Logs ingestion is about $0.50 per GB in us-east-1 (verify).
   *
   * @default true
   */
  readonly flowLogs?: boolean;

  /**
   * Retention of the flow log and firewall alert log groups this construct creates.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * A customer-managed KMS key for the flow log and firewall alert log groups this construct creates. CloudWatch
   * Logs is added to the policy of a key in this app; an imported key's policy must already allow it.
   * `MicrovmOrchestrator` passes its own key to the network it creates.
   *
   * @default - CloudWatch Logs' own encryption (the NIST 800-53, HIPAA and PCI DSS packs of cdk-nag report it)
   */
  readonly logEncryptionKey?: kms.IKey;

  /**
   * What happens to the flow log and firewall alert log groups when they leave the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;

  /**
   * An existing VPC to put the connector's network interfaces in, instead of creating an isolated one. The
   * library cannot see its routes, so the network reports `EgressMode.VPC`: make sure the selected subnets have
   * the reach you intend.
   *
   * @default - a new VPC with private isolated subnets only: no internet gateway, no NAT, no route out
   */
  readonly vpc?: ec2.IVpc;

  /**
   * Subnets of `vpc` for the connector's network interfaces (1 to 16). Only with `vpc`.
   *
   * @default - the default selection of `vpc`: its private subnets, else its isolated ones, else its public ones
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * Security groups for the connector's network interfaces (1 to 5), in `vpc`. Their outbound rules decide
   * what MicroVMs can reach. Only with `vpc`.
   *
   * @default - one new security group with no outbound rules
   */
  readonly securityGroups?: ec2.ISecurityGroup[];

  /**
   * Name of the network connector, unique in the account and region. Changing it replaces the connector.
   *
   * @default - generated by CloudFormation
   */
  readonly networkConnectorName?: string;
}

/**
 * Options for {@link MicrovmNetwork.addInterfaceEndpoint}.
 */
export interface MicrovmInterfaceEndpointOptions {
  /**
   * Whether the service's public DNS name resolves to the endpoint inside the VPC, so SDKs in the MicroVM
   * work unchanged.
   *
   * @default true
   */
  readonly privateDnsEnabled?: boolean;

  /**
   * What the endpoint admits. `EndpointPolicy.unrestricted()` admits every account's credentials and is
   * reported by `MicrovmChecks-EndpointPolicyOpen`; it is also the way out for a service that does not support
   * endpoint policies.
   *
   * @default EndpointPolicy.accountPrincipals(): callers signing with this account's credentials, to any resource
   */
  readonly policy?: EndpointPolicy;
}

/**
 * Options for {@link MicrovmNetwork.addGatewayEndpoint}.
 */
export interface MicrovmGatewayEndpointOptions {
  /**
   * ID of the service's AWS-managed prefix list (`com.amazonaws.<region>.<service>`), which the connector's
   * security group is opened to on port 443.
   *
   * @default - looked up by name at synth (needs a stack with an explicit region and account)
   */
  readonly prefixListId?: string;

  /**
   * What the endpoint admits. `EndpointPolicy.unrestricted()` admits any resource of any account and is reported
   * by `MicrovmChecks-EndpointPolicyOpen`.
   *
   * @default - S3: `EndpointPolicy.accountResources()` (buckets owned by this account); DynamoDB: the tables of
   * this account in this Region (`EndpointPolicy.resources(...)`)
   */
  readonly policy?: EndpointPolicy;
}

/**
 * Options for {@link MicrovmNetwork.addS3Endpoint}.
 */
export interface MicrovmS3EndpointOptions extends MicrovmGatewayEndpointOptions {
  /**
   * The only buckets MicroVMs may reach through the endpoint (the buckets and their objects, any action their
   * credentials allow). Not with `policy`.
   *
   * @default - the `policy` default: any bucket owned by this account
   */
  readonly buckets?: s3.IBucket[];
}

/**
 * Deny-by-default egress for MicroVMs: a VPC egress network connector whose security group has no outbound
 * rules, in a VPC with no route out.
 *
 * A MicroVM launched without a VPC egress connector reaches the internet (leaving out `INTERNET_EGRESS` does
 * not change that), so attach this network to every MicroVM that runs code you do not fully trust. Open it
 * deliberately: `allowTo(peer, port)`, VPC endpoints (`addS3Endpoint()`, `addInterfaceEndpoint(...)`), or
 * `allowedDomains` for a domain allowlist enforced by AWS Network Firewall.
 *
 * @example
 * import { aws_ec2 as ec2 } from 'aws-cdk-lib';
 * import { MicrovmNetwork } from 'cdk-lambda-microvms';
 *
 * const network = new MicrovmNetwork(this, 'Network');
 * network.addInterfaceEndpoint(ec2.InterfaceVpcEndpointAwsService.BEDROCK_RUNTIME);
 */
export class MicrovmNetwork extends Construct implements IMicrovmNetwork, ec2.IConnectable {
  /**
   * An isolated network: a new VPC with no route out and a connector security group with no outbound rules.
   */
  public static isolated(scope: Construct, id: string): MicrovmNetwork {
    return new MicrovmNetwork(scope, id);
  }

  /** the VPC the connector's network interfaces live in. */
  public readonly vpc: ec2.IVpc;
  /** the subnets the connector's network interfaces live in. */
  public readonly subnets: ec2.ISubnet[];
  /** the connector's security groups: their outbound rules are what MicroVMs can reach. */
  public readonly connections: ec2.Connections;
  /** the VPC egress network connector MicroVMs use. */
  public readonly networkConnector: lambda.INetworkConnector;
  /** the role Lambda assumes to manage the connector's network interfaces (dedicated, trust unconditioned). */
  public readonly operatorRole: iam.IRole;
  /** what the connector lets a MicroVM reach. */
  public readonly egressMode: EgressMode;
  /** the Network Firewall domain list targets (`*.example.com` rendered as `.example.com`); empty without `allowedDomains`. */
  public readonly allowedDomains: string[];
  /**
   * the firewall policy enforcing `allowedDomains`.
   *
   * @default - none without `allowedDomains`
   */
  public readonly firewallPolicy?: networkfirewall.CfnFirewallPolicy;

  /**
   * the DNS Firewall rule group filtering the created VPC's resolver.
   *
   * @default - none with `dnsFirewall: false` or `vpc`
   */
  public readonly dnsFirewallRuleGroup?: resolver.CfnFirewallRuleGroup;

  private readonly ownSecurityGroup?: ec2.SecurityGroup;
  /** DNS Firewall entries for the endpoints added so far. */
  private readonly endpointDnsNames: string[] = [];

  constructor(scope: Construct, id: string, props: MicrovmNetworkProps = {}) {
    super(scope, id);
    warnIfRegionLacksMicrovms(this);
    const targets = validateProps(props);
    this.allowedDomains = targets ?? [];
    const retention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    const removalPolicy = props.logRemovalPolicy ?? RemovalPolicy.RETAIN;
    if (props.logEncryptionKey) allowLogsToUse(props.logEncryptionKey);

    let createdVpc: ec2.Vpc | undefined;
    if (props.vpc) {
      this.vpc = props.vpc;
      this.subnets = this.vpc.selectSubnets(props.vpcSubnets).subnets;
      this.egressMode = EgressMode.VPC;
    } else {
      createdVpc = new ec2.Vpc(this, 'Vpc', {
        ipAddresses: ec2.IpAddresses.cidr(props.cidr ?? DEFAULT_CIDR),
        maxAzs: props.maxAzs ?? (targets ? 1 : 2),
        natGateways: 0,
        restrictDefaultSecurityGroup: true,
        subnetConfiguration: targets ? [
          { name: NAT_SUBNETS, subnetType: ec2.SubnetType.PUBLIC, cidrMask: 28, mapPublicIpOnLaunch: false },
          { name: FIREWALL_SUBNETS, subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 28 },
          { name: MICROVM_SUBNETS, subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
        ] : [
          { name: MICROVM_SUBNETS, subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
        ],
      });
      if (props.flowLogs ?? true) {
        const flowLog = createdVpc.addFlowLog('FlowLog', {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(new logs.LogGroup(this, 'FlowLogs', { retention, removalPolicy, encryptionKey: props.logEncryptionKey })),
          trafficType: ec2.FlowLogTrafficType.ALL,
        });
        acknowledgeInlinePolicy(flowLog.iamRole!, 'the VPC flow log delivery role, writing to the flow log group only');
      }
      this.vpc = createdVpc;
      this.subnets = createdVpc.selectSubnets({ subnetGroupName: MICROVM_SUBNETS }).subnets;
      this.egressMode = targets ? EgressMode.DOMAIN_ALLOWLIST : EgressMode.ISOLATED;
    }

    if (createdVpc && (props.dnsFirewall ?? true)) {
      const listed = [...this.allowedDomains, ...(props.resolvableDomains ? toFirewallTargets('resolvableDomains', props.resolvableDomains) : [])];
      const firewall = new DnsFirewall(this, 'DnsFirewall', {
        vpc: createdVpc,
        allowed: () => [...this.endpointDnsNames, ...listed.flatMap(toDnsFirewallDomains)],
      });
      this.dnsFirewallRuleGroup = firewall.ruleGroup;
    }

    let securityGroups = props.securityGroups;
    if (!securityGroups) {
      this.ownSecurityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
        vpc: this.vpc,
        // no outbound rules: CDK renders its placeholder (255.255.255.255/32, icmp 252-86, "Disallow all traffic")
        // because a security group without egress rules would get EC2's default allow-all rule.
        allowAllOutbound: false,
        description: 'MicroVM network connector: outbound traffic only where opened explicitly',
      });
      keepNoTrafficRule(this.ownSecurityGroup);
      securityGroups = [this.ownSecurityGroup];
    }
    this.connections = new ec2.Connections({ securityGroups });

    if (targets && createdVpc) {
      const cidr = props.cidr ?? DEFAULT_CIDR;
      const groupOf = (name: string) => createdVpc.selectSubnets({ subnetGroupName: name }).subnets;
      const firewall = new DomainFirewall(this, 'Firewall', {
        vpc: createdVpc,
        vpcCidr: cidr,
        targets,
        logRetention: retention,
        logRemovalPolicy: removalPolicy,
        logEncryptionKey: props.logEncryptionKey,
        zones: this.subnets.map((microvmSubnet, i) => ({
          microvmSubnet,
          firewallSubnet: groupOf(FIREWALL_SUBNETS)[i],
          natSubnet: groupOf(NAT_SUBNETS)[i] as ec2.PublicSubnet,
        })),
      });
      this.firewallPolicy = firewall.policy;
      this.openInternetThroughFirewall(cidr);
    }

    const operatorRole = createOperatorRole(this, 'OperatorRole',
      this.subnets.map((s) => s.subnetId), securityGroups.map((g) => g.securityGroupId));
    this.operatorRole = operatorRole;
    this.networkConnector = new lambda.NetworkConnector(this, 'Connector', {
      networkConnectorName: props.networkConnectorName,
      configuration: lambda.NetworkConnectorConfiguration.vpcEgress({
        computeType: lambda.NetworkConnectorComputeType.MICRO_VM,
        networkProtocol: lambda.NetworkConnectorProtocol.IPV4,
        vpc: this.vpc,
        vpcSubnets: { subnets: this.subnets },
        securityGroups,
      }),
      // a read-only view of the role: the L2 then leaves out its AWS managed policy, which our inline policy
      // replaces with the same permissions scoped to this connector's subnets and security groups.
      operatorRole: iam.Role.fromRoleArn(this, 'OperatorRoleView', operatorRole.roleArn, { mutable: false }),
    });
    Annotations.of(this.networkConnector).acknowledgeWarning('@aws-cdk/aws-lambda:networkConnectorOperatorRoleNotModified',
      'the dedicated operator role carries an inline equivalent of AWSLambdaNetworkConnectorOperatorPolicy');
    // named as cdk-nag renders it for this stack, which depends on whether its region and account are concrete.
    const interfaces = Stack.of(this).formatArn({ service: 'ec2', resource: 'network-interface', resourceName: '*' });
    Validations.of(this.operatorRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${flattenReference(Stack.of(this).resolve(interfaces))}]`,
      reason: 'network interface ids do not exist before Lambda creates them; creation is limited to the connector tags and tagging to the create call',
    });
    acknowledgeInlinePolicy(this.operatorRole, 'the network connector\'s operator role, an inline equivalent of ' +
      'AWSLambdaNetworkConnectorOperatorPolicy scoped to these subnets and security groups');
  }

  /** the unqualified ARN of the connector, to pass to RunMicrovm or to IAM. */
  public get networkConnectorArn(): string {
    return this.networkConnector.networkConnectorArn;
  }

  /**
   * Lets MicroVMs open connections to `peer` on `port`: one outbound rule on the connector's security groups
   * (and an inbound rule on `peer` when it is a security group). In an isolated network the peer must also be
   * reachable without leaving the VPC.
   *
   * The peer must be narrower than the whole internet: use `allowedDomains` for internet egress.
   */
  public allowTo(peer: ec2.IPeer, port: ec2.Port, description?: string): void {
    if (peer.uniqueId === '0.0.0.0/0' || peer.uniqueId === '::/0') {
      throw invalidProp('allowTo(peer)', peer.uniqueId, 'be narrower than every address',
        'Name the CIDR or security group the sandbox needs, or use allowedDomains for internet egress.');
    }
    this.connections.allowTo(peer, port, description);
  }

  /**
   * Adds an interface VPC endpoint for an AWS service (for example Bedrock Runtime or Secrets Manager) in the
   * connector's subnets, reachable from the connector on port 443 only: the endpoint gets its own security
   * group allowing 443 from the connector's security groups, and the connector's security groups get an
   * outbound rule on 443 to it.
   *
   * About $0.01 per hour per availability zone plus $0.01 per GB in us-east-1 (verify).
   */
  public addInterfaceEndpoint(service: ec2.InterfaceVpcEndpointAwsService, options: MicrovmInterfaceEndpointOptions = {}): ec2.InterfaceVpcEndpoint {
    const id = `Endpoint-${service.shortName}`;
    if (this.node.tryFindChild(id)) {
      throw invalidProp('addInterfaceEndpoint(service)', service.shortName, 'be added once per network', 'Remove the second call.');
    }
    const scope = new Construct(this, id);
    const securityGroup = new ec2.SecurityGroup(scope, 'SecurityGroup', {
      vpc: this.vpc,
      allowAllOutbound: false,
      description: `Interface endpoint for ${service.shortName}: HTTPS from the MicroVM network connector only`,
    });
    keepNoTrafficRule(securityGroup);
    securityGroup.connections.allowFrom(this.connections, ec2.Port.tcp(HTTPS), `HTTPS from MicroVMs to ${service.shortName}`);
    const endpoint = new ec2.InterfaceVpcEndpoint(scope, 'Endpoint', {
      vpc: this.vpc,
      service,
      subnets: { subnets: this.subnets },
      securityGroups: [securityGroup],
      open: false,
      privateDnsEnabled: options.privateDnsEnabled ?? true,
    });
    applyPolicy(endpoint, options.policy ?? EndpointPolicy.accountPrincipals());
    // the service name resolves to "com.amazonaws.<region>.<short name>" (a join in a region-agnostic stack) for
    // services whose private DNS name is derived from it; others (for example "aws.sagemaker...") are not guessed.
    const resolvedName = JSON.stringify(Stack.of(this).resolve(service.name));
    if (/^"(cn\.)?com\.amazonaws\./.test(resolvedName) || resolvedName.includes('["com.amazonaws.",')) {
      this.endpointDnsNames.push(...serviceDnsNames(service.shortName, Stack.of(this).region));
    } else if (this.dnsFirewallRuleGroup) {
      Annotations.of(this).addWarningV2('cdk-lambda-microvms:endpointDnsName',
        `The DNS firewall cannot derive the private DNS name of the interface endpoint for "${service.shortName}" (not a ` +
        'com.amazonaws service name): add its private DNS name to resolvableDomains, or MicroVMs cannot resolve it.');
    }
    return endpoint;
  }

  /**
   * Adds a gateway VPC endpoint (S3 or DynamoDB) to the route tables of the connector's subnets and opens the
   * connector's security groups on port 443 to the service's prefix list. Gateway endpoints cost nothing.
   */
  public addGatewayEndpoint(service: ec2.GatewayVpcEndpointAwsService, options: MicrovmGatewayEndpointOptions = {}): ec2.GatewayVpcEndpoint {
    return this.gatewayEndpoint(service, options, options.policy);
  }

  /**
   * Adds an S3 gateway endpoint and opens HTTPS to the S3 prefix list, so MicroVMs reach S3 without the internet.
   * By default the endpoint admits only buckets owned by this account; `buckets` narrows it to those buckets.
   */
  public addS3Endpoint(options: MicrovmS3EndpointOptions = {}): ec2.GatewayVpcEndpoint {
    if (options.buckets !== undefined && options.policy !== undefined) {
      throw invalidProp('buckets', options.buckets.map((b) => b.node.path), 'be left out when policy is given (both decide what the endpoint admits)',
        'Keep one: buckets for "only these buckets", policy for anything else.');
    }
    if (options.buckets !== undefined && options.buckets.length === 0) {
      throw invalidProp('buckets', [], 'list at least one bucket', 'Leave it out for the default (buckets of this account).');
    }
    const policy = options.buckets
      ? EndpointPolicy.resources(options.buckets.flatMap((b) => [b.bucketArn, b.arnForObjects('*')]))
      : options.policy;
    return this.gatewayEndpoint(ec2.GatewayVpcEndpointAwsService.S3, options, policy);
  }

  private gatewayEndpoint(
    service: ec2.GatewayVpcEndpointAwsService,
    options: MicrovmGatewayEndpointOptions,
    policy?: EndpointPolicy,
  ): ec2.GatewayVpcEndpoint {
    const shortName = service.name.split('.').pop()!;
    const id = `Endpoint-${shortName}`;
    if (this.node.tryFindChild(id)) {
      throw invalidProp('addGatewayEndpoint(service)', shortName, 'be added once per network', 'Remove the second call.');
    }
    const stack = Stack.of(this);
    let prefixListId = options.prefixListId;
    if (prefixListId !== undefined && !isToken(prefixListId) && !/^pl-[0-9a-f]{8,17}$/.test(prefixListId)) {
      throw invalidProp('prefixListId', prefixListId, 'be a prefix list ID like "pl-63a5400a"',
        `Find it with: aws ec2 describe-managed-prefix-lists --filters Name=prefix-list-name,Values=com.amazonaws.<region>.${shortName}`);
    }
    if (prefixListId === undefined) {
      if (Token.isUnresolved(stack.region) || Token.isUnresolved(stack.account)) {
        throw invalidProp('prefixListId', undefined, `be given when the stack has no explicit region and account (the ${shortName} prefix list is looked up by name)`,
          `Pass { prefixListId: 'pl-...' } (aws ec2 describe-managed-prefix-lists --filters Name=prefix-list-name,Values=com.amazonaws.<region>.${shortName}) or set the stack's env.`);
      }
    }
    const scope = new Construct(this, id);
    if (prefixListId === undefined) {
      prefixListId = ec2.PrefixList.fromLookup(scope, 'PrefixList', { prefixListName: `com.amazonaws.${stack.region}.${shortName}` }).prefixListId;
    }
    const endpoint = new ec2.GatewayVpcEndpoint(scope, 'Endpoint', {
      vpc: this.vpc,
      service,
      subnets: [{ subnets: this.subnets }],
    });
    this.connections.allowTo(ec2.Peer.prefixList(prefixListId), ec2.Port.tcp(HTTPS), `HTTPS from MicroVMs to ${shortName} through its gateway endpoint`);
    applyPolicy(endpoint, policy ?? (shortName === 'dynamodb'
      ? EndpointPolicy.resources([stack.formatArn({ service: 'dynamodb', resource: 'table', resourceName: '*' })])
      : EndpointPolicy.accountResources()));
    this.endpointDnsNames.push(...serviceDnsNames(shortName, stack.region));
    return endpoint;
  }

  private openInternetThroughFirewall(cidr: string): void {
    const group = this.ownSecurityGroup!;
    // the firewall is the enforcement point; the security group only limits the protocols it can inspect.
    group.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(HTTPS), 'HTTPS to allowlisted domains (TLS SNI checked by the firewall)');
    group.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(80), 'HTTP to allowlisted domains (Host checked by the firewall)');
    // security groups do not filter the Amazon DNS resolver; these rules keep the intent visible in the template.
    const resolverCidr = `${resolverAddress(cidr)}/32`;
    group.addEgressRule(ec2.Peer.ipv4(resolverCidr), ec2.Port.udp(53), 'DNS to the VPC resolver');
    group.addEgressRule(ec2.Peer.ipv4(resolverCidr), ec2.Port.tcp(53), 'DNS to the VPC resolver');
  }
}

/** Attaches the policy's statements to the endpoint; an unrestricted policy leaves the service's default. */
function applyPolicy(endpoint: ec2.GatewayVpcEndpoint | ec2.InterfaceVpcEndpoint, policy: EndpointPolicy): void {
  for (const statement of policy._statements(endpoint) ?? []) endpoint.addToPolicy(statement);
}

/** CDK's rule for "no outbound traffic": 255.255.255.255/32 cannot be a destination and icmp 252/86 is no ICMP type. */
const NO_TRAFFIC_RULE: ec2.CfnSecurityGroup.EgressProperty = {
  cidrIp: '255.255.255.255/32',
  description: 'Disallow all traffic',
  ipProtocol: 'icmp',
  fromPort: 252,
  toPort: 86,
};

/**
 * Keeps CDK's no-traffic placeholder inline while the group has no other inline outbound rule.
 *
 * CDK drops the placeholder as soon as any outbound rule is added, even one it renders as a separate
 * `AWS::EC2::SecurityGroupEgress` (security group and prefix list peers). The group then declares no inline
 * egress, so EC2 gives it the default allow-all rule until CloudFormation creates the separate rule: a window
 * in which the connector's interfaces could reach anything, and a template that reads as open.
 */
function keepNoTrafficRule(group: ec2.SecurityGroup): void {
  const cfn = group.node.defaultChild as ec2.CfnSecurityGroup;
  // the L2 keeps mutating this array (it is the group's list of inline rules), so read it at synthesis.
  const inlineRules = cfn.securityGroupEgress as ec2.CfnSecurityGroup.EgressProperty[];
  cfn.securityGroupEgress = Lazy.any({ produce: () => (inlineRules.length > 0 ? inlineRules : [NO_TRAFFIC_RULE]) });
}

/** the Amazon-provided DNS resolver of a VPC is its base address plus two. */
function resolverAddress(cidr: string): string {
  const value = cidr.split('/')[0].split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0) + 2;
  return [3, 2, 1, 0].map((k) => Math.floor(value / 256 ** k) % 256).join('.');
}

function validateProps(props: MicrovmNetworkProps): string[] | undefined {
  if (props.vpc) {
    const onlyWithoutVpc: Array<[string, unknown]> = [
      ['allowedDomains', props.allowedDomains], ['maxAzs', props.maxAzs], ['cidr', props.cidr], ['flowLogs', props.flowLogs], ['dnsFirewall', props.dnsFirewall],
      ['resolvableDomains', props.resolvableDomains],
      ['logRetention', props.logRetention], ['logRemovalPolicy', props.logRemovalPolicy], ['logEncryptionKey', props.logEncryptionKey],
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
    const address = match.slice(1, 5).reduce((sum, octet) => sum * 256 + Number(octet), 0);
    if (address % 2 ** (32 - Number(match[5])) !== 0) {
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
  if (props.allowedDomains === undefined) return undefined;
  const targets = toFirewallTargets('allowedDomains', props.allowedDomains);
  if (!isToken(targets) && domainListCapacity(targets.length) > MAX_RULE_GROUP_CAPACITY) {
    throw invalidProp('allowedDomains', `${targets.length} domains`, `fit one rule group (capacity ${MAX_RULE_GROUP_CAPACITY})`,
      'Use wildcards ("*.example.com") to cover related names.');
  }
  return targets;
}
