// 5. cold start: the size of each bundled handler (assets/, written by `npx projen bundle`) and its module
// initialisation time, required in a fresh `node` process as Lambda does, against a bundle that only creates the
// SDK clients and commands the handler uses (bench/baselines/, bundled here with the handlers' esbuild flags).
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ROOT, TMP, median, round } from './support';

export interface BundleResult {
  readonly bundleKB: number;
  readonly baselineBundleKB: number;
  /** Median time to require the bundle in a fresh process (module init), ms. */
  readonly initMs: number;
  readonly baselineInitMs: number;
  /** initMs / baselineInitMs. */
  readonly initRatio: number;
  readonly initSamplesMs: number[];
  readonly baselineInitSamplesMs: number[];
}

export interface ColdStartResult {
  readonly esbuild: string;
  readonly runsPerBundle: number;
  readonly handlers: Record<string, BundleResult>;
}

const HANDLERS: Record<string, { bundle: string; baseline: string }> = {
  orchestrator: {
    bundle: 'assets/orchestrator/orchestrator.lambda/index.js',
    baseline: 'bench/baselines/orchestrator-sdk-only.ts',
  },
  sweeper: {
    bundle: 'assets/orchestrator/sweeper.lambda/index.js',
    baseline: 'bench/baselines/sweeper-sdk-only.ts',
  },
};

// the flags of the projen bundle tasks (.projen/tasks.json, from bundlingOptions in .projenrc.ts).
const ESBUILD_OPTIONS = {
  bundle: true,
  minify: true,
  platform: 'node' as const,
  target: 'node24',
  mainFields: ['module', 'main'],
  tsconfig: 'test/tsconfig.json',
  logLevel: 'silent' as const,
};

// a configuration that parses, so the handlers initialise as deployed; the endpoints are never contacted.
const CHILD_ENV: Record<string, string> = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'AKIDLOCALTESTING0000',
  AWS_SECRET_ACCESS_KEY: 'local-testing-secret',
  AWS_ENDPOINT_URL_LAMBDA_MICROVMS: 'http://127.0.0.1:9',
  AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9',
  SESSIONS_TABLE_NAME: 'sessions',
  MICROVM_IMAGE_ARN: 'arn:aws:lambda:us-east-1:123456789012:microvm-image:sandbox',
  MICROVM_MAX_DURATION_SECONDS: '3600',
  MICROVM_APP_PORTS: '[8080]',
  MICROVM_TOKEN_TTL_SECONDS: '300',
  MICROVM_EGRESS_CONNECTORS: '["arn:aws:lambda:us-east-1:123456789012:network-connector:isolated"]',
  MICROVM_INGRESS_CONNECTORS: '["arn:aws:lambda:us-east-1:aws:network-connector:aws-network-connector:HTTP_INGRESS"]',
  POWERTOOLS_SERVICE_NAME: 'bench',
};

// times the require itself, inside the child, so process start-up is not counted.
const DRIVER = `
  const start = process.hrtime.bigint();
  const mod = require(process.argv[1]);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (typeof mod.handler !== 'function') throw new Error('no handler export');
  process.stdout.write(String(ms));`;

export async function measureColdStart(runs: number): Promise<ColdStartResult> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  const outDir = path.join(TMP, 'cold-start');
  fs.mkdirSync(outDir, { recursive: true });
  const files: Record<string, { bundle: string; baseline: string }> = {};
  for (const [name, spec] of Object.entries(HANDLERS)) {
    const bundle = path.join(ROOT, spec.bundle);
    if (!fs.existsSync(bundle)) throw new Error(`${spec.bundle} is missing: run \`npx projen bundle\` first`);
    const baseline = path.join(outDir, `${name}-sdk-only.js`);
    await esbuild.build({ ...ESBUILD_OPTIONS, absWorkingDir: ROOT, entryPoints: [spec.baseline], outfile: baseline });
    files[name] = { bundle, baseline };
  }
  const samples: Record<string, { bundle: number[]; baseline: number[] }> = {};
  for (const name of Object.keys(files)) samples[name] = { bundle: [], baseline: [] };
  // one discarded round warms the file cache; then bundle and baseline alternate, each in a fresh process.
  for (let round_ = -1; round_ < runs; round_++) {
    for (const [name, f] of Object.entries(files)) {
      const order = round_ % 2 === 0 ? (['bundle', 'baseline'] as const) : (['baseline', 'bundle'] as const);
      for (const kind of order) {
        const ms = requireTime(f[kind]);
        if (round_ >= 0) samples[name][kind].push(ms);
      }
    }
  }
  const handlers: Record<string, BundleResult> = {};
  for (const [name, f] of Object.entries(files)) {
    const initMs = median(samples[name].bundle);
    const baselineInitMs = median(samples[name].baseline);
    handlers[name] = {
      bundleKB: round(fs.statSync(f.bundle).size / 1024),
      baselineBundleKB: round(fs.statSync(f.baseline).size / 1024),
      initMs: round(initMs),
      baselineInitMs: round(baselineInitMs),
      initRatio: round(initMs / baselineInitMs),
      initSamplesMs: samples[name].bundle.map(round),
      baselineInitSamplesMs: samples[name].baseline.map(round),
    };
  }
  return { esbuild: esbuild.version, runsPerBundle: runs, handlers };
}

function requireTime(file: string): number {
  const out = execFileSync(process.execPath, ['-e', DRIVER, file], {
    env: { PATH: process.env.PATH ?? '', ...CHILD_ENV },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const ms = Number(out.trim().split('\n').pop());
  if (!Number.isFinite(ms)) throw new Error(`could not time ${path.basename(file)}: ${out}`);
  return ms;
}
