// `npm run demo`, the README's main job: synthesize every example with both nag packs, then drive the real
// session API handler through a session's life on the embedded MicroVM emulator and an in-memory DynamoDB.
// Needs no AWS account; every request is SigV4-signed exactly as a caller would sign it for a Function URL.
/* eslint-disable import/no-extraneous-dependencies */
import { createHash, createHmac } from 'crypto';
import * as path from 'path';
import { SignatureV4 } from '@smithy/signature-v4';
import { synthExamples } from './synth-examples';
import { startDevServer, DevServer } from '../src/local/dev-server';

class Sha256 {
  private readonly hash;
  constructor(secret?: string | Uint8Array) {
    this.hash = secret ? createHmac('sha256', Buffer.from(secret)) : createHash('sha256');
  }
  update(data: string | Uint8Array): void {
    this.hash.update(typeof data === 'string' ? Buffer.from(data) : data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

/** A caller of the session API: an IAM identity with its own (local, fake) credentials. */
class Caller {
  private readonly signer: SignatureV4;
  constructor(public readonly name: string, private readonly server: DevServer) {
    this.signer = new SignatureV4({
      service: 'lambda',
      region: 'us-east-1',
      credentials: { accessKeyId: `AKID${name.toUpperCase()}`, secretAccessKey: 'local-secret' },
      sha256: Sha256,
    });
  }

  async call(method: string, urlPath: string, body?: unknown): Promise<{ status: number; body: any; retryAfter?: string }> {
    const url = new URL(urlPath, this.server.url);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const signed = await this.signer.sign({
      method,
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      headers: { host: url.host, ...(payload ? { 'content-type': 'application/json' } : {}) },
      body: payload,
    });
    const res = await fetch(url, { method, headers: signed.headers, body: payload });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, retryAfter: res.headers.get('retry-after') ?? undefined };
  }
}

// tokens are credentials: the demo shows their shape, never their value.
function redact(body: any): any {
  if (!body || typeof body !== 'object') return body;
  const copy = JSON.parse(JSON.stringify(body));
  const token = copy.token ?? copy;
  if (token && typeof token.value === 'string') token.value = `<${token.value.length} characters>`;
  return copy;
}

function show(step: string, res: { status: number; body: any }): void {
  console.log(`\n$ ${step}\n  -> ${res.status} ${res.body === undefined ? '(no body)' : JSON.stringify(redact(res.body))}`);
}

function expectStatus(step: string, res: { status: number }, ...expected: number[]): void {
  if (!expected.includes(res.status)) throw new Error(`demo step "${step}" answered ${res.status}, expected ${expected.join(' or ')}`);
}

async function sessionDemo(): Promise<void> {
  console.log('\n== local session demo: MicroVM emulator + dynalite + the real orchestrator handler');
  // the handler's own JSON logs and EMF metrics would drown the transcript; they are covered by the tests.
  process.env.POWERTOOLS_LOG_LEVEL = process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN';
  process.env.POWERTOOLS_METRICS_DISABLED = process.env.POWERTOOLS_METRICS_DISABLED ?? 'true';
  const server = await startDevServer({ port: 0, emulator: { launchDelayMs: 200 } });
  const alice = new Caller('alice', server);
  const bob = new Caller('bob', server);
  try {
    const steps: Array<[string, Caller, string, string, unknown, number[]]> = [
      ['alice: PUT /sessions/conversation-1 (creates the VM)', alice, 'PUT', '/sessions/conversation-1', { payload: '{"sessionKey":"k-1"}' }, [201]],
      ['alice: PUT /sessions/conversation-1 again (warm: same VM, fresh token)', alice, 'PUT', '/sessions/conversation-1', {}, [200]],
      ['bob: GET /sessions/conversation-1 (not his)', bob, 'GET', '/sessions/conversation-1', undefined, [404]],
      ['alice: GET /sessions', alice, 'GET', '/sessions', undefined, [200]],
      ['alice: POST /sessions/conversation-1/token {ttlSeconds: 120}', alice, 'POST', '/sessions/conversation-1/token', { ttlSeconds: 120 }, [200]],
      ['alice: POST /sessions/conversation-1/token {ports: [9000]} (the hooks port)', alice, 'POST', '/sessions/conversation-1/token', { ports: [9000] }, [400]],
      ['alice: PUT /sessions/not%20valid (bad id)', alice, 'PUT', '/sessions/not%20valid', {}, [400]],
    ];
    for (const [step, caller, method, urlPath, body, expected] of steps) {
      const before = server.emulator.callCounts();
      const res = await caller.call(method, urlPath, body);
      show(step, res);
      expectStatus(step, res, ...expected);
      const after = server.emulator.callCounts();
      const calls = Object.entries(after)
        .map(([op, n]) => [op, (n ?? 0) - ((before as any)[op] ?? 0)] as const)
        .filter(([, n]) => n > 0);
      if (calls.length > 0) console.log(`  MicroVM API calls: ${calls.map(([op, n]) => `${op} x${n}`).join(', ')}`);
    }

    // let the emulated VM reach RUNNING, then suspend and resume it explicitly.
    server.emulator.advanceTime(5_000);
    for (const [step, method, urlPath, expected] of [
      ['alice: POST /sessions/conversation-1/suspend', 'POST', '/sessions/conversation-1/suspend', [202]],
      ['alice: GET /sessions/conversation-1', 'GET', '/sessions/conversation-1', [200]],
      ['alice: POST /sessions/conversation-1/resume', 'POST', '/sessions/conversation-1/resume', [202, 409]],
      ['alice: DELETE /sessions/conversation-1', 'DELETE', '/sessions/conversation-1', [204]],
      ['alice: DELETE /sessions/conversation-1 again (idempotent)', 'DELETE', '/sessions/conversation-1', [204]],
    ] as Array<[string, string, string, number[]]>) {
      if (step.includes('resume')) server.emulator.advanceTime(5_000);
      const res = await alice.call(method, urlPath);
      show(step, res);
      expectStatus(step, res, ...expected);
    }

    const vms = server.emulator.listVms();
    console.log(`\nMicroVMs launched: ${vms.length}; states now: ${vms.map((vm: any) => vm.state).join(', ')}`);
    console.log(`MicroVM API calls in total: ${JSON.stringify(server.emulator.callCounts())}`);
    // the lifecycle events the handler published (to the local stand-in for EventBridge), in order.
    console.log(`\nLifecycle events (${server.eventBus.putEventsCalls} PutEvents calls; none for the warm PUT):`);
    for (const e of server.eventBus.events) {
      const d = e.detail as Record<string, unknown>;
      const usage = d.usage as Record<string, unknown> | undefined;
      console.log(`  ${e.detailType}: session ${d.sessionId ?? '-'} generation ${d.generation ?? '-'}${d.reason ? `, reason ${d.reason}` : ''}`
        + `${usage ? `, running ${usage.runningSeconds} s, suspended ${usage.suspendedSeconds} s` : ''}`);
    }
    const types = server.eventBus.events.map((e) => e.detailType).join(',');
    if (types !== 'Session Created,Session Suspended,Session Resumed,Session Ended' && types !== 'Session Created,Session Suspended,Session Ended') {
      throw new Error(`the demo expected Created, Suspended, (Resumed,) Ended events, got ${types}`);
    }
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  // `--session-only` skips the synth half, for iterating on the local stack.
  if (!process.argv.includes('--session-only')) synthExamples(path.join(__dirname, '..'));
  await sessionDemo();
  console.log('\ndemo finished: examples synthesized with no unacknowledged nag errors; session API exercised end to end.');
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
