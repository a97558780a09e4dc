import { Stack, aws_events as events } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { MicrovmMemory } from '../image/microvm-memory';
import { SESSION_EVENT_SOURCE, SESSION_EVENT_TYPES } from '../shared/session-events';

/**
 * Where a {@link MicrovmOrchestrator} publishes its session lifecycle events (source `cdk-lambda-microvms.sessions`;
 * the detail-types are in {@link SessionEventType}, the schema in docs/events.md). The session API and the sweeper
 * get `events:PutEvents` on that bus only.
 */
export abstract class LifecycleEvents {
  /** The account's default event bus (the default). */
  public static defaultBus(): LifecycleEvents {
    return new BusEvents(undefined);
  }

  /** A bus of your own, for example one with an archive, or one in a central account (grant it there too). */
  public static toBus(bus: events.IEventBus): LifecycleEvents {
    return new BusEvents(bus);
  }

  /** No events: nothing is published, and the functions get no `events:PutEvents`. Usage metrics are still emitted. */
  public static disabled(): LifecycleEvents {
    return new NoEvents();
  }

  /** @internal the bus, or undefined when events are disabled. */
  public abstract _bind(scope: Construct): events.IEventBus | undefined;
}

class BusEvents extends LifecycleEvents {
  constructor(private readonly bus: events.IEventBus | undefined) {
    super();
  }

  public _bind(scope: Construct): events.IEventBus {
    if (this.bus) return this.bus;
    const stack = Stack.of(scope);
    const id = 'DefaultEventBus';
    return (scope.node.tryFindChild(id) as events.IEventBus | undefined)
      ?? events.EventBus.fromEventBusArn(scope, id, stack.formatArn({ service: 'events', resource: 'event-bus', resourceName: 'default' }));
  }
}

class NoEvents extends LifecycleEvents {
  public _bind(): undefined {
    return undefined;
  }
}

/** The `detail-type` of each session lifecycle event (all with source `cdk-lambda-microvms.sessions`). */
export class SessionEventType {
  /** A session's MicroVM was launched and recorded (new sessions and relaunches), with the launch latency. */
  public static readonly CREATED = SESSION_EVENT_TYPES.CREATED;
  /** RunMicrovm failed (the reason is the error's name). */
  public static readonly LAUNCH_FAILED = SESSION_EVENT_TYPES.LAUNCH_FAILED;
  /** The API suspended the session's MicroVM. */
  public static readonly SUSPENDED = SESSION_EVENT_TYPES.SUSPENDED;
  /** The API resumed the session's MicroVM. */
  public static readonly RESUMED = SESSION_EVENT_TYPES.RESUMED;
  /** A session's MicroVM ended (deleted, idle timeout, maximum duration, `/run` failure, the sweeper, or on its own), with its usage. */
  public static readonly ENDED = SESSION_EVENT_TYPES.ENDED;
  /** A PUT was refused by `maxSessions` or `maxSessionsPerOwner`. */
  public static readonly ADMISSION_REFUSED = SESSION_EVENT_TYPES.ADMISSION_REFUSED;
  /** The sweeper terminated a MicroVM no session owned. */
  public static readonly ORPHAN_TERMINATED = SESSION_EVENT_TYPES.ORPHAN_TERMINATED;
  /** A shell token was minted: who asked, for which session, for how long. */
  public static readonly SHELL_ACCESS_GRANTED = SESSION_EVENT_TYPES.SHELL_ACCESS_GRANTED;
  /** A checkpoint of the session's workspace was saved and confirmed (key, bytes). */
  public static readonly CHECKPOINT_SAVED = SESSION_EVENT_TYPES.CHECKPOINT_SAVED;
  /** A checkpoint save failed (the reason); the session and its previous checkpoint are unchanged. */
  public static readonly CHECKPOINT_FAILED = SESSION_EVENT_TYPES.CHECKPOINT_FAILED;
  /** The `source` of every event. */
  public static readonly SOURCE = SESSION_EVENT_SOURCE;

  private constructor() {}
}

/**
 * Rates for the estimated cost in `Session Ended` events: running seconds x (baseline GiB x `perGbSecond` + vCPUs x
 * `perVcpuSecond`), vCPUs following memory (1 per 2 GiB). An estimate from what the orchestrator observed: the
 * service bills what it measures (burst above the baseline, idle-policy suspensions), so reconcile with your bill.
 */
export interface UsagePricing {
  /** price per GB-second of baseline memory while running. */
  readonly perGbSecond: number;
  /** price per vCPU-second while running. */
  readonly perVcpuSecond: number;
  /**
   * ISO 4217 currency of the rates.
   *
   * @default 'USD'
   */
  readonly currency?: string;
  /**
   * the image's baseline memory, for an imported image (a `MicrovmImage` knows its own).
   *
   * @default - the image's `memory`
   */
  readonly baselineMemory?: MicrovmMemory;
}

/** Options of {@link MicrovmOrchestrator.onSessionEvent}. */
export interface OnSessionEventOptions extends events.OnEventOptions {
  /**
   * only events of these detail-types (see {@link SessionEventType}).
   *
   * @default - every session lifecycle event
   */
  readonly detailTypes?: string[];
}
