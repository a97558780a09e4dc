import * as fs from 'fs';
import * as path from 'path';
import { App, Stack, Validations, aws_iam as iam, aws_lambda as lambda, aws_s3 as s3 } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ImageCode, MicrovmImage, MicrovmOrchestrator } from '../../src';
import { flattenReference } from '../../src/shared/nag-ids';
import { moduleGraph } from '../support/module-graph';

/**
 * Every AwsSolutions-IAM5 acknowledgement the orchestrator writes must be true of the statements it covers:
 * - the reason names every action of those statements, and names no action they do not hold;
 * - each of those actions is one the function's handler really needs: a MicroVM call its code makes (found by
 *   reading the handler's own modules), X-Ray writes only with active tracing, KMS only when the code uses the
 *   encrypted table.
 * A reason copied onto a role that does not make the call (ListMicrovms on the session API once did) fails here.
 */

const SRC = path.join(__dirname, '..', '..', 'src', 'orchestrator');
const HANDLERS: Record<string, string> = {
  OrchestratorRole: path.join(SRC, 'orchestrator.lambda.ts'),
  SweeperRole: path.join(SRC, 'sweeper.lambda.ts'),
  SmokeTestRole: path.join(SRC, 'smoke-test.lambda.ts'),
};

function functionOf(orchestrator: MicrovmOrchestrator, roleId: string): lambda.IFunction {
  if (roleId === 'OrchestratorRole') return orchestrator.orchestratorFunction;
  if (roleId === 'SweeperRole') return orchestrator.sweeperFunction;
  return orchestrator.smokeTestFunction!;
}

/** every `new XCommand(` in the modules `entry` imports from this repository, transitively. */
function commandsOf(entry: string): Set<string> {
  const commands = new Set<string>();
  for (const source of moduleGraph(entry).values()) {
    for (const m of source.matchAll(/new (\w+)Command\(/g)) commands.add(m[1]);
  }
  return commands;
}

function build(checkpoints = false) {
  const app = new App();
  const stack = new Stack(app, 'Stack', { env: { account: '123456789012', region: 'us-east-1' } });
  const image = new MicrovmImage(stack, 'Image', { code: ImageCode.fromBucket(s3.Bucket.fromBucketName(stack, 'B', 'artifacts'), 'a.zip') });
  const orchestrator = new MicrovmOrchestrator(stack, 'Orch', { image, ...checkpoints ? { checkpoints: { port: 8181 } } : {} });
  return { stack, orchestrator, template: Template.fromStack(stack) };
}

interface Ack { id: string; reason: string }

function iam5Acks(policy: iam.Policy): Ack[] {
  return policy.node.metadata
    .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap((m) => Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ id: id.replace(/^Annotation::/, ''), reason })))
    .filter((a) => a.id.startsWith('AwsSolutions-IAM5['));
}

/**
 * the actions an IAM5 finding id is about: for `Action::X` that wildcard action itself, for `Resource::R` every
 * action of the Allow statements with that resource.
 */
function coveredActions(document: any, id: string): Set<string> {
  const action = /^AwsSolutions-IAM5\[Action::(.*)\]$/.exec(id)?.[1];
  return new Set(action ? [action] : coveredStatements(document, id).flatMap((s) => [s.Action].flat()));
}

/** the Allow statements of `document` an IAM5 finding id is about. */
function coveredStatements(document: any, id: string): any[] {
  const [, kind, value] = /^AwsSolutions-IAM5\[(Resource|Action)::(.*)\]$/.exec(id)!;
  return document.Statement.filter((s: any) => s.Effect === 'Allow' && (kind === 'Action'
    ? [s.Action].flat().includes(value)
    : [s.Resource].flat().some((r: unknown) => flattenReference(r) === value)));
}

