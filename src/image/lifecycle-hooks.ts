import { Duration } from 'aws-cdk-lib';

/**
 * One lifecycle hook: whether the service calls it, and how long it waits.
 *
 * The service POSTs to `/aws/lambda-microvms/runtime/v1/<hook>` on the hooks port; a disabled hook is never
 * called, even if the application serves it.
 */
export class Hook {
  /**
   * The service calls this hook.
   *
   * @param timeout how long the service waits for a 200. `ready` and `validate` accept 1 second to 1 hour
   * (they are retried on 503 until then); `run`, `resume`, `suspend` and `terminate` accept 1 to 60 seconds.
   * Whole seconds only. Default: 5 minutes for `ready` and `validate`, 10 seconds for the others (set here rather
   * than left to the service, whose own defaults are undocumented and as short as 1 second).
   */
  public static enabled(timeout?: Duration): Hook {
    return new Hook(true, timeout);
  }

  /**
   * The service does not call this hook (the same as leaving it out).
   */
  public static disabled(): Hook {
    return new Hook(false);
  }

  private constructor(
    /** whether the service calls the hook. */
    public readonly isEnabled: boolean,
    /** how long the service waits, when set explicitly. */
    public readonly timeout?: Duration,
  ) {}
}

/**
 * Lifecycle hooks of a MicroVM image: HTTP endpoints your application serves on `port` so that the service can
 * tell it when to get ready, run, suspend, resume and terminate.
 *
 * Service rules (checked at synth): a port is required and at least one hook must be enabled; any runtime hook
 * (`run`, `resume`, `suspend`, `terminate`) needs `ready` enabled too. Serve hooks on `0.0.0.0`, on a port
 * no app token grants: requests reach hooks from inside the guest, so any process there can call them.
 */
export interface LifecycleHooks {
  /**
   * The port the application serves its hooks on, 1-65535. Keep it out of the ports you hand out in tokens.
   */
  readonly port: number;

  /**
   * `/ready`: called during the build after the application starts; 200 takes the snapshot, 503 means "not yet"
   * and is retried until the timeout. Failure fails the build.
   *
   * @default - disabled (required when any runtime hook is enabled)
   */
  readonly ready?: Hook;

  /**
   * `/validate`: called after the build on a test MicroVM started from the snapshot; the pages it touches are
   * prefetched on later launches, so exercise the hot path here.
   *
   * @default - disabled
   */
  readonly validate?: Hook;

  /**
   * `/run`: called once when a MicroVM starts from the snapshot, with `{ microvmId, runHookPayload }`; traffic
   * flows after it returns 200, and any other answer terminates the MicroVM. Where per-VM identity and
   * per-session credentials belong.
   *
   * @default - disabled
   */
  readonly run?: Hook;

  /**
   * `/resume`: called before a suspended MicroVM becomes RUNNING again.
   *
   * @default - disabled
   */
  readonly resume?: Hook;

  /**
   * `/suspend`: called before a MicroVM is suspended; may be retried.
   *
   * @default - disabled
   */
  readonly suspend?: Hook;

  /**
   * `/terminate`: called before a MicroVM's resources are released; may be retried.
   *
   * @default - disabled
   */
  readonly terminate?: Hook;
}
