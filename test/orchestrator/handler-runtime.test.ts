import * as path from 'path';
import { App, Stack, aws_lambda as lambda } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ImageCode, MicrovmImage, MicrovmOrchestrator } from '../../src';
import { BUNDLE_NODE_MAJOR, latestNodeRuntime } from '../../src/orchestrator/private/handler-function';

const CONTEXT = path.join(__dirname, '..', 'nag', 'sample-image');

function functionRuntimes(): string[] {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Stack');
  const image = new MicrovmImage(stack, 'Sandbox', { code: ImageCode.fromDirectory(CONTEXT) });
  new MicrovmOrchestrator(stack, 'Sessions', { image });
  const l1 = new AwsSolutionsChecks(stack).validateScope(stack).violations.filter((v) => v.ruleName === 'AwsSolutions-L1');
  expect(l1).toEqual([]);
  // the two handlers (aws-cdk-lib's own custom-resource providers choose their own runtime)
  const handlers = Template.fromStack(stack).findResources('AWS::Lambda::Function', { Properties: { Handler: 'index.handler' } });
  return Object.values(handlers).map((r) => r.Properties.Runtime).sort();
}

/** the newest nodejs<N>.x this aws-cdk-lib knows, as AwsSolutions-L1 reads it: from Runtime.ALL */
function newestKnown(): number {
  return Math.max(...lambda.Runtime.ALL.map((r) => /^nodejs(\d+)\.x$/.exec(r.name)).filter((m) => m).map((m) => Number(m![1])));
}

describe('the handlers run on the newest Node.js runtime the app\'s aws-cdk-lib knows', () => {
  test('with the installed aws-cdk-lib: the newest nodejs runtime it lists, never older than the bundle target', () => {
    const expected = `nodejs${Math.max(newestKnown(), BUNDLE_NODE_MAJOR)}.x`;
    expect(latestNodeRuntime().name).toBe(expected);
    // the session API, the sweeper and the smoke test.
    expect(functionRuntimes()).toEqual([expected, expected, expected]);
  });

  test('an aws-cdk-lib that knows a newer runtime gets it, and AwsSolutions-L1 still passes', () => {
    // GIVEN a runtime newer than any this aws-cdk-lib ships, registered the way aws-cdk-lib registers its own
    const future = `nodejs${newestKnown() + 2}.x`;
    const runtime = new lambda.Runtime(future, lambda.RuntimeFamily.NODEJS, { supportsInlineCode: true });
    try {
      // THEN
      expect(latestNodeRuntime()).toBe(runtime);
      expect(functionRuntimes()).toEqual([future, future, future]);
    } finally {
      lambda.Runtime.ALL.splice(lambda.Runtime.ALL.indexOf(runtime), 1);
    }
  });

  test('never a runtime older than the bundles target, even if nothing newer is known', () => {
    // GIVEN only older Node.js runtimes known
    const saved = lambda.Runtime.ALL.splice(0, lambda.Runtime.ALL.length,
      ...lambda.Runtime.ALL.filter((r) => !/^nodejs(\d+)\.x$/.test(r.name) || Number(/\d+/.exec(r.name)![0]) < BUNDLE_NODE_MAJOR));
    try {
      expect(latestNodeRuntime().name).toBe(`nodejs${BUNDLE_NODE_MAJOR}.x`);
    } finally {
      lambda.Runtime.ALL.splice(0, lambda.Runtime.ALL.length, ...saved);
    }
  });
});