// with checkpoints on too: their grants (S3, the sweeper's resume and token, the API's invoke) follow the code as well.
describe.each(Object.keys(HANDLERS).flatMap((roleId) => [[roleId, false], [roleId, true]] as Array<[string, boolean]>))('IAM5 acknowledgements on %s (checkpoints: %s)', (roleId, checkpoints) => {
  const { stack, orchestrator, template } = build(checkpoints);
  const fn = functionOf(orchestrator, roleId);
  const policy = fn.role!.node.findChild('DefaultPolicy') as iam.Policy;
  const document = stack.resolve(policy.document.toJSON());
  const acks = iam5Acks(policy);
  const commands = commandsOf(HANDLERS[roleId]);
  const tracing = template.toJSON().Resources[stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction)].Properties.TracingConfig?.Mode;

  test('there are acknowledgements to check, and each covers at least one statement', () => {
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) expect([ack.id, coveredStatements(document, ack.id).length > 0]).toEqual([ack.id, true]);
  });

  test('each reason names exactly the actions of the statements it covers', () => {
    for (const ack of acks) {
      const actions = coveredActions(document, ack.id);
      for (const action of actions) {
        expect([ack.id, action, ack.reason.includes(action.split(':')[1])]).toEqual([ack.id, action, true]);
      }
      for (const named of ack.reason.match(/\b[a-z0-9-]+:[A-Z][A-Za-z*]*/g) ?? []) {
        expect([ack.id, named, actions.has(named)]).toEqual([ack.id, named, true]);
      }
    }
  });

  test('each covered action is one the handler needs', () => {
    const needed = (action: string): boolean => {
      const [service, name] = action.split(':');
      if (service === 'xray') return tracing === 'Active';
      if (service === 'kms') return ['Get', 'Put', 'Update'].some((c) => commands.has(c));
      if (action === 'lambda:PassNetworkConnector') return commands.has('RunMicrovm');
      // S3: presigned PutObject/GetObject, HEAD (GetObject's permission), DeleteObject, ListBucket (ListObjectsV2).
      if (service === 's3') return commands.has(name === 'ListBucket' ? 'ListObjectsV2' : name);
      return service === 'lambda' && commands.has(name);
    };
    for (const ack of acks) {
      for (const action of coveredActions(document, ack.id)) {
        expect([ack.id, action, needed(action)]).toEqual([ack.id, action, true]);
      }
    }
  });

  test('every lambda: action of the role is a call its handler makes (least privilege, not only where acknowledged)', () => {
    const granted = document.Statement.filter((st: any) => st.Effect === 'Allow').flatMap((st: any) => [st.Action].flat())
      .filter((a: string) => a.startsWith('lambda:') && a !== 'lambda:PassNetworkConnector');
    expect(granted.length).toBeGreaterThan(0);
    // lambda:InvokeFunction is the Lambda API's Invoke (the session API hands a requested checkpoint to the sweeper).
    const call = (action: string) => (action === 'lambda:InvokeFunction' ? 'Invoke' : action.split(':')[1]);
    for (const action of granted) expect([action, commands.has(call(action))]).toEqual([action, true]);
  });

  test('the ListMicrovms reason\'s "lists with the image ARN as its filter" holds in the handler code', () => {
    const listing = acks.some((a) => a.reason.includes('ListMicrovms'));
    expect(listing).toBe(commands.has('ListMicrovms'));
    if (listing) {
      const sweeper = fs.readFileSync(path.join(SRC, 'runtime', 'sweeper.ts'), 'utf8');
      expect(sweeper).toMatch(/new ListMicrovmsCommand\(\{\s*imageIdentifier: this\.options\.config\.imageArn,/);
    }
  });
});

test('with checkpoints, every MicroVM API call of the sweeper\'s handler is granted to its role (the other direction)', () => {
  // a call the role lacks fails at run time only: the re-suspend after a save once did, silently.
  const { stack, orchestrator } = build(true);
  const policy = orchestrator.sweeperFunction.role!.node.findChild('DefaultPolicy') as iam.Policy;
  const granted = new Set(stack.resolve(policy.document.toJSON()).Statement.filter((s: any) => s.Effect === 'Allow').flatMap((s: any) => [s.Action].flat()));
  const calls = [...commandsOf(HANDLERS.SweeperRole)].filter((c) => /Microvm/.test(c));
  expect(calls).toEqual(expect.arrayContaining(['SuspendMicrovm', 'ResumeMicrovm', 'CreateMicrovmAuthToken']));
  expect(calls.filter((c) => !granted.has(`lambda:${c}`))).toEqual([]);
});

test('the session API\'s handler never lists MicroVMs, and the sweeper\'s does: the grants follow the code', () => {
  expect(commandsOf(HANDLERS.OrchestratorRole).has('ListMicrovms')).toBe(false);
  expect(commandsOf(HANDLERS.SweeperRole).has('ListMicrovms')).toBe(true);
});
