import { AwsSolutionsChecks } from 'cdk-nag';
import { newStack, SANDBOX } from './util';
import { ImageCode, MicrovmImage } from '../../src/image';

describe('AwsSolutionsChecks', () => {
  test('the build role\'s log stream wildcards are acknowledged with a reason, nothing else is', () => {
    // GIVEN
    const stack = newStack();
    new MicrovmImage(stack, 'Image', { code: ImageCode.fromDirectory(SANDBOX) });
    // WHEN
    const report = new AwsSolutionsChecks(stack).validateScope(stack);
    // THEN
    const iam5 = report.violations.filter((v) => v.ruleName.startsWith('AwsSolutions-IAM5'));
    expect(iam5).toEqual([]);
  });
});
