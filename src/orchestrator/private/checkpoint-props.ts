import { Duration, aws_s3 as s3 } from 'aws-cdk-lib';
import { CHECKPOINTS, LIMITS } from '../../shared/contract';
import { invalidProp, isToken } from '../../shared/validation';
import type { CheckpointOptions } from '../checkpoints';

/** `checkpoints`, validated and with its defaults. */
export interface ResolvedCheckpoints {
  readonly port: number;
  readonly path: string;
  /** the user's bucket, or undefined for a new one. */
  readonly bucket?: s3.IBucket;
  readonly retentionDays: number;
  readonly beforeEndSeconds: number;
  readonly onSuspend: boolean;
}

/** What the checkpoint options are checked against. */
export interface CheckpointContext {
  readonly appPorts: number[];
  readonly hooksPort?: number;
  readonly maxDurationSeconds: number;
}

const DAY_MS = 86_400_000;

/** Validates `checkpoints` (tokens skipped) against the ports and the maximum duration it must stay clear of. */
export function resolveCheckpoints(options: CheckpointOptions, context: CheckpointContext): ResolvedCheckpoints {
  const port = options.port;
  if (!isToken(port)) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw invalidProp('checkpoints.port', port, 'be a port from 1 to 65535', 'Use the port the guest serves its checkpoint endpoint on.');
    }
    if (!isToken(context.appPorts) && context.appPorts.includes(port)) {
      throw invalidProp('checkpoints.port', port, `differ from every app port (${context.appPorts.join(', ')})`,
        'Clients get tokens for the app ports, and a token for the checkpoint port would let them drive saves and read the ' +
        'upload URL: serve checkpoints on a port of their own.');
    }
    if (port === context.hooksPort) {
      throw invalidProp('checkpoints.port', port, `differ from the image's hooks port ${context.hooksPort}`,
        'The hooks port serves /run and the other lifecycle hooks: serve checkpoints on a port of their own.');
    }
  }

  const path = options.path ?? CHECKPOINTS.DEFAULT_PATH;
  if (!isToken(path) && !/^\/[^\s?#]*$/.test(path)) {
    throw invalidProp('checkpoints.path', path, 'start with "/" and contain no whitespace, "?" or "#"',
      `Write the path alone, for example "${CHECKPOINTS.DEFAULT_PATH}".`);
  }

  const retention = options.retention ?? Duration.days(CHECKPOINTS.DEFAULT_RETENTION_DAYS);
  // a token stands for whole days (or seconds) as given: it converts only to its own unit, so it is taken as is.
  let retentionDays = retention.isUnresolved() ? retention.toDays() : 0;
  if (!retention.isUnresolved()) {
    const ms = retention.toMilliseconds({ integral: false });
    if (ms % DAY_MS !== 0 || ms < DAY_MS) {
      throw invalidProp('checkpoints.retention', retention.toHumanString(), 'be whole days, at least 1',
        'S3 lifecycle rules expire objects in whole days: use for example Duration.days(7).');
    }
    retentionDays = ms / DAY_MS;
  }
  if (options.retention !== undefined && options.bucket !== undefined) {
    throw invalidProp('checkpoints.retention', retention.toHumanString(), 'be left out when checkpoints.bucket is given',
      'A bucket you pass keeps its own lifecycle rules: expire the checkpoints there, or leave bucket out for a new one.');
  }

  const beforeEnd = options.beforeEnd ?? Duration.seconds(CHECKPOINTS.DEFAULT_BEFORE_END_SECONDS);
  let beforeEndSeconds = beforeEnd.isUnresolved() ? beforeEnd.toSeconds() : 0;
  if (!beforeEnd.isUnresolved()) {
    const ms = beforeEnd.toMilliseconds({ integral: false });
    const max = isToken(context.maxDurationSeconds) ? LIMITS.MAX_DURATION_SECONDS : context.maxDurationSeconds;
    if (ms % 1000 !== 0 || ms < 1000 || ms >= max * 1000) {
      throw invalidProp('checkpoints.beforeEnd', beforeEnd.toHumanString(),
        `be whole seconds, at least 1 second and less than maxSessionDuration (${Duration.seconds(max).toHumanString()})`,
        'The sweeper saves a session this long before its end: lower it, or raise maxSessionDuration.');
    }
    beforeEndSeconds = ms / 1000;
  }

  return { port, path, bucket: options.bucket, retentionDays, beforeEndSeconds, onSuspend: options.onSuspend ?? false };
}
