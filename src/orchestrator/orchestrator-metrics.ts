import { Duration, aws_cloudwatch as cloudwatch } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { DETAIL_TYPE_DIMENSION, IMAGE_VERSION_DIMENSION, METRIC, OWNER_DIMENSION, VM_STATE_DIMENSION } from '../shared/contract';

/**
 * The metrics of a {@link MicrovmOrchestrator}: what its session API and sweeper emit, in its namespace and
 * `service` dimension. Every name comes from the contract the handlers emit by, so a method never points at a
 * metric nothing sends.
 */
export abstract class MicrovmOrchestratorBase extends Construct {
  /** the `service` dimension of this orchestrator's metrics. */
  public abstract readonly serviceName: string;
  /** the CloudWatch namespace of this orchestrator's metrics. */
  public abstract readonly metricsNamespace: string;

  /**
   * A metric emitted by the orchestrator or sweeper, in this orchestrator's namespace and `service` dimension.
   *
   * @default - sum over 5 minutes
   */
  public metric(metricName: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.metricsNamespace,
      metricName,
      statistic: cloudwatch.Stats.SUM,
      period: Duration.minutes(5),
      ...props,
      dimensionsMap: { service: this.serviceName, ...props.dimensionsMap },
    });
  }

  /** sessions whose MicroVM was launched (new sessions and relaunches). @default - sum over 5 minutes */
  public metricSessionsCreated(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.SESSIONS_CREATED, props);
  }

  /** sessions resumed from SUSPENDED. @default - sum over 5 minutes */
  public metricSessionsResumed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.SESSIONS_RESUMED, props);
  }

  /**
   * sessions ended: a `DELETE` removed a session (counted even when it had no VM), or the sweeper ended a VM past
   * its session's end.
   *
   * @default - sum over 5 minutes
   */
  public metricSessionsEnded(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.SESSIONS_ENDED, props);
  }

  /**
   * duration of a launch's `RunMicrovm` call(s), retries and generation bumps included, in milliseconds (recorded
   * when `RunMicrovm` returns, before the row is finished and the token minted).
   *
   * @default - p99 over 5 minutes
   */
  public metricLaunchLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.LAUNCH_LATENCY, { statistic: 'p99', ...props });
  }

  /** tokens minted. @default - sum over 5 minutes */
  public metricTokensMinted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.TOKENS_MINTED, props);
  }

  /** shell tokens minted (`POST /sessions/{id}/shell-token`); each is full access to one MicroVM. @default - sum over 5 minutes */
  public metricShellTokensMinted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.SHELL_TOKENS_MINTED, props);
  }

  /** launches refused because the account's MicroVM memory quota is reached (429). @default - sum over 5 minutes */
  public metricQuotaRejections(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.QUOTA_REJECTIONS, props);
  }

  /** launches refused by `maxSessions` or `maxSessionsPerOwner` (429). @default - sum over 5 minutes */
  public metricAdmissionRejections(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.ADMISSION_REJECTIONS, props);
  }

  /**
   * MicroVM service failures that persisted after retries: answered 502/503, or a `GET` that answered 200 with the
   * last known state because `GetMicrovm` failed.
   *
   * @default - sum over 5 minutes
   */
  public metricUpstreamErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.UPSTREAM_ERRORS, props);
  }

  /**
   * Launches whose `RunMicrovm` failed after retries for any reason but the memory quota (which
   * `metricQuotaRejections` counts): throttling or 5xx that persisted, a missing image, denied permissions.
   *
   * @default - sum over 5 minutes
   */
  public metricLaunchFailures(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.LAUNCH_FAILURES, props);
  }

  /**
   * MicroVMs of the image the sweeper saw in one state (for example `RUNNING` or `SUSPENDED`).
   *
   * @default - maximum over 5 minutes
   */
  public metricVmsSeen(state: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric(METRIC.VMS_SEEN, {
      statistic: cloudwatch.Stats.MAXIMUM,
      ...props,
      dimensionsMap: { [VM_STATE_DIMENSION]: state, ...props.dimensionsMap },
    });
  }

  /** MicroVMs no session owns, found past their grace period (one is counted on each sweep that sees it). @default - sum over 5 minutes */
  public metricOrphansFound(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.ORPHANS_FOUND, props);
  }

  /**
   * unowned MicroVMs past their grace period that the sweeper left alone because a launch still in its window
   * (a LAUNCHING row) may claim them (one is counted on each sweep that sees it).
   *
   * @default - sum over 5 minutes
   */
  public metricProtectedByLaunch(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.PROTECTED_BY_LAUNCH, props);
  }

  /** orphaned MicroVMs the sweeper terminated. @default - sum over 5 minutes */
  public metricOrphansTerminated(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.ORPHANS_TERMINATED, props);
  }

  /**
   * session rows the sweeper marked TERMINATED because their VM ended, plus rows it deleted for interrupted
   * `DELETE`s and launches that died without a VM.
   *
   * @default - sum over 5 minutes
   */
  public metricRowsRepaired(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.ROWS_REPAIRED, props);
  }

  /** how long one sweep took, in milliseconds. @default - maximum over 5 minutes */
  public metricSweepDuration(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.SWEEP_DURATION, { statistic: cloudwatch.Stats.MAXIMUM, ...props });
  }

  /** errors the sweeper hit (a sweep may still finish with errors). @default - sum over 5 minutes */
  public metricSweepErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.SWEEP_ERRORS, props);
  }

  /**
   * live (not TERMINATED) MicroVMs of the image running one image version, as the sweeper listed them. Emitted only
   * after a sweep that listed every MicroVM; the version the orchestrator launches reads 0 rather than no data.
   *
   * @default - maximum over 5 minutes
   */
  public metricLiveVms(imageVersion: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric(METRIC.LIVE_VMS, {
      statistic: cloudwatch.Stats.MAXIMUM,
      ...props,
      dimensionsMap: { [IMAGE_VERSION_DIMENSION]: imageVersion, ...props.dimensionsMap },
    });
  }

  /**
   * live MicroVMs per image version, one line per version (a CloudWatch `SEARCH` over the `ImageVersion` dimension):
   * sessions still on old versions after a release (drift) show here. A `SEARCH` cannot be alarmed on; alarm on
   * `metricLiveVms(version)` instead.
   *
   * @default - maximum over 5 minutes
   */
  public metricLiveVmsByVersion(props: cloudwatch.MathExpressionOptions = {}): cloudwatch.IMetric {
    return this.search(METRIC.LIVE_VMS, IMAGE_VERSION_DIMENSION, 'Maximum', props);
  }

  /** image versions the sweeper deleted while pruning. @default - sum over 5 minutes */
  public metricVersionsDeleted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.VERSIONS_DELETED, props);
  }

  /**
   * 1 when the image is within 5 versions of its quota and pruning cannot make room (every version left is
   * protected), else 0: the next builds are about to fail. The sweeper's log says which versions are kept and why.
   *
   * @default - maximum over 5 minutes
   */
  public metricVersionQuotaNear(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.VERSION_QUOTA_NEAR, { statistic: cloudwatch.Stats.MAXIMUM, ...props });
  }

  /** session lifecycle events EventBridge accepted. @default - sum over 5 minutes */
  public metricEventsPublished(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.EVENTS_PUBLISHED, props);
  }

  /**
   * session lifecycle events that were not published: refused by EventBridge, or the one bounded attempt failed or
   * timed out. The request that caused them was answered as usual; the handler's log names the detail-types.
   *
   * @default - sum over 5 minutes
   */
  public metricEventsFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.EVENTS_FAILED, props);
  }

  /** session lifecycle events of one detail-type (see `SessionEventType`), published or not. @default - sum over 5 minutes */
  public metricSessionEvents(detailType: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric(METRIC.SESSION_EVENTS, { ...props, dimensionsMap: { [DETAIL_TYPE_DIMENSION]: detailType, ...props.dimensionsMap } });
  }

  /** session lifecycle events, one line per detail-type (a `SEARCH`; not alarmable). @default - sum over 5 minutes */
  public metricSessionEventsByDetailType(props: cloudwatch.MathExpressionOptions = {}): cloudwatch.IMetric {
    return this.search(METRIC.SESSION_EVENTS, DETAIL_TYPE_DIMENSION, 'Sum', props);
  }

  /**
   * running seconds of the sessions of one owner (the owning principal's ARN) that ended, as observed: from the VM's
   * start to its end, less the suspensions the API asked for.
   *
   * @default - sum over 5 minutes
   */
  public metricSessionRunningSeconds(ownerArn: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric(METRIC.SESSION_RUNNING_SECONDS, { ...props, dimensionsMap: { [OWNER_DIMENSION]: ownerArn, ...props.dimensionsMap } });
  }

  /** running seconds of ended sessions, one line per owner (a `SEARCH`; not alarmable). @default - sum over 5 minutes */
  public metricSessionRunningSecondsByOwner(props: cloudwatch.MathExpressionOptions = {}): cloudwatch.IMetric {
    return this.search(METRIC.SESSION_RUNNING_SECONDS, OWNER_DIMENSION, 'Sum', props);
  }

  /** suspended seconds (the API's suspensions) of the sessions of one owner that ended. @default - sum over 5 minutes */
  public metricSessionSuspendedSeconds(ownerArn: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric(METRIC.SESSION_SUSPENDED_SECONDS, { ...props, dimensionsMap: { [OWNER_DIMENSION]: ownerArn, ...props.dimensionsMap } });
  }

  /** checkpoints saved and confirmed (a requested save, or the sweeper's before a session's end). @default - sum over 5 minutes */
  public metricCheckpointsSaved(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.CHECKPOINTS_SAVED, props);
  }

  /**
   * checkpoint saves that failed (the guest failed, timed out, lied about the size, or the VM was gone): the session
   * and its previous checkpoint are unchanged, and the next sweep retries a save that is due.
   *
   * @default - sum over 5 minutes
   */
  public metricCheckpointsFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.CHECKPOINTS_FAILED, props);
  }

  /** size of each saved checkpoint, in bytes. @default - maximum over 5 minutes */
  public metricCheckpointBytes(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.CHECKPOINT_BYTES, { statistic: cloudwatch.Stats.MAXIMUM, ...props });
  }

  private search(metricName: string, dimension: string, statistic: string, props: cloudwatch.MathExpressionOptions): cloudwatch.IMetric {
    const period = props.period ?? Duration.minutes(5);
    const schema = `{${this.metricsNamespace},${dimension},service}`;
    return new cloudwatch.MathExpression({
      expression: `SEARCH('${schema} MetricName="${metricName}" service="${this.serviceName}"', '${statistic}', ${period.toSeconds()})`,
      usingMetrics: {},
      label: '',
      ...props,
      period,
    });
  }
}
