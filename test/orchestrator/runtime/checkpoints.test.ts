import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import type * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ALICE, BOB, body, event, Rig, startRig } from './harness';
import { fixtureOf, newSweeper } from './sweeper-fixture';
import { LocalEventBus } from '../../../src/local';
import { readBody } from '../../../src/local/http-body';
import { parseCheckpointConfig } from '../../../src/orchestrator/runtime/checkpoint-config';
import { CheckpointRequest } from '../../../src/orchestrator/runtime/checkpoint-route';
import { CheckpointSaver, SaveOutcome } from '../../../src/orchestrator/runtime/checkpoint-saver';
import { SessionEvents } from '../../../src/orchestrator/runtime/session-events';
import { keyOf, sha256Hex } from '../../../src/orchestrator/runtime/table/schema';
import { ENV } from '../../../src/shared/contract';
import { CHECKPOINT_TRIGGERS } from '../../../src/shared/session-events';

// checkpoints end to end: the real SDK clients and the real S3 presigner against s3rver, the session API and the
// saver against the emulator (its data plane forwarding the checkpoint port to a guest that really tars, uploads,
// downloads and untars files) and dynalite.

// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver');

const BUCKET = 'checkpoints';
const CHECKPOINT_PORT = 9100;
const HOUR_MS = 3600_000;

/** The test guest: one workspace directory (the VM's disk), and how it answers the next save. */
class Guest {
  workspace: string;
  mode: 'ok' | 'fail' | 'hang' | 'lie' = 'ok';
  saves = 0;
  constructor(private readonly root: string) {
    this.workspace = this.freshDisk();
  }

  /** A new VM from the image snapshot: an empty workspace. */
  freshDisk(): string {
    this.workspace = fs.mkdtempSync(path.join(this.root, 'disk-'));
    return this.workspace;
  }

  /** The checkpoint port: tar the workspace, PUT it to the presigned URL, answer { bytes, sha256 }. */
  readonly listener: http.RequestListener = (req, res) => {
    void readBody(req, 1024 * 1024).then(async (raw): Promise<void> => {
      this.saves++;
      if (this.mode === 'hang') return;
      if (this.mode === 'fail') {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"error":"DiskError"}');
        return;
      }
      const { uploadUrl } = JSON.parse(String(raw));
      const archive = execFileSync('tar', ['-czf', '-', '-C', this.workspace, '.']);
      const put = await fetch(uploadUrl, { method: 'PUT', body: archive });
      if (put.status !== 200) {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'UploadFailed', status: put.status }));
        return;
      }
      const bytes = this.mode === 'lie' ? archive.length + 1000 : archive.length;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ bytes, sha256: createHash('sha256').update(archive).digest('hex') }));
    });
  };

  /** The service's /run hook with the payload it was launched with: restores the checkpoint into a fresh disk. */
  async run(payload: string | undefined): Promise<{ payload: unknown; restored: boolean }> {
    this.freshDisk();
    const parsed = payload ? JSON.parse(payload) : undefined;
    if (!parsed?.checkpoint) return { payload: parsed, restored: false };
    const res = await fetch(parsed.checkpoint.downloadUrl);
    if (res.status !== 200) throw new Error(`restore download answered ${res.status}`);
    execFileSync('tar', ['-xzf', '-', '-C', this.workspace], { input: Buffer.from(await res.arrayBuffer()) });
    return { payload: parsed.payload, restored: true };
  }
}

let rig: Rig;
let s3server: any;
let s3: S3Client;
let guest: Guest;
let root: string;

const CHECKPOINT_ENV = {
  [ENV.CHECKPOINT_BUCKET]: BUCKET,
  [ENV.CHECKPOINT_PORT]: String(CHECKPOINT_PORT),
  [ENV.MAX_DURATION_SECONDS]: '3600',
};

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'checkpoints-'));
  s3server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: path.join(root, 's3'), configureBuckets: [{ name: BUCKET }] });
  const { port } = await s3server.run();
  s3 = new S3Client({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  rig = await startRig({ rateLimits: false });
  guest = new Guest(root);
  for (const version of ['1', '2']) rig.emulator.registerApp(rig.imageArn, version, { [CHECKPOINT_PORT]: guest.listener });
});

