import { randomUUID } from 'node:crypto';
import type * as http from 'node:http';
import { ApiError, accessDenied, insufficientCapacity, internal, throttled, validation } from './errors';
import type { FaultInjector, RateLimiter } from './faults';
import { readBody } from './http-body';
import type { ImageApi } from './image-api';
import type { MicrovmApi } from './microvm-api';
import { resolveRoute } from './router';
import type { OperationName } from './types';

const MAX_BODY_BYTES = 1024 * 1024;
const SIGV4 = /^AWS4-HMAC-SHA256 Credential=[^/\s]+\/\d{8}\/[a-z0-9-]+\/lambda\/aws4_request/;

/** What the API's HTTP handling needs from the emulator. */
export interface ApiHandlerContext {
  readonly microvmApi: MicrovmApi;
  readonly imageApi: ImageApi;
  readonly faults: FaultInjector;
  readonly limiter: RateLimiter;
  readonly requireSignature: boolean;
  now(): number;
}

/**
 * The management API's HTTP side: each request goes through route, signature, injected faults, rate limit, body
 * and effect in that fixed order, is answered as restJson1 with the service's error shapes, and is counted.
 */
export class ApiHandler {
  private counts: Partial<Record<OperationName, number>> = {};
  private errors: Partial<Record<OperationName, Record<string, number>>> = {};

  constructor(private readonly ctx: ApiHandlerContext) {}

  /** Requests received per operation, whatever their outcome. */
  public callCounts(): Partial<Record<OperationName, number>> {
    return { ...this.counts };
  }

  /** Error answers per operation and error type. */
  public errorCounts(): Partial<Record<OperationName, Record<string, number>>> {
    return JSON.parse(JSON.stringify(this.errors));
  }

  public resetCounts(): void {
    this.counts = {};
    this.errors = {};
  }

  public async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let operation: OperationName | undefined;
    try {
      const received = await readBody(req, MAX_BODY_BYTES);
      if (received === undefined) throw validation(`The request body exceeds ${MAX_BODY_BYTES} bytes.`);
      const raw = received.toString('utf8');
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const route = resolveRoute(req.method ?? 'GET', url.pathname, url.searchParams, this.ctx.microvmApi, this.ctx.imageApi);
      operation = route.operation;
      this.counts[operation] = (this.counts[operation] ?? 0) + 1;
      if (this.ctx.requireSignature && !SIGV4.test(req.headers.authorization ?? '')) {
        throw accessDenied('Missing or invalid SigV4 Authorization header (signing name lambda).');
      }
      const decision = this.ctx.faults.decide(operation);
      if (decision.latencyMs > 0) await sleep(decision.latencyMs);
      if (decision.fault === 'throttle') throw throttled(operation);
      if (decision.fault === 'error') throw internal();
      if (decision.fault === 'capacity') throw insufficientCapacity();
      const waitSeconds = this.ctx.limiter.take(operation, this.ctx.now());
      if (waitSeconds > 0) throw throttled(operation, waitSeconds);
      const body = route.hasBody ? parseJson(raw) : {};
      const result = route.invoke(body);
      if (decision.errorAfterEffect) throw internal();
      send(res, route.successStatus, result);
    } catch (error) {
      const apiError = error instanceof ApiError ? error : internal(`Emulator error: ${(error as Error).message}`);
      if (operation !== undefined) {
        const perOp = (this.errors[operation] ??= {});
        perOp[apiError.errorType] = (perOp[apiError.errorType] ?? 0) + 1;
      }
      send(res, apiError.status, apiError.body(), { 'x-amzn-errortype': apiError.errorType, ...apiError.headers });
    }
  }
}

function parseJson(raw: string): Record<string, any> {
  if (raw.trim() === '') return {};
  try {
    const parsed = JSON.parse(raw);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed;
  } catch {
    // fall through.
  }
  throw validation('The request body must be a JSON object.');
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body ?? {});
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
    'x-amzn-requestid': randomUUID(),
    ...headers,
  });
  res.end(payload);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
