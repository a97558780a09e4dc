import { aws_ec2 as ec2, aws_s3 as s3 } from 'aws-cdk-lib';
import { EndpointPolicy } from './endpoint-policy';
import { MicrovmLogging } from '../shared/microvm-logging';

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
   * Where the created VPC's flow logs (all traffic: the record of what sandboxes tried to reach) and, with
   * `allowedDomains`, the domain firewall's alert logs (every flow it dropped) go. CloudWatch Logs ingestion is
   * about $0.50 per GB in us-east-1 (verify).
   *
   * - `MicrovmLogging.newLogGroup(options)`: a new flow log group and, with `allowedDomains`, a new alert log group,
   *   each kept `retention` (default one year), retained when it leaves the stack unless `removalPolicy` says
   *   otherwise, encrypted with `options.encryptionKey` if given (CloudWatch Logs is added to the policy of a key in
   *   this app; an imported key's policy must already allow it). `MicrovmOrchestrator` passes its own key to the
   *   network it creates.
   * - `MicrovmLogging.logGroup(group)`: flow logs and alert logs both go to that group; the flow log delivery role
   *   gets write access to it. Its retention, removal policy and key are yours.
   * - `MicrovmLogging.disabled()`: no flow logs. The domain firewall's alert logs are kept all the same, in a new
   *   group with the defaults (one year, retained, CloudWatch Logs' own encryption): they are the only record of
   *   what the allowlist blocked, and disabling them would hide attempts to reach other domains.
   *
   * Not available with `vpc`: configure flow logs on your own VPC.
   *
   * @default MicrovmLogging.newLogGroup() - new groups kept one year, retained when the stack is deleted, with
   * CloudWatch Logs' own encryption (the NIST 800-53, HIPAA and PCI DSS packs of cdk-nag report it)
   */
  readonly logging?: MicrovmLogging;

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
   * @default - looked up by name at synth in a stack with an explicit region and account; otherwise read at deploy
   * time by a custom resource (one `ec2:DescribeManagedPrefixLists` call)
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
