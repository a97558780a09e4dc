import { AwsSolutionsChecks } from 'cdk-nag';
import { newStack, SANDBOX } from './util';
import { ImageCode, MicrovmImage } from '../../src/image';

describe('AwsSolutionsChecks', () => {
  test('the build role\'s log stream wildcards are acknowledged with a reason, nothing else is', () => {
    // GIVEN
    const stack = newStack();
    const image = new MicrovmImage(stack, 'Image', { code: ImageCode.fromDirectory(SANDBOX) });
    // WHEN
    const report = new AwsSolutionsChecks(stack).validateScope(stack);
    // THEN the wildcards are there: without them the acknowledgements below would be vacuous.
    const policy = image.node.findAll().find((c) => c.node.id === 'DefaultPolicy')!;
    const resources = JSON.stringify(stack.resolve((policy as any).document.toJSON()));
    expect(resources).toContain(':*"');
    expect(resources).toContain(':log-stream:*"');
    // each acknowledgement names one log-stream wildcard and says why.
    const acknowledged = image.node.findAll()
      .flatMap((c) => c.node.metadata.map((m) => m.data))
      .flatMap((data) => Object.entries(data ?? {}))
      .filter(([id]) => id.includes('AwsSolutions-IAM5'));
    expect(acknowledged).toHaveLength(2);
    for (const [id, reason] of acknowledged) {
      expect(id).toMatch(/log-group:<ImageLogGroup[0-9A-F]+>:(log-stream:)?\*\]$/);
      expect(reason).toMatch(/log streams/);
    }
    // and nothing else is left to acknowledge.
    expect(report.violations.filter((v) => v.ruleName.startsWith('AwsSolutions-IAM5'))).toEqual([]);
  });
});
