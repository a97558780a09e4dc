// 6. synth time of the code-interpreter example (with and without its cdk-nag packs) against the same stack
// written with L1s only (bench/l1-stack.ts). Each sample is a fresh node process (bench/synth-child.ts), as
// `cdk synth` runs an app: repeated synths in one process skew each other (JIT and caches warmed by one variant
// change the next one's time by 2x). The variants alternate, rotating which goes first.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ROOT, TMP, median, round } from './support';

export interface SynthVariant {
  /** Median time to construct the App and synthesize it, in a fresh process, ms. */
  readonly synthMs: number;
  /** Median time to load the variant's modules first (ts-node transpiles the library's sources here), ms. */
  readonly importMs: number;
  /** Median of import + synth per process, ms. */
  readonly totalMs: number;
  readonly synthSamplesMs: number[];
  /** Resources in the synthesized template (the L1 stack should match the example's count). */
  readonly resources: number;
}

export interface SynthResult {
  readonly rounds: number;
  readonly l1: SynthVariant;
  readonly example: SynthVariant;
  readonly exampleWithNag: SynthVariant;
  /** median synth(example) / median synth(L1). */
  readonly ratio: number;
  /** median synth(example with AwsSolutionsChecks + MicrovmChecks) / median synth(L1). */
  readonly ratioWithNag: number;
  /** The same ratios on import + synth (the example's import includes ts-node transpiling the library's sources). */
  readonly totalRatio: number;
  readonly totalRatioWithNag: number;
}

const NAMES = ['l1', 'example', 'exampleWithNag'] as const;

export function measureSynth(rounds: number): SynthResult {
  const base = path.join(TMP, 'synth');
  fs.rmSync(base, { recursive: true, force: true });
  const samples: Record<string, Array<{ importMs: number; synthMs: number; resources: number }>> = { l1: [], example: [], exampleWithNag: [] };
  for (let r = 0; r < rounds; r++) {
    const order = NAMES.map((_, i) => NAMES[(i + r) % NAMES.length]);
    for (const name of order) samples[name].push(synthOnce(name, path.join(base, `${name}-${r}`)));
  }
  const variant = (name: string): SynthVariant => ({
    synthMs: round(median(samples[name].map((s) => s.synthMs))),
    importMs: round(median(samples[name].map((s) => s.importMs))),
    totalMs: round(median(samples[name].map((s) => s.importMs + s.synthMs))),
    synthSamplesMs: samples[name].map((s) => round(s.synthMs)),
    resources: samples[name][0].resources,
  });
  const l1 = variant('l1');
  const example = variant('example');
  const exampleWithNag = variant('exampleWithNag');
  return {
    rounds,
    l1,
    example,
    exampleWithNag,
    ratio: round(example.synthMs / l1.synthMs),
    ratioWithNag: round(exampleWithNag.synthMs / l1.synthMs),
    totalRatio: round(example.totalMs / l1.totalMs),
    totalRatioWithNag: round(exampleWithNag.totalMs / l1.totalMs),
  };
}

function synthOnce(variant: string, outdir: string): { importMs: number; synthMs: number; resources: number } {
  const out = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(__dirname, 'synth-child.ts'), variant, outdir], {
    cwd: ROOT,
    env: { ...process.env, TS_NODE_PROJECT: path.join(ROOT, 'test', 'tsconfig.json'), CDK_DEFAULT_REGION: 'us-east-1' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 16 * 1024 * 1024,
  });
  const last = out.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last);
  } catch {
    throw new Error(`synth of ${variant} printed no result: ${out.slice(-500)}`);
  }
}
