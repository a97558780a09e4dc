import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody } from './http-body';

/** One entry a `PutEvents` call delivered, as the bus recorded it. */
export interface RecordedEvent {
  readonly id: string;
  readonly eventBusName: string;
  readonly source: string;
  readonly detailType: string;
  /** The entry's `Detail`, parsed. */
  readonly detail: Record<string, unknown>;
  /** The entry's `Detail` exactly as sent (to check what is and is not in it). */
  readonly rawDetail: string;
  readonly time?: string;
}

/** How the next `PutEvents` calls fail: a throttling error, a 500, a refusal of every entry, or no answer. */
export type EventBusFault = 'throttle' | 'internalError' | 'refuseEntries' | 'hang';

export interface LocalEventBusOptions {
  /** Buses that exist besides `default` (names; an ARN's last part is its name). */
  readonly busNames?: string[];
}

/** Most entries one `PutEvents` call takes, and the largest entry (EventBridge's limits). */
const MAX_ENTRIES = 10;
const MAX_ENTRY_BYTES = 256 * 1024;
const MAX_REQUEST_BYTES = 1024 * 1024;

/**
 * A local stand-in for EventBridge's `PutEvents` (JSON 1.1 over HTTP), for tests and the local demo: point the real
 * SDK client at {@link endpoint} (or set `AWS_ENDPOINT_URL_EVENTBRIDGE`). It records what it accepts, validates the
 * request as the service does (at most 10 entries, 256 KB each, a bus that exists, the required fields, a signed
 * request) and fails on demand ({@link failNext}). Other operations answer 400 `UnknownOperationException`.
 */
export class LocalEventBus {
  /** Starts the bus on 127.0.0.1 (a free port). */
  public static async start(options: LocalEventBusOptions = {}): Promise<LocalEventBus> {
    const bus = new LocalEventBus(options);
    await new Promise<void>((resolve, reject) => {
      bus.server.once('error', reject);
      bus.server.listen(0, '127.0.0.1', () => resolve());
    });
    return bus;
  }

  /** Every entry accepted, in arrival order. */
  public readonly events: RecordedEvent[] = [];
  /** `PutEvents` calls received (accepted or not). */
  public putEventsCalls = 0;
  private readonly server: http.Server;
  private readonly buses: Set<string>;
  private faults: EventBusFault[] = [];
  private readonly hung: http.ServerResponse[] = [];

  private constructor(options: LocalEventBusOptions) {
    this.buses = new Set(['default', ...options.busNames ?? []]);
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  /** `http://127.0.0.1:<port>`: the EventBridge client's `endpoint` (or `AWS_ENDPOINT_URL_EVENTBRIDGE`). */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The next `count` PutEvents calls fail with `fault`. */
  failNext(fault: EventBusFault, count = 1): void {
    for (let i = 0; i < count; i++) this.faults.push(fault);
  }

  /** Recorded events of one detail-type (all, without one). */
  ofType(detailType?: string): RecordedEvent[] {
    return detailType === undefined ? [...this.events] : this.events.filter((e) => e.detailType === detailType);
  }

  clear(): void {
    this.events.length = 0;
    this.putEventsCalls = 0;
    this.faults = [];
  }

  async stop(): Promise<void> {
    this.hung.splice(0).forEach((res) => res.destroy());
    await new Promise<void>((resolve, reject) => {
      this.server.close((error) => (error ? reject(error) : resolve()));
      this.server.closeAllConnections?.();
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const raw = await readBody(req, MAX_REQUEST_BYTES);
    if (raw === undefined) return this.error(res, 400, 'ValidationException', 'the request is larger than 1 MiB');
    const body = raw.toString('utf8');
    const target = String(req.headers['x-amz-target'] ?? '');
    if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256')) {
      return this.error(res, 403, 'MissingAuthenticationTokenException', 'the request is not signed with SigV4');
    }
    if (target !== 'AWSEvents.PutEvents') {
      return this.error(res, 400, 'UnknownOperationException', `the local event bus only implements PutEvents, not ${target}`);
    }
    this.putEventsCalls++;
    const fault = this.faults.shift();
    if (fault === 'hang') {
      this.hung.push(res);
      return;
    }
    if (fault === 'throttle') return this.error(res, 400, 'ThrottlingException', 'Rate exceeded');
    if (fault === 'internalError') return this.error(res, 500, 'InternalException', 'internal error');
    let request: { Entries?: Array<Record<string, unknown>> };
    try {
      request = JSON.parse(body);
    } catch {
      return this.error(res, 400, 'ValidationException', 'the body is not JSON');
    }
    const entries = request.Entries;
    if (!Array.isArray(entries) || entries.length < 1 || entries.length > MAX_ENTRIES) {
      return this.error(res, 400, 'ValidationException', `Entries must hold 1 to ${MAX_ENTRIES} entries`);
    }
    const results = entries.map((entry) => this.accept(entry, fault === 'refuseEntries'));
    const failed = results.filter((r) => 'ErrorCode' in r).length;
    this.json(res, 200, { FailedEntryCount: failed, Entries: results });
  }

  private accept(entry: Record<string, unknown>, refuse: boolean): Record<string, string> {
    if (refuse) return { ErrorCode: 'InternalFailure', ErrorMessage: 'refused by a fault the test injected' };
    const { Source: source, DetailType: detailType, Detail: detail } = entry;
    const busName = String(entry.EventBusName ?? 'default').split('/').pop() as string;
    if (typeof source !== 'string' || typeof detailType !== 'string' || typeof detail !== 'string') {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Source, DetailType and Detail are required' };
    }
    if (Buffer.byteLength(JSON.stringify(entry), 'utf8') > MAX_ENTRY_BYTES) {
      return { ErrorCode: 'ValidationException', ErrorMessage: 'the entry is larger than 256 KB' };
    }
    if (!this.buses.has(busName)) return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${busName} does not exist.` };
    let parsed: unknown;
    try {
      parsed = JSON.parse(detail);
    } catch {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is not valid JSON' };
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail must be a JSON object' };
    }
    const id = randomUUID();
    const time = entry.Time === undefined ? undefined : new Date(Number(entry.Time) * 1000).toISOString();
    this.events.push({ id, eventBusName: busName, source, detailType, detail: parsed as Record<string, unknown>, rawDetail: detail, time });
    return { EventId: id };
  }

  private error(res: http.ServerResponse, status: number, code: string, message: string): void {
    this.json(res, status, { __type: code, message });
  }

  private json(res: http.ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(JSON.stringify(body));
  }
}
