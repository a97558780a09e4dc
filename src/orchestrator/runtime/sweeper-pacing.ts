import { isRetryable } from './aws-errors';

/**
 * Pacing for the sweeper's AWS calls: a per-operation rate limiter and a retry with exponential backoff and
 * full jitter, layered on top of the SDK's own retries so that a throttled or flaky service slows a sweep down
 * instead of failing it.
 */

/** Sleeps for a number of milliseconds; injectable so tests never wait on the wall clock. */
export type Sleep = (ms: number) => Promise<void>;

/** A monotonic clock in milliseconds. */
export type Clock = () => number;

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

export const monotonicClock: Clock = () => performance.now();

/**
 * Spaces calls at most `perSecond` apart. Slots are handed out in call order, so concurrent callers queue
 * instead of bursting (the service's TPS limits are also its burst limits).
 */
export class RateLimiter {
  private nextSlot = 0;
  private readonly intervalMs: number;

  constructor(perSecond: number, private readonly clock: Clock = monotonicClock, private readonly sleep: Sleep = realSleep) {
    if (!(perSecond > 0)) {
      throw new Error(`perSecond must be a positive number, got ${perSecond}`);
    }
    this.intervalMs = 1000 / perSecond;
  }

  /** Waits for the next free slot. */
  public async acquire(): Promise<void> {
    const now = this.clock();
    const slot = Math.max(now, this.nextSlot);
    this.nextSlot = slot + this.intervalMs;
    if (slot > now) {
      await this.sleep(slot - now);
    }
  }
}

export interface BackoffOptions {
  /** First retry waits up to this long (full jitter). */
  readonly baseDelayMs: number;
  /** No single wait is longer than this. */
  readonly maxDelayMs: number;
  /** Total attempts, including the first. */
  readonly maxAttempts: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseDelayMs: 100, maxDelayMs: 5_000, maxAttempts: 6 };

/** The service's hint, if any (`Retry-After` surfaces as `retryAfterSeconds` on the SDK exceptions). */
function retryAfterMs(err: unknown): number {
  const seconds = (err as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
  return typeof seconds === 'number' && seconds > 0 ? seconds * 1000 : 0;
}

export interface RetryContext {
  readonly backoff: BackoffOptions;
  readonly sleep: Sleep;
  /** Milliseconds left before the run's deadline; a wait that would cross it gives up instead. */
  readonly remainingMs: () => number;
  /** Called before each wait, for logs and counters. */
  readonly onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  readonly random?: () => number;
}

/**
 * Runs `fn` (after taking a slot from `limiter`, when given) and retries retryable failures with exponential
 * backoff and full jitter. Non-retryable errors and the last failure are rethrown unchanged.
 */
export async function withRetries<T>(ctx: RetryContext, fn: () => Promise<T>, limiter?: RateLimiter): Promise<T> {
  const random = ctx.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    if (limiter) {
      await limiter.acquire();
    }
    try {
      return await fn();
    } catch (err) {
      if (!isRetryable(err) || attempt >= ctx.backoff.maxAttempts) {
        throw err;
      }
      const ceiling = Math.min(ctx.backoff.maxDelayMs, ctx.backoff.baseDelayMs * 2 ** (attempt - 1));
      const delay = Math.min(ctx.backoff.maxDelayMs, Math.max(random() * ceiling, retryAfterMs(err)));
      if (delay >= ctx.remainingMs()) {
        throw err;
      }
      ctx.onRetry?.(err, attempt, delay);
      await ctx.sleep(delay);
    }
  }
}

/** Runs `worker` over `items` with at most `concurrency` in flight, in order of start. */
export async function forEachLimit<T>(items: readonly T[], concurrency: number, worker: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++];
      await worker(item);
    }
  });
  await Promise.all(lanes);
}
