import { App, Stack, aws_ec2 as ec2, aws_lambda as lambda } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Egress, EgressMode, MicrovmNetwork } from '../../src';

describe('Egress', () => {
  const stack = new Stack(new App(), 'Stack', { env: { account: '123456789012', region: 'eu-west-1' } });
  const network = new MicrovmNetwork(stack, 'Network');
  const imported = lambda.NetworkConnector.fromNetworkConnectorArn(stack, 'Imported',
    'arn:aws:lambda:eu-west-1:123456789012:network-connector:nc-0123456789abcdef');

  test('network() carries the MicrovmNetwork connector and its mode', () => {
    const config = Egress.network(network).bind(stack);
    expect(config.mode).toBe(EgressMode.ISOLATED);
    expect(stack.resolve(config.networkConnectorArn)).toEqual(stack.resolve(network.networkConnector.networkConnectorArn));
  });

  test('connector() reports VPC, because the library cannot see its routes', () => {
    expect(Egress.connector(imported).bind(stack)).toEqual({
      networkConnectorArn: 'arn:aws:lambda:eu-west-1:123456789012:network-connector:nc-0123456789abcdef',
      mode: EgressMode.VPC,
    });
  });

  test('a MicrovmNetwork is connectable: other constructs can open paths to it', () => {
    const db = new ec2.SecurityGroup(stack, 'Db', { vpc: network.vpc });
    db.connections.allowFrom(network, ec2.Port.tcp(5432));
    Template.fromStack(stack).hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
      GroupId: stack.resolve(network.connections.securityGroups[0].securityGroupId),
      DestinationSecurityGroupId: stack.resolve(db.securityGroupId),
      FromPort: 5432,
      ToPort: 5432,
      IpProtocol: 'tcp',
    });
  });
});
