import { isRetryable } from '../../../src/orchestrator/runtime/aws-errors';
import { forEachLimit, RateLimiter, RetryContext, withRetries } from '../../../src/orchestrator/runtime/sweeper-pacing';

/** A fake clock whose sleeps advance it, so pacing is checked without waiting. */
function fakeTime() {
  let now = 0;
  const sleeps: number[] = [];
  return {
    clock: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    sleeps,
    advance: (ms: number) => (now += ms),
  };
}

function awsError(name: string, status: number, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status }, ...extra });
}

describe('RateLimiter', () => {
  test('spaces calls 1/rate apart, in call order, including concurrent callers', async () => {
    // GIVEN a limiter of 10 per second on a clock that stands still
    const sleeps: number[] = [];
    const limiter = new RateLimiter(10, () => 0, async (ms) => void sleeps.push(ms));

    // WHEN five callers acquire at once
    await Promise.all([0, 1, 2, 3, 4].map(() => limiter.acquire()));

    // THEN the first goes at once and each next one waits 100 ms longer than the one before
    expect(sleeps).toEqual([100, 200, 300, 400]);
  });

  test('does not wait when calls are already slower than the rate', async () => {
    const time = fakeTime();
    const limiter = new RateLimiter(10, time.clock, time.sleep);
    await limiter.acquire();
    time.advance(500);
    await limiter.acquire();
    expect(time.sleeps).toEqual([]);
  });

  test('fails if the rate is not positive', () => {
    expect(() => new RateLimiter(0)).toThrow(/perSecond must be a positive number, got 0/);
  });
});

describe('isRetryable', () => {
  test.each([
    [awsError('ThrottlingException', 429), true],
    [awsError('InternalServerException', 500), true],
    [awsError('SomethingNew', 503), true],
    [Object.assign(new Error('reset'), { code: 'ECONNRESET' }), true],
    [awsError('ProvisionedThroughputExceededException', 400), true],
    [awsError('ValidationException', 400), false],
    [awsError('ResourceNotFoundException', 404), false],
    [awsError('ConditionalCheckFailedException', 400), false],
    [awsError('ServiceQuotaExceededException', 402), false],
    ['a string', false],
  ])('%# is retryable: %s', (err, expected) => {
    expect(isRetryable(err)).toBe(expected);
  });
});

describe('withRetries', () => {
  function context(time: ReturnType<typeof fakeTime>, remaining = 60_000): RetryContext {
    return { backoff: { baseDelayMs: 100, maxDelayMs: 1_000, maxAttempts: 5 }, sleep: time.sleep, remainingMs: () => remaining, random: () => 1 };
  }

  test('retries throttling and 5xx with exponential backoff, capped', async () => {
    // GIVEN a call that fails four times, then succeeds
    const time = fakeTime();
    let calls = 0;
    const fn = async () => {
      if (++calls < 5) throw awsError(calls % 2 ? 'ThrottlingException' : 'InternalServerException', calls % 2 ? 429 : 500);
      return 'ok';
    };

    // WHEN / THEN
    await expect(withRetries(context(time), fn)).resolves.toBe('ok');
    expect(time.sleeps).toEqual([100, 200, 400, 800]);
  });

  test('honours the service retry-after hint, within the cap', async () => {
    const time = fakeTime();
    let calls = 0;
    const fn = async () => {
      if (++calls === 1) throw awsError('ThrottlingException', 429, { retryAfterSeconds: 0.5 });
      return calls;
    };
    await withRetries({ ...context(time), random: () => 0 }, fn);
    expect(time.sleeps).toEqual([500]);
  });

  test('gives up at maxAttempts and rethrows the last error', async () => {
    const time = fakeTime();
    const fn = jest.fn(async () => {
      throw awsError('ThrottlingException', 429);
    });
    await expect(withRetries(context(time), fn)).rejects.toThrow('ThrottlingException');
    expect(fn).toHaveBeenCalledTimes(5);
  });

  test('does not retry client errors', async () => {
    const time = fakeTime();
    const fn = jest.fn(async () => {
      throw awsError('ValidationException', 400);
    });
    await expect(withRetries(context(time), fn)).rejects.toThrow('ValidationException');
    expect(fn).toHaveBeenCalledTimes(1);
  });

  test('does not wait past the deadline', async () => {
    // GIVEN 150 ms left and a backoff that would wait 100 ms, then 200 ms
    const time = fakeTime();
    const fn = jest.fn(async () => {
      throw awsError('InternalServerException', 500);
    });

    // WHEN / THEN it gives up instead of waiting 200 ms
    await expect(withRetries(context(time, 150), fn)).rejects.toThrow('InternalServerException');
    expect(time.sleeps).toEqual([100]);
    expect(fn).toHaveBeenCalledTimes(2);
  });

  test('takes a limiter slot before every attempt', async () => {
    const time = fakeTime();
    const limiter = new RateLimiter(5, time.clock, time.sleep);
    let calls = 0;
    await withRetries({ ...context(time), random: () => 0 }, async () => {
      if (++calls < 3) throw awsError('ThrottlingException', 429);
    }, limiter);
    // backoff waits are 0 here, so the only waits are the limiter's 200 ms spacing.
    expect(time.sleeps.filter((ms) => ms > 0)).toEqual([200, 200]);
  });
});

describe('forEachLimit', () => {
  test('never has more than `concurrency` workers in flight and visits every item once', async () => {
    let inFlight = 0;
    let peak = 0;
    const seen: number[] = [];
    await forEachLimit([...Array(20).keys()], 3, async (i) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      seen.push(i);
      inFlight--;
    });
    expect(peak).toBe(3);
    expect(seen.sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
  });
});