afterAll(async () => {
  s3.destroy();
  await s3server.close();
  await rig.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

beforeEach(() => {
  guest.mode = 'ok';
  guest.saves = 0;
  rig.resetCounts();
});

function saver(guestTimeoutMs = 5000, events?: SessionEvents): CheckpointSaver {
  return new CheckpointSaver({
    microvms: rig.microvms,
    s3,
    documentClient: rig.documentClient,
    tableName: rig.tableName,
    config: parseCheckpointConfig({ ...CHECKPOINT_ENV })!,
    logger: new Logger({ serviceName: 'checkpoint-test', logLevel: 'DEBUG' }),
    metrics: new Metrics({ namespace: 'Test', serviceName: 'checkpoint-test' }),
    now: () => Date.now() + rig.clock.offsetMs,
    endpointUrl: (endpoint) => rig.emulator.endpointUrl(endpoint),
    guestTimeoutMs,
    events,
  });
}

/** The session API with checkpoints; requested saves run in the test's process, as the worker would. */
function api(overrides: Record<string, string> = {}) {
  const runs: Array<Promise<SaveOutcome | undefined>> = [];
  const worker = async (request: CheckpointRequest) => {
    runs.push(saver().saveRequested(request));
  };
  return { api: rig.api({ ...CHECKPOINT_ENV, ...overrides }, { s3, checkpointWorker: worker }), runs };
}

async function row(owner: string, sessionId: string): Promise<any> {
  return (await rig.tableItems()).find((i: any) => i.owner.S === sha256Hex(owner) && i.sessionId.S === sessionId);
}

async function objects(prefix = ''): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key!);
}

function advance(ms: number): void {
  rig.clock.offsetMs += ms;
  rig.emulator.advanceTime(ms);
}

