import { aws_lambda as lambda } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { managedConnectorArn } from './managed-connector';
import { invalidProp } from '../shared/validation';

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

/**
 * The result of binding an {@link Egress}.
 */
export interface EgressConfig {
  /** ARN of the egress network connector to pass to the service. */
  readonly networkConnectorArn: string;
  /** what the connector lets a MicroVM reach. */
  readonly mode: EgressMode;
}

/**
 * Where a MicroVM's outbound traffic may go. An image takes at most one egress connector (the API's limit;
 * `RunMicrovm` accepts up to 10); this library passes exactly one.
 */
export class Egress {
  /**
   * Egress through a `MicrovmNetwork`: isolated by default, or limited to a domain allowlist.
   */
  public static network(network: IMicrovmNetwork): Egress {
    return new Egress(`Egress.network(${network.node.path})`,
      () => ({ networkConnectorArn: network.networkConnector.networkConnectorArn, mode: network.egressMode }));
  }

  /**
   * Egress through an existing VPC egress connector (for example `lambda.NetworkConnector`). The library cannot
   * see its routes, so it is reported as `VPC`: make sure its subnets and security groups are what you intend.
   */
  public static connector(connector: lambda.INetworkConnector): Egress {
    return new Egress(`Egress.connector(${connector.node.path})`,
      () => ({ networkConnectorArn: connector.networkConnectorArn, mode: EgressMode.VPC }));
  }

  /**
   * The AWS-managed `INTERNET_EGRESS` connector: the public internet. Allowed, but `MicrovmChecks` reports it,
   * because code running in the MicroVM can then reach anything.
   */
  public static internet(): Egress {
    return new Egress('Egress.internet()',
      (scope) => ({ networkConnectorArn: managedConnectorArn(scope, 'INTERNET_EGRESS'), mode: EgressMode.INTERNET }));
  }

  /**
   * Enforces this library's rule of exactly one egress connector per MicroVM or image (an image takes at most one;
   * `RunMicrovm` accepts up to 10), and returns it. Throws, naming `prop`, when the list is empty or holds more than one.
   */
  public static validateSingle(prop: string, egress: Egress[]): Egress {
    if (egress.length !== 1) {
      throw invalidProp(prop, egress.map((e) => e.label), 'name exactly one egress connector (an image takes at most one, and this library passes exactly one)',
        egress.length === 0
          ? 'Pass one, for example Egress.network(new MicrovmNetwork(this, \'Network\')).'
          : 'Keep one; to reach more destinations, open the one network wider (allowTo, VPC endpoints, allowedDomains).');
    }
    return egress[0];
  }

  private constructor(
    /** how this egress was made, for error messages. */
    private readonly label: string,
    private readonly produce: (scope: IConstruct) => EgressConfig,
  ) {}

  /**
   * Renders the connector ARN for the stack that contains `scope`.
   */
  public bind(scope: IConstruct): EgressConfig {
    return this.produce(scope);
  }
}
