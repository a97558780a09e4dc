// An AI-agent code-execution sandbox: one isolated MicroVM per conversation.
// In your own app, import from 'cdk-lambda-microvms' instead of '../../src'.
import * as path from 'path';
import { App, CfnOutput, Duration, Stack, StackProps, Validations, aws_iam as iam, aws_kms as kms } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Construct } from 'constructs';
import {
  Egress, Hook, IdlePolicy, ImageCode, Ingress, MicrovmChecks, MicrovmImage, MicrovmLogging, MicrovmMemory, MicrovmNetwork, MicrovmOrchestrator, SmokeTest,
} from '../../src';

export class CodeInterpreterStack extends Stack {
  public readonly orchestrator: MicrovmOrchestrator;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    // the interpreter listens on 8080; hooks live on 9000, a port no token ever covers.
    // one customer-managed key for the image (its configuration at rest, as CloudFormation documents it), the
    // sessions table and every log group: you decide who can decrypt them.
    const key = new kms.Key(this, 'Key', { enableKeyRotation: true, description: 'Encrypts the MicroVM image configuration and build logs, the sessions table and the logs' });

    const image = new MicrovmImage(this, 'Interpreter', {
      code: ImageCode.fromDirectory(path.join(__dirname, 'sandbox')),
      encryptionKey: key,
      description: 'Python code interpreter, one MicroVM per conversation',
      memory: MicrovmMemory.GIB_1,
      hooks: {
        port: 9000,
        ready: Hook.enabled(Duration.minutes(2)),
        run: Hook.enabled(Duration.seconds(5)),
      },
      environment: { EXECUTION_TIMEOUT_SECONDS: '30', LOG_LEVEL: 'info' },
    });

    // no route out and no outbound rules: generated code reaches nothing but its own VM.
    const network = new MicrovmNetwork(this, 'Isolated', { logging: MicrovmLogging.newLogGroup({ encryptionKey: key }) });

    this.orchestrator = new MicrovmOrchestrator(this, 'Conversations', {
      image,
      encryptionKey: key,
      egress: Egress.network(network),
      ingress: [Ingress.http()],
      appPorts: [8080],
      // every new image version is launched once at deploy time and must answer /health before any session gets it.
      smokeTest: SmokeTest.http({ path: '/health' }),
      tokenTtl: Duration.minutes(5),
      idlePolicy: IdlePolicy.suspendAfter(Duration.minutes(15), { terminateAfter: Duration.hours(1) }),
      maxSessionDuration: Duration.hours(2),
      maxSessionsPerOwner: 50,
      // the workspace outlives the VM: saved to S3 15 minutes before the end and on every idle suspension, restored
      // by the /run hook of the next launch (sandbox/checkpoint.py). 8181 is served only for the orchestrator's own
      // 5-minute tokens; the isolated network gets an S3 endpoint admitting only the checkpoint bucket.
      checkpoints: { port: 8181, onSuspend: true },
    });

    // the agent backend that creates a session per conversation.
    const agent = new iam.Role(this, 'AgentBackend', { assumedBy: new iam.AccountRootPrincipal() });
    this.orchestrator.grantSessions(agent);

    new CfnOutput(this, 'SessionApiUrl', { value: this.orchestrator.url });
    new CfnOutput(this, 'AgentBackendRoleArn', { value: agent.roleArn });
  }
}

export function buildApp(app: App = new App()): App {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new MicrovmChecks(app));
  new CodeInterpreterStack(app, 'CodeInterpreter', {
    // a region but no account: ARNs are concrete, and synth needs no AWS lookups (Availability Zones stay Fn::GetAZs).
    env: { region: process.env.CDK_DEFAULT_REGION ?? 'us-east-1' },
  });
  return app;
}

if (require.main === module) {
  buildApp().synth();
}
