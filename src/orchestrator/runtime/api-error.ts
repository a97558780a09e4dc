import { errorName, isRetryable } from './aws-errors';
import { InvalidNextTokenError } from './table/session-store';

/**
 * An error the session API answers with `{ "error": { "code", "message" } }`.
 * Messages are written for callers: they never carry a stack, a token or a payload.
 */
export class ApiError extends Error {
  static badRequest(code: string, message: string): ApiError {
    return new ApiError(400, code, message);
  }

  static notFound(message = 'no such session for this caller'): ApiError {
    return new ApiError(404, 'SessionNotFound', message);
  }

  static conflict(code: string, message: string): ApiError {
    return new ApiError(409, code, message);
  }

  static tooManyRequests(code: string, message: string, retryAfterSeconds: number): ApiError {
    return new ApiError(429, code, message, retryAfterSeconds);
  }

  static unavailable(code: string, message: string, retryAfterSeconds = 1): ApiError {
    return new ApiError(503, code, message, retryAfterSeconds);
  }

  static badGateway(code: string, message: string, retryAfterSeconds = 5): ApiError {
    return new ApiError(502, code, message, retryAfterSeconds);
  }

  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly retryAfterSeconds?: number,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** A service-provided retry hint, or the fallback. */
export function retryAfterOf(err: unknown, fallback: number): number {
  const hint = (err as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
  return typeof hint === 'number' && Number.isFinite(hint) && hint >= 1 ? Math.min(Math.ceil(hint), 60) : fallback;
}

/** What {@link toApiError} reports as it maps an error: a backing service's error, a quota refusal, a bug. */
export interface ErrorHooks {
  upstream(err: unknown): void;
  quota(): void;
  unexpected(err: unknown): void;
}

/**
 * The answer for an error a route threw: its own {@link ApiError}; 429 for the service quota; 503 for a retryable
 * backing-service error; 502 for any other; 500 (with nothing of the error in it) for a bug.
 */
export function toApiError(err: unknown, hooks: ErrorHooks): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof InvalidNextTokenError) return ApiError.badRequest('InvalidNextToken', err.message);
  const e = err as { $metadata?: unknown; name?: string };
  if (e && typeof e === 'object' && ('$metadata' in e || isRetryable(err))) {
    hooks.upstream(err);
    if (e.name === 'ServiceQuotaExceededException') {
      hooks.quota();
      return ApiError.tooManyRequests('QuotaExceeded', 'the account has no MicroVM capacity left (service quota); retry later', 30);
    }
    if (isRetryable(err)) {
      return ApiError.unavailable('UpstreamUnavailable', 'a backing service is throttling or failing; retry after Retry-After seconds', retryAfterOf(err, 2));
    }
    return ApiError.badGateway('UpstreamError', `a backing service rejected the request (${errorName(err)})`);
  }
  hooks.unexpected(err);
  return new ApiError(500, 'InternalError', 'internal error');
}
