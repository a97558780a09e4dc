import * as path from 'path';
import { App, Stack, aws_cloudwatch as cloudwatch } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { MicrovmImage, MicrovmOrchestrator, MicrovmOrchestratorBase } from '../../src';
import * as contract from '../../src/shared/contract';
import { CHECKPOINT_METRICS, DEFAULT_METRICS_NAMESPACE, EVENT_METRICS, METRIC, SESSION_METRICS, SWEEPER_METRICS } from '../../src/shared/contract';
import { moduleGraph } from '../support/module-graph';

/**
 * The metric contract between the construct and its handlers: every metric the construct exposes (a `metricXxx`
 * method, a dashboard widget, an alarm) is one a handler emits, and every metric a handler emits has a method.
 * A renamed metric on either side would otherwise give an empty dashboard and an alarm that never fires.
 */

const SRC = path.join(__dirname, '..', '..', 'src', 'orchestrator');
const HANDLERS = {
  session: { entry: path.join(SRC, 'orchestrator.lambda.ts'), names: SESSION_METRICS, constant: 'SESSION_METRICS' },
  sweeper: { entry: path.join(SRC, 'sweeper.lambda.ts'), names: SWEEPER_METRICS, constant: 'SWEEPER_METRICS' },
  // the lifecycle events and their usage: both handlers publish them.
  sessionEvents: { entry: path.join(SRC, 'orchestrator.lambda.ts'), names: EVENT_METRICS, constant: 'EVENT_METRICS' },
  sweeperEvents: { entry: path.join(SRC, 'sweeper.lambda.ts'), names: EVENT_METRICS, constant: 'EVENT_METRICS' },
  // checkpoints: the sweeper saves (requested and before the end).
  checkpoints: { entry: path.join(SRC, 'sweeper.lambda.ts'), names: CHECKPOINT_METRICS, constant: 'CHECKPOINT_METRICS' },
};
const ALL = new Set<string>(Object.values(METRIC));

function build() {
  const app = new App();
  const stack = new Stack(app, 'Stack', { env: { account: '123456789012', region: 'us-east-1' } });
  const image = MicrovmImage.fromImageArn(stack, 'Image', 'arn:aws:lambda:us-east-1:123456789012:microvm-image:sandbox');
  const orchestrator = new MicrovmOrchestrator(stack, 'Orch', { image });
  return { orchestrator, template: Template.fromStack(stack) };
}

/** What a `metricXxx` method returns, reduced to what the contract is about. */
interface Exposed {
  readonly namespace: string;
  readonly metricName: string;
  /** dimension names besides `service`. */
  readonly dimensions: string[];
  /** true for a math expression (a SEARCH over a dimension), whose metric name comes from its expression. */
  readonly search: boolean;
}

/** The metrics a SEARCH expression looks for: [namespace, metric name, dimension names]. */
function searchesIn(expression: string): Array<[string, string, string[]]> {
  return [...expression.matchAll(/SEARCH\('\{([^}]*)\}[^']*MetricName="([^"]+)"/g)].map((m) => {
    const [namespace, ...dimensions] = m[1].split(',');
    return [namespace, m[2], dimensions.filter((d) => d !== 'service')];
  });
}

/** a value for the dimension argument of the methods of dimensioned metrics. */
const DIMENSION_VALUES: Record<string, string> = {
  metricVmsSeen: 'RUNNING',
  metricLiveVms: '1',
  metricSessionEvents: 'Session Created',
  metricSessionRunningSeconds: 'arn:aws:iam::123456789012:role/backend',
  metricSessionSuspendedSeconds: 'arn:aws:iam::123456789012:role/backend',
};

/** the orchestrator's `metricXxx` methods of its own metrics (not `metric` itself), by method name. */
function metricMethods(orchestrator: MicrovmOrchestrator): Map<string, Exposed> {
  const methods = new Map<string, Exposed>();
  for (const name of Object.getOwnPropertyNames(MicrovmOrchestratorBase.prototype)) {
    if (!/^metric[A-Z]/.test(name)) continue;
    const method = (orchestrator as any)[name] as (...args: unknown[]) => cloudwatch.IMetric;
    // the methods of a dimensioned metric take the dimension's value first (a new one fails here until listed).
    const value = name in DIMENSION_VALUES ? method.call(orchestrator, DIMENSION_VALUES[name]) : method.call(orchestrator);
    if (value instanceof cloudwatch.MathExpression) {
      const searches = searchesIn(value.expression);
      expect([name, searches.length]).toEqual([name, 1]);
      const [namespace, metricName, dimensions] = searches[0];
      methods.set(name, { namespace, metricName, dimensions, search: true });
    } else {
      const metric = value as cloudwatch.Metric;
      const dimensions = Object.keys(metric.dimensions ?? {}).filter((d) => d !== 'service');
      methods.set(name, { namespace: metric.namespace, metricName: metric.metricName, dimensions, search: false });
    }
  }
  return methods;
}

