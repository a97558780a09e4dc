// one synth sample in a fresh process (as `cdk synth` runs an app): loads the variant's modules, then builds and
// synthesizes its App once. Prints `{ importMs, synthMs, resources }` as the last line. Used by bench/synth.ts.
import * as path from 'path';

const [variant, outdir] = process.argv.slice(2);
const STACK = 'CodeInterpreter';
const env = { region: 'us-east-1' };

const importStart = performance.now();
// eslint-disable-next-line @typescript-eslint/no-require-imports
const cdk = require('aws-cdk-lib') as typeof import('aws-cdk-lib');
const { App } = cdk;
// aws-cdk-lib loads its submodules on first use: load the ones either variant uses now, in every variant, so the
// synth phase times constructing and synthesizing rather than module loading.
for (const name of ['aws_cloudwatch', 'aws_dynamodb', 'aws_ec2', 'aws_events', 'aws_events_targets', 'aws_iam', 'aws_kms', 'aws_lambda', 'aws_logs', 'aws_s3_assets']) {
  void (cdk as unknown as Record<string, unknown>)[name];
}
// eslint-disable-next-line @typescript-eslint/no-require-imports, import/no-extraneous-dependencies
require('cdk-nag');
const build: (app: import('aws-cdk-lib').App) => void = (() => {
  if (variant === 'l1') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { L1CodeInterpreterStack } = require('./l1-stack') as typeof import('./l1-stack');
    return (app) => { new L1CodeInterpreterStack(app, STACK, { env }); };
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const example = require(path.join('..', 'examples', 'code-interpreter', 'app')) as typeof import('../examples/code-interpreter/app');
  if (variant === 'example') return (app) => { new example.CodeInterpreterStack(app, STACK, { env }); };
  if (variant === 'exampleWithNag') return (app) => { example.buildApp(app); };
  throw new Error(`unknown variant ${variant}`);
})();
const importMs = performance.now() - importStart;

const synthStart = performance.now();
const app = new App({ outdir });
build(app);
const assembly = app.synth();
const synthMs = performance.now() - synthStart;
const template = assembly.getStackByName(STACK).template as { Resources?: Record<string, unknown> };
process.stdout.write(`\n${JSON.stringify({ importMs, synthMs, resources: Object.keys(template.Resources ?? {}).length })}\n`);