describe('save and restore', () => {
  test('a session\'s files survive its relaunch after the maximum duration', async () => {
    // GIVEN a session whose workspace has a file, saved through POST /checkpoint
    const { api: a, runs } = api();
    const created = body(await a.handle(event('PUT', '/sessions/ck-1', { body: { payload: 'first' } })));
    fs.writeFileSync(path.join(guest.workspace, 'notes.txt'), 'kept across the 8-hour cap');
    const requested = await a.handle(event('POST', '/sessions/ck-1/checkpoint'));
    expect(requested.statusCode).toBe(202);
    const [outcome] = await Promise.all(runs);
    expect(outcome).toMatchObject({ saved: true, checkpoint: { generation: 1, bytes: expect.any(Number) } });
    const described = body(await a.handle(event('GET', '/sessions/ck-1')));
    expect(described.checkpoint).toEqual({ last: { createdAt: expect.any(String), bytes: expect.any(Number), generation: 1 }, saving: false });

    // WHEN the VM reaches its maximum duration and the next PUT relaunches it
    advance(HOUR_MS + 60_000);
    const relaunched = body(await a.handle(event('PUT', '/sessions/ck-1', { body: { payload: 'second' } })));

    // THEN the new VM's /run payload carries the checkpoint, and the guest restores the file from it
    expect(relaunched.microvmId).not.toBe(created.microvmId);
    const vm = rig.emulator.getVm(relaunched.microvmId)!;
    const run = JSON.parse(vm.runHookPayload!);
    expect(run).toEqual({
      payload: 'second',
      checkpoint: { downloadUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/checkpoints\//), key: outcome && outcome.saved ? outcome.checkpoint.key : '', createdAt: expect.any(String) },
    });
    expect(run.checkpoint.downloadUrl).toMatch(/X-Amz-Expires=900\b/);
    const restored = await guest.run(vm.runHookPayload);
    expect(restored).toEqual({ payload: 'second', restored: true });
    expect(fs.readFileSync(path.join(guest.workspace, 'notes.txt'), 'utf8')).toBe('kept across the 8-hour cap');
  });

  test('the first launch and a session without a checkpoint keep the payload exactly as given', async () => {
    const { api: a } = api();
    const created = body(await a.handle(event('PUT', '/sessions/ck-plain', { body: { payload: '{"x":1}' } })));
    expect(rig.emulator.getVm(created.microvmId)!.runHookPayload).toBe('{"x":1}');
    // without checkpoints configured at all: the same.
    const plain = body(await rig.api().handle(event('PUT', '/sessions/ck-off', { body: { payload: 'raw' } })));
    expect(rig.emulator.getVm(plain.microvmId)!.runHookPayload).toBe('raw');
  });

  test('a relaunch whose payload no longer fits with the checkpoint gets a clear 400 and launches nothing', async () => {
    // GIVEN a saved session past its end
    const { api: a } = api();
    await a.handle(event('PUT', '/sessions/ck-big'));
    const saved = await saver().saveRequested({ owner: sha256Hex(ALICE), sessionId: 'ck-big', generation: 1 });
    expect(saved?.saved).toBe(true);
    advance(HOUR_MS + 60_000);
    const vmsBefore = rig.emulator.listVms().length;

    // WHEN the relaunch carries a payload that fits alone but not with the checkpoint part
    const res = await a.handle(event('PUT', '/sessions/ck-big', { body: { payload: 'x'.repeat(3900) } }));

    // THEN
    expect(res.statusCode).toBe(400);
    expect(body(res).error.code).toBe('PayloadTooLarge');
    const message: string = body(res).error.message;
    expect(message).toMatch(/^the \/run payload would be \d+ bytes with the checkpoint to restore \(at most 4096\); this relaunch leaves room for a payload of \d+ bytes \(quotes, backslashes and control characters count twice or more, as JSON escapes them\)$/);
    expect(rig.emulator.listVms().length).toBe(vmsBefore);
    // and the room is exact: one byte more is refused, a payload of exactly that size relaunches.
    const room = Number(/room for a payload of (\d+) bytes/.exec(message)![1]);
    expect(room).toBeGreaterThan(1000);
    expect((await a.handle(event('PUT', '/sessions/ck-big', { body: { payload: 'y'.repeat(room + 1) } }))).statusCode).toBe(400);
    const fits = await a.handle(event('PUT', '/sessions/ck-big', { body: { payload: 'y'.repeat(room) } }));
    expect(fits.statusCode).toBe(201);
    expect(Buffer.byteLength(rig.emulator.getVm(body(fits).microvmId)!.runHookPayload!)).toBe(4096);
  });
});

describe('saves that fail', () => {
  test.each(['fail', 'hang', 'lie'] as const)('a guest that %ss leaves the session healthy and the previous checkpoint intact', async (mode) => {
    // GIVEN a session with a good checkpoint
    const { api: a } = api();
    await a.handle(event('PUT', `/sessions/ck-${mode}`));
    const owner = sha256Hex(ALICE);
    const first = await saver().saveRequested({ owner, sessionId: `ck-${mode}`, generation: 1 });
    expect(first?.saved).toBe(true);
    const before = (await row(ALICE, `ck-${mode}`)).lastCheckpoint;

    // WHEN the next save meets a broken guest
    guest.mode = mode;
    // only the hung guest meets the short timeout: the others answer (under load, tar and upload may take a while).
    const outcome = await saver(mode === 'hang' ? 500 : 20_000).saveRequested({ owner, sessionId: `ck-${mode}`, generation: 1 });

    // THEN
    expect(outcome).toEqual({ saved: false, reason: { fail: 'guestFailed', hang: 'guestTimedOut', lie: 'sizeMismatch' }[mode] });
    const after = await row(ALICE, `ck-${mode}`);
    expect(after.lastCheckpoint).toEqual(before);
    expect(after.checkpointLeaseUntil).toBeUndefined();
    expect(after.status.S).toBe('ACTIVE');
    // the lie's upload is not left behind as a restore point.
    expect(await objects(`${owner}/ck-${mode}/`)).toHaveLength(1);
    const warm = await a.handle(event('PUT', `/sessions/ck-${mode}`));
    expect(warm.statusCode).toBe(200);
    expect(body(await a.handle(event('GET', `/sessions/ck-${mode}`))).checkpoint.lastError).toBe(outcome && !outcome.saved ? outcome.reason : '');
  });

  test('concurrent checkpoint requests give one save', async () => {
    const { api: a, runs } = api();
    await a.handle(event('PUT', '/sessions/ck-race'));
    const answers = await Promise.all(Array.from({ length: 6 }, () => a.handle(event('POST', '/sessions/ck-race/checkpoint'))));
    const outcomes = await Promise.all(runs);
    expect(answers.every((r) => r.statusCode === 202 || r.statusCode === 409)).toBe(true);
    expect(outcomes.filter((o) => o?.saved)).toHaveLength(1);
    expect(guest.saves).toBe(1);
    expect(await objects(`${sha256Hex(ALICE)}/ck-race/`)).toHaveLength(1);
    // while a save holds the row, the route answers 409.
    await rig.documentClient.send(new UpdateCommand({
      TableName: rig.tableName,
      Key: keyOf({ owner: sha256Hex(ALICE), sessionId: 'ck-race' }),
      UpdateExpression: 'SET checkpointLeaseUntil = :u',
      ExpressionAttributeValues: { ':u': Date.now() + rig.clock.offsetMs + 600_000 },
    }));
    const busy = await a.handle(event('POST', '/sessions/ck-race/checkpoint'));
    expect([busy.statusCode, body(busy).error.code]).toEqual([409, 'CheckpointInProgress']);
  });
});

describe('isolation', () => {
  test('a checkpoint of one owner is never restored into another\'s session', async () => {
    // GIVEN Bob's session row pointing at Alice's checkpoint (a corrupted or forged row)
    const { api: a } = api();
    await a.handle(event('PUT', '/sessions/ck-alice'));
    const saved = await saver().saveRequested({ owner: sha256Hex(ALICE), sessionId: 'ck-alice', generation: 1 });
    expect(saved?.saved).toBe(true);
    await a.handle(event('PUT', '/sessions/ck-bob', { caller: BOB }));
    const bobOwner = sha256Hex('arn:aws:iam::111111111111:role/dev');
    const bobRow: any = (await rig.tableItems()).find((i: any) => i.sessionId.S === 'ck-bob');
    expect(bobRow.owner.S).toBe(bobOwner);
    await rig.documentClient.send(new UpdateCommand({
      TableName: rig.tableName,
      Key: keyOf({ owner: bobOwner, sessionId: 'ck-bob' }),
      UpdateExpression: 'SET lastCheckpoint = :c',
      ExpressionAttributeValues: { ':c': saved && saved.saved ? saved.checkpoint : {} },
    }));
    advance(HOUR_MS + 60_000);

    // WHEN Bob relaunches
    const relaunched = body(await a.handle(event('PUT', '/sessions/ck-bob', { caller: BOB, body: { payload: 'bob' } })));

    // THEN the payload is Bob's own, with no checkpoint
    expect(rig.emulator.getVm(relaunched.microvmId)!.runHookPayload).toBe('bob');
  });

  test('tokens for the checkpoint port never reach clients', async () => {
    const { api: a, runs } = api();
    const created = await a.handle(event('PUT', '/sessions/ck-tok'));
    const asked = await a.handle(event('POST', '/sessions/ck-tok/token', { body: { ports: [CHECKPOINT_PORT] } }));
    await a.handle(event('POST', '/sessions/ck-tok/checkpoint'));
    await Promise.all(runs);
    expect(asked.statusCode).toBe(400);
    const checkpointTokens = rig.emulator.issuedTokens()
      .filter((t) => t.microvmId === body(created).microvmId && t.allowedPorts.some((p) => 'port' in p && p.port === CHECKPOINT_PORT));
    expect(checkpointTokens).toHaveLength(1);
    expect(checkpointTokens[0].expirationInMinutes).toBe(5);
    expect(checkpointTokens[0].allowedPorts).toEqual([{ port: CHECKPOINT_PORT }]);
    expect(JSON.stringify([body(created), body(asked)])).not.toContain(checkpointTokens[0].token);
    expect(rig.capture.text).not.toContain(checkpointTokens[0].token);
    expect(rig.capture.text).not.toMatch(/X-Amz-Signature/);
  });

  test('DELETE of a session deletes its checkpoints', async () => {
    const { api: a } = api();
    await a.handle(event('PUT', '/sessions/ck-del'));
    const owner = sha256Hex(ALICE);
    await saver().saveRequested({ owner, sessionId: 'ck-del', generation: 1 });
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${owner}/ck-del-other/1/x`, Body: 'another session' }));
    expect(await objects(`${owner}/ck-del/`)).toHaveLength(1);
    expect((await a.handle(event('DELETE', '/sessions/ck-del'))).statusCode).toBe(204);
    expect(await objects(`${owner}/ck-del/`)).toEqual([]);
    const other = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${owner}/ck-del-other/1/x` }));
    expect(await other.Body!.transformToString()).toBe('another session');
  });
});

