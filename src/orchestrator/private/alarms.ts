import { Duration, aws_cloudwatch as cloudwatch, aws_lambda as lambda } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { MicrovmOrchestratorBase } from '../orchestrator-metrics';

/** The orchestrator's alarms. */
export interface OrchestratorAlarms {
  readonly sweeperErrors: cloudwatch.Alarm;
  readonly orphansPersisting: cloudwatch.Alarm;
  readonly quotaRejections: cloudwatch.Alarm;
  readonly launchFailures: cloudwatch.Alarm;
}

/** The two functions the alarms and the dashboard watch besides the emitted metrics. */
export interface OrchestratorFunctions {
  readonly orchestrator: lambda.IFunction;
  readonly sweeper: lambda.IFunction;
}

/**
 * The orchestrator's four alarms, whether or not it has a dashboard. They live directly under `scope` so their ids
 * stay short and stable.
 */
export function createAlarms(scope: Construct, metrics: MicrovmOrchestratorBase, functions: OrchestratorFunctions,
  sweepInterval: Duration): OrchestratorAlarms {
  // one sweep falls into each period, whatever the interval (at least CloudWatch's usual 5 minutes).
  const sweepPeriod = sweepInterval.isUnresolved() || sweepInterval.toSeconds() < 300 ? Duration.minutes(5) : sweepInterval;
  const five = Duration.minutes(5);
  const { orchestrator, sweeper } = functions;

  const sweeperErrors = withFunctionErrors('sweeper errors', 'sweepErrors', metrics.metricSweepErrors({ period: sweepPeriod }), sweeper, sweepPeriod)
    .createAlarm(scope, 'SweeperErrorsAlarm', atLeast(1, 2,
      'The MicroVM sweeper failed on two consecutive sweeps: orphaned MicroVMs may be billing.'));

  // an orphan is confirmed on one sweep and terminated on the next, so three in a row means cleanup is stuck.
  const orphansPersisting = metrics.metricOrphansFound({ period: sweepPeriod }).createAlarm(scope, 'OrphansPersistingAlarm', atLeast(1, 3,
    'The sweeper found MicroVMs no session owns on three consecutive sweeps: they are not being terminated.'));

  const quotaRejections = metrics.metricQuotaRejections({ period: five }).createAlarm(scope, 'QuotaRejectionsAlarm', atLeast(1, 1,
    'Sessions were refused because the account\'s MicroVM memory quota is reached: raise it or end idle sessions.'));

  const launchFailures = withFunctionErrors('launch failures', 'launches', metrics.metricLaunchFailures({ period: five }), orchestrator, five)
    .createAlarm(scope, 'LaunchFailuresAlarm', atLeast(5, 2,
      'MicroVM launches failed after retries (not the memory quota), or the orchestrator function crashed, in two consecutive 5-minute periods.'));

  return { sweeperErrors, orphansPersisting, quotaRejections, launchFailures };
}

/** `metric` (named `id` in the expression) plus `fn`'s errors: a failure the handler counted, or one that crashed it. */
function withFunctionErrors(label: string, id: string, metric: cloudwatch.IMetric, fn: lambda.IFunction,
  period: Duration): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    label,
    expression: `FILL(${id}, 0) + FILL(fnErrors, 0)`,
    usingMetrics: { [id]: metric, fnErrors: fn.metricErrors({ period, statistic: cloudwatch.Stats.SUM }) },
    period,
  });
}

/** Alarm at `threshold` or more in `periods` consecutive periods; no data is no failure. */
function atLeast(threshold: number, periods: number, alarmDescription: string): cloudwatch.CreateAlarmOptions {
  return {
    alarmDescription,
    threshold,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: periods,
    ...(periods > 1 ? { datapointsToAlarm: periods } : {}),
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  };
}
