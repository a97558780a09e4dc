import * as fs from 'fs';
import * as path from 'path';
import { App, PolicyViolation, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { Egress, ImageCode, MicrovmChecks, MicrovmImage, MicrovmNetwork, MicrovmOrchestrator } from '../../src';

const CONTEXT = path.join(__dirname, 'sample-image');
const ACK_KEY = Validations.ACKNOWLEDGED_RULES_METADATA_KEY;

const ENV = { account: '123456789012', region: 'us-east-1' };

function newApp(env: typeof ENV | undefined = ENV): { app: App; stack: Stack } {
  // synth writes the validation report instead of throwing, so tests can read what each pack found.
  const app = new App({ context: { '@aws-cdk/core:failSynthOnValidationErrors': false } });
  const stack = new Stack(app, 'Stack', { env });
  return { app, stack };
}

function errors(report: { violations: PolicyViolation[] }): string[] {
  return report.violations.filter((v) => v.severity === 'error').map((v) => v.ruleName);
}

/** Every acknowledgement recorded in the tree under `scope`, as [id, reason]. */
function acknowledgements(scope: IConstruct): Array<[string, unknown]> {
  return scope.node.findAll().flatMap((c) => c.node.metadata
    .filter((m) => m.type === ACK_KEY)
    .flatMap((m) => Object.entries(m.data as Record<string, unknown>)));
}

describe('the library\'s own constructs under MicrovmChecks and AwsSolutionsChecks', () => {
  test('an image used alone reports exactly one MicrovmChecks ERROR: its internet build egress', () => {
    // GIVEN
    const { stack } = newApp();
    const image = new MicrovmImage(stack, 'Image', { code: ImageCode.fromDirectory(CONTEXT) });

    // WHEN
    const report = new MicrovmChecks(stack).validateScope(stack);

    // THEN
    expect(errors(report)).toEqual(['MicrovmChecks-EgressInternet']);
    const egress = report.violations.find((v) => v.ruleName === 'MicrovmChecks-EgressInternet')!;
    expect(egress.violatingResources.map((r) => r.constructPath)).toEqual([image.node.defaultChild!.node.path]);
  });

  test.each([
    ['an environment-agnostic stack', undefined],
    ['a stack with account and region', ENV],
  ])('an image launched by a MicrovmOrchestrator with defaults has no unacknowledged ERROR in either pack (%s)', (_name, env) => {
    // GIVEN
    const { app, stack } = newApp(env);
    const image = new MicrovmImage(stack, 'Image', { code: ImageCode.fromDirectory(CONTEXT) });
    new MicrovmOrchestrator(stack, 'Orchestrator', { image });

    // WHEN
    const microvm = new MicrovmChecks(stack).validateScope(stack);
    const solutions = new AwsSolutionsChecks(stack).validateScope(stack);

    // THEN
    expect(errors(microvm)).toEqual([]);
    expect(errors(solutions)).toEqual([]);

    // AND synth with both packs registered reports nothing at all: the default image has its own customer-managed
    // key, so not even the no-key warning is left (cdk-nag 3 fails synth on warnings too).
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new MicrovmChecks(app));
    const assembly = app.synth();
    const synthReport = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'));
    const findings: Array<{ ruleName: string; severity: string }> = synthReport.pluginReports
      .flatMap((p: { violations: Array<{ ruleName: string; severity: string }> }) => p.violations);
    expect(findings.filter((v) => v.severity === 'error')).toEqual([]);
    expect(findings.map((v) => v.ruleName)).toEqual([]);
  });

  test('every acknowledgement the constructs make carries a written reason', () => {
    // GIVEN
    const { stack } = newApp();
    const image = new MicrovmImage(stack, 'Image', { code: ImageCode.fromDirectory(CONTEXT) });
    new MicrovmOrchestrator(stack, 'Orchestrator', { image });

    // WHEN
    const acks = acknowledgements(stack);

    // THEN
    expect(acks.map(([id]) => id)).toEqual(expect.arrayContaining([expect.stringMatching(/MicrovmChecks-EgressInternet$/)]));
    for (const [, reason] of acks) {
      expect(typeof reason).toBe('string');
      expect((reason as string).trim().length).toBeGreaterThan(20);
    }
  });

  test('a domain-allowlist network (443/80 to 0.0.0.0/0 behind the firewall) passes MicrovmChecks with no error', () => {
    // GIVEN
    const { stack } = newApp();
    const network = new MicrovmNetwork(stack, 'Network', { allowedDomains: ['pypi.org', '*.github.com'] });
    const image = new MicrovmImage(stack, 'Image', { code: ImageCode.fromDirectory(CONTEXT), buildEgress: Egress.network(network) });
    new MicrovmOrchestrator(stack, 'Orchestrator', { image, egress: Egress.network(network) });

    // WHEN
    const report = new MicrovmChecks(stack).validateScope(stack);

    // THEN: the build egress is the allowlist, so there is nothing to acknowledge either.
    expect(errors(report)).toEqual([]);
  });

  test('fails if the orchestrator is given internet egress: the run configuration is reported', () => {
    // GIVEN
    const { stack } = newApp();
    const image = new MicrovmImage(stack, 'Image', { code: ImageCode.fromDirectory(CONTEXT) });
    const orchestrator = new MicrovmOrchestrator(stack, 'Orchestrator', { image, egress: Egress.internet() });

    // WHEN
    const report = new MicrovmChecks(stack).validateScope(stack);

    // THEN
    const egress = report.violations.find((v) => v.ruleName === 'MicrovmChecks-EgressInternet');
    expect(egress?.violatingResources.map((r) => r.constructPath)).toEqual([orchestrator.orchestratorFunction.node.defaultChild!.node.path]);
  });
});
