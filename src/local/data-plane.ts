import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_TARGET_PORT, type AppRegistry } from './apps';
import { allowsPort, type TokenRefusal, type TokenRegistry } from './tokens';
import type { VmRecord, VmStore } from './vm-store';
import { DATA_PLANE } from '../shared/contract';

/** The token header, the target-port header, and the reserved namespace the endpoint strips before forwarding. */
export const PROXY_AUTH_HEADER = DATA_PLANE.AUTH_HEADER.toLowerCase();
export const PROXY_PORT_HEADER = DATA_PLANE.PORT_HEADER.toLowerCase();
const RESERVED_HEADER_PREFIX = 'x-aws-proxy-';

/** A MicroVM endpoint hostname, `<microvm id>.lambda-microvm.<region>.on.aws`. */
const ENDPOINT_HOST = /^([^./:]+)\.lambda-microvm\.([a-z0-9-]+)\.on\.aws$/i;
/** Connection-level headers a proxy does not pass on. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade']);
const RESUME_POLL_MS = 5;

const REFUSALS: Record<TokenRefusal, string> = {
  'missing': 'Missing X-aws-proxy-auth token.',
  'unknown': 'Invalid X-aws-proxy-auth token.',
  'expired': 'The X-aws-proxy-auth token has expired.',
  'other-vm': 'The X-aws-proxy-auth token was not issued for this MicroVM.',
};

/** What the data plane needs from the emulator. */
export interface DataPlaneContext {
  readonly region: string;
  readonly vms: VmStore;
  readonly tokens: TokenRegistry;
  readonly apps: AppRegistry;
  now(): number;
  /** Inbound traffic for a VM: restarts its idle clock, auto-resumes it; true when the endpoint takes it. */
  recordTraffic(id: string): boolean;
  /** Real-time ms the endpoint waits for an app (and for an auto-resume) before it answers 502. */
  appTimeoutMs(): number;
}

class EndpointError extends Error {
  constructor(public readonly status: number, message: string) {
    super(message);
  }
}

/**
 * The per-MicroVM HTTPS endpoints, served locally as plain HTTP on one port of 127.0.0.1. A request names its
 * VM by the endpoint hostname, either in the `Host` header or as the first path segment
 * (`http://127.0.0.1:<port>/<endpoint>/<path>`), then passes the endpoint's checks in the service's order: token
 * (403), port (400 malformed, 403 not allowed), VM RUNNING (502, after an auto-resume where the idle policy
 * allows one), an app on the port (502). The request is forwarded without its `X-aws-proxy-*` headers.
 */
export class MicrovmDataPlane {
  /** `http://127.0.0.1:<port>`, set by `listen`. */
  public url = '';
  private readonly server: http.Server;

