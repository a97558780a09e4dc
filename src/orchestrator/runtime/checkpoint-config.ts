import { Env, fail, optional, optionalInt } from './env';
import { CHECKPOINTS, ENV, LIMITS } from '../../shared/contract';

/** Checkpoints as the construct configured them (`checkpoints` prop); undefined when they are off. */
export interface CheckpointConfig {
  readonly bucket: string;
  /** The guest's checkpoint port: only a checkpoint token (minted by the orchestrator, never given out) covers it. */
  readonly port: number;
  readonly path: string;
  /** The sweeper saves every live session this long before its end. */
  readonly beforeEndSeconds: number;
  /** The function the session API invokes asynchronously to run a requested save (the sweeper). */
  readonly workerFunction?: string;
  /** The sweeper also saves every session it finds newly suspended (by the idle policy or the API). */
  readonly onSuspend: boolean;
}

/** Parses the `MICROVM_CHECKPOINT_*` variables; undefined without a bucket. */
export function parseCheckpointConfig(env: Env = process.env): CheckpointConfig | undefined {
  const bucket = optional(env, ENV.CHECKPOINT_BUCKET);
  if (bucket === undefined) return undefined;
  const port = optionalInt(env, ENV.CHECKPOINT_PORT, 1, 65535);
  if (port === undefined) fail(ENV.CHECKPOINT_PORT, '', 'be set (the guest\'s checkpoint port) when MICROVM_CHECKPOINT_BUCKET is');
  const path = optional(env, ENV.CHECKPOINT_PATH) ?? CHECKPOINTS.DEFAULT_PATH;
  if (!/^\/[\x21-\x7e]*$/.test(path) || path.length > 256) fail(ENV.CHECKPOINT_PATH, path, 'be a path starting with / (at most 256 printable characters)');
  return {
    bucket,
    port: port as number,
    path,
    beforeEndSeconds: optionalInt(env, ENV.CHECKPOINT_BEFORE_END_SECONDS, 60, LIMITS.MAX_DURATION_SECONDS, 'seconds')
      ?? CHECKPOINTS.DEFAULT_BEFORE_END_SECONDS,
    workerFunction: optional(env, ENV.CHECKPOINT_WORKER_FUNCTION),
    onSuspend: parseOnSuspend(optional(env, ENV.CHECKPOINT_ON_SUSPEND)),
  };
}

function parseOnSuspend(raw: string | undefined): boolean {
  if (raw === undefined || raw === 'false') return false;
  if (raw === 'true') return true;
  return fail(ENV.CHECKPOINT_ON_SUSPEND, raw, 'be "true" or "false"');
}
