import * as path from 'path';
import { App, IPolicyValidationPlugin, PolicyViolation, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { ImageCode, MicrovmChecks, MicrovmImage, MicrovmImageProps, MicrovmOrchestrator, MicrovmOrchestratorProps } from '../../src';

/**
 * The README's minimal example (an image and an orchestrator with defaults) under every cdk-nag pack a regulated
 * platform team runs: nothing may be left unacknowledged, so a user writes no acknowledgement of their own.
 */

const CONTEXT = path.join(__dirname, 'sample-image');
const ACK_KEY = Validations.ACKNOWLEDGED_RULES_METADATA_KEY;

type Pack = (scope: IConstruct) => IPolicyValidationPlugin & { validateScope(scope: IConstruct): { violations: PolicyViolation[] } };
const PACKS: Array<[string, Pack]> = [
  ['AwsSolutionsChecks', (s) => new AwsSolutionsChecks(s)],
  ['MicrovmChecks', (s) => new MicrovmChecks(s)],
  ['NIST80053R5Checks', (s) => new NIST80053R5Checks(s)],
  ['HIPAASecurityChecks', (s) => new HIPAASecurityChecks(s)],
  ['PCIDSS321Checks', (s) => new PCIDSS321Checks(s)],
  ['ServerlessChecks', (s) => new ServerlessChecks(s)],
];
const ENVS: Array<[string, { account?: string; region?: string } | undefined]> = [
  ['a region-agnostic stack', undefined],
  ['a stack in us-east-1', { account: '123456789012', region: 'us-east-1' }],
];

interface Overrides { image?: Partial<MicrovmImageProps>; orchestrator?: Partial<MicrovmOrchestratorProps> }

function minimal(env?: { account?: string; region?: string }, props: Overrides = {}) {
  // synth writes the report instead of throwing, so a failing test can say what each pack found.
  const app = new App({ context: { '@aws-cdk/core:failSynthOnValidationErrors': false, 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Stack', { env });
  const image = new MicrovmImage(stack, 'Sandbox', { code: ImageCode.fromDirectory(CONTEXT), ...props.image });
  const orchestrator = new MicrovmOrchestrator(stack, 'Sessions', { image, ...props.orchestrator });
  return { app, stack, image, orchestrator };
}

/** every unacknowledged finding, as "severity rule path" */
function findings(report: { violations: PolicyViolation[] }): string[] {
  return report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.severity} ${v.ruleName} ${r.constructPath}`)).sort();
}

describe.each(ENVS)('the minimal example in %s', (_name, env) => {
  test.each(PACKS)('%s reports nothing unacknowledged', (_pack, pack) => {
    // GIVEN
    const { stack } = minimal(env);

    // WHEN
    const report = pack(stack).validateScope(stack);

    // THEN
    expect(findings(report)).toEqual([]);
  });

  test('synthesizes with all six packs as validation plugins, as a user registers them', () => {
    // GIVEN
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Stack', { env });
    const image = new MicrovmImage(stack, 'Sandbox', { code: ImageCode.fromDirectory(CONTEXT) });
    new MicrovmOrchestrator(stack, 'Sessions', { image });
    Validations.of(app).addPlugins(...PACKS.map(([, pack]) => pack(app)));

    // WHEN / THEN: a finding left unacknowledged fails synth (cdk-nag 3 fails on warnings too)
    expect(() => app.synth()).not.toThrow();
  });

  test('every acknowledgement the library makes carries a reason a reviewer can read', () => {
    // GIVEN
    const { stack } = minimal(env);

    // WHEN
    const acks = stack.node.findAll().flatMap((c) => c.node.metadata.filter((m) => m.type === ACK_KEY)
      .flatMap((m) => Object.entries(m.data as Record<string, unknown>)));

    // THEN
    expect(acks.length).toBeGreaterThan(0);
    for (const [id, reason] of acks) {
      expect({ id, reason: typeof reason === 'string' && reason.length >= 40 }).toEqual({ id, reason: true });
    }
  });
});

describe.each(ENVS)('checkpoints with onSuspend in %s', (_name, env) => {
  // in a stack without region and account the isolated network reads the S3 prefix list at deploy time, through
  // aws-cdk-lib's AwsCustomResource function: its findings are acknowledged on it, with reasons, like the library's own.
  test.each(PACKS)('%s reports nothing unacknowledged', (_pack, pack) => {
    const { stack } = minimal(env, { orchestrator: { checkpoints: { port: 8181, onSuspend: true } } });
    expect(findings(pack(stack).validateScope(stack))).toEqual([]);
  });

  test('every acknowledgement carries a reason', () => {
    const { stack } = minimal(env, { orchestrator: { checkpoints: { port: 8181, onSuspend: true } } });
    const acks = stack.node.findAll().flatMap((c) => c.node.metadata.filter((m) => m.type === ACK_KEY)
      .flatMap((m) => Object.entries(m.data as Record<string, unknown>)));
    for (const [id, reason] of acks) {
      expect({ id, reason: typeof reason === 'string' && reason.length >= 40 }).toEqual({ id, reason: true });
    }
  });
});

describe('opting out of the customer-managed keys is explicit and visible', () => {
  test('awsOwnedEncryption on both constructs: no key, and the packs say so', () => {
    // GIVEN
    const { stack, image, orchestrator } = minimal({ region: 'us-east-1' }, {
      image: { awsOwnedEncryption: true },
      orchestrator: { awsOwnedEncryption: true },
    });

    // WHEN
    const microvm = findings(new MicrovmChecks(stack).validateScope(stack));
    const nist = findings(new NIST80053R5Checks(stack).validateScope(stack));

    // THEN
    expect(image.encryptionKey).toBeUndefined();
    expect(orchestrator.encryptionKey).toBeUndefined();
    expect(microvm).toEqual(['warning MicrovmChecks-NoCustomerManagedKey Stack/Sandbox/Resource']);
    expect(nist.filter((f) => f.includes('CloudWatchLogGroupEncrypted'))).toEqual([
      'error NIST.800.53.R5-CloudWatchLogGroupEncrypted Stack/Sandbox/LogGroup/Resource',
      'error NIST.800.53.R5-CloudWatchLogGroupEncrypted Stack/Sessions/Network/FlowLogs/Resource',
      'error NIST.800.53.R5-CloudWatchLogGroupEncrypted Stack/Sessions/OrchestratorLogs/Resource',
      'error NIST.800.53.R5-CloudWatchLogGroupEncrypted Stack/Sessions/RuntimeLogs/Resource',
      'error NIST.800.53.R5-CloudWatchLogGroupEncrypted Stack/Sessions/SmokeTestLogs/Resource',
      'error NIST.800.53.R5-CloudWatchLogGroupEncrypted Stack/Sessions/SweeperLogs/Resource',
    ]);
  });

  test('a key and awsOwnedEncryption together fail with the prop and the fix', () => {
    const { stack } = minimal({ region: 'us-east-1' });
    const key = (stack.node.findChild('Sessions') as MicrovmOrchestrator).encryptionKey!;
    expect(() => new MicrovmImage(stack, 'Other', { code: ImageCode.fromDirectory(CONTEXT), encryptionKey: key, awsOwnedEncryption: true }))
      .toThrow(/awsOwnedEncryption must not be set together with encryptionKey.*Drop awsOwnedEncryption/);
  });
});
