import { Duration } from 'aws-cdk-lib';
import { IdlePolicyWire, LIMITS } from '../shared/contract';
import { invalidProp } from '../shared/validation';

/**
 * Options for {@link IdlePolicy.suspendAfter}.
 */
export interface SuspendAfterOptions {
  /**
   * How long a MicroVM may stay suspended before the service terminates it. `Duration.seconds(0)` terminates it
   * as soon as it is suspended. Whole seconds.
   *
   * @default Duration.hours(1)
   */
  readonly terminateAfter?: Duration;

  /**
   * Whether inbound traffic to a suspended MicroVM resumes it. Without it, only `POST /sessions/{id}/resume`
   * (or the next `PUT`) resumes it.
   *
   * @default true
   */
  readonly autoResume?: boolean;
}

/**
 * When the service suspends an idle MicroVM and terminates a suspended one.
 *
 * Idle means no **inbound** traffic through the MicroVM's endpoint: outbound activity does not count, so
 * outbound-only workers should use `IdlePolicy.none()` (and rely on `maxSessionDuration`).
 */
export class IdlePolicy {
  /**
   * Suspend a MicroVM after `idle` without inbound traffic, then terminate it after it has been suspended for
   * `terminateAfter`.
   *
   * @param idle time without inbound traffic before suspending: 60 s to 8 h, whole seconds.
   */
  public static suspendAfter(idle: Duration, options: SuspendAfterOptions = {}): IdlePolicy {
    const terminateAfter = options.terminateAfter ?? Duration.hours(1);
    if (!idle.isUnresolved()) {
      const seconds = wholeSeconds('idlePolicy.suspendAfter', idle);
      if (seconds < LIMITS.MIN_IDLE_SECONDS || seconds > LIMITS.MAX_DURATION_SECONDS) {
        throw invalidProp('idlePolicy.suspendAfter', idle.toHumanString(), 'be between 60 seconds and 8 hours',
          'The service suspends after at least 60 s of idleness and no MicroVM lives longer than 8 h.');
      }
    }
    if (!terminateAfter.isUnresolved()) {
      wholeSeconds('idlePolicy.terminateAfter', terminateAfter);
    }
    return new IdlePolicy({
      maxIdleDurationSeconds: idle.toSeconds({ integral: false }),
      suspendedDurationSeconds: terminateAfter.toSeconds({ integral: false }),
      autoResumeEnabled: options.autoResume ?? true,
    });
  }

  /**
   * Never suspend for idleness: for outbound-only workers, whose activity the service does not see as traffic.
   * The MicroVM still ends at `maxSessionDuration`.
   */
  public static none(): IdlePolicy {
    return new IdlePolicy(undefined);
  }

  private constructor(private readonly config: IdlePolicyWire | undefined) {}

  /**
   * The fields sent to `RunMicrovm`, or `undefined` for `IdlePolicy.none()` (the block is then omitted).
   *
   * @internal
   */
  public _render(): IdlePolicyWire | undefined {
    return this.config;
  }
}

/** the duration in seconds, or an error naming `prop` when it is negative or not a whole number of seconds. */
function wholeSeconds(prop: string, duration: Duration): number {
  const millis = duration.toMilliseconds({ integral: false });
  if (millis < 0 || millis % 1000 !== 0) {
    throw invalidProp(prop, duration.toHumanString(), 'be a non-negative whole number of seconds',
      'The service takes idle and suspended durations in whole seconds.');
  }
  return millis / 1000;
}
