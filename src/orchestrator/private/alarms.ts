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

  const sweeperErrors = new cloudwatch.MathExpression({
    label: 'sweeper errors',
    expression: 'FILL(sweepErrors, 0) + FILL(fnErrors, 0)',
    usingMetrics: {
      sweepErrors: metrics.metricSweepErrors({ period: sweepPeriod }),
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
  const orphansPersisting = metrics.metricOrphansFound({ period: sweepPeriod }).createAlarm(scope, 'OrphansPersistingAlarm', {
    alarmDescription: 'The sweeper found MicroVMs no session owns on three consecutive sweeps: they are not being terminated.',
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 3,
    datapointsToAlarm: 3,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });

  const quotaRejections = metrics.metricQuotaRejections({ period: five }).createAlarm(scope, 'QuotaRejectionsAlarm', {
    alarmDescription: 'Sessions were refused because the account\'s MicroVM memory quota is reached: raise it or end idle sessions.',
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });

  const launchFailures = new cloudwatch.MathExpression({
    label: 'launch failures',
    expression: 'FILL(launches, 0) + FILL(fnErrors, 0)',
    usingMetrics: {
      launches: metrics.metricLaunchFailures({ period: five }),
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

  return { sweeperErrors, orphansPersisting, quotaRejections, launchFailures };
}
