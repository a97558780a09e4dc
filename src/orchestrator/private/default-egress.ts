import { aws_kms as kms } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { Egress } from '../../network/egress';
import { MicrovmNetwork } from '../../network/microvm-network';
import { MicrovmLogging } from '../../shared/microvm-logging';

/**
 * The most closed egress the service allows (it has no managed "no egress" connector): a new isolated
 * `MicrovmNetwork`, a VPC egress connector into subnets with no route out and a security group with no
 * outbound rule.
 */
export function defaultEgress(scope: Construct, encryptionKey?: kms.IKey): Egress {
  // the network's log groups are encrypted with the orchestrator's key, if it has one.
  const logging = encryptionKey ? MicrovmLogging.newLogGroup({ encryptionKey }) : undefined;
  return Egress.network(new MicrovmNetwork(scope, 'Network', { logging }));
}
