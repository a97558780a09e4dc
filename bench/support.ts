// shared helpers of the benchmarks: statistics, timing, call counting and printing.
import * as path from 'path';
import type { Rig } from '../test/orchestrator/runtime/harness';

/** The repository root (bench/ sits right under it). */
export const ROOT = path.join(__dirname, '..');
/** Scratch output (gitignored). */
export const TMP = path.join(__dirname, '.tmp');

// the rigs capture stdout/stderr while they run (the handlers log there), so the bench prints through the
// writers as they were before any rig started.
const stdoutWrite = process.stdout.write.bind(process.stdout);

/** Prints a line to the real stdout, even while a rig captures the handlers' log output. */
export function say(line = ''): void {
  stdoutWrite(`${line}\n`);
}

/** Milliseconds since an arbitrary origin, high resolution. */
export function nowMs(): number {
  return performance.now();
}

/** Times one async call in milliseconds. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = nowMs();
  const value = await fn();
  return { ms: nowMs() - start, value };
}

/** Nearest-rank percentile (p in 0-100) of a non-empty sample. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

export function median(values: number[]): number {
  return percentile(values, 50);
}

/** Rounds for the report: 2 decimals below 10, 1 decimal below 1000, whole numbers above. */
export function round(value: number): number {
  if (!Number.isFinite(value)) return value;
  const digits = Math.abs(value) < 10 ? 2 : Math.abs(value) < 1000 ? 1 : 0;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** p50/p99/mean/min/max of a sample, rounded. */
export function summary(values: number[]): { n: number; p50: number; p99: number; mean: number; min: number; max: number } {
  const mean = values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  return {
    n: values.length,
    p50: round(percentile(values, 50)),
    p99: round(percentile(values, 99)),
    mean: round(mean),
    min: round(Math.min(...values)),
    max: round(Math.max(...values)),
  };
}

/** Calls seen by a rig since its last reset: table commands (by SDK command name) and MicroVM operations. */
export interface CallCounts {
  readonly table: Record<string, number>;
  readonly microvms: Record<string, number>;
  readonly tableTotal: number;
  readonly microvmsTotal: number;
}

export function countsOf(rig: Rig): CallCounts {
  const tableCalls = { ...rig.dynamoCalls };
  const microvms = rig.emulator.callCounts() as Record<string, number>;
  return {
    table: tableCalls,
    microvms,
    tableTotal: Object.values(tableCalls).reduce((a, b) => a + b, 0),
    microvmsTotal: Object.values(microvms).reduce((a, b) => a + b, 0),
  };
}

/** Drops the log lines a rig captured so far (a long run would otherwise keep them all in memory). */
export function dropCapturedLogs(rig: Rig): void {
  rig.capture.lines.length = 0;
}

/** Adds a fixed delay before every DynamoDB request of the rig's client (DynamoDB's own latency, which dynalite lacks). */
export function addTableLatency(rig: Rig, ms: number): void {
  rig.dynamoClient.middlewareStack.add((next) => async (args) => {
    await sleep(ms);
    return next(args);
  }, { step: 'finalizeRequest', name: 'benchTableLatency' });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A fixed-width text table. */
export function table(headers: string[], rows: Array<Array<string | number | boolean | undefined>>): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === undefined ? '' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (c ?? '').padEnd(widths[i])).join('  ').trimEnd();
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}
