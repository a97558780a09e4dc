import { aws_kms as kms } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { Egress } from '../../network/egress';
import { MicrovmNetwork } from '../../network/microvm-network';

/**
 * The most closed egress the service allows (it has no managed "no egress" connector): a new isolated
 * `MicrovmNetwork`, a VPC egress connector into subnets with no route out and a security group with no
 * outbound rule.
 */
export function defaultEgress(scope: Construct, logEncryptionKey?: kms.IKey): Egress {
  return Egress.network(new MicrovmNetwork(scope, 'Network', { logEncryptionKey }));
}
