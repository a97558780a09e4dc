import { App, CfnOutput, RemovalPolicy, Stack, aws_ec2 as ec2, aws_logs as logs } from 'aws-cdk-lib';
import { Egress, MicrovmNetwork } from '../src/network';
import { MicrovmLogging } from '../src/shared/microvm-logging';

// stack traces carry absolute paths into the assembly, which would make the snapshot machine-specific.
// no creation stack traces (absolute paths) and no performance-counters.json, which a synth slower than 10 s
// per stack (a loaded CI machine) would add to the output the snapshot diff compares.
const app = new App({
  stackTraces: false,
  context: { 'aws:cdk:disable-creation-stack-traces': true, '@aws-cdk/core.slowSynthThreshold': Number.MAX_SAFE_INTEGER },
});

// isolated: no route out; opened only to Bedrock through an interface endpoint, S3 through a gateway endpoint,
// and one internal CIDR.
const isolatedStack = new Stack(app, 'MicrovmNetworkIsolatedInteg', { env: { region: 'us-east-1' } });
const isolated = new MicrovmNetwork(isolatedStack, 'Network', {
  logging: MicrovmLogging.newLogGroup({ retention: logs.RetentionDays.ONE_WEEK, removalPolicy: RemovalPolicy.DESTROY }),
});
isolated.addInterfaceEndpoint(ec2.InterfaceVpcEndpointAwsService.BEDROCK_RUNTIME);
isolated.addS3Endpoint({ prefixListId: 'pl-63a5400a' }); // com.amazonaws.us-east-1.s3
isolated.allowTo(ec2.Peer.ipv4('10.0.0.0/24'), ec2.Port.tcp(5432), 'database in the first MicroVM subnet');
new CfnOutput(isolatedStack, 'ConnectorArn', { value: Egress.network(isolated).bind(isolatedStack).networkConnectorArn });

// domain allowlist: package registries only, through AWS Network Firewall and a NAT gateway in one zone, with
// DNS limited to the same names.
const allowlistStack = new Stack(app, 'MicrovmNetworkAllowlistInteg');
const allowlist = new MicrovmNetwork(allowlistStack, 'Network', {
  allowedDomains: ['pypi.org', 'files.pythonhosted.org', 'registry.npmjs.org', '*.github.com'],
  dnsFirewall: true,
  logging: MicrovmLogging.newLogGroup({ retention: logs.RetentionDays.ONE_WEEK, removalPolicy: RemovalPolicy.DESTROY }),
});
new CfnOutput(allowlistStack, 'ConnectorArn', { value: allowlist.networkConnectorArn });

app.synth();
