import { Duration, aws_s3 as s3 } from 'aws-cdk-lib';

/**
 * Options for {@link MicrovmOrchestratorProps.checkpoints}: save each session's workspace to S3 before its MicroVM
 * ends, and restore it when the session is relaunched. See docs/checkpoints.md.
 */
export interface CheckpointOptions {
  /**
   * The port in the MicroVM that serves `POST <path>` to save a checkpoint. Like the hooks port, it is never in a
   * client's token: it must differ from every app port and from the image's hooks port (synth fails otherwise).
   */
  readonly port: number;

  /**
   * The path on `port` the orchestrator posts a save request to. Starts with `/`.
   *
   * @default '/checkpoint'
   */
  readonly path?: string;

  /**
   * The bucket checkpoints are saved to. A bucket passed here is used as it is: its encryption, lifecycle and
   * policy are yours (the orchestrator's roles get object access to it, and its key when it has one).
   *
   * @default - a new bucket encrypted with the orchestrator's key, TLS only, public access blocked, objects expired
   * after `retention`, readable only by the orchestrator's two functions (and, in an isolated network, by the
   * MicroVMs' presigned requests through its S3 gateway endpoint)
   */
  readonly bucket?: s3.IBucket;

  /**
   * How long a checkpoint is kept (the new bucket's lifecycle expiration). Whole days, at least 1. Not applied to
   * a bucket passed in `bucket`.
   *
   * @default Duration.days(7)
   */
  readonly retention?: Duration;

  /**
   * The sweeper saves every live session that is within this time of its maximum duration (resuming a suspended
   * one first). Less than `maxSessionDuration`, and at least one `sweepInterval` so a sweep falls inside it.
   *
   * @default Duration.minutes(15)
   */
  readonly beforeEnd?: Duration;

  /**
   * Also save every session the sweeper finds newly suspended, by the idle policy or by the API: it resumes the
   * MicroVM, saves, and suspends it again. Each suspension is saved once (a save that fails is retried by the next
   * two sweeps); the next one is saved after the MicroVM has run again. A suspended MicroVM that the idle policy
   * terminates, or that reaches its end, is then relaunched from the state it was suspended in.
   *
   * The sweeper sees a suspension on its next run: the idle policy's `terminateAfter` must be at least one
   * `sweepInterval` (synth fails otherwise), and a `sweepInterval` longer than the idle policy's `suspendAfter` can
   * miss a suspension that follows a short resume (synth warns).
   *
   * @default false
   */
  readonly onSuspend?: boolean;
}