/** [namespace, metric name] of every metric in a dashboard body or an alarm. */
function metricsIn(value: unknown, out: Array<[string, string]> = []): Array<[string, string]> {
  if (Array.isArray(value)) {
    // a dashboard widget's metric line: [namespace, name, dimension, value, ...]
    if (typeof value[0] === 'string' && typeof value[1] === 'string' && value[0] === DEFAULT_METRICS_NAMESPACE) out.push([value[0], value[1]]);
    value.forEach((v) => metricsIn(v, out));
  } else if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (typeof v.MetricName === 'string' && typeof v.Namespace === 'string') out.push([v.Namespace, v.MetricName]);
    // a dashboard's math expression: the metrics its SEARCH looks for.
    if (typeof v.expression === 'string') out.push(...searchesIn(v.expression).map(([ns, name]): [string, string] => [ns, name]));
    Object.values(v).forEach((x) => metricsIn(x, out));
  }
  return out;
}

describe('metric contract', () => {
  const { orchestrator, template } = build();

  test('every metricXxx method names a metric of the contract, in its own name', () => {
    const methods = metricMethods(orchestrator);
    expect(methods.size).toBeGreaterThan(0);
    for (const [name, metric] of methods) {
      expect([name, ALL.has(metric.metricName)]).toEqual([name, true]);
      // a SEARCH over a dimension is named after its metric and what it splits by (metricLiveVmsByVersion).
      if (metric.search) expect(name).toMatch(new RegExp(`^metric${metric.metricName}By[A-Z]`));
      else expect(name).toBe(`metric${metric.metricName}`);
      expect(metric.namespace).toBe(DEFAULT_METRICS_NAMESPACE);
    }
    expect([...methods.values()].some((m) => m.search)).toBe(true);
  });

  test('every dimension a metricXxx method uses is a contract constant the handler emitting that metric adds', () => {
    // the contract's dimension constants, by value: VM_STATE_DIMENSION, IMAGE_VERSION_DIMENSION, ...
    const constants = new Map(Object.entries(contract)
      .filter(([key, value]) => key.endsWith('_DIMENSION') && typeof value === 'string')
      .map(([key, value]) => [value as string, key]));
    const sweeper = [...moduleGraph(HANDLERS.sweeper.entry).values()].join('\n');
    const session = [...moduleGraph(HANDLERS.session.entry).values()].join('\n');
    let checked = 0;
    for (const [name, metric] of metricMethods(orchestrator)) {
      const sources = Object.values(SWEEPER_METRICS).includes(metric.metricName as never) ? sweeper : session;
      for (const dimension of metric.dimensions) {
        const constant = constants.get(dimension);
        expect([name, dimension, constant !== undefined]).toEqual([name, dimension, true]);
        // the handler adds that dimension right where it emits the metric.
        const emits = new RegExp(`addDimension\\(${constant},[^;]*;\\s*\\S+\\.addMetric\\((?:SWEEPER|EVENT)_METRICS\\.[A-Z_]+`);
        expect([name, dimension, emits.test(sources)]).toEqual([name, dimension, true]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(3);
  });

  test('every metric of the contract has a metricXxx method', () => {
    const exposed = new Set([...metricMethods(orchestrator).values()].map((m) => m.metricName));
    expect([...ALL].filter((name) => !exposed.has(name))).toEqual([]);
  });

  test('every metric a handler emits is named by the contract, and every contract metric is emitted', () => {
    for (const [handler, { entry, names, constant }] of Object.entries(HANDLERS)) {
      const sources = [...moduleGraph(entry).values()].join('\n');
      // no metric named by a literal: it would bypass the contract.
      expect([handler, sources.match(/add(?:Metric|Dimension)\(\s*['"`]/g)]).toEqual([handler, null]);
      const emitted = new Set([...sources.matchAll(new RegExp(`${constant}\\.([A-Z_]+)`, 'g'))].map((m) => m[1]));
      expect([handler, Object.keys(names).filter((key) => !emitted.has(key))]).toEqual([handler, []]);
    }
  });

  test('the dashboard and the alarms show only metrics the handlers emit', () => {
    const dashboard = Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0] as any;
    // the body is a Fn::Join of JSON text and references (function names), which sit inside JSON strings.
    const parts: unknown[] = dashboard.Properties.DashboardBody['Fn::Join'][1];
    const onDashboard = metricsIn(JSON.parse(parts.map((p) => typeof p === 'string' ? p : 'REF').join('')));
    const inAlarms = metricsIn(template.findResources('AWS::CloudWatch::Alarm'))
      .filter(([namespace]) => namespace === DEFAULT_METRICS_NAMESPACE);
    expect(onDashboard.length).toBeGreaterThan(0);
    expect(inAlarms.length).toBeGreaterThan(0);
    expect([...onDashboard, ...inAlarms].filter(([, name]) => !ALL.has(name))).toEqual([]);
  });
});
