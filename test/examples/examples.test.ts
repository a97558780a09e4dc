import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ts from 'typescript';
import * as ciRunner from '../../examples/ci-runner/app';
import * as codeInterpreter from '../../examples/code-interpreter/app';
import * as devEnvironment from '../../examples/dev-environment/app';
import { summarizeAssembly } from '../../scripts/summarize-assembly';

// each example synthesizes with AwsSolutionsChecks and MicrovmChecks registered, exactly as `cdk synth` runs it:
// any unacknowledged finding from either pack (cdk-nag 3 fails synth on warnings too) makes app.synth() throw.
function synth(build: (app: App) => App) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'example-'));
  // records which packs the example registers (the call still goes through).
  const addPlugins = jest.spyOn(Validations.prototype, 'addPlugins');
  const app = build(new App({ outdir, stackTraces: false }));
  const plugins = addPlugins.mock.calls.flat().map((p) => p.name).sort();
  addPlugins.mockRestore();
  const assembly = app.synth();
  const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'));
  const stack = assembly.stacks[0];
  return { template: Template.fromJSON(stack.template), report, outdir, plugins };
}

function errors(report: any): string[] {
  return (report.pluginReports ?? []).flatMap((p: any) => (p.violations ?? [])
    .filter((v: any) => v.severity === 'error')
    .map((v: any) => v.ruleName));
}

