import { ConfigError } from './config';
import { SweeperBudget, SweeperConfig } from './sweeper';
import { ENV, IMAGE_ARN_PATTERN, LIMITS } from '../../shared/contract';

/** Grace period when the environment gives none (the construct always sets one). */
export const DEFAULT_ORPHAN_GRACE_SECONDS = 600;

/** Per-run limits; the deadline comes from the invocation's remaining time. */
export const DEFAULT_SWEEPER_BUDGET: SweeperBudget = {
  // 50,000 VMs per pass.
  maxListPages: 1000,
  // at the default 5 terminations per second, 200 s of a 5-minute function.
  maxTerminations: 1000,
};

type Env = Record<string, string | undefined>;

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
    orphanGracePeriodSeconds: wholeSeconds(env, ENV.ORPHAN_GRACE_SECONDS, 1, LIMITS.MAX_DURATION_SECONDS) ?? DEFAULT_ORPHAN_GRACE_SECONDS,
    maxSessionDurationSeconds: wholeSeconds(env, ENV.MAX_DURATION_SECONDS, 1, LIMITS.MAX_DURATION_SECONDS),
  };
}

/**
 * True when the session API counts rows against `maxSessions` (set in the same environment): the sweeper then
 * gives back the slots of the rows it removes and reconciles the counter.
 */
export function countsAdmission(env: Env = process.env): boolean {
  return Boolean(env[ENV.MAX_SESSIONS]?.trim());
}

/**
 * The run's deadline: the invocation's remaining time minus a margin (10%, at least 10 s) for publishing
 * metrics and returning, so a large backlog never times the function out.
 */
export function deadlineFor(remainingMs: number): number {
  return Math.max(1_000, remainingMs - Math.max(10_000, remainingMs * 0.1));
}

function fail(name: string, value: string, rule: string): never {
  throw new ConfigError(`${name} must ${rule}, got ${JSON.stringify(value.slice(0, 200))}. Fix the MicrovmOrchestrator props or the function's environment.`);
}

function required(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) fail(name, '', 'be set');
  return value;
}

function wholeSeconds(env: Env, name: string, min: number, max: number): number | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    fail(name, raw, `be a whole number of seconds from ${min} to ${max}`);
  }
  return value;
}
