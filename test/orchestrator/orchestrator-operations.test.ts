import { App, Duration, Stack, aws_cloudwatch as cloudwatch, aws_s3 as s3 } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ImageCode, MicrovmImage } from '../../src/image';
import { MicrovmOrchestrator, MicrovmOrchestratorProps } from '../../src/orchestrator';

function build(props: Partial<MicrovmOrchestratorProps> = {}) {
  const app = new App();
  const stack = new Stack(app, 'Stack');
  const image = new MicrovmImage(stack, 'Image', { code: ImageCode.fromBucket(s3.Bucket.fromBucketName(stack, 'B', 'artifacts'), 'a.zip') });
  const orchestrator = new MicrovmOrchestrator(stack, 'Orch', { image, ...props });
  return { stack, orchestrator, template: Template.fromStack(stack) };
}

function alarm(template: Template, stack: Stack, a: cloudwatch.Alarm): any {
  return template.toJSON().Resources[stack.getLogicalId(a.node.defaultChild as cloudwatch.CfnAlarm)].Properties;
}

describe('metrics', () => {
  test('use the namespace and the per-orchestrator service dimension the handlers emit with', () => {
    // WHEN
    const { orchestrator } = build();

    // THEN
    const names: Array<[cloudwatch.Metric, string, string]> = [
      [orchestrator.metricSessionsCreated(), 'SessionsCreated', 'Sum'],
      [orchestrator.metricSessionsResumed(), 'SessionsResumed', 'Sum'],
      [orchestrator.metricSessionsEnded(), 'SessionsEnded', 'Sum'],
      [orchestrator.metricLaunchLatency(), 'LaunchLatency', 'p99'],
      [orchestrator.metricTokensMinted(), 'TokensMinted', 'Sum'],
      [orchestrator.metricQuotaRejections(), 'QuotaRejections', 'Sum'],
      [orchestrator.metricAdmissionRejections(), 'AdmissionRejections', 'Sum'],
      [orchestrator.metricUpstreamErrors(), 'UpstreamErrors', 'Sum'],
      [orchestrator.metricLaunchFailures(), 'LaunchFailures', 'Sum'],
      [orchestrator.metricOrphansFound(), 'OrphansFound', 'Sum'],
      [orchestrator.metricOrphansTerminated(), 'OrphansTerminated', 'Sum'],
      [orchestrator.metricRowsRepaired(), 'RowsRepaired', 'Sum'],
      [orchestrator.metricSweepDuration(), 'SweepDuration', 'Maximum'],
      [orchestrator.metricSweepErrors(), 'SweepErrors', 'Sum'],
    ];
    for (const [metric, name, statistic] of names) {
      expect(metric).toMatchObject({ namespace: 'LambdaMicrovms', metricName: name, statistic, dimensions: { service: orchestrator.serviceName } });
      expect(metric.period.toSeconds()).toBe(300);
    }
  });

  test('metricVmsSeen adds the state dimension', () => {
    // WHEN
    const { orchestrator } = build();

    // THEN
    expect(orchestrator.metricVmsSeen('SUSPENDED').dimensions).toEqual({ service: orchestrator.serviceName, state: 'SUSPENDED' });
  });

  test('options override the statistic and period but keep the service dimension', () => {
    // WHEN
    const { orchestrator } = build();
    const metric = orchestrator.metricLaunchLatency({ statistic: 'p50', period: Duration.minutes(1) });

    // THEN
    expect(metric.statistic).toBe('p50');
    expect(metric.period.toSeconds()).toBe(60);
    expect(metric.dimensions).toEqual({ service: orchestrator.serviceName });
  });

  test('two orchestrators get different service names', () => {
    // GIVEN
    const app = new App();
    const stack = new Stack(app, 'Stack');
    const image = new MicrovmImage(stack, 'Image', { code: ImageCode.fromBucket(s3.Bucket.fromBucketName(stack, 'B', 'artifacts'), 'a.zip') });

    // WHEN
    const a = new MicrovmOrchestrator(stack, 'A', { image });
    const b = new MicrovmOrchestrator(stack, 'B2', { image });

    // THEN
    expect(a.serviceName).not.toEqual(b.serviceName);
  });
});