describe('examples', () => {
  test('code-interpreter: isolated egress, app-port tokens, both nag packs clean', () => {
    const { template, report, plugins } = synth(codeInterpreter.buildApp);
    expect(plugins).toEqual(['AwsSolutions', 'MicrovmChecks']);
    expect(errors(report)).toEqual([]);
    template.resourceCountIs('AWS::Lambda::MicrovmImage', 1);
    template.resourceCountIs('AWS::Lambda::NetworkConnector', 1);
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM' });
    template.hasResourceProperties('AWS::Lambda::MicrovmImage', {
      Hooks: Match.objectLike({ Port: 9000 }),
      Resources: [{ MinimumMemoryInMiB: 1024 }],
      KmsKeyIdentifier: Match.anyValue(),
    });
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', { SSESpecification: Match.objectLike({ SSEType: 'KMS' }) });
    // checkpoints with onSuspend: a KMS bucket, an S3 gateway endpoint for it, and the prefix list read at deploy time
    // (the stack names a region but no account).
    template.resourceCountIs('AWS::S3::Bucket', 1);
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [Match.objectLike({ ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: 'aws:kms' }) })] },
    });
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 1);
    template.resourceCountIs('Custom::AWS', 1);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ MICROVM_CHECKPOINT_PORT: '8181', MICROVM_CHECKPOINT_ON_SUSPEND: 'true' }) },
    });
  });

  test('dev-environment: a domain allowlist behind Network Firewall and NAT', () => {
    const { template, report, plugins } = synth(devEnvironment.buildApp);
    expect(plugins).toEqual(['AwsSolutions', 'MicrovmChecks']);
    expect(errors(report)).toEqual([]);
    template.resourceCountIs('AWS::NetworkFirewall::Firewall', 1);
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
    template.hasResourceProperties('AWS::NetworkFirewall::RuleGroup', {
      RuleGroup: Match.objectLike({
        RulesSource: { RulesSourceList: Match.objectLike({ GeneratedRulesType: 'ALLOWLIST', Targets: Match.arrayWith(['pypi.org', '.github.com']) }) },
      }),
    });
    template.hasResourceProperties('AWS::Lambda::MicrovmImage', { Resources: [{ MinimumMemoryInMiB: 4096 }] });
  });

  test('ci-runner: no ingress, no idle policy, S3 only', () => {
    const { template, report, plugins } = synth(ciRunner.buildApp);
    expect(plugins).toEqual(['AwsSolutions', 'MicrovmChecks']);
    expect(errors(report)).toEqual([]);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    // the S3 endpoint admits the cache bucket and its objects, nothing else
    const bucket = 'arn:aws:s3:::ci-runner-cache-bucket'.replace('aws', '${AWS::Partition}');
    const [endpoint] = Object.values<any>(template.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Gateway' } }));
    expect(JSON.stringify(endpoint.Properties.PolicyDocument.Statement.map((st: any) => st.Resource))
      .replace(/\{"Fn::Join":\["",\["arn:",\{"Ref":"AWS::Partition"\},"([^"]*)"\]\]\}/g, '"arn:${AWS::Partition}$1"'))
      .toBe(JSON.stringify([[bucket, `${bucket}/*`]]));
    const functions = template.findResources('AWS::Lambda::Function', {
      Metadata: Match.objectLike({ 'cdk-lambda-microvms:run-configuration': Match.anyValue() }),
    });
    const config = Object.values<any>(functions)[0].Metadata['cdk-lambda-microvms:run-configuration'];
    expect(config.idlePolicy).toBeUndefined();
    expect(config.maximumDurationSeconds).toBe(1800);
    expect(JSON.stringify(config.ingressNetworkConnectors)).toContain('NO_INGRESS');
  });
});

describe('the summary the main job prints', () => {
  test('lists each stack\'s resources by type, its outputs, and every acknowledged finding with its reason', () => {
    // GIVEN the ci-runner example synthesized with both packs
    const { outdir, template } = synth(ciRunner.buildApp);

    // WHEN it is summarized
    const summary = summarizeAssembly(outdir);

    // THEN the counts are the template's, and the acknowledgement the app wrote is there with its reason
    const resources = Object.values<any>(template.toJSON().Resources);
    const images = resources.filter((r) => r.Type === 'AWS::Lambda::MicrovmImage').length;
    expect(summary).toContain(`stack CiRunner: ${resources.length} resources`);
    expect(summary).toContain(`${String(images).padStart(3)} x AWS::Lambda::MicrovmImage`);
    expect(summary).toContain('output SessionApiUrl');
    expect(summary).toMatch(/MicrovmChecks-NoLifetimeLimit at CiRunner\/Jobs\S*\n\s+reason: Runners receive no inbound traffic/);
  });
});

describe('the Python code-interpreter example', () => {
  const tsSource = fs.readFileSync(path.join(__dirname, '..', '..', 'examples', 'code-interpreter', 'app.ts'), 'utf8');
  const pySource = fs.readFileSync(path.join(__dirname, '..', '..', 'examples', 'python', 'code-interpreter', 'app.py'), 'utf8');

  // comments and strings aside, the two apps must configure the same things with the same numbers.
  const code = (source: string) => source.split('\n').filter((l) => !/^\s*(\/\/|#)/.test(l)).join('\n');
  const numbers = (source: string) => (code(source).match(/\b\d+\b/g) ?? []).filter((n) => n !== '123456789012').sort();
  const library = /\b(Egress|Hook|IdlePolicy|ImageCode|Ingress|MicrovmChecks|MicrovmImage|MicrovmMemory|MicrovmNetwork|MicrovmOrchestrator|Duration)\.?(\w*)/g;
  const calls = (source: string) => [...new Set([...code(source).matchAll(library)]
    .map((m) => `${m[1]}.${m[2].replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())}`))].sort();

  test('uses the same constructs, factories and values as the TypeScript app', () => {
    expect(calls(pySource)).toEqual(calls(tsSource));
    expect(numbers(pySource)).toEqual(numbers(tsSource));
  });

  // every prop the TypeScript app sets (object-literal keys) against every keyword argument and dict key of the
  // Python app (snake_case turned into the jsii camelCase), each with its literal value: a prop dropped, renamed
  // or changed on one side fails. Python's own parser reads app.py, so it must also be valid Python.
  const literal = (value: string | number | boolean | undefined) => (value === undefined ? '*' : String(value));
  function tsProps(source: string): string[] {
    const file = ts.createSourceFile('app.ts', source, ts.ScriptTarget.Latest, true);
    const props: string[] = [];
    const valueOf = (e: ts.Expression) => (ts.isStringLiteralLike(e) ? e.text : ts.isNumericLiteral(e) ? Number(e.text)
      : e.kind === ts.SyntaxKind.TrueKeyword ? true : e.kind === ts.SyntaxKind.FalseKeyword ? false : undefined);
    const visit = (node: ts.Node): void => {
      if (ts.isPropertyAssignment(node)) props.push(`${node.name.getText(file).replace(/^'|'$/g, '')}=${literal(valueOf(node.initializer))}`);
      if (ts.isShorthandPropertyAssignment(node)) props.push(`${node.name.text}=*`);
      ts.forEachChild(node, visit);
    };
    visit(file);
    return props.sort();
  }
  function pyProps(file: string): string[] {
    const script = [
      'import ast, json, sys',
      'tree = ast.parse(open(sys.argv[1]).read(), sys.argv[1])',
      'lit = lambda v: v.value if isinstance(v, ast.Constant) else None',
      'out = [[k.arg, lit(k.value)] for n in ast.walk(tree) if isinstance(n, ast.Call) for k in n.keywords if k.arg]',
      'out += [[k.value, lit(v)] for n in ast.walk(tree) if isinstance(n, ast.Dict) for k, v in zip(n.keys, n.values) if isinstance(k, ast.Constant)]',
      'print(json.dumps(out))',
    ].join('\n');
    const pairs: Array<[string, string | number | boolean | null]> = JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8' }));
    return pairs.map(([k, v]) => `${k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())}=${literal(v ?? undefined)}`).sort();
  }

  test('runs with the same cdk.json context as the TypeScript app', () => {
    const context = (dir: string) => JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'examples', dir, 'cdk.json'), 'utf8')).context;
    expect(context(path.join('python', 'code-interpreter'))).toEqual(context('code-interpreter'));
  });

  test('sets the same props to the same literal values as the TypeScript app', () => {
    const py = pyProps(path.join(__dirname, '..', '..', 'examples', 'python', 'code-interpreter', 'app.py'));
    expect(py).toEqual(tsProps(tsSource));
    expect(py).toEqual(expect.arrayContaining(['maxSessionsPerOwner=50', 'description=Python code interpreter, one MicroVM per conversation']));
  });
});
