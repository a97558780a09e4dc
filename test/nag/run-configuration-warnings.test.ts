import { compliantImage, newStack, ruleFindings, runConfigurationFunction } from './fixtures';

describe('TokenScope', () => {
  const RULE = 'TokenScope';
  test('passes with 15-minute, app-port tokens', () => {
    const stack = newStack();
    const fn = runConfigurationFunction(stack, compliantImage(stack), { tokenTtlSeconds: 900 });
    expect(ruleFindings(fn, RULE)).toEqual([]);
  });

  test('fails if tokens live longer than 15 minutes', () => {
    const stack = newStack();
    const fn = runConfigurationFunction(stack, compliantImage(stack), { tokenTtlSeconds: 901 });
    expect(ruleFindings(fn, RULE)).toEqual(['MicrovmChecks-TokenScope']);
  });

  test('fails if tokens cover all ports', () => {
    const stack = newStack();
    const fn = runConfigurationFunction(stack, compliantImage(stack), { allPortsTokens: true });
    expect(ruleFindings(fn, RULE)).toEqual(['MicrovmChecks-TokenScope']);
  });

  test('fails if an escape hatch raises the TTL', () => {
    const stack = newStack();
    const fn = runConfigurationFunction(stack, compliantImage(stack));
    fn.addOverride('Metadata.cdk-lambda-microvms:run-configuration.tokenTtlSeconds', 3600);
    expect(ruleFindings(fn, RULE)).toEqual(['MicrovmChecks-TokenScope']);
  });
});

describe('HooksPortInAppPorts', () => {
  const RULE = 'HooksPortInAppPorts';
  test('passes when the hooks port is not an app port', () => {
    const stack = newStack();
    const fn = runConfigurationFunction(stack, compliantImage(stack), { appPorts: [8080, 8443] });
    expect(ruleFindings(fn, RULE)).toEqual([]);
  });

  test('fails if the recorded hooks port is among the app ports', () => {
    const stack = newStack();
    const fn = runConfigurationFunction(stack, compliantImage(stack), { appPorts: [8080, 9000] });
    expect(ruleFindings(fn, RULE)).toEqual(['MicrovmChecks-HooksPortInAppPorts']);
  });

  test('fails if the launched image\'s Hooks.Port is among the app ports (none recorded in the run configuration)', () => {
    const stack = newStack();
    const image = compliantImage(stack, 'Image', { hooks: { port: 8080 } });
    const fn = runConfigurationFunction(stack, image, { hooksPort: undefined });
    expect(ruleFindings(fn, RULE)).toEqual(['MicrovmChecks-HooksPortInAppPorts']);
  });

  test('fails if an escape hatch moves the image hooks onto the app port', () => {
    const stack = newStack();
    const image = compliantImage(stack);
    const fn = runConfigurationFunction(stack, image, { hooksPort: undefined });
    expect(ruleFindings(fn, RULE)).toEqual([]);
    image.addPropertyOverride('Hooks.Port', 8080);
    expect(ruleFindings(fn, RULE)).toEqual(['MicrovmChecks-HooksPortInAppPorts']);
  });
});

describe('NoLifetimeLimit', () => {
  const RULE = 'NoLifetimeLimit';
  test('passes with an idle policy and a maximum duration', () => {
    const stack = newStack();
    const fn = runConfigurationFunction(stack, compliantImage(stack));
    expect(ruleFindings(fn, RULE)).toEqual([]);
  });

  test('fails if there is no idle policy', () => {
    const stack = newStack();
    const fn = runConfigurationFunction(stack, compliantImage(stack), { idlePolicy: undefined });
    expect(ruleFindings(fn, RULE)).toEqual(['MicrovmChecks-NoLifetimeLimit']);
  });

  test('fails if there is no maximum duration', () => {
    const stack = newStack();
    const fn = runConfigurationFunction(stack, compliantImage(stack), { maximumDurationSeconds: undefined });
    expect(ruleFindings(fn, RULE)).toEqual(['MicrovmChecks-NoLifetimeLimit']);
  });
});