describe('alarms', () => {
  test('four alarms with defaults, each notifying the alarm topic, missing data not breaching', () => {
    // WHEN
    const { stack, orchestrator, template } = build();
    const topic = { Ref: stack.getLogicalId(orchestrator.alarmTopic.node.defaultChild as any) };

    // THEN
    template.resourceCountIs('AWS::CloudWatch::Alarm', 4);
    for (const a of Object.values(template.findResources('AWS::CloudWatch::Alarm')) as any[]) {
      expect(a.Properties.TreatMissingData).toBe('notBreaching');
      expect(a.Properties.AlarmActions).toEqual([topic]);
      expect(a.Properties.AlarmDescription).toEqual(expect.any(String));
    }
  });

  test('sweeper errors: sweep errors plus function errors on two consecutive sweeps', () => {
    // WHEN
    const { stack, orchestrator, template } = build();

    // THEN
    const props = alarm(template, stack, orchestrator.sweeperErrorsAlarm);
    expect(props).toMatchObject({ Threshold: 1, EvaluationPeriods: 2, DatapointsToAlarm: 2, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    const expression = props.Metrics.find((m: any) => m.Expression);
    expect(expression.Expression).toBe('FILL(sweepErrors, 0) + FILL(fnErrors, 0)');
    const sweepErrors = props.Metrics.find((m: any) => m.Id === 'sweepErrors');
    expect(sweepErrors.MetricStat).toMatchObject({
      Metric: { Namespace: 'LambdaMicrovms', MetricName: 'SweepErrors', Dimensions: [{ Name: 'service', Value: orchestrator.serviceName }] },
      Period: 300,
      Stat: 'Sum',
    });
    const fnErrors = props.Metrics.find((m: any) => m.Id === 'fnErrors');
    expect(fnErrors.MetricStat.Metric).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'Errors' });
    const sweeperId = stack.getLogicalId(orchestrator.sweeperFunction.node.defaultChild as any);
    expect(JSON.stringify(fnErrors.MetricStat.Metric.Dimensions)).toContain(sweeperId);
  });

  test('orphans persisting: orphans found on three consecutive sweeps', () => {
    // WHEN
    const { stack, orchestrator, template } = build();

    // THEN
    expect(alarm(template, stack, orchestrator.orphansPersistingAlarm)).toMatchObject({
      MetricName: 'OrphansFound',
      Namespace: 'LambdaMicrovms',
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
    });
  });

  test('a slower sweep widens the sweep alarms to one sweep per period', () => {
    // WHEN
    const { stack, orchestrator, template } = build({ sweepInterval: Duration.minutes(30) });

    // THEN
    expect(alarm(template, stack, orchestrator.orphansPersistingAlarm).Period).toBe(1800);
    const sweepErrors = alarm(template, stack, orchestrator.sweeperErrorsAlarm).Metrics.find((m: any) => m.Id === 'sweepErrors');
    expect(sweepErrors.MetricStat.Period).toBe(1800);
  });

  test('quota rejections: any in five minutes', () => {
    // WHEN
    const { stack, orchestrator, template } = build();

    // THEN
    expect(alarm(template, stack, orchestrator.quotaRejectionsAlarm)).toMatchObject({
      MetricName: 'QuotaRejections', Statistic: 'Sum', Period: 300, Threshold: 1, EvaluationPeriods: 1,
    });
  });

  test('launch failures: failed launches plus orchestrator crashes, 5 or more in two consecutive periods', () => {
    // WHEN
    const { stack, orchestrator, template } = build();

    // THEN
    const props = alarm(template, stack, orchestrator.launchFailuresAlarm);
    expect(props).toMatchObject({ Threshold: 5, EvaluationPeriods: 2, DatapointsToAlarm: 2 });
    expect(props.Metrics.find((m: any) => m.Id === 'expr_1').Expression).toBe('FILL(launches, 0) + FILL(fnErrors, 0)');
    expect(props.Metrics.find((m: any) => m.Id === 'launches').MetricStat.Metric.MetricName).toBe('LaunchFailures');
    expect(JSON.stringify(props.Metrics.find((m: any) => m.Id === 'fnErrors').MetricStat.Metric.Dimensions))
      .toContain(stack.getLogicalId(orchestrator.orchestratorFunction.node.defaultChild as any));
  });

  test('users can attach their own actions, next to the alarm topic', () => {
    // GIVEN
    const { stack, orchestrator } = build();
    const action: cloudwatch.IAlarmAction = { bind: () => ({ alarmActionArn: 'arn:aws:sns:us-east-1:123456789012:oncall' }) };

    // WHEN
    orchestrator.orphansPersistingAlarm.addAlarmAction(action);

    // THEN
    expect(stack.resolve((orchestrator.orphansPersistingAlarm.node.defaultChild as cloudwatch.CfnAlarm).alarmActions))
      .toEqual([{ Ref: stack.getLogicalId(orchestrator.alarmTopic.node.defaultChild as any) }, 'arn:aws:sns:us-east-1:123456789012:oncall']);
  });
});

describe('dashboard', () => {
  test('shows sessions, launches, latency p50/p99, orphans, errors, throttles and the alarms', () => {
    // WHEN
    const { stack, orchestrator, template } = build();

    // THEN
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const body = JSON.stringify(stack.resolve((orchestrator.dashboard!.node.defaultChild as cloudwatch.CfnDashboard).dashboardBody));
    for (const text of ['SessionsCreated', 'SessionsResumed', 'SessionsEnded', 'TokensMinted', 'LaunchLatency', 'p50', 'p99',
      'QuotaRejections', 'AdmissionRejections', 'LaunchFailures', 'UpstreamErrors', 'VmsSeen', 'SUSPENDED', 'OrphansFound', 'OrphansTerminated',
      'RowsRepaired', 'SweepDuration', 'SweepErrors', 'Throttles', 'Errors', orchestrator.serviceName, 'alarm']) {
      expect(body).toContain(text);
    }
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardBody: Match.anyValue() });
  });
});
