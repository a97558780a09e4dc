import { Duration, aws_cloudwatch as cloudwatch } from 'aws-cdk-lib';
import type { MicrovmOrchestrator } from './microvm-orchestrator';
import { VM_STATES } from '../shared/contract';

/** what {@link OrchestratorDashboard} needs from the orchestrator. */
export interface OrchestratorDashboardOptions {
  readonly orchestrator: MicrovmOrchestrator;
  readonly sweepInterval: Duration;
  readonly dashboard: boolean;
}

/**
 * The orchestrator's alarms and dashboard. Not a construct: the alarms live directly under the orchestrator so
 * their ids stay short and stable.
 */
export class OrchestratorDashboard {
  public readonly sweeperErrorsAlarm: cloudwatch.Alarm;
  public readonly orphansPersistingAlarm: cloudwatch.Alarm;
  public readonly quotaRejectionsAlarm: cloudwatch.Alarm;
  public readonly launchFailuresAlarm: cloudwatch.Alarm;
  public readonly dashboard?: cloudwatch.Dashboard;

  constructor(scope: MicrovmOrchestrator, options: OrchestratorDashboardOptions) {
    const o = options.orchestrator;
    // one sweep falls into each period, whatever the interval (at least CloudWatch's usual 5 minutes).
    const interval = options.sweepInterval;
    const sweepPeriod = interval.isUnresolved() || interval.toSeconds() < 300 ? Duration.minutes(5) : interval;
    const five = Duration.minutes(5);
    const sweeper = o.sweeperFunction;
    const orchestrator = o.orchestratorFunction;

    this.sweeperErrorsAlarm = new cloudwatch.MathExpression({
      label: 'sweeper errors',
      expression: 'FILL(sweepErrors, 0) + FILL(fnErrors, 0)',
      usingMetrics: {
        sweepErrors: o.metricSweepErrors({ period: sweepPeriod }),
        fnErrors: sweeper.metricErrors({ period: sweepPeriod, statistic: cloudwatch.Stats.SUM }),
      },
      period: sweepPeriod,
    }).createAlarm(scope, 'SweeperErrorsAlarm', {
      alarmDescription: 'The MicroVM sweeper failed on two consecutive sweeps: orphaned MicroVMs may be billing.',
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // an orphan is confirmed on one sweep and terminated on the next, so three in a row means cleanup is stuck.
    this.orphansPersistingAlarm = o.metricOrphansFound({ period: sweepPeriod }).createAlarm(scope, 'OrphansPersistingAlarm', {
      alarmDescription: 'The sweeper found MicroVMs no session owns on three consecutive sweeps: they are not being terminated.',
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    this.quotaRejectionsAlarm = o.metricQuotaRejections({ period: five }).createAlarm(scope, 'QuotaRejectionsAlarm', {
      alarmDescription: 'Sessions were refused because the account\'s MicroVM memory quota is reached: raise it or end idle sessions.',
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    this.launchFailuresAlarm = new cloudwatch.MathExpression({
      label: 'launch failures',
      expression: 'FILL(launches, 0) + FILL(fnErrors, 0)',
      usingMetrics: {
        launches: o.metricLaunchFailures({ period: five }),
        fnErrors: orchestrator.metricErrors({ period: five, statistic: cloudwatch.Stats.SUM }),
      },
      period: five,
    }).createAlarm(scope, 'LaunchFailuresAlarm', {
      alarmDescription: 'MicroVM launches failed after retries (not the memory quota), or the orchestrator function crashed, in two consecutive 5-minute periods.',
      threshold: 5,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    if (!options.dashboard) return;
    const alarms = [this.sweeperErrorsAlarm, this.orphansPersistingAlarm, this.quotaRejectionsAlarm, this.launchFailuresAlarm];
    this.dashboard = new cloudwatch.Dashboard(scope, 'Dashboard', {
      defaultInterval: Duration.hours(3),
      widgets: [
        [
          new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms, width: 24, height: 3 }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Sessions',
            left: [o.metricSessionsCreated(), o.metricSessionsResumed(), o.metricSessionsEnded(), o.metricTokensMinted()],
            width: 8,
          }),
          new cloudwatch.GraphWidget({
            title: 'Launch latency (ms)',
            left: [
              o.metricLaunchLatency({ statistic: 'p50', label: 'p50' }),
              o.metricLaunchLatency({ statistic: 'p99', label: 'p99' }),
            ],
            width: 8,
          }),
          new cloudwatch.GraphWidget({
            title: 'Rejections and failures',
            left: [o.metricQuotaRejections(), o.metricAdmissionRejections(), o.metricLaunchFailures(), o.metricUpstreamErrors()],
            width: 8,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'MicroVMs seen by the sweeper',
            left: VM_STATES.map((state) => o.metricVmsSeen(state, { label: state })),
            width: 8,
          }),
          new cloudwatch.GraphWidget({
            title: 'Orphans and repairs',
            left: [o.metricOrphansFound(), o.metricOrphansTerminated(), o.metricRowsRepaired(), o.metricSweepErrors()],
            right: [o.metricSweepDuration({ label: 'sweep duration (ms)' })],
            width: 8,
          }),
          new cloudwatch.GraphWidget({
            title: 'Function errors and throttles',
            left: [
              orchestrator.metricErrors({ label: 'orchestrator errors', statistic: cloudwatch.Stats.SUM }),
              orchestrator.metricThrottles({ label: 'orchestrator throttles', statistic: cloudwatch.Stats.SUM }),
              sweeper.metricErrors({ label: 'sweeper errors', statistic: cloudwatch.Stats.SUM }),
              sweeper.metricThrottles({ label: 'sweeper throttles', statistic: cloudwatch.Stats.SUM }),
            ],
            right: [orchestrator.metricDuration({ label: 'orchestrator p99 (ms)', statistic: 'p99' })],
            width: 8,
          }),
        ],
      ],
    });
  }
}
