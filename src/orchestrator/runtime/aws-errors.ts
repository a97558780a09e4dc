// How the runtime reads AWS SDK errors, shared by the session API and the sweeper.

/** Name of an SDK error, safe to log (never the message, which may echo request fields). */
export function errorName(err: unknown): string {
  return (err as { name?: string } | undefined)?.name ?? 'Error';
}

/** SDK error messages carry ids and reasons, never request payloads; still capped for the log. */
export function errorMessage(err: unknown): string {
  const message = (err as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message.slice(0, 300) : '';
}

// The union of the lists the session API and the sweeper each kept before: throttling, 5xx, capacity, timeouts.
const RETRYABLE_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottlingError',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'InternalServerException',
  'InternalServerError',
  'InternalFailure',
  'ServiceException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InsufficientCapacityException',
  'TimeoutError',
  'RequestTimeout',
]);

const RETRYABLE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT']);

/**
 * True for errors worth another try: throttling, 5xx, capacity, and transient network failures (an error with no
 * HTTP answer at all counts as one). The session API answers them 503, the sweeper retries them with backoff.
 */
export function isRetryable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: string; code?: string; $fault?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
  if ((e.name && RETRYABLE_NAMES.has(e.name)) || (e.code && RETRYABLE_CODES.has(e.code))) return true;
  if (e.$fault === 'server' || (e.$retryable !== undefined && e.$retryable !== null && e.$retryable !== false)) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status === undefined) return true; // no HTTP answer at all: a network failure
  return status >= 500 || status === 429;
}
