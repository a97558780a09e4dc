// 8. checkpoints: the service calls of one save and of a relaunch with and without a restore, through the real
// CheckpointSaver and SessionApi (emulator, dynalite, s3rver, calls counted at each); what `onSuspend` adds to a
// sweep (the real Sweeper), for a new suspension, one already saved, and a VM seen running again; then the example guest's
// (examples/code-interpreter/sandbox) save and restore times by workspace size, against s3rver on this machine.
import { ChildProcess, spawn } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { countsOf, median, nowMs, round, ROOT } from './support';
import { parseCheckpointConfig } from '../src/orchestrator/runtime/checkpoint-config';
import { CheckpointSaver } from '../src/orchestrator/runtime/checkpoint-saver';
import { sha256Hex } from '../src/orchestrator/runtime/table/schema';
import { ENV } from '../src/shared/contract';
import { ALICE, body, event, startRig } from '../test/orchestrator/runtime/harness';
import { fixtureOf, newSweeper } from '../test/orchestrator/runtime/sweeper-fixture';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver');

const BUCKET = 'checkpoints';
const PORT = 9100;

export interface CheckpointsResult {
  /** Calls of one save: MicroVM API, the VM (checkpoint port), S3 (HEAD; the upload is the guest's), table writes. */
  readonly save: { microvms: Record<string, number>; vmRequests: number; s3: Record<string, number>; table: Record<string, number>; pass: boolean };
  /**
   * `onSuspend`: the calls of a sweep over one session, by case: running (no mark), newly suspended (saved: resume,
   * save, suspend), suspended and already saved, and running again with the mark (one conditional write to clear it).
   */
  readonly onSuspend: { sweeps: Record<string, Record<string, number>>; pass: boolean };
  /** A relaunch of a session past its end, without and with a checkpoint to restore. */
  readonly relaunch: { withoutRestore: Record<string, number>; withRestore: Record<string, number>; pass: boolean };
  /** The example guest: bytes of the archive, save (tar + upload) and restore (download + untar) times, per workspace size. */
  readonly exampleGuest: Array<{ workspaceMiB: number; archiveBytes: number; saveMsP50: number; restoreMsP50: number }>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** S3 requests sent, by command (at the deserialize step: presigning a URL runs the stack but sends nothing). */
function counter(client: S3Client): Record<string, number> {
  const calls: Record<string, number> = {};
  client.middlewareStack.add((next, context) => async (args) => {
    calls[String(context.commandName)] = (calls[String(context.commandName)] ?? 0) + 1;
    return next(args);
  }, { step: 'deserialize', name: 'countCalls' });
  return calls;
}

export async function measureCheckpoints(iterations: number, sizesMiB: number[]): Promise<CheckpointsResult> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-checkpoints-'));
  const s3server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: path.join(root, 's3'), configureBuckets: [{ name: BUCKET }] });
  const { port } = await s3server.run();
  const s3 = new S3Client({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  const s3Calls = counter(s3);
  const rig = await startRig({ rateLimits: false });
  let vmRequests = 0;
  // a minimal guest on the checkpoint port: uploads a small archive and answers its size.
  const archive = randomBytes(64 * 1024);
  for (const version of ['1', '2']) {
    rig.emulator.registerApp(rig.imageArn, version, {
      [PORT]: (req, res) => {
        vmRequests++;
        let raw = '';
        req.on('data', (c) => { raw += c; });
        req.on('end', async () => {
          await fetch(JSON.parse(raw).uploadUrl, { method: 'PUT', body: archive });
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ bytes: archive.length }));
        });
      },
    });
  }
  const env = { [ENV.CHECKPOINT_BUCKET]: BUCKET, [ENV.CHECKPOINT_PORT]: String(PORT) };
  const saver = new CheckpointSaver({
    microvms: rig.microvms,
    s3,
    documentClient: rig.documentClient,
    tableName: rig.tableName,
    config: parseCheckpointConfig(env)!,
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'Bench', serviceName: 'bench' }),
    now: () => Date.now() + rig.clock.offsetMs,
    endpointUrl: (e) => rig.emulator.endpointUrl(e),
  });
  const api = rig.api(env, { s3 });
  const reset = () => {
    rig.resetCounts();
    vmRequests = 0;
    Object.keys(s3Calls).forEach((k) => delete s3Calls[k]);
  };
  try {
    await api.handle(event('PUT', '/sessions/bench-save'));
    reset();
    await saver.saveRequested({ owner: sha256Hex(ALICE), sessionId: 'bench-save', generation: 1 });
    const saveCounts = countsOf(rig);
    const save = { microvms: saveCounts.microvms, vmRequests, s3: { ...s3Calls }, table: saveCounts.table, pass: false };
    // 1 token, 1 call to the VM, 1 HEAD; 2 table writes: the record, and the lease that makes concurrent saves one
    // (a requested save also reads the row once; the sweeper's uses the row its scan read).
    save.pass = saveCounts.microvmsTotal === 1 && save.microvms.CreateMicrovmAuthToken === 1 && vmRequests === 1
      && Object.keys(s3Calls).join() === 'HeadObjectCommand' && s3Calls.HeadObjectCommand === 1
      && (save.table.UpdateItemCommand ?? 0) === 2 && Object.keys(save.table).every((k) => k === 'UpdateItemCommand' || k === 'GetItemCommand');

    // relaunch past the end: one session without a checkpoint, one with.
    await api.handle(event('PUT', '/sessions/bench-plain'));
    rig.clock.offsetMs += 3_700_000;
    rig.emulator.advanceTime(3_700_000);
    reset();
    await api.handle(event('PUT', '/sessions/bench-plain'));
    const withoutRestore = { ...countsOf(rig).microvms, ...prefixed('table.', countsOf(rig).table), ...prefixed('s3.', s3Calls) };
    reset();
    const relaunched = await api.handle(event('PUT', '/sessions/bench-save'));
    const withRestore = { ...countsOf(rig).microvms, ...prefixed('table.', countsOf(rig).table), ...prefixed('s3.', s3Calls) };
    const total = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
    const restored = JSON.parse(rig.emulator.getVm(body(relaunched).microvmId)!.runHookPayload ?? '{}');
    const relaunch = { withoutRestore, withRestore, pass: total(withRestore) <= total(withoutRestore) && restored.checkpoint !== undefined };
    const onSuspend = await measureOnSuspend(rig, saver, reset, () => ({ vmRequests, s3: { ...s3Calls } }));

    const exampleGuest = [];
    for (const size of sizesMiB) exampleGuest.push(await measureGuest(root, s3, size, iterations));
    return { save, onSuspend, relaunch, exampleGuest };
  } finally {
    await rig.stop();
    s3.destroy();
    await s3server.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** One session through the `onSuspend` cases; each sweep's calls, the table scan included. */
async function measureOnSuspend(
  rig: Awaited<ReturnType<typeof startRig>>,
  saver: CheckpointSaver,
  reset: () => void,
  guestCalls: () => { vmRequests: number; s3: Record<string, number> },
): Promise<CheckpointsResult['onSuspend']> {
  const api = rig.api({ [ENV.CHECKPOINT_BUCKET]: BUCKET, [ENV.CHECKPOINT_PORT]: String(PORT) });
  // only this session's VM is live: the earlier ones are ended first, so each sweep's calls are this session's.
  for (const id of ['bench-save', 'bench-plain']) await api.handle(event('DELETE', `/sessions/${id}`));
  const created = body(await api.handle(event('PUT', '/sessions/bench-suspend')));
  const advance = (ms: number) => {
    rig.clock.offsetMs += ms;
    rig.emulator.advanceTime(ms);
  };
  const sweep = async (name: string) => {
    reset();
    await newSweeper(fixtureOf(rig), {}, { checkpoints: { saver, beforeEndSeconds: 900, onSuspend: true } }).run();
    const counts = countsOf(rig);
    const guest = guestCalls();
    sweeps[name] = { ...counts.microvms, ...prefixed('table.', counts.table), vm: guest.vmRequests, ...prefixed('s3.', guest.s3) };
  };
  const sweeps: Record<string, Record<string, number>> = {};
  await sweep('running');
  advance(11 * 60_000); // the rig's idle policy suspends after 10 minutes
  await sweep('newlySuspended');
  await sweep('alreadySaved');
  rig.emulator.recordTraffic(created.microvmId);
  advance(5_000);
  await sweep('runningAgain');
  const extra = (name: string, key: string) => (sweeps[name][key] ?? 0) - (sweeps.running[key] ?? 0);
  const same = (name: string) => JSON.stringify(sweeps[name]) === JSON.stringify(sweeps.running);
  const pass = extra('newlySuspended', 'ResumeMicrovm') === 1 && extra('newlySuspended', 'SuspendMicrovm') === 1
    && extra('newlySuspended', 'CreateMicrovmAuthToken') === 1 && extra('newlySuspended', 'vm') === 1
    && extra('newlySuspended', 'table.UpdateItemCommand') === 2
    && same('alreadySaved') && extra('runningAgain', 'table.UpdateItemCommand') === 1;
  return { sweeps, pass };
}

function prefixed(prefix: string, counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).map(([k, v]) => [`${prefix}${k}`, v]));
}

