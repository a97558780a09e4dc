// Per-user development environments: long sessions, auto-resume, package registries only.
// In your own app, import from 'cdk-lambda-microvms' instead of '../../src'.
import * as path from 'path';
import { App, CfnOutput, Duration, Stack, StackProps, Validations, aws_iam as iam, aws_kms as kms } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Construct } from 'constructs';
import {
  Egress, Hook, IdlePolicy, ImageCode, Ingress, MicrovmChecks, MicrovmImage, MicrovmLogging, MicrovmMemory, MicrovmNetwork, MicrovmOrchestrator,
  SessionOwner,
  SmokeTest,
} from '../../src';

export class DevEnvironmentStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    // one customer-managed key for the image (its configuration at rest, as CloudFormation documents it), the
    // sessions table and every log group: you decide who can decrypt them.
    const key = new kms.Key(this, 'Key', { enableKeyRotation: true, description: 'Encrypts the MicroVM image configuration and build logs, the sessions table and the logs' });

    const image = new MicrovmImage(this, 'Workspace', {
      code: ImageCode.fromDirectory(path.join(__dirname, 'workspace')),
      encryptionKey: key,
      description: 'code-server workspace, one MicroVM per developer',
      memory: MicrovmMemory.GIB_4,
      hooks: {
        port: 9000,
        ready: Hook.enabled(Duration.minutes(5)),
        run: Hook.enabled(Duration.seconds(10)),
        resume: Hook.enabled(Duration.seconds(10)),
      },
    });

    // internet egress only to package registries and GitHub, enforced by AWS Network Firewall.
    const network = new MicrovmNetwork(this, 'Registries', {
      logging: MicrovmLogging.newLogGroup({ encryptionKey: key }),
      allowedDomains: ['registry.npmjs.org', 'pypi.org', 'files.pythonhosted.org', 'github.com', '*.github.com', '*.githubusercontent.com'],
    });

    const orchestrator = new MicrovmOrchestrator(this, 'Workspaces', {
      image,
      encryptionKey: key,
      egress: Egress.network(network),
      ingress: [Ingress.http()],
      appPorts: [8080],
      // a new image version must serve code-server's health page before any developer gets it.
      smokeTest: SmokeTest.http({ path: '/healthz' }),
      tokenTtl: Duration.minutes(15),
      // a developer who steps away is suspended (memory kept), and resumed by their next request.
      idlePolicy: IdlePolicy.suspendAfter(Duration.minutes(30), { terminateAfter: Duration.hours(4), autoResume: true }),
      maxSessionDuration: Duration.hours(8),
      // one workspace per developer: the portal assumes DeveloperPortal once per developer, with
      // RoleSessionName=<developer id>, so each role session owns its own sessions.
      sessionOwner: SessionOwner.ROLE_SESSION,
      maxSessionsPerOwner: 1,
    });

    const portal = new iam.Role(this, 'DeveloperPortal', { assumedBy: new iam.AccountRootPrincipal() });
    orchestrator.grantSessions(portal);

    new CfnOutput(this, 'SessionApiUrl', { value: orchestrator.url });
  }
}

export function buildApp(app: App = new App()): App {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new MicrovmChecks(app));
  new DevEnvironmentStack(app, 'DevEnvironment', {
    // a region but no account: ARNs are concrete, and synth needs no AWS lookups (Availability Zones stay Fn::GetAZs).
    env: { region: process.env.CDK_DEFAULT_REGION ?? 'us-east-1' },
  });
  return app;
}

if (require.main === module) {
  buildApp().synth();
}
