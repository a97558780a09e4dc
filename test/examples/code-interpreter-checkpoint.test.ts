import { ChildProcess, execFileSync, spawn } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { call, freePort } from '../support/local-http';

// the example's sandbox implements the checkpoint guest contract (docs/checkpoints.md): driven here as the
// orchestrator drives it, with URLs from the real S3 presigner against s3rver, in two sandboxes standing for the VM
// before and after a relaunch.

// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver');

const SANDBOX = path.join(__dirname, '..', '..', 'examples', 'code-interpreter', 'sandbox');
const HOOK = '/aws/lambda-microvms/runtime/v1';
const BUCKET = 'checkpoints';

interface Sandbox { process: ChildProcess; app: number; hooks: number; checkpoint: number; workspace: string }

async function startSandbox(root: string): Promise<Sandbox> {
  const [app, hooks, checkpoint] = [await freePort(), await freePort(), await freePort()];
  const workspace = fs.mkdtempSync(path.join(root, 'work-'));
  const child = spawn('python3', ['-u', 'server.py'], {
    cwd: SANDBOX,
    env: {
      ...process.env,
      APP_PORT: String(app),
      HOOKS_PORT: String(hooks),
      CHECKPOINT_PORT: String(checkpoint),
      WORKSPACE: workspace,
      RUN_AS: '',
      PYTHONDONTWRITEBYTECODE: '1',
    },
    stdio: 'ignore',
  });
  for (let attempt = 0; attempt < 100; attempt++) {
    const ready = await call(hooks, 'POST', `${HOOK}/ready`).catch(() => ({ status: 0 }));
    if (ready.status === 200) return { process: child, app, hooks, checkpoint, workspace };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('sandbox never answered /ready with 200');
}

let s3server: any;
let s3: S3Client;
let root: string;
const sandboxes: Sandbox[] = [];

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'guest-'));
  s3server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: path.join(root, 's3'), configureBuckets: [{ name: BUCKET }] });
  const { port } = await s3server.run();
  s3 = new S3Client({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
});

afterAll(async () => {
  sandboxes.forEach((s) => s.process.kill());
  s3.destroy();
  await s3server.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('the code-interpreter sandbox as a checkpoint guest', () => {
  test('saves its workspace through a presigned PUT, and a fresh sandbox restores it in /run', async () => {
    // GIVEN a sandbox with files in its workspace
    const before = await startSandbox(root);
    sandboxes.push(before);
    fs.mkdirSync(path.join(before.workspace, 'notebooks'));
    fs.writeFileSync(path.join(before.workspace, 'notebooks', 'analysis.py'), 'print("kept")\n');

    // WHEN the orchestrator asks it to save
    const key = 'owner/session-1/1/2026-12-06T00-00-00-000Z';
    const uploadUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: BUCKET, Key: key }), { expiresIn: 900 });
    const saved = await call(before.checkpoint, 'POST', '/checkpoint', { uploadUrl, key, expiresAt: new Date(Date.now() + 900_000).toISOString(), maxBytes: 5 * 1024 ** 3 });

    // THEN it answers the size and hash of exactly what S3 holds
    expect(saved.status).toBe(200);
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(head.ContentLength).toBe(saved.body.bytes);
    const stored = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToByteArray());
    expect(createHash('sha256').update(stored).digest('hex')).toBe(saved.body.sha256);

    // AND a fresh sandbox (the relaunched VM) restores it before answering /run, keeping the caller's payload
    const after = await startSandbox(root);
    sandboxes.push(after);
    const downloadUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: key }), { expiresIn: 900 });
    const runHookPayload = JSON.stringify({ payload: JSON.stringify({ sessionKey: 'k-restored' }), checkpoint: { downloadUrl, key, createdAt: new Date().toISOString() } });
    const run = await call(after.hooks, 'POST', `${HOOK}/run`, { microvmId: 'mvm-2', runHookPayload });
    expect(run.status).toBe(200);
    expect(fs.readFileSync(path.join(after.workspace, 'notebooks', 'analysis.py'), 'utf8')).toBe('print("kept")\n');
    expect((await call(after.app, 'GET', '/health')).body).toMatchObject({ status: 'ok', restore: 'done' });
    const executed = await call(after.app, 'POST', '/execute', { code: 'print(1)' }, { 'x-session-key': 'k-restored' });
    expect(executed.status).toBe(200);
  });

  test('an archive over maxBytes is a size error, and nothing is uploaded', async () => {
    const sandbox = await startSandbox(root);
    sandboxes.push(sandbox);
    fs.writeFileSync(path.join(sandbox.workspace, 'data.bin'), Buffer.alloc(4096, 7));
    const key = 'owner/session-2/1/too-large';
    const uploadUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: BUCKET, Key: key }), { expiresIn: 900 });
    const res = await call(sandbox.checkpoint, 'POST', '/checkpoint', { uploadUrl, key, expiresAt: new Date().toISOString(), maxBytes: 10 });
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ error: 'TooLarge', bytes: expect.any(Number) });
    await expect(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))).rejects.toMatchObject({ name: 'NotFound' });
  });

  test('a checkpoint with an entry that escapes the workspace is refused, and /health says so', async () => {
    // GIVEN an archive whose member points outside the workspace (a crafted or corrupted checkpoint)
    const evil = path.join(root, 'evil.tar.gz');
    const staging = fs.mkdtempSync(path.join(root, 'evil-'));
    fs.writeFileSync(path.join(staging, 'x'), 'x');
    execFileSync('tar', ['-czf', evil, '-C', staging, '--transform', 's,^x$,../escaped,', 'x']);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'owner/evil/1/x', Body: fs.readFileSync(evil) }));
    const sandbox = await startSandbox(root);
    sandboxes.push(sandbox);
    const downloadUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: 'owner/evil/1/x' }), { expiresIn: 900 });

    // WHEN
    const run = await call(sandbox.hooks, 'POST', `${HOOK}/run`, { microvmId: 'mvm-3', runHookPayload: JSON.stringify({ payload: null, checkpoint: { downloadUrl } }) });

    // THEN nothing lands outside, and the failed restore is visible
    expect(run.status).toBe(200);
    expect(fs.existsSync(path.join(path.dirname(sandbox.workspace), 'escaped'))).toBe(false);
    expect((await call(sandbox.app, 'GET', '/health')).body).toMatchObject({ restore: 'failed' });
  });
});
