/**
 * A service error as the restJson1 protocol carries it: the status code, the `x-amzn-errortype` header and a
 * JSON body with `message` plus the modelled fields, so the SDK raises its own exception class.
 */
export class ApiError extends Error {
  constructor(
    public readonly status: number,
    public readonly errorType: string,
    message: string,
    public readonly fields: Record<string, string | number> = {},
    public readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  /** The JSON body of the error response. */
  public body(): Record<string, string | number> {
    return { message: this.message, ...this.fields };
  }
}

export function validation(message: string): ApiError {
  return new ApiError(400, 'ValidationException', message);
}

export function notFound(resourceType: string, resourceId: string, message?: string): ApiError {
  return new ApiError(404, 'ResourceNotFoundException', message ?? `${resourceType} ${resourceId} not found.`, {
    resourceType,
    resourceId,
  });
}

export function conflict(resourceType: string, resourceId: string, message: string): ApiError {
  return new ApiError(409, 'ConflictException', message, { resourceType, resourceId });
}

export function quotaExceeded(message: string, quotaCode: string, resourceType = 'Microvm', resourceId = 'memory'): ApiError {
  return new ApiError(402, 'ServiceQuotaExceededException', message, {
    resourceType,
    resourceId,
    serviceCode: 'lambda',
    quotaCode,
  });
}

/** A throttle; `retryAfterSeconds` becomes the `Retry-After` header (the SDK waits at least that long). */
export function throttled(operation: string, retryAfterSeconds?: number): ApiError {
  return new ApiError(
    429,
    'ThrottlingException',
    `Rate exceeded for ${operation}.`,
    { serviceCode: 'lambda', quotaCode: `${operation}-tps` },
    retryAfterSeconds === undefined ? {} : { 'retry-after': String(Number(retryAfterSeconds.toFixed(3))) },
  );
}

export function internal(message = 'An internal error occurred. Retry the request.'): ApiError {
  return new ApiError(500, 'InternalServerException', message);
}

export function insufficientCapacity(): ApiError {
  return new ApiError(500, 'InsufficientCapacityException', 'Insufficient capacity to launch a MicroVM. Retry later.');
}

export function accessDenied(message: string): ApiError {
  return new ApiError(403, 'AccessDeniedException', message);
}
