import * as path from 'path';
import { App, CfnOutput, Duration, RemovalPolicy, Stack, aws_iam as iam, aws_logs as logs } from 'aws-cdk-lib';
import { Hook, ImageCode, MicrovmImage } from '../src/image';
import { IdlePolicy, MicrovmOrchestrator, SmokeTest } from '../src/orchestrator';
import { MicrovmLogging } from '../src/shared/microvm-logging';

// stack traces carry absolute paths into the assembly, which would make the snapshot machine-specific.
// no creation stack traces (absolute paths) and no performance-counters.json, which a synth slower than 10 s
// per stack (a loaded CI machine) would add to the output the snapshot diff compares.
const app = new App({
  stackTraces: false,
  context: { 'aws:cdk:disable-creation-stack-traces': true, '@aws-cdk/core.slowSynthThreshold': Number.MAX_SAFE_INTEGER },
});
const stack = new Stack(app, 'MicrovmOrchestratorInteg');

const image = new MicrovmImage(stack, 'Sandbox', {
  code: ImageCode.fromDirectory(path.join(__dirname, 'image', 'fixtures', 'sandbox'), { exclude: ['*.md'] }),
  hooks: { port: 9000, ready: Hook.enabled(Duration.minutes(2)), run: Hook.enabled(Duration.seconds(5)) },
});

// defaults everywhere that matters (isolated egress, HTTP ingress, app port 8080, 5-minute tokens), a short
// idle policy and lifetime so an integ run leaves nothing billing, and a table that goes with the stack.
const orchestrator = new MicrovmOrchestrator(stack, 'Sessions', {
  image,
  idlePolicy: IdlePolicy.suspendAfter(Duration.minutes(5), { terminateAfter: Duration.minutes(10) }),
  maxSessionDuration: Duration.minutes(30),
  maxSessionsPerOwner: 2,
  // a new version must answer the fixture app's /health before the orchestrator launches it for anyone.
  smokeTest: SmokeTest.http({ path: '/health', timeout: Duration.seconds(20) }),
  logging: MicrovmLogging.newLogGroup({ retention: logs.RetentionDays.ONE_WEEK }),
  runtimeLogging: MicrovmLogging.newLogGroup({ retention: logs.RetentionDays.ONE_WEEK }),
  removalPolicy: RemovalPolicy.DESTROY,
});

// the principal an integ assertion (or a person) signs session API requests as.
const caller = new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
orchestrator.grantSessions(caller);

new CfnOutput(stack, 'SessionApiUrl', { value: orchestrator.url });
new CfnOutput(stack, 'CallerRoleArn', { value: caller.roleArn });
new CfnOutput(stack, 'Dashboard', { value: orchestrator.dashboard!.dashboardName });

app.synth();
