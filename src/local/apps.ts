import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody } from './http-body';
import { DATA_PLANE } from '../shared/contract';

/**
 * What answers on one port of a MicroVM: a Node request listener (the emulator serves it on its own local port),
 * or the base URL of a server the test runs itself (`http://127.0.0.1:3000`).
 */
export type AppTarget = http.RequestListener | string;

/** An app by port, e.g. `{ 8080: api, 9000: hooks }`. Every port is alike, the hooks port included. */
export type AppPorts = Readonly<Record<number, AppTarget>>;

/** The endpoint's default target port, when a request has no `X-aws-proxy-port` header. */
export const DEFAULT_TARGET_PORT = DATA_PLANE.DEFAULT_PORT;

/** The path prefix of the lifecycle hooks an app serves on its hooks port. */
export const HOOKS_PATH = '/aws/lambda-microvms/runtime/v1/';

/**
 * Built-in apps for data-plane tests: one that works and two broken snapshots.
 *
 * ```ts
 * emulator.registerApp(imageArn, '1', DataPlaneApps.healthy());                 // port 8080
 * emulator.registerApp(imageArn, '2', { 8080: DataPlaneApps.failing(503) });    // a broken release
 * ```
 */
export class DataPlaneApps {
  /**
   * A working app: `GET /health` answers 200 `{ "status": "healthy" }`; a `POST` to a hook path
   * (`/aws/lambda-microvms/runtime/v1/<hook>`) answers 200 `{}`; anything else answers 200 with an echo of the
   * request as the app received it, `{ method, path, headers, body }` (headers lower-case, body as text).
   */
  public static healthy(): http.RequestListener {
    return (req, res) => {
      void readBody(req, 10 * 1024 * 1024).then((body) => {
        const path = req.url ?? '/';
        if (req.method === 'GET' && path === '/health') return json(res, 200, { status: 'healthy' });
        if (req.method === 'POST' && path.startsWith(HOOKS_PATH)) return json(res, 200, {});
        return json(res, 200, { method: req.method, path, headers: req.headers, body: body?.toString('utf8') ?? '' });
      });
    };
  }

  /** A broken app that answers every request, `/health` included, with `status` and a JSON error. */
  public static failing(status = 500): http.RequestListener {
    return (req, res) => {
      req.resume();
      json(res, status, { message: `The app failed (built-in failing app, ${status}).` });
    };
  }

  /** A hung app: it accepts requests and never answers, so the endpoint answers 502 after `appTimeoutMs`. */
  public static unresponsive(): http.RequestListener {
    return (req) => {
      req.resume();
    };
  }

  private constructor() {}
}

/**
 * The apps tests registered per image version and port, and the versions whose `/run` hook fails. Listener apps
 * are served on their own port of 127.0.0.1, started on first use, so the data plane proxies to every app alike.
 */
export class AppRegistry {
  private readonly apps = new Map<string, AppPorts>();
  private readonly runHookFailures = new Map<string, string>();
  private readonly servers = new Map<http.RequestListener, { server: http.Server; url: Promise<string> }>();

  public register(imageArn: string, imageVersion: string, app: AppTarget | AppPorts): void {
    const ports: AppPorts = typeof app === 'function' || typeof app === 'string' ? { [DEFAULT_TARGET_PORT]: app } : app;
    for (const [port, target] of Object.entries(ports)) {
      const n = Number(port);
      if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`app ports must be 1-65535, got ${port}`);
      if (typeof target === 'string' && !/^https?:\/\/[^/]+\/?$/.test(target)) {
        throw new Error(`an app URL must be a base URL like http://127.0.0.1:3000, got ${target}`);
      }
    }
    this.apps.set(key(imageArn, imageVersion), { ...ports });
  }

  public unregister(imageArn: string, imageVersion: string): void {
    this.apps.delete(key(imageArn, imageVersion));
  }

  /** The base URL of what answers on `port` for a VM of this image version, or undefined when nothing does. */
  public async target(imageArn: string, imageVersion: string, port: number): Promise<string | undefined> {
    const target = this.apps.get(key(imageArn, imageVersion))?.[port];
    if (target === undefined) return undefined;
    if (typeof target === 'string') return target.replace(/\/$/, '');
    let served = this.servers.get(target);
    if (!served) {
      const server = http.createServer(target);
      const url = new Promise<string>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
      });
      served = { server, url };
      this.servers.set(target, served);
    }
    return served.url;
  }

  public failRunHook(imageArn: string, imageVersion: string, reason: string): void {
    this.runHookFailures.set(key(imageArn, imageVersion), reason);
  }

  public clearRunHookFailure(imageArn: string, imageVersion: string): void {
    this.runHookFailures.delete(key(imageArn, imageVersion));
  }

  /** The failure a launch of this version meets in its `/run` hook, or undefined when the hook succeeds. */
  public runHookFailure(imageArn: string, imageVersion: string): string | undefined {
    return this.runHookFailures.get(key(imageArn, imageVersion));
  }

  /** Stops the servers of listener apps and drops their open connections. */
  public async close(): Promise<void> {
    const servers = [...this.servers.values()].map((s) => s.server);
    this.servers.clear();
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      server.closeAllConnections();
    })));
  }
}

function key(imageArn: string, imageVersion: string): string {
  return `${imageArn}|${imageVersion}`;
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}
