import { CfnParameter, Fn, Validations } from 'aws-cdk-lib';
import { compliantImage, newStack, ruleFindings, runConfigurationFunction, violations } from './fixtures';

const RULE = 'ShellIngress';
const HTTP = 'arn:aws:lambda:us-east-1:aws:network-connector:aws-network-connector:HTTP_INGRESS';
const SHELL = 'arn:aws:lambda:us-east-1:aws:network-connector:aws-network-connector:SHELL_INGRESS';

describe('ShellIngress', () => {
  test('passes without SHELL_INGRESS', () => {
    const stack = newStack();
    const fn = runConfigurationFunction(stack, compliantImage(stack), { ingressNetworkConnectors: [HTTP] });
    expect(ruleFindings(fn, RULE)).toEqual([]);
  });

  test('fails if the run configuration launches with SHELL_INGRESS', () => {
    const stack = newStack();
    const fn = runConfigurationFunction(stack, compliantImage(stack), { ingressNetworkConnectors: [HTTP, SHELL] });
    expect(ruleFindings(fn, RULE)).toEqual(['MicrovmChecks-ShellIngress']);
  });

  test('fails if SHELL_INGRESS is built with Fn::Join and pseudo parameters (another partition)', () => {
    const stack = newStack();
    const shell = Fn.join(':', ['arn', 'aws-cn', 'lambda', stack.region, 'aws', 'network-connector', 'aws-network-connector', 'SHELL_INGRESS']);
    const fn = runConfigurationFunction(stack, compliantImage(stack), { ingressNetworkConnectors: [shell] });
    expect(ruleFindings(fn, RULE)).toEqual(['MicrovmChecks-ShellIngress']);
  });

  test('fails if a parameter\'s default names SHELL_INGRESS', () => {
    const stack = newStack();
    const param = new CfnParameter(stack, 'Ingress', { default: SHELL });
    const fn = runConfigurationFunction(stack, compliantImage(stack), { ingressNetworkConnectors: [param.valueAsString] });
    expect(ruleFindings(fn, RULE)).toEqual(['MicrovmChecks-ShellIngress']);
  });

  test('fails if an escape hatch adds SHELL_INGRESS', () => {
    const stack = newStack();
    const fn = runConfigurationFunction(stack, compliantImage(stack), { ingressNetworkConnectors: [HTTP] });
    fn.addOverride('Metadata.cdk-lambda-microvms:run-configuration.ingressNetworkConnectors', [HTTP, SHELL]);
    expect(ruleFindings(fn, RULE)).toEqual(['MicrovmChecks-ShellIngress']);
  });

  test('is acknowledged with a reason, which the validation report keeps', () => {
    // GIVEN
    const stack = newStack();
    const fn = runConfigurationFunction(stack, compliantImage(stack), { ingressNetworkConnectors: [HTTP, SHELL] });
    expect(violations(stack).map((v) => v.ruleName)).toEqual(['MicrovmChecks-ShellIngress']);

    // WHEN
    Validations.of(fn).acknowledge({ id: 'MicrovmChecks-ShellIngress', reason: 'on-call role only, 15-minute tokens, audited' });

    // THEN
    expect(violations(stack)).toEqual([]);
  });
});