  constructor(private readonly ctx: DataPlaneContext) {
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  public async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The local base URL standing in for `https://<endpoint>` (path-prefix addressing). */
  public endpointUrl(endpoint: string): string {
    const host = endpoint.replace(/^https?:\/\//, '').replace(/\/+$/, '');
    if (!ENDPOINT_HOST.test(host)) throw new Error(`not a MicroVM endpoint (<id>.lambda-microvm.<region>.on.aws): ${endpoint}`);
    return `${this.url}/${host}`;
  }

  public async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      const { microvmId, endpoint, path } = this.address(req);
      const token = header(req, PROXY_AUTH_HEADER);
      const checked = this.ctx.tokens.check(token, microvmId, this.ctx.now());
      if (checked.refusal) throw new EndpointError(403, REFUSALS[checked.refusal]);
      const port = targetPort(header(req, PROXY_PORT_HEADER));
      if (!allowsPort(checked.record!, port)) throw new EndpointError(403, `Port ${port} is not allowed by the X-aws-proxy-auth token.`);
      const vm = await this.runningVm(microvmId);
      const base = await this.ctx.apps.target(vm.imageArn, vm.imageVersion, port);
      if (base === undefined) throw new EndpointError(502, `The application is not responding on port ${port}.`);
      await this.forward(req, res, `${base}${path}`, endpoint);
    } catch (error) {
      const failure = error instanceof EndpointError ? error : new EndpointError(500, `Emulator error: ${(error as Error).message}`);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      req.resume();
      const payload = JSON.stringify({ message: failure.message });
      res.writeHead(failure.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
      res.end(payload);
    }
  }

  /** The VM a request is for: its `Host` header, else the first path segment, must be an endpoint hostname. */
  private address(req: http.IncomingMessage): { microvmId: string; endpoint: string; path: string } {
    const url = req.url ?? '/';
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    let match = ENDPOINT_HOST.exec(host);
    let path = url;
    if (!match) {
      const [, first, rest] = /^\/([^/?]*)(.*)$/.exec(url) ?? [];
      match = ENDPOINT_HOST.exec(first ?? '');
      path = rest === undefined || rest === '' ? '/' : rest.startsWith('/') ? rest : `/${rest}`;
    }
    if (!match || match[2].toLowerCase() !== this.ctx.region) {
      throw new EndpointError(400, `The request does not name a MicroVM endpoint of ${this.ctx.region} (Host or first path segment).`);
    }
    return { microvmId: match[1], endpoint: match[0].toLowerCase(), path };
  }

  /**
   * The VM, once RUNNING: a SUSPENDED VM with `autoResumeEnabled` is resumed and the request held until the
   * resume ends (on the emulated clock, so a frozen clock needs `advanceTime` while the request waits); any
   * other state answers 502.
   */
  private async runningVm(id: string): Promise<VmRecord> {
    const vm = this.ctx.vms.find(id, this.ctx.now());
    if (!vm) throw new EndpointError(502, `MicroVM ${id} is not running.`);
    const state = this.ctx.vms.reported(vm);
    if (!this.ctx.recordTraffic(id)) throw new EndpointError(502, `MicroVM ${id} is ${state}, not RUNNING.`);
    const deadline = Date.now() + this.ctx.appTimeoutMs();
    while (this.ctx.vms.find(id, this.ctx.now())?.phase === 'resuming') {
      if (Date.now() >= deadline) throw new EndpointError(502, `MicroVM ${id} did not resume in time.`);
      await new Promise((resolve) => setTimeout(resolve, RESUME_POLL_MS));
    }
    if (vm.phase !== 'running') throw new EndpointError(502, `MicroVM ${id} is ${this.ctx.vms.reported(vm)}, not RUNNING.`);
    return vm;
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse, target: string, endpoint: string): Promise<void> {
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (!name.startsWith(RESERVED_HEADER_PREFIX) && !HOP_BY_HOP.has(name)) headers[name] = value;
    }
    // the app sees the endpoint's hostname, as behind the service's proxy.
    headers.host = endpoint;
    return new Promise<void>((resolve, reject) => {
      const upstream = http.request(target, { method: req.method, headers }, (answer) => {
        const out: http.OutgoingHttpHeaders = {};
        for (const [name, value] of Object.entries(answer.headers)) if (!HOP_BY_HOP.has(name)) out[name] = value;
        res.writeHead(answer.statusCode ?? 502, out);
        answer.pipe(res);
        answer.on('end', () => resolve());
        answer.on('error', reject);
      });
      upstream.setTimeout(this.ctx.appTimeoutMs(), () => upstream.destroy(new EndpointError(502, 'The application did not answer in time.')));
      upstream.on('error', (error) => reject(error instanceof EndpointError ? error : new EndpointError(502, `The application is not responding: ${error.message}`)));
      req.pipe(upstream);
    });
  }
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The target port: `X-aws-proxy-port` when present (a whole number 1-65535, else 400), otherwise 8080. */
function targetPort(value: string | undefined): number {
  if (value === undefined) return DEFAULT_TARGET_PORT;
  const port = /^\d{1,5}$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!(port >= 1 && port <= 65535)) throw new EndpointError(400, `Malformed X-aws-proxy-port: ${JSON.stringify(value)}.`);
  return port;
}