/** The example sandbox with a workspace of `sizeMiB` (half random, half text): save and restore times. */
async function measureGuest(root: string, s3: S3Client, sizeMiB: number, iterations: number) {
  const sandbox = path.join(ROOT, 'examples', 'code-interpreter', 'sandbox');
  const start = async (workspace: string) => {
    const ports = { app: await freePort(), hooks: await freePort(), checkpoint: await freePort() };
    const child: ChildProcess = spawn('python3', ['-u', 'server.py'], {
      cwd: sandbox,
      stdio: 'ignore',
      env: { ...process.env, APP_PORT: String(ports.app), HOOKS_PORT: String(ports.hooks), CHECKPOINT_PORT: String(ports.checkpoint), WORKSPACE: workspace, RUN_AS: '', PYTHONDONTWRITEBYTECODE: '1' },
    });
    for (let i = 0; i < 100; i++) {
      const ok = await fetch(`http://127.0.0.1:${ports.hooks}/aws/lambda-microvms/runtime/v1/ready`, { method: 'POST' }).then((r) => r.status === 200).catch(() => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // the checkpoint server is a thread of its own, which may start listening after /ready answers.
    for (let i = 0; i < 100; i++) {
      if (await fetch(`http://127.0.0.1:${ports.checkpoint}/`).then(() => true, () => false)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return { child, ports };
  };
  const workspace = fs.mkdtempSync(path.join(root, 'ws-'));
  const half = Math.floor((sizeMiB * 1024 * 1024) / 2);
  fs.writeFileSync(path.join(workspace, 'random.bin'), randomBytes(half));
  fs.writeFileSync(path.join(workspace, 'text.log'), 'line of a log that compresses well\n'.repeat(Math.ceil(half / 35)).slice(0, half));
  const guest = await start(workspace);
  const saves: number[] = [];
  const restores: number[] = [];
  let archiveBytes = 0;
  try {
    for (let i = 0; i < iterations; i++) {
      const key = `bench/${sizeMiB}/${i}`;
      const uploadUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: BUCKET, Key: key }), { expiresIn: 900 });
      const t0 = nowMs();
      const res = await fetch(`http://127.0.0.1:${guest.ports.checkpoint}/checkpoint`, { method: 'POST', body: JSON.stringify({ uploadUrl, key, maxBytes: 5 * 1024 ** 3 }) });
      saves.push(nowMs() - t0);
      archiveBytes = (await res.json() as { bytes: number }).bytes;
      const fresh = await start(fs.mkdtempSync(path.join(root, 'restore-')));
      const downloadUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: key }), { expiresIn: 900 });
      const t1 = nowMs();
      await fetch(`http://127.0.0.1:${fresh.ports.hooks}/aws/lambda-microvms/runtime/v1/run`, {
        method: 'POST', body: JSON.stringify({ microvmId: 'bench', runHookPayload: JSON.stringify({ payload: null, checkpoint: { downloadUrl } }) }),
      });
      restores.push(nowMs() - t1);
      fresh.child.kill();
    }
  } finally {
    guest.child.kill();
  }
  return { workspaceMiB: sizeMiB, archiveBytes, saveMsP50: round(median(saves)), restoreMsP50: round(median(restores)) };
}
