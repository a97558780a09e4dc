import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { EventBridgeClient, PutEventsCommand, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { errorName } from './aws-errors';
import { DETAIL_TYPE_DIMENSION, EVENT_METRICS } from '../../shared/contract';
import { SESSION_EVENT_SOURCE, SessionEventDetail, SessionEventType } from '../../shared/session-events';

/** PutEvents takes at most 10 entries per call. */
const BATCH_SIZE = 10;
/** The service's `stateReason` is free text: kept short in an event. */
const STATE_REASON_CHARS = 256;

/**
 * Collects the lifecycle events of one request (or one sweep) and publishes them together, after the work is
 * done. Publishing is one bounded attempt: the client is built with `maxAttempts: 1` and a request timeout (see
 * {@link eventBridgeClient}), a failure is counted (`EventsFailed`) and logged without the events, and nothing
 * is ever thrown back to the request. No token, payload or secret is ever put in an event: the detail is built
 * only from the fields of {@link SessionEventDetail}.
 */
export class SessionEvents {
  /** Events go nowhere: the orchestrator was built with events disabled. */
  public static disabled(): SessionEvents {
    return new SessionEvents(undefined);
  }

  /** Events go to `busName` through `client`. */
  public static toBus(client: EventBridgeClient, busName: string, service: string, logger: Logger, metrics: Metrics): SessionEvents {
    return new SessionEvents({ client, busName, service, logger, metrics });
  }

  private readonly pending: PutEventsRequestEntry[] = [];

  private constructor(private readonly target?: {
    readonly client: EventBridgeClient;
    readonly busName: string;
    /** The orchestrator's service name, in every detail: what its rules match on when several share a bus. */
    readonly service: string;
    readonly logger: Logger;
    readonly metrics: Metrics;
  }) {}

  /** True when events are published (callers skip work that only feeds events, such as a GetMicrovm for the end reason). */
  get enabled(): boolean {
    return this.target !== undefined;
  }

  /** Queues one event; nothing is sent until {@link flush}. */
  emit(type: SessionEventType, detail: Omit<SessionEventDetail, 'version' | 'service'>): void {
    if (!this.target) return;
    const clean: SessionEventDetail = {
      version: '1',
      service: this.target.service,
      ...detail,
      ...detail.stateReason !== undefined ? { stateReason: detail.stateReason.slice(0, STATE_REASON_CHARS) } : {},
    };
    this.pending.push({
      EventBusName: this.target.busName,
      Source: SESSION_EVENT_SOURCE,
      DetailType: type,
      Time: new Date(detail.time),
      Detail: JSON.stringify(clean),
    });
  }

  /** Events queued and not yet published. */
  get queued(): ReadonlyArray<PutEventsRequestEntry> {
    return this.pending;
  }

  /**
   * Publishes what was queued, 10 entries per PutEvents call, the calls in parallel; each call is one attempt. Never
   * throws: entries the service refused, and calls that failed or timed out, count in `EventsFailed`.
   */
  async flush(): Promise<void> {
    const target = this.target;
    if (!target || this.pending.length === 0) return;
    const entries = this.pending.splice(0);
    const byType = new Map<string, number>();
    entries.forEach((e) => byType.set(String(e.DetailType), (byType.get(String(e.DetailType)) ?? 0) + 1));
    for (const [type, count] of byType) {
      const single = target.metrics.singleMetric();
      single.addDimension(DETAIL_TYPE_DIMENSION, type);
      single.addMetric(EVENT_METRICS.SESSION_EVENTS, MetricUnit.Count, count);
    }
    const batches: PutEventsRequestEntry[][] = [];
    for (let i = 0; i < entries.length; i += BATCH_SIZE) batches.push(entries.slice(i, i + BATCH_SIZE));
    let failed = 0;
    const errors = new Set<string>();
    await Promise.all(batches.map(async (batch) => {
      try {
        // the abort bounds the attempt whatever the HTTP handler does with its own timeouts.
        const out = await target.client.send(new PutEventsCommand({ Entries: batch }), { abortSignal: AbortSignal.timeout(PUBLISH_TIMEOUT_MS) });
        const refused = out.Entries?.filter((e) => e.ErrorCode) ?? [];
        failed += out.FailedEntryCount ?? refused.length;
        refused.forEach((e) => errors.add(String(e.ErrorCode)));
      } catch (err) {
        failed += batch.length;
        errors.add(errorName(err));
      }
    }));
    target.metrics.addMetric(EVENT_METRICS.EVENTS_PUBLISHED, MetricUnit.Count, entries.length - failed);
    if (failed > 0) {
      target.metrics.addMetric(EVENT_METRICS.EVENTS_FAILED, MetricUnit.Count, failed);
      // the types only: an event's detail never goes to the log of its failure.
      target.logger.warn('session events not published', {
        failed, of: entries.length, errors: [...errors], detailTypes: [...new Set(entries.map((e) => e.DetailType))],
      });
    }
  }
}

/** How long the one attempt to publish may take before it counts as failed. */
export const PUBLISH_TIMEOUT_MS = 2000;

/**
 * The handlers' publisher: events to `busName` through a client that makes one attempt, bounded by
 * {@link PUBLISH_TIMEOUT_MS} (default client configuration otherwise, so `AWS_ENDPOINT_URL_EVENTBRIDGE` redirects it);
 * {@link SessionEvents.disabled} without a bus.
 */
export function eventsFor(busName: string | undefined, service: string, logger: Logger, metrics: Metrics): SessionEvents {
  if (!busName) return SessionEvents.disabled();
  // one client per process, as for the other services: each queue of events is new, its connection is not.
  publishClient ??= new EventBridgeClient({
    maxAttempts: 1,
    // without throwOnRequestTimeout the handler only warns when the request timeout passes, and keeps waiting.
    requestHandler: { connectionTimeout: PUBLISH_TIMEOUT_MS / 2, requestTimeout: PUBLISH_TIMEOUT_MS, throwOnRequestTimeout: true },
  });
  return SessionEvents.toBus(publishClient, busName, service, logger, metrics);
}

let publishClient: EventBridgeClient | undefined;