describe('the sweeper saves before the end', () => {
  function sweeper() {
    return newSweeper(fixtureOf(rig), {}, { checkpoints: { saver: saver(), beforeEndSeconds: 900 } });
  }

  test('a live session within 15 minutes of its end is saved once; a suspended one is resumed for it and put back to sleep', async () => {
    // GIVEN two sessions 40 minutes into their hour (20 before the end: not yet due), one suspended by the API
    const { api: a } = api();
    const idle = body(await a.handle(event('PUT', '/sessions/ck-end-1')));
    const asleep = body(await a.handle(event('PUT', '/sessions/ck-end-2')));
    advance(5 * 60_000);
    expect((await a.handle(event('POST', '/sessions/ck-end-2/suspend'))).statusCode).toBe(202);
    advance(35 * 60_000);
    const early = await sweeper().run();
    expect(early.errors).toBe(0);
    expect(await objects(`${sha256Hex(ALICE)}/ck-end-`)).toEqual([]);

    // WHEN a sweep runs 10 minutes before the end, then another
    rig.resetCounts();
    advance(10 * 60_000);
    await sweeper().run();
    await sweeper().run();

    // THEN each session has one checkpoint of this generation
    const owner = sha256Hex(ALICE);
    expect(await objects(`${owner}/ck-end-1/`)).toHaveLength(1);
    expect(await objects(`${owner}/ck-end-2/`)).toHaveLength(1);
    expect((await row(ALICE, 'ck-end-1')).lastCheckpoint.M.generation.N).toBe('1');
    // one was suspended by the API, the other by the idle policy (10 minutes without traffic): both were woken for
    // the save and put back to sleep (other tests' sessions share the table, so the counts are not this test's alone).
    expect(rig.emulator.callCounts().ResumeMicrovm).toBeGreaterThanOrEqual(2);
    expect(rig.emulator.getVm(asleep.microvmId)!.state).toMatch(/SUSPEND/);
    expect(rig.emulator.getVm(idle.microvmId)!.state).toMatch(/SUSPEND/);
  });

  test('a save that failed is retried by the next sweep', async () => {
    const { api: a } = api();
    await a.handle(event('PUT', '/sessions/ck-retry'));
    advance(50 * 60_000);
    guest.mode = 'fail';
    await sweeper().run();
    expect((await row(ALICE, 'ck-retry')).checkpointError.S).toBe('guestFailed');
    guest.mode = 'ok';
    await sweeper().run();
    const after = await row(ALICE, 'ck-retry');
    expect(after.lastCheckpoint).toBeDefined();
    expect(after.checkpointError).toBeUndefined();
  });
});

