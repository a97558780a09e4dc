import { CfnParameter } from 'aws-cdk-lib';
import { compliantImage, newStack, ruleFindings } from './fixtures';

describe('LoggingDisabled', () => {
  const RULE = 'LoggingDisabled';
  test('passes with a pinned CloudWatch log group (Ref or literal name)', () => {
    const stack = newStack();
    const byRef = compliantImage(stack, 'ByRef');
    const byName = compliantImage(stack, 'ByName', { logging: { cloudWatch: { logGroup: '/microvms/app', logStream: 'build' } } });
    expect(ruleFindings(byRef, RULE)).toEqual([]);
    expect(ruleFindings(byName, RULE)).toEqual([]);
  });

  test('fails if logging is disabled', () => {
    const stack = newStack();
    const image = compliantImage(stack, 'Image', { logging: { disabled: true } });
    expect(ruleFindings(image, RULE)).toEqual(['MicrovmChecks-LoggingDisabled']);
  });

  test('fails if CloudWatch logging has no pinned log group, or logging is empty', () => {
    const stack = newStack();
    const unpinned = compliantImage(stack, 'Unpinned', { logging: { cloudWatch: {} } });
    const empty = compliantImage(stack, 'Empty', { logging: {} });
    expect(ruleFindings(unpinned, RULE)).toEqual(['MicrovmChecks-LoggingDisabled']);
    expect(ruleFindings(empty, RULE)).toEqual(['MicrovmChecks-LoggingDisabled']);
  });

  test('fails if an escape hatch disables logging', () => {
    const stack = newStack();
    const image = compliantImage(stack);
    image.addPropertyOverride('Logging', { Disabled: true });
    expect(ruleFindings(image, RULE)).toEqual(['MicrovmChecks-LoggingDisabled']);
  });
});

describe('NoCustomerManagedKey', () => {
  const RULE = 'NoCustomerManagedKey';
  test('passes with a KMS key (literal or token)', () => {
    const stack = newStack();
    const key = new CfnParameter(stack, 'Key');
    const literal = compliantImage(stack, 'Literal');
    const token = compliantImage(stack, 'Token', { kmsKeyIdentifier: key.valueAsString });
    expect(ruleFindings(literal, RULE)).toEqual([]);
    expect(ruleFindings(token, RULE)).toEqual([]);
  });

  test('fails if there is no KmsKeyIdentifier', () => {
    const stack = newStack();
    const image = compliantImage(stack, 'Image', { kmsKeyIdentifier: undefined });
    expect(ruleFindings(image, RULE)).toEqual(['MicrovmChecks-NoCustomerManagedKey']);
  });

  test('fails if an escape hatch removes the key', () => {
    const stack = newStack();
    const image = compliantImage(stack);
    image.addPropertyDeletionOverride('KmsKeyIdentifier');
    expect(ruleFindings(image, RULE)).toEqual(['MicrovmChecks-NoCustomerManagedKey']);
  });
});

describe('AllOsCapabilities', () => {
  const RULE = 'AllOsCapabilities';
  test('passes with no additional OS capabilities', () => {
    const stack = newStack();
    expect(ruleFindings(compliantImage(stack), RULE)).toEqual([]);
  });

  test('fails if AdditionalOsCapabilities contains ALL', () => {
    const stack = newStack();
    const image = compliantImage(stack, 'Image', { additionalOsCapabilities: ['ALL'] });
    expect(ruleFindings(image, RULE)).toEqual(['MicrovmChecks-AllOsCapabilities']);
  });

  test('fails if ALL comes from a parameter default or an escape hatch', () => {
    const stack = newStack();
    const capability = new CfnParameter(stack, 'Capability', { default: 'ALL' });
    const fromParameter = compliantImage(stack, 'FromParameter', { additionalOsCapabilities: [capability.valueAsString] });
    const overridden = compliantImage(stack, 'Overridden');
    overridden.addPropertyOverride('AdditionalOsCapabilities', ['ALL']);
    expect(ruleFindings(fromParameter, RULE)).toEqual(['MicrovmChecks-AllOsCapabilities']);
    expect(ruleFindings(overridden, RULE)).toEqual(['MicrovmChecks-AllOsCapabilities']);
  });
});
