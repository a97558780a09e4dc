import {
  Annotations,
  RemovalPolicy,
  aws_ec2 as ec2,
  aws_iam as iam,
  aws_lambda as lambda,
  aws_logs as logs,
  aws_networkfirewall as networkfirewall,
  aws_route53resolver as resolver,
  aws_s3 as s3,
  Stack,
  Token,
  Validations,
} from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';
import { DnsFirewall, serviceDnsNames, toDnsFirewallDomains } from './dns-firewall';
import { DomainFirewall } from './domain-firewall';
import { EndpointPolicy } from './endpoint-policy';
import {
  MicrovmGatewayEndpointOptions, MicrovmInterfaceEndpointOptions, MicrovmNetworkProps, MicrovmS3EndpointOptions,
} from './microvm-network-props';
import { createOperatorRole } from './operator-role';
import { resolveNetworkProps, resolverAddress } from './private/network-props';
import { prefixListAtDeploy } from './private/prefix-list-lookup';
import { keepNoTrafficRule } from './private/security-group';
import { acknowledgeInlinePolicy } from '../shared/compliance';
import { MicrovmLogging, logGroupFor } from '../shared/microvm-logging';
import { flattenReference } from '../shared/nag-ids';
import { warnIfRegionLacksMicrovms } from '../shared/regions';
import { invalidProp, isToken, placeError, validateIn } from '../shared/validation';

/**
 * What a MicroVM's egress can reach.
 */
export enum EgressMode {
  /** a VPC with no route out and a security group with no outbound rules, unless opened explicitly. */
  ISOLATED = 'ISOLATED',
  /** internet egress limited to a domain allowlist enforced by AWS Network Firewall. */
  DOMAIN_ALLOWLIST = 'DOMAIN_ALLOWLIST',
  /** a customer VPC connector this library did not build: reach depends on its subnets and security groups. */
  VPC = 'VPC',
  /** the AWS-managed `INTERNET_EGRESS` connector: the public internet. */
  INTERNET = 'INTERNET',
}

/**
 * A MicroVM network whose egress connector this library can reason about.
 */
export interface IMicrovmNetwork extends IConstruct {
  /** the VPC egress connector MicroVMs use. */
  readonly networkConnector: lambda.INetworkConnector;
  /** what that connector lets a MicroVM reach. */
  readonly egressMode: EgressMode;
}

