import { aws_iam as iam, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/** the principal Lambda presents when it manages a connector's network interfaces. */
const MANAGED_RESOURCE_OPERATOR = 'network-connectors.lambda.amazonaws.com';

/** tags Lambda puts on the network interfaces it creates for a connector. */
const CONNECTOR_TAG_KEYS = ['aws:lambda:networkConnectorName', 'aws:lambda:networkConnectorId'];

/**
 * A role dedicated to one network connector, with the permissions of `AWSLambdaNetworkConnectorOperatorPolicy`
 * narrowed to that connector's subnets and security groups.
 *
 * The trust has no `aws:SourceAccount`/`aws:SourceArn` condition: the service assumes the role without
 * presenting either, so a condition would make connector creation fail. That is why the role must not be
 * shared. The policy is inline in the role resource so that it exists before the connector that references
 * the role (a separate `AWS::IAM::Policy` could attach after the connector validated the role).
 */
export function createOperatorRole(scope: Construct, id: string, subnetIds: string[], securityGroupIds: string[]): iam.Role {
  const stack = Stack.of(scope);
  const ec2Arn = (resource: string, resourceName: string) => stack.formatArn({ service: 'ec2', resource, resourceName });
  const document = new iam.PolicyDocument({
    statements: [
      new iam.PolicyStatement({
        sid: 'CreateInterfacesInConnectorSubnetsAndGroups',
        actions: ['ec2:CreateNetworkInterface'],
        resources: [
          ...subnetIds.map((subnetId) => ec2Arn('subnet', subnetId)),
          ...securityGroupIds.map((groupId) => ec2Arn('security-group', groupId)),
        ],
      }),
      new iam.PolicyStatement({
        sid: 'CreateConnectorTaggedInterfaces',
        actions: ['ec2:CreateNetworkInterface'],
        // interface ids do not exist until the service creates them, so the resource is a wildcard narrowed by tags.
        resources: [ec2Arn('network-interface', '*')],
        conditions: { 'ForAllValues:StringEquals': { 'aws:TagKeys': CONNECTOR_TAG_KEYS } },
      }),
      new iam.PolicyStatement({
        sid: 'TagInterfacesOnCreate',
        actions: ['ec2:CreateTags'],
        resources: [ec2Arn('network-interface', '*')],
        conditions: {
          StringEquals: {
            'ec2:CreateAction': 'CreateNetworkInterface',
            'ec2:ManagedResourceOperator': MANAGED_RESOURCE_OPERATOR,
          },
        },
      }),
    ],
  });
  return new iam.Role(scope, id, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: 'Lets AWS Lambda manage the network interfaces of one MicroVM network connector. Do not reuse: its trust cannot be conditioned.',
    inlinePolicies: { NetworkConnectorOperator: document },
  });
}
