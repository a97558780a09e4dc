import * as path from 'path';
import { aws_lambda as lambda } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/**
 * The Node.js major version the handler bundles are built for (esbuild `target: node24` in .projenrc.ts):
 * no runtime older than this may run them.
 */
export const BUNDLE_NODE_MAJOR = 24;

/**
 * The newest `nodejs<N>.x` runtime the installed aws-cdk-lib knows, never older than the bundles' target.
 *
 * Chosen from the user's aws-cdk-lib at synth, not fixed at our build: a newer aws-cdk-lib that knows a newer
 * runtime gets it, so AwsSolutions-L1 ("the latest runtime", judged from the same `Runtime.ALL` list) passes across
 * the whole peer range.
 */
export function latestNodeRuntime(): lambda.Runtime {
  let newest: { major: number; runtime: lambda.Runtime } | undefined;
  for (const runtime of lambda.Runtime.ALL) {
    if (runtime.family !== lambda.RuntimeFamily.NODEJS) continue;
    const match = /^nodejs(\d+)\.x$/.exec(runtime.name);
    if (!match) continue;
    const major = Number(match[1]);
    if (major >= BUNDLE_NODE_MAJOR && (!newest || major > newest.major)) newest = { major, runtime };
  }
  return newest?.runtime ?? new lambda.Runtime(`nodejs${BUNDLE_NODE_MAJOR}.x`, lambda.RuntimeFamily.NODEJS, { supportsInlineCode: true });
}

/** Which of the bundles built at library build time (`assets/orchestrator/<name>/index.js`) a function runs. */
export type BundledHandler = 'orchestrator.lambda' | 'sweeper.lambda' | 'smoke-test.lambda';

/** Props for {@link HandlerFunction}. */
export interface HandlerFunctionProps extends lambda.FunctionOptions {
  readonly handler: BundledHandler;
}

/**
 * A function that runs one of the library's bundled handlers on the newest Node.js runtime the app's aws-cdk-lib
 * knows. The bundles carry every dependency (the runtime's own SDK lacks the MicroVM client), so users need neither
 * Docker nor esbuild.
 */
export class HandlerFunction extends lambda.Function {
  constructor(scope: Construct, id: string, props: HandlerFunctionProps) {
    const { handler, ...options } = props;
    super(scope, id, {
      ...options,
      runtime: latestNodeRuntime(),
      handler: 'index.handler',
      code: lambda.Code.fromAsset(path.join(__dirname, '..', '..', '..', 'assets', 'orchestrator', handler)),
    });
    this.addEnvironment('AWS_NODEJS_CONNECTION_REUSE_ENABLED', '1', { removeInEdge: true });
  }
}