const DEFAULT_CIDR = '10.0.0.0/16';
const MICROVM_SUBNETS = 'Microvm';
const FIREWALL_SUBNETS = 'Firewall';
const NAT_SUBNETS = 'Nat';
const HTTPS = 443;

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
  /** the S3 gateway endpoint, once added, and whether its policy lists what it admits (not unrestricted). */
  private s3Endpoint?: { readonly endpoint: ec2.GatewayVpcEndpoint; readonly restricted: boolean };

  constructor(scope: Construct, id: string, props: MicrovmNetworkProps = {}) {
    super(scope, id);
    warnIfRegionLacksMicrovms(this);
    const resolved = validateIn(this, () => resolveNetworkProps(props));
    const targets = resolved.allowlistTargets;
    this.allowedDomains = targets ?? [];
    const logging = (props.logging ?? MicrovmLogging.newLogGroup())._config();
    const logDefaults = { retention: logs.RetentionDays.ONE_YEAR, removalPolicy: RemovalPolicy.RETAIN };

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
      const flowLogGroup = logGroupFor(this, 'FlowLogs', logging, logDefaults);
      if (flowLogGroup) {
        const flowLog = createdVpc.addFlowLog('FlowLog', {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
          trafficType: ec2.FlowLogTrafficType.ALL,
        });
        acknowledgeInlinePolicy(flowLog.iamRole!, 'the VPC flow log delivery role, writing to the flow log group only');
      }
      this.vpc = createdVpc;
      this.subnets = createdVpc.selectSubnets({ subnetGroupName: MICROVM_SUBNETS }).subnets;
      this.egressMode = targets ? EgressMode.DOMAIN_ALLOWLIST : EgressMode.ISOLATED;
    }

    if (createdVpc && (props.dnsFirewall ?? true)) {
      const firewall = new DnsFirewall(this, 'DnsFirewall', {
        vpc: createdVpc,
        // read at synthesis: domains allowed later (a bucket for checkpoints) resolve too.
        allowed: () => [
          ...this.endpointDnsNames,
          ...[...this.allowedDomains, ...resolved.resolvableTargets].flatMap(toDnsFirewallDomains),
        ],
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
        // disabled() turns off flow logs only: the alert logs are the record of what the allowlist blocked.
        logging: logging.kind === 'DISABLED' ? MicrovmLogging.newLogGroup()._config() : logging,
        logDefaults,
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
      throw this.invalid('allowTo(peer)', peer.uniqueId, 'be narrower than every address',
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
      throw this.invalid('addInterfaceEndpoint(service)', service.shortName, 'be added once per network', 'Remove the second call.');
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
      throw this.invalid('buckets', options.buckets.map((b) => b.node.path), 'be left out when policy is given (both decide what the endpoint admits)',
        'Keep one: buckets for "only these buckets", policy for anything else.');
    }
    if (options.buckets !== undefined && options.buckets.length === 0) {
      throw this.invalid('buckets', [], 'list at least one bucket', 'Leave it out for the default (buckets of this account).');
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
      throw this.invalid('addGatewayEndpoint(service)', shortName, 'be added once per network', 'Remove the second call.');
    }
    const stack = Stack.of(this);
    let prefixListId = options.prefixListId;
    if (prefixListId !== undefined && !isToken(prefixListId) && !/^pl-[0-9a-f]{8,17}$/.test(prefixListId)) {
      throw this.invalid('prefixListId', prefixListId, 'be a prefix list ID like "pl-63a5400a"',
        `Find it with: aws ec2 describe-managed-prefix-lists --filters Name=prefix-list-name,Values=com.amazonaws.<region>.${shortName}`);
    }
    const scope = new Construct(this, id);
    if (prefixListId === undefined) {
      // looked up at synth where the stack names its region and account, read at deploy time where it does not.
      prefixListId = Token.isUnresolved(stack.region) || Token.isUnresolved(stack.account)
        ? prefixListAtDeploy(scope, shortName)
        : ec2.PrefixList.fromLookup(scope, 'PrefixList', { prefixListName: `com.amazonaws.${stack.region}.${shortName}` }).prefixListId;
    }
    const endpoint = new ec2.GatewayVpcEndpoint(scope, 'Endpoint', {
      vpc: this.vpc,
      service,
      subnets: [{ subnets: this.subnets }],
    });
    this.connections.allowTo(ec2.Peer.prefixList(prefixListId), ec2.Port.tcp(HTTPS), `HTTPS from MicroVMs to ${shortName} through its gateway endpoint`);
    const restricted = applyPolicy(endpoint, policy ?? (shortName === 'dynamodb'
      ? EndpointPolicy.resources([stack.formatArn({ service: 'dynamodb', resource: 'table', resourceName: '*' })])
      : EndpointPolicy.accountResources()));
    if (shortName === 's3') this.s3Endpoint = { endpoint, restricted };
    this.endpointDnsNames.push(...serviceDnsNames(shortName, stack.region));
    return endpoint;
  }

  /**
   * Lets MicroVMs reach one bucket (HTTPS, any action their request is signed for) and nothing else new: through the
   * S3 gateway endpoint when the network has one (its policy then also admits the bucket), adding the endpoint
   * (scoped to the bucket) to an isolated network that has none, and adding the bucket's regional virtual-hosted
   * name to a domain allowlist. A network on a VPC this library did not create gets no endpoint: its routes are
   * not ours to change.
   *
   * @returns the gateway endpoint MicroVMs reach the bucket through, or undefined when they do not use one
   * @internal
   */
  public _allowBucket(bucket: s3.IBucket): ec2.GatewayVpcEndpoint | undefined {
    if (this.egressMode === EgressMode.DOMAIN_ALLOWLIST) {
      // only the bucket's own name: the regional name (s3.<region>.amazonaws.com) would admit path-style requests
      // to every bucket in the region, any account's, which is an exfiltration path the allowlist exists to close.
      if (!this.allowedDomains.includes(bucket.bucketRegionalDomainName)) this.allowedDomains.push(bucket.bucketRegionalDomainName);
    }
    if (this.s3Endpoint) {
      // an unrestricted endpoint already admits the bucket; a statement added to it would restrict everything else.
      if (this.s3Endpoint.restricted) {
        this.s3Endpoint.endpoint.addToPolicy(new iam.PolicyStatement({
          principals: [new iam.AnyPrincipal()],
          actions: ['*'],
          resources: [bucket.bucketArn, bucket.arnForObjects('*')],
        }));
      }
      return this.s3Endpoint.endpoint;
    }
    if (this.egressMode === EgressMode.ISOLATED) return this.addS3Endpoint({ buckets: [bucket] });
    return undefined;
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

  /** a prop error that names this network's path. */
  private invalid(...args: Parameters<typeof invalidProp>): unknown {
    return placeError(this, invalidProp(...args));
  }
}

/**
 * Attaches the policy's statements to the endpoint; an unrestricted policy leaves the service's default.
 *
 * @returns whether the endpoint now has a policy (false: unrestricted)
 */
function applyPolicy(endpoint: ec2.GatewayVpcEndpoint | ec2.InterfaceVpcEndpoint, policy: EndpointPolicy): boolean {
  const statements = policy._statements(endpoint);
  for (const statement of statements ?? []) endpoint.addToPolicy(statement);
  return statements !== undefined;
}
