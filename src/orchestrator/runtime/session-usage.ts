import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { Env, fail, optional, optionalInt } from './env';
import type { SessionEvents } from './session-events';
import type { ScannedSession } from './table/schema';
import { ENV, EVENT_METRICS, OWNER_DIMENSION } from '../../shared/contract';
import { SESSION_EVENT_TYPES, SessionEndReason, SessionUsage } from '../../shared/session-events';

/** Rates for the estimated cost of a session's running time (baseline memory and vCPU). */
export interface UsagePricing {
  readonly perGbSecond: number;
  readonly perVcpuSecond: number;
  readonly currency: string;
}

/** What the handlers need to publish lifecycle events and report usage. */
export interface EventsConfig {
  /** Undefined: no events (the orchestrator was built without them). */
  readonly eventBusName?: string;
  readonly memoryMiB?: number;
  readonly pricing?: UsagePricing;
}

/** Parses `MICROVM_EVENT_BUS_NAME`, `MICROVM_BASELINE_MEMORY_MIB` and `MICROVM_USAGE_PRICING`. */
export function parseEventsConfig(env: Env = process.env): EventsConfig {
  const raw = optional(env, ENV.USAGE_PRICING);
  let pricing: UsagePricing | undefined;
  if (raw !== undefined) {
    const rule = 'be empty or a JSON object {perGbSecond, perVcpuSecond (numbers >= 0), currency (3 letters)}';
    let v: Record<string, unknown> = {};
    try {
      v = JSON.parse(raw);
    } catch {
      fail(ENV.USAGE_PRICING, raw, rule);
    }
    const rate = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x >= 0;
    if (typeof v !== 'object' || v === null || !rate(v.perGbSecond) || !rate(v.perVcpuSecond)
      || typeof v.currency !== 'string' || !/^[A-Z]{3}$/.test(v.currency)) {
      fail(ENV.USAGE_PRICING, raw, rule);
    }
    pricing = { perGbSecond: v.perGbSecond as number, perVcpuSecond: v.perVcpuSecond as number, currency: v.currency as string };
  }
  return {
    eventBusName: optional(env, ENV.EVENT_BUS_NAME),
    memoryMiB: optionalInt(env, ENV.BASELINE_MEMORY_MIB, 128, 1_048_576, 'MiB'),
    pricing,
  };
}

/** The usage fields a session row carries. */
export type UsageRow = Pick<ScannedSession, 'startedAt' | 'suspendedAt' | 'suspendedMs' | 'expiresAt'>;

/**
 * One generation's usage, from what the orchestrator observed: from the VM's start to `endedAt` (never past the row's
 * `expiresAt`, when the service ended it), minus the suspensions the API asked for. Undefined when the row never
 * recorded a start (a launch that never ran).
 */
export function usageOf(row: UsageRow, endedAtMs: number, config: EventsConfig): SessionUsage | undefined {
  const started = Date.parse(row.startedAt ?? '');
  if (!Number.isFinite(started)) return undefined;
  const cap = Date.parse(row.expiresAt ?? '');
  const ended = Math.max(started, Number.isFinite(cap) ? Math.min(endedAtMs, cap) : endedAtMs);
  const totalMs = ended - started;
  const openSuspension = Date.parse(row.suspendedAt ?? '');
  const suspendedMs = Math.min(totalMs, (row.suspendedMs ?? 0) + (Number.isFinite(openSuspension) ? Math.max(0, ended - openSuspension) : 0));
  const runningSeconds = seconds(totalMs - suspendedMs);
  const usage: SessionUsage = {
    startedAt: new Date(started).toISOString(),
    endedAt: new Date(ended).toISOString(),
    totalSeconds: seconds(totalMs),
    suspendedSeconds: seconds(suspendedMs),
    runningSeconds,
    ...config.memoryMiB !== undefined ? { memoryMiB: config.memoryMiB } : {},
  };
  if (!config.pricing || config.memoryMiB === undefined) return usage;
  const gib = config.memoryMiB / 1024;
  // vCPUs follow memory: 1 vCPU per 2 GiB of baseline.
  const perSecond = gib * config.pricing.perGbSecond + (gib / 2) * config.pricing.perVcpuSecond;
  return { ...usage, estimatedCost: Math.round(runningSeconds * perSecond * 1e6) / 1e6, currency: config.pricing.currency };
}

/**
 * Why a VM ended, from its row and the service's answer (`stateReason` is free text; the emulator's wording follows
 * the service's documented triggers). The sweeper's own termination marks the row TERMINATING first.
 */
export function endReasonOf(row: Pick<ScannedSession, 'vmState' | 'expiresAt' | 'startedAt'>, endedAtMs: number, stateReason?: string): SessionEndReason {
  if (row.vmState === 'TERMINATING') return 'sweeper';
  const text = (stateReason ?? '').toLowerCase();
  if (text.includes('maximum duration')) return 'maxDuration';
  if (text.includes('idle') || text.includes('suspended for')) return 'idleTimeout';
  if (text.includes('/run') || text.includes('run hook') || (stateReason && !row.startedAt)) return 'runFailed';
  const cap = Date.parse(row.expiresAt ?? '');
  if (Number.isFinite(cap) && endedAtMs >= cap - 1000) return 'maxDuration';
  return 'vmEnded';
}

/** The row a `Session Ended` event is built from (the sweeper's scan reads these fields too). */
export type EndedRow = Pick<ScannedSession, 'owner' | 'sessionId'> & Partial<Pick<ScannedSession,
'ownerArn' | 'generation' | 'microvmId' | 'imageVersion' | 'labels' | 'vmState' | 'expiresAt' | 'startedAt' | 'suspendedAt' | 'suspendedMs'>>;

/**
 * Queues the `Session Ended` event of one generation and records its usage in the per-owner metrics. Called once, by
 * whoever won the conditional write that took the row off its VM (DELETE, the relaunch's claim, or the sweeper's
 * repair), so each generation ends once.
 */
export function reportEnded(
  events: SessionEvents, metrics: Metrics, config: EventsConfig,
  row: EndedRow, reason: SessionEndReason, observedAtMs: number, stateReason?: string,
): void {
  const usage = usageOf(row, observedAtMs, config);
  if (usage && row.ownerArn) {
    const m = metrics.singleMetric();
    m.addDimension(OWNER_DIMENSION, row.ownerArn);
    m.addMetric(EVENT_METRICS.SESSION_RUNNING_SECONDS, MetricUnit.Seconds, usage.runningSeconds);
    m.addMetric(EVENT_METRICS.SESSION_SUSPENDED_SECONDS, MetricUnit.Seconds, usage.suspendedSeconds);
  }
  events.emit(SESSION_EVENT_TYPES.ENDED, {
    ...sessionFields(row),
    time: new Date(observedAtMs).toISOString(),
    reason,
    ...stateReason ? { stateReason } : {},
    ...usage ? { usage } : {},
  });
}

/** The identifying fields every session event carries, from a row (never a token, payload or endpoint). */
export function sessionFields(row: EndedRow) {
  return {
    owner: row.owner,
    sessionId: row.sessionId,
    ...row.ownerArn ? { ownerArn: row.ownerArn } : {},
    ...row.generation !== undefined ? { generation: row.generation } : {},
    ...row.microvmId ? { microvmId: row.microvmId } : {},
    ...row.imageVersion ? { imageVersion: row.imageVersion } : {},
    ...row.labels && Object.keys(row.labels).length ? { labels: row.labels } : {},
  };
}

function seconds(ms: number): number {
  return Math.round(ms / 100) / 10;
}
