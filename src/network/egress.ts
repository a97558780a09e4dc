import { aws_lambda as lambda } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { managedConnectorArn } from './managed-connector';
import { EgressMode, IMicrovmNetwork } from './microvm-network';

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
    return new Egress(() => ({ networkConnectorArn: network.networkConnector.networkConnectorArn, mode: network.egressMode }), network);
  }

  /**
   * Egress through an existing VPC egress connector (for example `lambda.NetworkConnector`). The library cannot
   * see its routes, so it is reported as `VPC`: make sure its subnets and security groups are what you intend.
   */
  public static connector(connector: lambda.INetworkConnector): Egress {
    return new Egress(() => ({ networkConnectorArn: connector.networkConnectorArn, mode: EgressMode.VPC }));
  }

  /**
   * The AWS-managed `INTERNET_EGRESS` connector: the public internet. Allowed, but `MicrovmChecks` reports it,
   * because code running in the MicroVM can then reach anything.
   */
  public static internet(): Egress {
    return new Egress((scope) => ({ networkConnectorArn: managedConnectorArn(scope, 'INTERNET_EGRESS'), mode: EgressMode.INTERNET }));
  }

  private constructor(
    private readonly produce: (scope: IConstruct) => EgressConfig,
    /**
     * The network behind a `network()` egress, so a construct that needs a path out (checkpoints to S3) can open
     * exactly that path; undefined for a connector or the internet.
     *
     * @internal
     */
    public readonly _network?: IMicrovmNetwork,
  ) {}

  /**
   * Renders the connector ARN for the stack that contains `scope`.
   */
  public bind(scope: IConstruct): EgressConfig {
    return this.produce(scope);
  }
}
