import { IConstruct } from 'constructs';
import { managedConnectorArn } from './managed-connector';
import { invalidProp } from '../shared/validation';

/**
 * How traffic reaches a MicroVM's HTTPS endpoint: one of the AWS-managed ingress connectors.
 * Every request still needs a token minted for the MicroVM and port.
 */
export class Ingress {
  /** HTTP and WebSocket traffic to the endpoint (the service default). */
  public static http(): Ingress {
    return new Ingress('HTTP_INGRESS');
  }

  /**
   * all ingress traffic (how it differs from `HTTP_INGRESS` is not documented by AWS). This library refuses to
   * combine it with other ingress connectors; that the service refuses the combination too is not confirmed by AWS.
   */
  public static all(): Ingress {
    return new Ingress('ALL_INGRESS');
  }

  /**
   * no ingress: for outbound-only workers. This library refuses to combine it with other ingress connectors; that
   * the service refuses the combination too is not confirmed by AWS.
   */
  public static none(): Ingress {
    return new Ingress('NO_INGRESS');
  }

  /** interactive shell access (port 8022), needed for shell tokens; combine with `http()`. */
  public static shell(): Ingress {
    return new Ingress('SHELL_INGRESS');
  }

  /**
   * Validates a set of ingress connectors and renders their ARNs.
   * Throws when the list is empty, repeats a connector, or combines `ALL_INGRESS` or `NO_INGRESS` with others
   * (this library's rule for the two exclusive connectors; not confirmed by AWS as a service rule).
   *
   * @internal
   */
  public static _renderArns(scope: IConstruct, ingress: Ingress[], prop: string = 'ingress'): string[] {
    const names = ingress.map((i) => i.connectorName);
    if (names.length === 0) {
      throw invalidProp(prop, [], 'name at least one ingress connector', 'Use [Ingress.none()] for no ingress.');
    }
    const duplicate = names.find((n, i) => names.indexOf(n) !== i);
    if (duplicate) {
      throw invalidProp(prop, names, 'not repeat a connector', `Remove the second ${duplicate}.`);
    }
    for (const exclusive of ['ALL_INGRESS', 'NO_INGRESS']) {
      if (names.includes(exclusive) && names.length > 1) {
        throw invalidProp(prop, names, `not combine ${exclusive} with other ingress connectors`,
          `Use ${exclusive === 'ALL_INGRESS' ? '[Ingress.all()]' : '[Ingress.none()]'} alone.`);
      }
    }
    return ingress.map((i) => i.bind(scope));
  }

  private constructor(
    /** the AWS-managed connector's name, for example `HTTP_INGRESS`. */
    public readonly connectorName: string,
  ) {}

  /**
   * The connector's full ARN for the partition and region of the stack that contains `scope`.
   */
  public bind(scope: IConstruct): string {
    return managedConnectorArn(scope, this.connectorName);
  }
}
