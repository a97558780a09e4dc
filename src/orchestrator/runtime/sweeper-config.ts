import { Env, fail, optional, optionalInt, required } from './env';
import { EventsConfig, parseEventsConfig } from './session-usage';
import { ENV, IMAGE_ARN_PATTERN, LIMITS } from '../../shared/contract';

/** Per-run limits, so a large backlog is worked off over several runs instead of timing out. */
export interface SweeperBudget {
  /** ListMicrovms pages (50 VMs each) per run. Default 1000 (50,000 VMs). */
  readonly maxListPages?: number;
  /** TerminateMicrovm calls per run. Default 1000. */
  readonly maxTerminations?: number;
  /** Wall-clock milliseconds this run may take (the handler passes the Lambda time left minus a margin). Default none. */
  readonly deadlineMs?: number;
}

/** Call rates, below the service's TPS limits so the session API keeps its share. */
export interface SweeperRates {
  /** ListMicrovms calls per second (the service publishes no limit). Default 5. */
  readonly listPerSecond?: number;
  /** TerminateMicrovm calls per second (service limit 10, shared with the session API). Default 5. */
  readonly terminatePerSecond?: number;
  /** GetMicrovm calls per second (service limit 100). Default 20. */
  readonly getPerSecond?: number;
}

export interface SweeperConfig {
  readonly tableName: string;
  /** Only VMs of this image are swept (VMs cannot be tagged; the image is the attribution). */
  readonly imageArn: string;
  /** An unowned VM younger than this is never touched, so a launch that has not recorded its VM yet survives. */
  readonly orphanGracePeriodSeconds: number;
  /** Sessions whose VM started longer ago than this are ended. Default: only `expiresAt` is enforced. */
  readonly maxSessionDurationSeconds?: number;
  readonly budget: SweeperBudget;
  readonly rates?: SweeperRates;
  /** Minimum time between the two sightings that confirm an orphan. Default min(60 s, grace period). */
  readonly confirmAfterSeconds?: number;
  /** Table writes and terminations in flight at once (the rate limiters still apply). Default 4. */
  readonly concurrency?: number;
  /** The version the orchestrator launches: its live-VM count reads 0 rather than no data, and it is never pruned. */
  readonly launchVersion?: string;
  /** How many of the newest image versions pruning keeps; undefined when pruning is off. */
  readonly keepVersions?: number;
  /** Lifecycle events and usage of the sessions the sweeper sees end. Default: no events. */
  readonly events?: EventsConfig;
}

/** Grace period when the environment gives none (the construct always sets one). */
export const DEFAULT_ORPHAN_GRACE_SECONDS = 600;

/** Per-run limits when the config gives none; the handler's deadline comes from the invocation's remaining time. */
export const DEFAULT_SWEEPER_BUDGET = {
  // 50,000 VMs per pass.
  maxListPages: 1000,
  // at the default 5 terminations per second, 200 s of a 5-minute function.
  maxTerminations: 1000,
} as const satisfies SweeperBudget;

/** The sweeper's environment (names in `ENV`), validated; every message names the variable and the rule. */
export function parseSweeperConfig(env: Env = process.env): Omit<SweeperConfig, 'budget'> {
  const tableName = required(env, ENV.TABLE_NAME);
  const imageArn = required(env, ENV.IMAGE_ARN);
  if (!IMAGE_ARN_PATTERN.test(imageArn)) {
    fail(ENV.IMAGE_ARN, imageArn, 'be a colon-form MicroVM image ARN (arn:aws:lambda:<region>:<account>:microvm-image:<name>)');
  }
  return {
    tableName,
    imageArn,
    orphanGracePeriodSeconds: optionalInt(env, ENV.ORPHAN_GRACE_SECONDS, 1, LIMITS.MAX_DURATION_SECONDS, 'seconds') ?? DEFAULT_ORPHAN_GRACE_SECONDS,
    maxSessionDurationSeconds: optionalInt(env, ENV.MAX_DURATION_SECONDS, 1, LIMITS.MAX_DURATION_SECONDS, 'seconds'),
    launchVersion: optional(env, ENV.IMAGE_VERSION),
    keepVersions: optionalInt(env, ENV.KEEP_VERSIONS, 1, LIMITS.VERSIONS_PER_IMAGE - 1, 'versions'),
    events: parseEventsConfig(env),
  };
}

/**
 * True when the session API counts rows against `maxSessions` (set in the same environment): the sweeper then
 * gives back the slots of the rows it removes and reconciles the counter.
 */
export function countsAdmission(env: Env = process.env): boolean {
  return optional(env, ENV.MAX_SESSIONS) !== undefined;
}

/**
 * The run's deadline: the invocation's remaining time minus a margin (10%, at least 10 s) for publishing
 * metrics and returning, so a large backlog never times the function out.
 */
export function deadlineFor(remainingMs: number): number {
  return Math.max(1_000, remainingMs - Math.max(10_000, remainingMs * 0.1));
}
