import * as path from 'path';
import { App, Duration, RemovalPolicy, Stack, aws_iam as iam, aws_kms as kms, aws_logs as logs } from 'aws-cdk-lib';
import { Hook, ImageCode, MicrovmImage, MicrovmMemory } from '../src/image';
import { MicrovmLogging } from '../src/shared/microvm-logging';

// stack traces carry absolute paths into the assembly, which would make the snapshot machine-specific.
// no creation stack traces (absolute paths) and no performance-counters.json, which a synth slower than 10 s
// per stack (a loaded CI machine) would add to the output the snapshot diff compares.
const app = new App({
  stackTraces: false,
  context: { 'aws:cdk:disable-creation-stack-traces': true, '@aws-cdk/core.slowSynthThreshold': Number.MAX_SAFE_INTEGER },
});
const stack = new Stack(app, 'MicrovmImageInteg');

const key = new kms.Key(stack, 'ImageKey', {
  description: 'Encrypts the code interpreter image configuration',
  enableKeyRotation: true,
  removalPolicy: RemovalPolicy.DESTROY,
});

const image = new MicrovmImage(stack, 'CodeInterpreter', {
  code: ImageCode.fromDirectory(path.join(__dirname, 'image', 'fixtures', 'sandbox'), { exclude: ['*.md'] }),
  description: 'Runs untrusted Python snippets, one MicroVM per session',
  memory: MicrovmMemory.GIB_1,
  hooks: {
    port: 9000,
    ready: Hook.enabled(Duration.minutes(2)),
    validate: Hook.enabled(Duration.minutes(1)),
    run: Hook.enabled(Duration.seconds(5)),
    suspend: Hook.enabled(Duration.seconds(5)),
    terminate: Hook.enabled(Duration.seconds(5)),
  },
  environment: { APP_PORT: '8080', LOG_LEVEL: 'info' },
  logging: MicrovmLogging.newLogGroup({ retention: logs.RetentionDays.TWO_WEEKS, removalPolicy: RemovalPolicy.DESTROY }),
  encryptionKey: key,
  tags: { project: 'cdk-lambda-microvms-integ' },
});

const launcher = new iam.Role(stack, 'Launcher', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
image.grantRun(launcher);

app.synth();
