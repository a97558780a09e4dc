import * as fs from 'fs';
import * as path from 'path';
import * as cdk from 'aws-cdk-lib';
import { App, Stack, Validations, aws_iam as iam, aws_lambda as lambda, aws_s3 as s3 } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ts from 'typescript';
import * as lib from '../../src';
import { ImageCode, MicrovmImage } from '../../src/image';
import { MicrovmChecks } from '../../src/nag';
import { Ingress } from '../../src/network';
import { MicrovmOrchestrator, MicrovmOrchestratorProps } from '../../src/orchestrator';
import { parseConfig } from '../../src/orchestrator/runtime/config';
import { ENV } from '../../src/shared/contract';
import { RUN_CONFIGURATION_METADATA_KEY } from '../../src/shared/metadata';
import { moduleGraph } from '../support/module-graph';

const ACCOUNT = '123456789012';
const OPERATOR = `arn:aws:iam::${ACCOUNT}:role/ops/on-call`;
const USER = `arn:aws:iam::${ACCOUNT}:user/alice`;
const IMAGE_ACTIONS = [
  'lambda:RunMicrovm', 'lambda:GetMicrovm', 'lambda:SuspendMicrovm', 'lambda:ResumeMicrovm', 'lambda:TerminateMicrovm',
  'lambda:CreateMicrovmAuthToken',
];

function build(props: Partial<MicrovmOrchestratorProps> = {}) {
  const app = new App();
  const stack = new Stack(app, 'Stack', { env: { account: ACCOUNT, region: 'us-east-1' } });
  const image = new MicrovmImage(stack, 'Image', { code: ImageCode.fromBucket(s3.Bucket.fromBucketName(stack, 'B', 'artifacts'), 'a.zip') });
  const orchestrator = new MicrovmOrchestrator(stack, 'Orch', { image, ...props });
  return { app, stack, image, orchestrator };
}

/** the orchestrator function's resolved environment and run-configuration metadata. */
function orchestratorFunction(stack: Stack, orchestrator: MicrovmOrchestrator) {
  const logicalId = stack.getLogicalId(orchestrator.orchestratorFunction.node.defaultChild as lambda.CfnFunction);
  const fn = Template.fromStack(stack).toJSON().Resources[logicalId];
  return { env: fn.Properties.Environment.Variables as Record<string, unknown>, metadata: fn.Metadata[RUN_CONFIGURATION_METADATA_KEY] };
}

/** the Allow statements of the session API's role. */
function statements(stack: Stack, orchestrator: MicrovmOrchestrator): any[] {
  const policy = orchestrator.orchestratorFunction.role!.node.findChild('DefaultPolicy') as iam.Policy;
  return stack.resolve(policy.document.toJSON()).Statement.filter((s: any) => s.Effect === 'Allow');
}

function shellFindings(app: App, stack: Stack): string[] {
  return new MicrovmChecks(app).validateScope(stack).violations
    .filter((v) => v.ruleName === 'MicrovmChecks-ShellIngress')
    .flatMap((v) => v.violatingResources.map((r) => r.constructPath ?? ''));
}

describe('shell: ingress and environment', () => {
  test('adds SHELL_INGRESS to the launches and passes the allowed principals to the session API', () => {
    // WHEN
    const { stack, orchestrator } = build({ shell: { allowedPrincipalArns: [OPERATOR, USER] } });

    // THEN
    const { env, metadata } = orchestratorFunction(stack, orchestrator);
    const ingress = JSON.stringify(env[ENV.INGRESS_CONNECTORS]);
    expect(ingress).toContain('HTTP_INGRESS');
    expect(ingress).toContain('SHELL_INGRESS');
    expect(env[ENV.SHELL_ALLOWED_PRINCIPALS]).toBe(JSON.stringify([OPERATOR, USER]));
    expect(JSON.stringify(metadata.ingressNetworkConnectors)).toContain('SHELL_INGRESS');
    expect(metadata.shellAllowedPrincipalArns).toEqual([OPERATOR, USER]);
  });

  test('the session API reads the environment it is given as the allow list', () => {
    const config = parseConfig({
      [ENV.TABLE_NAME]: 't',
      [ENV.IMAGE_ARN]: `arn:aws:lambda:us-east-1:${ACCOUNT}:microvm-image:i`,
      [ENV.SHELL_ALLOWED_PRINCIPALS]: JSON.stringify([OPERATOR, USER]),
    });
    expect([...config.shellAllowedPrincipals!]).toEqual([`arn:aws:iam::${ACCOUNT}:role/on-call`, USER]);
  });

  test('keeps an Ingress.shell() the user listed once, next to the other connectors', () => {
    const { stack, orchestrator } = build({ ingress: [Ingress.http(), Ingress.shell()], shell: { allowedPrincipalArns: [OPERATOR] } });
    const ingress = JSON.stringify(orchestratorFunction(stack, orchestrator).env[ENV.INGRESS_CONNECTORS]);
    expect(ingress.match(/SHELL_INGRESS/g)).toHaveLength(1);
  });

  test('without shell: no SHELL_INGRESS and no allow list (the route is absent)', () => {
    const { stack, orchestrator } = build();
    const { env, metadata } = orchestratorFunction(stack, orchestrator);
    expect(JSON.stringify(env[ENV.INGRESS_CONNECTORS])).not.toContain('SHELL_INGRESS');
    expect(ENV.SHELL_ALLOWED_PRINCIPALS in env).toBe(false);
    expect(metadata.shellAllowedPrincipalArns).toBeUndefined();
  });

  test('tokens skip validation and reach the environment as references', () => {
    // GIVEN
    const app = new App();
    const stack = new Stack(app, 'Stack', { env: { account: ACCOUNT, region: 'us-east-1' } });
    const role = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
    const image = MicrovmImage.fromImageArn(stack, 'Image', `arn:aws:lambda:us-east-1:${ACCOUNT}:microvm-image:sandbox`);

    // WHEN
    const orchestrator = new MicrovmOrchestrator(stack, 'Orch', { image, shell: { allowedPrincipalArns: [role.roleArn] } });

    // THEN
    expect(JSON.stringify(orchestratorFunction(stack, orchestrator).env[ENV.SHELL_ALLOWED_PRINCIPALS]))
      .toContain(stack.getLogicalId(role.node.defaultChild as iam.CfnRole));
  });
});

