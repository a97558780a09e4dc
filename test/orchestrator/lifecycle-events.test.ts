import * as path from 'path';
import { App, Stack, aws_events as events, aws_iam as iam, aws_lambda as lambda, aws_s3 as s3, aws_sqs as sqs, aws_events_targets as targets } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ImageCode, MicrovmImage, MicrovmMemory } from '../../src/image';
import { LifecycleEvents, MicrovmOrchestrator, MicrovmOrchestratorProps, SessionEventType } from '../../src/orchestrator';
import { parseConfig } from '../../src/orchestrator/runtime/config';
import { parseSweeperConfig } from '../../src/orchestrator/runtime/sweeper-config';
import { ENV } from '../../src/shared/contract';
import { SESSION_EVENT_TYPES } from '../../src/shared/session-events';
import { moduleGraph } from '../support/module-graph';

// the construct's side of the lifecycle events: where they go, who may publish them, the rules, the usage config.

const ACCOUNT = '123456789012';
const DEFAULT_BUS = `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/default`;
/** the default bus's ARN as the template has it (the partition stays a reference). */
const DEFAULT_BUS_ARN = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:events:us-east-1:${ACCOUNT}:event-bus/default`]] };
const SRC = path.join(__dirname, '..', '..', 'src', 'orchestrator');

function build(props: Partial<MicrovmOrchestratorProps> = {}, imported = false) {
  const app = new App();
  const stack = new Stack(app, 'Stack', { env: { account: ACCOUNT, region: 'us-east-1' } });
  const image = imported
    ? MicrovmImage.fromImageArn(stack, 'Image', `arn:aws:lambda:us-east-1:${ACCOUNT}:microvm-image:sandbox`)
    : new MicrovmImage(stack, 'Image', {
      code: ImageCode.fromBucket(s3.Bucket.fromBucketName(stack, 'B', 'artifacts'), 'a.zip'),
      memory: MicrovmMemory.GIB_4,
    });
  const orchestrator = new MicrovmOrchestrator(stack, 'Orch', { image, ...props });
  return { app, stack, image, orchestrator };
}

function variables(stack: Stack, fn: lambda.IFunction): Record<string, unknown> {
  const logicalId = stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction);
  return Template.fromStack(stack).toJSON().Resources[logicalId].Properties.Environment.Variables;
}

/** every statement in the stack that allows an `events:` action, as [role's function, actions, resources]. */
function eventStatements(stack: Stack): Array<{ policy: string; actions: string[]; resources: unknown[] }> {
  const out: Array<{ policy: string; actions: string[]; resources: unknown[] }> = [];
  for (const [id, resource] of Object.entries(Template.fromStack(stack).findResources('AWS::IAM::Policy'))) {
    for (const s of (resource as any).Properties.PolicyDocument.Statement) {
      const actions = ([] as string[]).concat(s.Action);
      if (actions.some((a) => a.startsWith('events:'))) out.push({ policy: id, actions, resources: [].concat(s.Resource) });
    }
  }
  return out;
}

describe('where the events go and who may publish them', () => {
  test('by default: the default bus, and events:PutEvents on that bus only, for the session API and the sweeper', () => {
    // WHEN
    const { stack, orchestrator } = build();

    // THEN
    const found = eventStatements(stack);
    expect(found).toHaveLength(2);
    for (const s of found) {
      expect(s.actions).toEqual(['events:PutEvents']);
      expect(s.resources).toEqual([DEFAULT_BUS_ARN]);
    }
    const policies = found.map((s) => s.policy).sort();
    const roleOf = (fn: lambda.IFunction) => stack.getLogicalId(fn.role!.node.findChild('DefaultPolicy').node.defaultChild as iam.CfnPolicy);
    expect(policies).toEqual([roleOf(orchestrator.orchestratorFunction), roleOf(orchestrator.sweeperFunction)].sort());
    for (const fn of [orchestrator.orchestratorFunction, orchestrator.sweeperFunction]) {
      expect(variables(stack, fn)[ENV.EVENT_BUS_NAME]).toEqual(DEFAULT_BUS_ARN);
      expect(variables(stack, fn)[ENV.BASELINE_MEMORY_MIB]).toBe('4096');
    }
    expect(stack.resolve(orchestrator.eventBus!.eventBusArn)).toEqual(DEFAULT_BUS_ARN);
  });

  test('a bus of your own: PutEvents on that bus only, and its ARN in the environment', () => {
    // GIVEN
    const app = new App();
    const stack = new Stack(app, 'Stack', { env: { account: ACCOUNT, region: 'us-east-1' } });
    const bus = new events.EventBus(stack, 'Bus');
    const image = MicrovmImage.fromImageArn(stack, 'Image', `arn:aws:lambda:us-east-1:${ACCOUNT}:microvm-image:sandbox`);

    // WHEN
    const orchestrator = new MicrovmOrchestrator(stack, 'Orch', { image, lifecycleEvents: LifecycleEvents.toBus(bus) });

    // THEN
    const busArn = { 'Fn::GetAtt': [stack.getLogicalId(bus.node.defaultChild as events.CfnEventBus), 'Arn'] };
    for (const s of eventStatements(stack)) {
      expect(s.actions).toEqual(['events:PutEvents']);
      expect(s.resources).toEqual([busArn]);
    }
    expect(variables(stack, orchestrator.orchestratorFunction)[ENV.EVENT_BUS_NAME]).toEqual(busArn);
    // an imported image does not know its memory: the usage has seconds only.
    expect(variables(stack, orchestrator.orchestratorFunction)[ENV.BASELINE_MEMORY_MIB]).toBeUndefined();
  });

  test('disabled: no events: permission anywhere and no bus in the environment', () => {
    const { stack, orchestrator } = build({ lifecycleEvents: LifecycleEvents.disabled() });
    expect(eventStatements(stack)).toEqual([]);
    expect(orchestrator.eventBus).toBeUndefined();
    expect(variables(stack, orchestrator.orchestratorFunction)[ENV.EVENT_BUS_NAME]).toBeUndefined();
    expect(variables(stack, orchestrator.sweeperFunction)[ENV.EVENT_BUS_NAME]).toBeUndefined();
  });

  test('both handlers call PutEvents (the permission is used), and nothing else of EventBridge', () => {
    for (const entry of ['orchestrator.lambda.ts', 'sweeper.lambda.ts']) {
      const sources = [...moduleGraph(path.join(SRC, entry)).values()].join('\n');
      expect([entry, /new PutEventsCommand\(/.test(sources)]).toEqual([entry, true]);
      expect([entry, sources.match(/new (?!PutEventsCommand)\w+Command\(/g)?.filter((c) => /Event/.test(c)) ?? []]).toEqual([entry, []]);
    }
  });
});

describe('onSessionEvent', () => {
  test('a rule on the orchestrator\'s bus, matching its source, the detail-types asked for and this orchestrator only', () => {
    // GIVEN
    const { stack, orchestrator } = build();
    const queue = new sqs.Queue(stack, 'Audit');

    // WHEN
    orchestrator.onSessionEvent('Ended', { detailTypes: [SessionEventType.ENDED, SessionEventType.SHELL_ACCESS_GRANTED], target: new targets.SqsQueue(queue) });

    // THEN
    const rules = Template.fromStack(stack).findResources('AWS::Events::Rule', { Properties: { EventPattern: {} } });
    const [rule] = Object.values(rules) as any[];
    expect(Object.keys(rules)).toHaveLength(1);
    expect(rule.Properties.EventBusName).toBe('default');
    expect(rule.Properties.EventPattern).toEqual({
      'source': ['cdk-lambda-microvms.sessions'],
      'detail-type': ['Session Ended', 'Shell Access Granted'],
      'detail': { service: [orchestrator.serviceName] },
    });
    expect(rule.Properties.Targets).toHaveLength(1);
  });

  test('SessionEventType names exactly the detail-types the handlers publish', () => {
    const constants = Object.entries(SessionEventType).filter(([k]) => k !== 'SOURCE').map(([, v]) => v).sort();
    expect(constants).toEqual(Object.values(SESSION_EVENT_TYPES).sort());
  });

  test('an unknown detail-type fails synth with the prop, the value, the rule and the fix', () => {
    const { orchestrator } = build();
    expect(() => orchestrator.onSessionEvent('Bad', { detailTypes: ['Session Deleted'] })).toThrow(
      /Stack\/Orch: onSessionEvent\('Bad'\)\.detailTypes must be a non-empty list of 'Session Created'.*got \["Session Deleted"\]\. Use the SessionEventType constants/);
  });

  test('with events disabled it fails synth and says how to turn them on', () => {
    const { orchestrator } = build({ lifecycleEvents: LifecycleEvents.disabled() });
    expect(() => orchestrator.onSessionEvent('Any')).toThrow(/lifecycleEvents must publish events for onSessionEvent\('Any'\).*LifecycleEvents\.defaultBus\(\)/);
  });
});

describe('usagePricing', () => {
  test('reaches both handlers, which parse it into the same usage config', () => {
    // WHEN
    const { stack, orchestrator } = build({ usagePricing: { perGbSecond: 0.0000083, perVcpuSecond: 0.0000333 } });

    // THEN
    // the literal values, as the functions get them (references are checked elsewhere).
    const literal = (fn: lambda.IFunction) => Object.fromEntries(Object.entries(variables(stack, fn)).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
    const session = literal(orchestrator.orchestratorFunction);
    const sweeper = literal(orchestrator.sweeperFunction);
    expect(session[ENV.USAGE_PRICING]).toBe('{"perGbSecond":0.0000083,"perVcpuSecond":0.0000333,"currency":"USD"}');
    const resolvedBus = { ...session, [ENV.EVENT_BUS_NAME]: DEFAULT_BUS };
    const expected = { eventBusName: DEFAULT_BUS, memoryMiB: 4096, pricing: { perGbSecond: 0.0000083, perVcpuSecond: 0.0000333, currency: 'USD' } };
    expect(parseConfig({ ...resolvedBus, [ENV.TABLE_NAME]: 't', [ENV.IMAGE_ARN]: `arn:aws:lambda:us-east-1:${ACCOUNT}:microvm-image:x`, [ENV.EGRESS_CONNECTORS]: '', [ENV.INGRESS_CONNECTORS]: '', [ENV.EXECUTION_ROLE_ARN]: '', [ENV.IMAGE_VERSION]: '' }).events).toEqual(expected);
    expect(parseSweeperConfig({ ...sweeper, [ENV.EVENT_BUS_NAME]: DEFAULT_BUS, [ENV.TABLE_NAME]: 't', [ENV.IMAGE_ARN]: `arn:aws:lambda:us-east-1:${ACCOUNT}:microvm-image:x`, [ENV.IMAGE_VERSION]: '' }).events).toEqual(expected);
  });

  test.each([
    [{ perGbSecond: -1, perVcpuSecond: 0 }, false, /usagePricing\.perGbSecond must be a number >= 0, got -1\. Use the price per second/],
    [{ perGbSecond: 0, perVcpuSecond: Number.NaN }, false, /usagePricing\.perVcpuSecond must be a number >= 0, got "NaN"/],
    [{ perGbSecond: 0, perVcpuSecond: 0, currency: 'dollars' }, false, /usagePricing\.currency must be an ISO 4217 code.*got "dollars"/],
    [{ perGbSecond: 0, perVcpuSecond: 0 }, true, /usagePricing\.baselineMemory must be set for an imported image.*MicrovmMemory\.GIB_2/],
  ])('bad pricing %j fails synth with a clear error', (usagePricing, imported, message) => {
    expect(() => build({ usagePricing }, imported)).toThrow(message);
  });

  test('an imported image with baselineMemory prices by it', () => {
    const { stack, orchestrator } = build({ usagePricing: { perGbSecond: 1, perVcpuSecond: 2, currency: 'EUR', baselineMemory: MicrovmMemory.GIB_1 } }, true);
    const vars = variables(stack, orchestrator.orchestratorFunction);
    expect(vars[ENV.BASELINE_MEMORY_MIB]).toBe('1024');
    expect(vars[ENV.USAGE_PRICING]).toBe('{"perGbSecond":1,"perVcpuSecond":2,"currency":"EUR"}');
  });
});
