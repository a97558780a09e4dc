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
