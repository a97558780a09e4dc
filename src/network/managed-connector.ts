import { Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * ARN of an AWS-managed network connector (account field is the literal `aws`), rendered for the
 * partition and region of the stack that contains `scope`.
 */
export function managedConnectorArn(scope: IConstruct, name: string): string {
  const stack = Stack.of(scope);
  return `arn:${stack.partition}:lambda:${stack.region}:aws:network-connector:aws-network-connector:${name}`;
}

/** Matches any AWS-managed connector ARN, in any partition or region; group 1 is the connector name. */
export const MANAGED_CONNECTOR_ARN = /^arn:[a-z-]+:lambda:[^:]*:aws:network-connector:aws-network-connector:([A-Z_]+)$/;
