import type { APIGatewayProxyEventV2WithIAMAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ApiError } from './api-error';

/** Largest request body accepted, after base64 decoding. */
export const MAX_BODY_BYTES = 16 * 1024;

/** A matched route: the operation and its session id (absent for the list route). */
export interface Route {
  readonly operation: 'put' | 'get' | 'delete' | 'list' | 'token' | 'shellToken' | 'suspend' | 'resume' | 'checkpoint';
  readonly sessionId?: string;
}

const SESSION_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** True for a well-formed session id: 1-128 characters of `[A-Za-z0-9._-]`. */
export function isSessionId(value: string): boolean {
  return SESSION_ID.test(value);
}

/**
 * Maps method + path to an operation. Unknown paths are 404, known paths with another method 405
 * (with `Allow`), malformed ids 400; this runs before anything touches the table. `shell-token` is a route only
 * when `shell` is true (the orchestrator has shell access); otherwise it is an unknown path like any other.
 */
export function route(method: string, path: string, shell = false, checkpoints = false): Route {
  if (path === '/sessions') {
    if (method === 'GET') return { operation: 'list' };
    throw methodNotAllowed(['GET']);
  }
  const match = /^\/sessions\/([^/]*)(?:\/([^/]*))?$/.exec(path);
  if (!match || match[1] === '') throw new ApiError(404, 'RouteNotFound', 'no such route; see the session API reference');
  const [, rawId, action] = match;
  let operation: Route['operation'];
  if (action === undefined) {
    const byMethod: Record<string, Route['operation']> = { PUT: 'put', GET: 'get', DELETE: 'delete' };
    if (!byMethod[method]) throw methodNotAllowed(['PUT', 'GET', 'DELETE']);
    operation = byMethod[method];
  } else if (action === 'token' || action === 'suspend' || action === 'resume') {
    if (method !== 'POST') throw methodNotAllowed(['POST']);
    operation = action;
  } else if (action === 'checkpoint' && checkpoints) {
    if (method !== 'POST') throw methodNotAllowed(['POST']);
    operation = 'checkpoint';
  } else if (action === 'shell-token' && shell) {
    if (method !== 'POST') throw methodNotAllowed(['POST']);
    operation = 'shellToken';
  } else {
    throw new ApiError(404, 'RouteNotFound', 'no such route; see the session API reference');
  }
  if (!isSessionId(rawId)) {
    throw ApiError.badRequest('InvalidSessionId', `session id must be 1-128 characters of [A-Za-z0-9._-], got ${rawId.length} characters`);
  }
  return { operation, sessionId: rawId };
}

function methodNotAllowed(allowed: string[]): ApiError {
  return new ApiError(405, 'MethodNotAllowed', `method not allowed on this route; use ${allowed.join(', ')}`, undefined, { Allow: allowed.join(', ') });
}

/** Lower-cased header lookup (Function URLs already lower-case, API Gateway may not). */
export function header(event: APIGatewayProxyEventV2WithIAMAuthorizer, name: string): string | undefined {
  const headers = event.headers ?? {};
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

/**
 * Reads the body as a JSON object whose keys are all in `allowed`. An absent or empty body is `{}`.
 * Base64 bodies (Function URLs set `isBase64Encoded` for some content types) are decoded first.
 */
export function jsonBody(event: APIGatewayProxyEventV2WithIAMAuthorizer, allowed: readonly string[]): Record<string, unknown> {
  const raw = event.body;
  if (raw === undefined || raw === null || raw === '') return {};
  if (typeof raw !== 'string') throw ApiError.badRequest('InvalidBody', 'request body must be a JSON object');
  if (raw.length > MAX_BODY_BYTES * 2) throw tooLarge();
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.length > MAX_BODY_BYTES) throw tooLarge();
  const contentType = header(event, 'content-type');
  if (contentType !== undefined && !/^application\/([a-z0-9.+-]*\+)?json\s*(;.*)?$/i.test(contentType.trim())) {
    throw new ApiError(415, 'UnsupportedMediaType', 'request body must be JSON; send Content-Type: application/json');
  }
  const text = bytes.toString('utf8');
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw ApiError.badRequest('InvalidBody', 'request body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw ApiError.badRequest('InvalidBody', 'request body must be a JSON object');
  }
  const unknown = Object.keys(parsed).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    const shown = unknown.slice(0, 3).map((key) => JSON.stringify(key.length > 40 ? `${key.slice(0, 37)}...` : key)).join(', ');
    const accepted = allowed.length ? `accepted fields: ${allowed.join(', ')}` : 'this route takes no fields';
    throw ApiError.badRequest('InvalidBody', `unknown field(s) ${shown}; ${accepted}`);
  }
  return parsed as Record<string, unknown>;
}

function tooLarge(): ApiError {
  return new ApiError(413, 'PayloadTooLarge', `request body must be at most ${MAX_BODY_BYTES} bytes`);
}

/** A JSON response that is never cached (it may carry a token). */
export function jsonResponse(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
    body: body === undefined ? '' : JSON.stringify(body),
  };
}

/** The error shape of the session API. */
export function errorResponse(err: ApiError): APIGatewayProxyStructuredResultV2 {
  const headers: Record<string, string> = { ...err.headers };
  if (err.retryAfterSeconds !== undefined) headers['retry-after'] = String(err.retryAfterSeconds);
  return jsonResponse(err.statusCode, { error: { code: err.code, message: err.message } }, headers);
}