describe('onSuspend: the sweeper saves each suspension once', () => {
  const IDLE_MS = 600_000; // the rig's idle policy: suspend after 10 minutes without inbound traffic.

  function sweeper(onSuspend = true) {
    return newSweeper(fixtureOf(rig), {}, { checkpoints: { saver: saver(), beforeEndSeconds: 900, onSuspend } });
  }

  /** The archive's file names, as the guest would unpack them. */
  async function filesIn(key: string): Promise<string[]> {
    const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    const listing = execFileSync('tar', ['-tzf', '-'], { input: Buffer.from(await out.Body!.transformToByteArray()) });
    return String(listing).split('\n').map((f) => f.replace(/^\.\//, '')).filter((f) => f && f !== '.').sort();
  }

  test('an idle suspension is saved by the next sweep, once; after the VM runs again, the next one is saved too', async () => {
    // GIVEN a session with a file, left idle until the idle policy suspends it
    const { api: a } = api();
    const created = body(await a.handle(event('PUT', '/sessions/ck-idle')));
    const owner = sha256Hex(ALICE);
    fs.writeFileSync(path.join(guest.workspace, 'a.txt'), 'before the first suspension');
    advance(IDLE_MS + 60_000);
    expect(rig.emulator.getVm(created.microvmId)!.state).toBe('SUSPENDED');

    // WHEN two sweeps run at once, then a third
    const reports = await Promise.all([sweeper().run(), sweeper().run()]);
    await sweeper().run();

    // THEN the suspension has one checkpoint, the VM is asleep again, and the row marks the suspension saved
    expect(reports.map((r) => r.errors)).toEqual([0, 0]);
    const first = await objects(`${owner}/ck-idle/`);
    expect(first).toHaveLength(1);
    expect(rig.emulator.getVm(created.microvmId)!.state).toMatch(/^SUSPEND/);
    expect((await row(ALICE, 'ck-idle')).suspensionSavedAt).toBeDefined();

    // WHEN traffic resumes the VM, a sweep sees it running, the workspace changes, and it idles into a new suspension
    expect(rig.emulator.recordTraffic(created.microvmId)).toBe(true);
    advance(5_000);
    expect(rig.emulator.getVm(created.microvmId)!.state).toBe('RUNNING');
    await sweeper().run();
    expect((await row(ALICE, 'ck-idle')).suspensionSavedAt).toBeUndefined();
    fs.writeFileSync(path.join(guest.workspace, 'b.txt'), 'written after the resume');
    advance(IDLE_MS + 60_000);
    await sweeper().run();
    await sweeper().run();

    // THEN that suspension has its own checkpoint, with the new file; the first one did not have it
    const both = await objects(`${owner}/ck-idle/`);
    expect(both).toHaveLength(2);
    const second = both.find((k) => k !== first[0])!;
    expect(await filesIn(first[0])).not.toContain('b.txt');
    expect(await filesIn(second)).toEqual(expect.arrayContaining(['a.txt', 'b.txt']));
    expect((await row(ALICE, 'ck-idle')).lastCheckpoint.M.key.S).toBe(second);

    // AND a relaunch after the idle policy terminates the suspended VM restores that checkpoint
    advance(HOUR_MS);
    const relaunched = body(await a.handle(event('PUT', '/sessions/ck-idle')));
    expect(relaunched.microvmId).not.toBe(created.microvmId);
    const payload = JSON.parse(rig.emulator.getVm(relaunched.microvmId)!.runHookPayload!);
    expect(payload.checkpoint.key).toBe(second);
    expect((await row(ALICE, 'ck-idle')).suspensionSavedAt).toBeUndefined();
  });

  test('a sweep whose read of the row is older than a save since does not save again', async () => {
    // GIVEN a suspended session as two sweeps scanned it, before either saved
    const { api: a } = api();
    const created = body(await a.handle(event('PUT', '/sessions/ck-stale')));
    advance(IDLE_MS + 60_000);
    const owner = sha256Hex(ALICE);
    const scanned = { owner, sessionId: 'ck-stale', generation: 1, microvmId: created.microvmId, endpoint: created.endpoint, vmState: 'SUSPENDED' };

    // WHEN the first saves, and the second claims after it finished, with what it read before
    const first = await saver().save(scanned, 'onSuspend', { lastKey: undefined, suspensionAttempts: 0 });
    const second = await saver().save(scanned, 'onSuspend', { lastKey: undefined, suspensionAttempts: 0 });
    // and a save after a failed attempt the reader did not see
    guest.mode = 'fail';
    const failedAfter = await saver().save(scanned, 'onSuspend', { lastKey: first.saved ? first.checkpoint.key : '' });
    const staleAttempts = await saver().save(scanned, 'onSuspend', { lastKey: first.saved ? first.checkpoint.key : '', suspensionAttempts: 0 });

    // THEN one save; the stale claims are refused as in progress (no guest call, no failure counted)
    expect([first.saved, second, failedAfter, staleAttempts]).toEqual([
      true, { saved: false, reason: 'inProgress' }, { saved: false, reason: 'guestFailed' }, { saved: false, reason: 'inProgress' },
    ]);
    expect(await objects(`${owner}/ck-stale/`)).toHaveLength(1);
    expect(guest.saves).toBe(2);
  });

  test('a suspension whose save keeps failing is tried by three sweeps, then left alone until the VM runs again', async () => {
    // GIVEN a suspended session whose guest fails every save
    const { api: a } = api();
    const created = body(await a.handle(event('PUT', '/sessions/ck-idle-fail')));
    advance(IDLE_MS + 60_000);
    guest.mode = 'fail';

    // WHEN four sweeps run
    for (let i = 0; i < 4; i++) await sweeper().run();

    // THEN three tried, the fourth left it asleep, and the session is as healthy as before
    const failed = await row(ALICE, 'ck-idle-fail');
    expect([failed.suspensionSaveAttempts.N, failed.checkpointError.S, failed.suspensionSavedAt]).toEqual(['3', 'guestFailed', undefined]);
    expect(rig.emulator.getVm(created.microvmId)!.state).toMatch(/^SUSPEND/);
    expect(await objects(`${sha256Hex(ALICE)}/ck-idle-fail/`)).toEqual([]);
    const described = await a.handle(event('GET', '/sessions/ck-idle-fail'));
    expect([described.statusCode, body(described).checkpoint.lastError]).toEqual([200, 'guestFailed']);

    // WHEN the guest recovers, the client's traffic resumes the VM and a sweep sees it running
    guest.mode = 'ok';
    expect(rig.emulator.recordTraffic(created.microvmId)).toBe(true);
    advance(5_000);
    await sweeper().run();
    expect((await row(ALICE, 'ck-idle-fail')).suspensionSaveAttempts).toBeUndefined();
    advance(IDLE_MS + 60_000);
    await sweeper().run();

    // THEN the next suspension is saved
    expect(await objects(`${sha256Hex(ALICE)}/ck-idle-fail/`)).toHaveLength(1);
    expect((await row(ALICE, 'ck-idle-fail')).checkpointError).toBeUndefined();
  });

  test('a suspension the API asked for is saved too; without onSuspend no suspension is', async () => {
    const { api: a } = api();
    await a.handle(event('PUT', '/sessions/ck-api-susp'));
    await a.handle(event('PUT', '/sessions/ck-off-susp'));
    const owner = sha256Hex(ALICE);
    expect((await a.handle(event('POST', '/sessions/ck-api-susp/suspend'))).statusCode).toBe(202);
    advance(5_000);

    // a sweeper without onSuspend saves neither (both are far from their end)
    await sweeper(false).run();
    expect(await objects(`${owner}/ck-api-susp/`)).toEqual([]);
    advance(IDLE_MS + 60_000);
    await sweeper(false).run();
    expect(await objects(`${owner}/ck-off-susp/`)).toEqual([]);

    // with it, both
    await sweeper().run();
    expect(await objects(`${owner}/ck-api-susp/`)).toHaveLength(1);
    expect(await objects(`${owner}/ck-off-susp/`)).toHaveLength(1);

    // the API's resume clears the mark at once, so a suspension right after it is saved again
    expect((await a.handle(event('POST', '/sessions/ck-api-susp/resume'))).statusCode).toBe(202);
    expect((await row(ALICE, 'ck-api-susp')).suspensionSavedAt).toBeUndefined();
    advance(5_000);
    expect((await a.handle(event('POST', '/sessions/ck-api-susp/suspend'))).statusCode).toBe(202);
    advance(5_000);
    await sweeper().run();
    expect(await objects(`${owner}/ck-api-susp/`)).toHaveLength(2);
  });
});

describe('checkpoint events', () => {
  test('each save and failed save gives one event, with what started it, that matches the documented schema and has no URL', async () => {
    // GIVEN events to a local bus
    const bus = await LocalEventBus.start();
    const client = new EventBridgeClient({ endpoint: bus.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'A', secretAccessKey: 'B' } });
    const events = SessionEvents.toBus(client, 'default', 'checkpoint-test', new Logger({ logLevel: 'SILENT' }), new Metrics({ namespace: 'T' }));
    try {
      const { api: a } = api();
      await a.handle(event('PUT', '/sessions/ck-ev', { body: { labels: { tenant: 'acme' } } }));
      const owner = sha256Hex(ALICE);

      // WHEN one save succeeds and the next fails
      await saver(5000, events).saveRequested({ owner, sessionId: 'ck-ev', generation: 1 });
      guest.mode = 'fail';
      await saver(5000, events).saveRequested({ owner, sessionId: 'ck-ev', generation: 1 });
      // and the sweeper saves the session once the idle policy suspends it, then again near its end
      guest.mode = 'ok';
      const sweep = () => newSweeper(fixtureOf(rig), {}, {
        checkpoints: { saver: saver(5000, events), beforeEndSeconds: 900, onSuspend: true },
      }).run();
      advance(11 * 60_000);
      await sweep();
      advance(40 * 60_000);
      await sweep();
      await events.flush();

      // THEN (other tests' sessions share the table: this session's events)
      const mine = bus.events.filter((e) => e.detail.sessionId === 'ck-ev');
      expect(mine.map((e) => [e.detailType, e.detail.trigger, e.detail.reason, (e.detail.checkpoint as any)?.bytes > 0])).toEqual([
        ['Checkpoint Saved', 'requested', undefined, true], ['Checkpoint Failed', 'requested', 'guestFailed', false],
        ['Checkpoint Saved', 'onSuspend', undefined, true], ['Checkpoint Saved', 'beforeEnd', undefined, true],
      ]);
      expect(bus.events[0].detail).toMatchObject({ sessionId: 'ck-ev', generation: 1, labels: { tenant: 'acme' }, ownerArn: ALICE });
      expect(bus.events.map((e) => e.rawDetail).join()).not.toMatch(/X-Amz-|https?:\/\//);
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const Ajv = require('ajv');
      const schema = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'docs', 'events.schema.json'), 'utf8'));
      const validate = new Ajv({ allErrors: true }).compile(schema);
      expect(schema.definitions.detail.properties.trigger.enum).toEqual([...CHECKPOINT_TRIGGERS]);
      for (const e of bus.events) {
        expect([e.detailType, validate({ 'source': e.source, 'detail-type': e.detailType, 'detail': e.detail }), validate.errors]).toEqual([e.detailType, true, null]);
      }
    } finally {
      client.destroy();
      await bus.stop();
    }
  });
});
