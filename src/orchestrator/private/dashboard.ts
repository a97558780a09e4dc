import { Duration, aws_cloudwatch as cloudwatch } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { OrchestratorAlarms, OrchestratorFunctions } from './alarms';
import { VM_STATES } from '../../shared/contract';
import type { MicrovmOrchestratorBase } from '../orchestrator-metrics';

/** The orchestrator's dashboard: its alarms, the session and sweeper metrics, and both functions' health. */
export function createDashboard(scope: Construct, metrics: MicrovmOrchestratorBase, functions: OrchestratorFunctions,
  alarms: OrchestratorAlarms): cloudwatch.Dashboard {
  const { orchestrator, sweeper } = functions;
  const alarmList = [alarms.sweeperErrors, alarms.orphansPersisting, alarms.quotaRejections, alarms.launchFailures];
  return new cloudwatch.Dashboard(scope, 'Dashboard', {
    defaultInterval: Duration.hours(3),
    widgets: [
      [
        new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: alarmList, width: 24, height: 3 }),
      ],
      [
        new cloudwatch.GraphWidget({
          title: 'Sessions',
          left: [metrics.metricSessionsCreated(), metrics.metricSessionsResumed(), metrics.metricSessionsEnded(), metrics.metricTokensMinted()],
          width: 8,
        }),
        new cloudwatch.GraphWidget({
          title: 'Launch latency (ms)',
          left: [
            metrics.metricLaunchLatency({ statistic: 'p50', label: 'p50' }),
            metrics.metricLaunchLatency({ statistic: 'p99', label: 'p99' }),
          ],
          width: 8,
        }),
        new cloudwatch.GraphWidget({
          title: 'Rejections and failures',
          left: [
            metrics.metricQuotaRejections(), metrics.metricAdmissionRejections(),
            metrics.metricLaunchFailures(), metrics.metricUpstreamErrors(),
          ],
          width: 8,
        }),
      ],
      [
        new cloudwatch.GraphWidget({
          title: 'MicroVMs seen by the sweeper',
          left: VM_STATES.map((state) => metrics.metricVmsSeen(state, { label: state })),
          width: 8,
        }),
        new cloudwatch.GraphWidget({
          title: 'Orphans and repairs',
          left: [metrics.metricOrphansFound(), metrics.metricOrphansTerminated(), metrics.metricRowsRepaired(), metrics.metricSweepErrors()],
          right: [metrics.metricSweepDuration({ label: 'sweep duration (ms)' })],
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
      [
        new cloudwatch.GraphWidget({
          title: 'Live VMs per image version',
          left: [metrics.metricLiveVmsByVersion()],
          width: 12,
        }),
        new cloudwatch.GraphWidget({
          title: 'Image versions pruned',
          left: [metrics.metricVersionsDeleted({ label: 'versions deleted' })],
          right: [metrics.metricVersionQuotaNear({ label: 'quota near (1 = pruning cannot make room)' })],
          width: 12,
        }),
      ],
      [
        new cloudwatch.GraphWidget({
          title: 'Session events by type',
          left: [metrics.metricSessionEventsByDetailType()],
          right: [metrics.metricEventsFailed({ label: 'events not published' })],
          width: 12,
        }),
        new cloudwatch.GraphWidget({
          title: 'Running seconds of ended sessions, per owner',
          left: [metrics.metricSessionRunningSecondsByOwner()],
          width: 12,
        }),
      ],
    ],
  });
}