describe('shell: IAM', () => {
  test('grants lambda:CreateMicrovmShellAuthToken on the image ARN only, with the launch actions', () => {
    // WHEN
    const { stack, image, orchestrator } = build({ shell: { allowedPrincipalArns: [OPERATOR] } });

    // THEN
    const imageArn = stack.resolve(image.imageArn);
    const onImage = statements(stack, orchestrator).filter((s) => JSON.stringify(s.Resource) === JSON.stringify(imageArn));
    expect(onImage).toHaveLength(1);
    expect([onImage[0].Action].flat().sort()).toEqual([...IMAGE_ACTIONS, 'lambda:CreateMicrovmShellAuthToken'].sort());
    const shellGrants = statements(stack, orchestrator).filter((s) => [s.Action].flat().includes('lambda:CreateMicrovmShellAuthToken'));
    expect(shellGrants).toEqual([onImage[0]]);
  });

  test('lets the session API pass the SHELL_INGRESS connector', () => {
    const { stack, orchestrator } = build({ shell: { allowedPrincipalArns: [OPERATOR] } });
    const pass = statements(stack, orchestrator).find((s) => s.Action === 'lambda:PassNetworkConnector');
    expect(JSON.stringify(pass.Resource).match(/SHELL_INGRESS/g)).toHaveLength(2);
  });

  test('without shell: no shell token permission anywhere in the stack', () => {
    const { stack } = build();
    expect(JSON.stringify(Template.fromStack(stack).toJSON())).not.toContain('CreateMicrovmShellAuthToken');
  });

  test('every lambda: action of the session API\'s role with shell is a call its handler makes', () => {
    const { stack, orchestrator } = build({ shell: { allowedPrincipalArns: [OPERATOR] } });
    const sources = [...moduleGraph(path.join(__dirname, '..', '..', 'src', 'orchestrator', 'orchestrator.lambda.ts')).values()].join('\n');
    const commands = new Set([...sources.matchAll(/new (\w+)Command\(/g)].map((m) => m[1]));
    const granted = statements(stack, orchestrator).flatMap((s) => [s.Action].flat())
      .filter((a: string) => a.startsWith('lambda:') && a !== 'lambda:PassNetworkConnector');
    expect(granted).toContain('lambda:CreateMicrovmShellAuthToken');
    for (const action of granted) expect([action, commands.has(action.split(':')[1])]).toEqual([action, true]);
  });
});

test('image.grantRun({ shellTokens: true }) adds the shell token action on the image ARN, and nothing else', () => {
  const { stack, image } = build();
  const role = new iam.Role(stack, 'Launcher', { assumedBy: new iam.AccountRootPrincipal() });
  image.grantRun(role, { shellTokens: true });
  const policy = stack.resolve((role.node.findChild('DefaultPolicy') as iam.Policy).document.toJSON());
  const shell = policy.Statement.filter((s: any) => [s.Action].flat().includes('lambda:CreateMicrovmShellAuthToken'));
  expect(shell.map((s: any) => s.Resource)).toEqual([stack.resolve(image.imageArn)]);
});

describe('shell: validation', () => {
  test('fails if allowedPrincipalArns is empty', () => {
    expect(() => build({ shell: { allowedPrincipalArns: [] } })).toThrow(
      'Stack/Orch: shell.allowedPrincipalArns must name at least one IAM role or user ARN, got []. '
      + 'List the roles and users that may open a shell (e.g. [operatorRole.roleArn]), or omit shell.');
  });

  test.each([
    [`arn:aws:sts::${ACCOUNT}:assumed-role/on-call/alice`],
    [`arn:aws:iam::${ACCOUNT}:root`],
    [`arn:aws:iam::${ACCOUNT}:group/ops`],
    ['on-call'],
    ['*'],
  ])('fails if allowedPrincipalArns contains %s', (arn) => {
    expect(() => build({ shell: { allowedPrincipalArns: [OPERATOR, arn] } })).toThrow(
      'Stack/Orch: shell.allowedPrincipalArns must contain only IAM role or user ARNs (arn:aws:iam::<account>:role/<path/>Name or '
      + ':user/<path/>name), got [');
    expect(() => build({ shell: { allowedPrincipalArns: [OPERATOR, arn] } })).toThrow(`Fix ${JSON.stringify(arn)}: a role session`);
  });

  test('fails if allowedPrincipalArns repeats a principal', () => {
    expect(() => build({ shell: { allowedPrincipalArns: [OPERATOR, OPERATOR] } }))
      .toThrow(/^Stack\/Orch: shell\.allowedPrincipalArns must not repeat a principal, got \[.*\. Remove the second "arn:aws:iam::123456789012:role\/ops\/on-call"\.$/);
  });

  test.each([[Ingress.none()], [Ingress.all()]])('fails if shell is combined with %p', (exclusive) => {
    expect(() => build({ ingress: [exclusive], shell: { allowedPrincipalArns: [OPERATOR] } }))
      .toThrow(`Stack/Orch: ingress must not be ${exclusive.connectorName} alone when shell is set, got ["${exclusive.connectorName}"]`);
  });
});

describe('shell: MicrovmChecks', () => {
  test('an orchestrator with shell reports MicrovmChecks-ShellIngress on its function, not acknowledged for you', () => {
    const { app, stack, orchestrator } = build({ shell: { allowedPrincipalArns: [OPERATOR] } });
    expect(shellFindings(app, stack)).toEqual([(orchestrator.orchestratorFunction.node.defaultChild as lambda.CfnFunction).node.path]);
  });

  test('an acknowledgement with a reason clears it', () => {
    const { app, stack, orchestrator } = build({ shell: { allowedPrincipalArns: [OPERATOR] } });
    Validations.of(orchestrator).acknowledge({ id: 'MicrovmChecks-ShellIngress', reason: 'on-call role only, 15-minute audited tokens' });
    expect(shellFindings(app, stack)).toEqual([]);
  });

  test('an orchestrator without shell reports nothing', () => {
    const { app, stack } = build();
    expect(shellFindings(app, stack)).toEqual([]);
  });
});

describe('README "Shell access" example', () => {
  /** the TypeScript block of the README's Shell access section, compiled to CommonJS. */
  function example(): string {
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Shell access'));
    const block = /```ts\n([\s\S]*?)```/.exec(section)![1];
    return ts.transpileModule(block, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
  }

  test('synthesizes under MicrovmChecks: it configures shell and acknowledges the warning it causes', () => {
    // GIVEN the README's givens: a stack (this), an image and the portal role
    const app = new App();
    const stack = new Stack(app, 'Stack', { env: { account: ACCOUNT, region: 'us-east-1' } });
    const image = MicrovmImage.fromImageArn(stack, 'Image', `arn:aws:lambda:us-east-1:${ACCOUNT}:microvm-image:sandbox`);
    const portal = new iam.Role(stack, 'Portal', { assumedBy: new iam.AccountRootPrincipal() });
    const modules: Record<string, unknown> = { 'aws-cdk-lib': cdk, 'cdk-lambda-microvms': lib };
    const load = (name: string) => {
      if (!(name in modules)) throw new Error(`the README example imports ${name}, which this test does not provide`);
      return modules[name];
    };

    // WHEN
    new Function('require', 'exports', 'image', 'portal', example()).call(stack, load, {}, image, portal);

    // THEN
    const orchestrator = stack.node.findChild('Workspaces') as MicrovmOrchestrator;
    expect(orchestratorFunction(stack, orchestrator).env[ENV.SHELL_ALLOWED_PRINCIPALS]).not.toBe('');
    expect(shellFindings(app, stack)).toEqual([]);
    Validations.of(app).addPlugins(new MicrovmChecks(app));
    expect(() => app.synth()).not.toThrow();
  });
});
