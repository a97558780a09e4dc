// `npm run bench`: every benchmark of issue 8 in one run, locally (the MicroVM emulator and dynalite, no AWS
// call). Writes bench/results.json and prints a table. Exits 0 when a goal is missed (results.json says so);
// non-zero only when the bench itself breaks. `npm run bench -- --quick` runs fewer iterations (for trying it
// out; the committed results come from a full run).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CallsResult, measureCalls } from './calls';
import { measureCheckpoints } from './checkpoints';
import { ColdStartResult, measureColdStart } from './cold-start';
import { ConcurrencyResult, measureConcurrency } from './concurrency';
import { LatencyResult, measureLatency } from './latency';
import { measureSmokeTest, SmokeTestBenchResult } from './smoke-test';
import { table, say, round, nowMs } from './support';
import { measureSweeper, SweeperResult } from './sweeper-scale';
import { measureSynth, SynthResult } from './synth';

interface Goal {
  readonly name: string;
  readonly goal: string;
  readonly measured: string;
  readonly met: boolean;
}

const QUICK = process.argv.includes('--quick');
const ITERATIONS = QUICK
  ? { warm: 30, cold: 8, init: 3, synth: 2, smokeTest: 2, checkpoints: 1 }
  : { warm: 200, cold: 50, init: 9, synth: 5, smokeTest: 5, checkpoints: 3 };
/** Workspace sizes (MiB) the example guest saves and restores. */
const CHECKPOINT_SIZES_MIB = QUICK ? [1, 16] : [1, 64, 256];
const RATIO_GOAL = 1.15;
const BUNDLE_GOAL_KB = 600;

async function main(): Promise<void> {
  const started = nowMs();
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
    platform: `${os.platform()}-${os.arch()}`,
    loadAverageAtStart: os.loadavg().map(round),
  };
  say(`cdk-lambda-microvms bench${QUICK ? ' (quick)' : ''}: ${machine.cpus} CPUs, node ${machine.node}, load ${machine.loadAverageAtStart.join(' ')}`);

  const section = async <T>(name: string, run: () => Promise<T> | T): Promise<T> => {
    const start = nowMs();
    say(`- ${name} ...`);
    const result = await run();
    say(`  done in ${(round((nowMs() - start) / 1000))} s`);
    return result;
  };
  const calls = await section('service calls per operation', () => measureCalls());
  const latency = await section(`latency: ${ITERATIONS.warm} warm and ${ITERATIONS.cold} cold PUTs, handler vs baseline, interleaved`,
    () => measureLatency({ warmIterations: ITERATIONS.warm, coldIterations: ITERATIONS.cold }));
  // the same warm comparison with no emulated latency: the handler's own CPU cost against local servers only.
  const latencyUnloaded = await section(`latency without emulated service latency: ${ITERATIONS.warm} warm PUTs`,
    () => measureLatency({
      warmIterations: ITERATIONS.warm,
      coldIterations: 0,
      serviceLatencyMs: { CreateMicrovmAuthToken: 0, RunMicrovm: 0, dynamodbPerCall: 0 },
    }));
  const concurrency = await section('concurrency: 200 PUTs over 20 sessions', () => measureConcurrency(200, 20));
  const sweeper = await section('sweeper: 10,000 VMs, 5% orphans', () => measureSweeper());
  const smokeTest = await section(`smoke test: one probe VM per deploy x${ITERATIONS.smokeTest}`, () => measureSmokeTest(ITERATIONS.smokeTest));
  const checkpoints = await section(`checkpoints: calls per save and relaunch; the example guest at ${CHECKPOINT_SIZES_MIB.join(', ')} MiB`,
    () => measureCheckpoints(ITERATIONS.checkpoints, CHECKPOINT_SIZES_MIB));
  const coldStart = await section(`cold start: bundle sizes, init time x${ITERATIONS.init}`, () => measureColdStart(ITERATIONS.init));
  const synth = await section(`synth: example vs L1 stack x${ITERATIONS.synth}`, () => measureSynth(ITERATIONS.synth));

  const goals = goalsOf(calls, latency, concurrency, sweeper, coldStart, smokeTest);
  const results = {
    generatedAt: new Date().toISOString(),
    command: QUICK ? 'npm run bench -- --quick' : 'npm run bench',
    machine: { ...machine, loadAverageAtEnd: os.loadavg().map(round) },
    iterations: ITERATIONS,
    durationSeconds: round((nowMs() - started) / 1000),
    calls,
    latency: { ...latency, warmPutWithoutServiceLatency: latencyUnloaded.warmPut },
    concurrency,
    sweeper,
    smokeTest,
    checkpoints,
    coldStart,
    synth,
    goals,
  };
  const file = path.join(__dirname, 'results.json');
  fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  print(results);
  say(`\nwrote bench/results.json (${results.durationSeconds} s)`);
}

function goalsOf(
  calls: CallsResult, latency: LatencyResult, concurrency: ConcurrencyResult, sweeper: SweeperResult, coldStart: ColdStartResult,
  smokeTest: SmokeTestBenchResult,
): Goal[] {
  const describeCalls = (c: CallsResult[string]) => `table ${JSON.stringify(c.table)}, microvms ${JSON.stringify(c.microvms)}`;
  const goals: Goal[] = [
    { name: 'warm PUT service calls', goal: calls.warmPut.budget!, measured: describeCalls(calls.warmPut), met: calls.warmPut.pass === true },
    {
      name: 'warm PUT with the same labels, service calls',
      goal: calls.warmPutSameLabels.budget!,
      measured: describeCalls(calls.warmPutSameLabels),
      met: calls.warmPutSameLabels.pass === true,
    },
    { name: 'cold PUT service calls', goal: calls.coldPut.budget!, measured: describeCalls(calls.coldPut), met: calls.coldPut.pass === true },
  ];
  for (const [name, c] of [['warm PUT', latency.warmPut], ['cold PUT', latency.coldPut!]] as const) {
    goals.push({
      name: `${name} p50 overhead`,
      goal: `p50(handler) / p50(baseline) <= ${RATIO_GOAL}`,
      measured: `${c.ratioP50}x (${c.handlerMs.p50} ms vs ${c.baselineMs.p50} ms; p99 ${c.handlerMs.p99} vs ${c.baselineMs.p99} ms)`,
      met: c.ratioP50 <= RATIO_GOAL && c.unexpectedStatuses === 0,
    });
  }
  goals.push({
    name: 'concurrent PUTs launch one VM per session',
    goal: `${concurrency.sessions} VMs for ${concurrency.requests} PUTs over ${concurrency.sessions} sessions, no errors`,
    measured: `${concurrency.vmsLaunched} VMs, ${concurrency.errors} errors, ${concurrency.sessionsWithSeveralVms} sessions with several VMs`,
    met: concurrency.vmsLaunched === concurrency.sessions && concurrency.errors === 0 && concurrency.sessionsWithSeveralVms === 0,
  });
  goals.push({
    name: 'sweeper list calls per pass',
    goal: '200 ListMicrovms calls per pass over 10,000 VMs',
    measured: sweeper.listCallsPerPass.join(', '),
    met: sweeper.listCallsPerPass.length > 0 && sweeper.listCallsPerPass.every((n) => n === 200),
  });
  goals.push({
    name: 'sweeper cleans every orphan, touches no owned VM',
    goal: `${sweeper.orphans} orphans terminated once each, 0 owned VMs terminated`,
    measured: `${sweeper.orphansTerminated} terminated in ${sweeper.runsToClean || 'more than ' + sweeper.runs.length} runs, ${sweeper.ownedTouched} owned touched, ${sweeper.orphansTerminatedTwice} terminated twice`,
    met: sweeper.runsToClean > 0 && sweeper.orphansTerminated === sweeper.orphans
      && sweeper.ownedTouched === 0 && sweeper.orphansTerminatedTwice === 0,
  });
  goals.push({
    name: 'smoke test service calls',
    goal: smokeTest.budget,
    measured: `${JSON.stringify(smokeTest.calls)}; p50 ${smokeTest.probeMs.p50} ms added to a deploy, ${smokeTest.ratioToFloor}x the ${smokeTest.floorMs} ms floor`,
    met: smokeTest.pass,
  });
  for (const [name, h] of Object.entries(coldStart.handlers)) {
    goals.push({ name: `${name} bundle size`, goal: `< ${BUNDLE_GOAL_KB} KB minified`, measured: `${h.bundleKB} KB`, met: h.bundleKB < BUNDLE_GOAL_KB });
  }
  return goals;
}

function print(r: {
  calls: CallsResult;
  latency: LatencyResult & { warmPutWithoutServiceLatency: LatencyResult['warmPut'] };
  concurrency: ConcurrencyResult;
  sweeper: SweeperResult;
  coldStart: ColdStartResult;
  synth: SynthResult;
  goals: Goal[];
}): void {
  const fmt = (counts: Record<string, number>) => Object.entries(counts).map(([k, v]) => `${k.replace(/Command$/, '')} ${v}`).join(', ') || '-';
  say('\nService calls per operation (table commands by SDK name; MicroVM operations counted at the emulator)');
  say(table(['operation', 'status', 'table', 'MicroVM API', 'budget met'], Object.entries(r.calls).map(([name, c]) =>
    [name, c.statusCode, fmt(c.table), fmt(c.microvms), c.pass === undefined ? 'n/a' : c.pass ? 'yes' : 'NO'])));

  const l = r.latency;
  say(`\nPUT latency, ms (emulated: token ${l.serviceLatencyMs.CreateMicrovmAuthToken}, RunMicrovm ${l.serviceLatencyMs.RunMicrovm}, `
    + `DynamoDB +${l.serviceLatencyMs.dynamodbPerCall} per call)`);
  say(table(['path', 'n', 'handler p50', 'baseline p50', 'ratio p50', 'handler p99', 'baseline p99', 'ratio p99'],
    [['warm', l.warmPut], ['cold', l.coldPut], ['warm, no emulated latency', l.warmPutWithoutServiceLatency]].map(([name, c]: any) =>
      [name, c.iterations, c.handlerMs.p50, c.baselineMs.p50, `${c.ratioP50}x`, c.handlerMs.p99, c.baselineMs.p99, `${c.ratioP99}x`])));

  const c = r.concurrency;
  say(`\nConcurrency: ${c.requests} PUTs over ${c.sessions} sessions (service rate limits on)`);
  say(table(['VMs launched', 'errors', 'final statuses', 'retried 429/503', 'end-to-end p50', 'p99', 'single call p99', 'wall ms'],
    [[c.vmsLaunched, c.errors, JSON.stringify(c.finalStatuses), c.retryableAnswers, c.endToEndMs.p50, c.endToEndMs.p99, c.attemptMs.p99, c.wallMs]]));

  const s = r.sweeper;
  say(`\nSweeper: ${s.vms} VMs, ${s.orphans} orphans, default budget and rates, runs ${s.scheduleMinutes} min apart`);
  say(table(['run', 'list calls', 'suspects recorded', 'orphans terminated', 'errors', 'wall ms', 'paced ms (default rates)'],
    s.runs.map((run, i) => [i + 1, run.listCalls, run.suspectsRecorded, run.orphansTerminated, run.errors, run.wallMs, run.pacedMs])));
  say(`runs to clean: ${s.runsToClean || 'not clean'}; owned VMs touched: ${s.ownedTouched}`);

  say('\nCold start (init = median time to require the bundle in a fresh node process)');
  say(table(['handler', 'bundle KB', 'SDK-only KB', 'init ms', 'SDK-only init ms', 'init ratio'],
    Object.entries(r.coldStart.handlers).map(([name, h]) => [name, h.bundleKB, h.baselineBundleKB, h.initMs, h.baselineInitMs, `${h.initRatio}x`])));

  const y = r.synth;
  say(`\nSynth in a fresh process, median of ${y.rounds} (ms)`);
  say(table(['variant', 'resources', 'synth ms', 'vs L1', 'import ms', 'import + synth', 'vs L1'], [
    ['L1 only (bench/l1-stack.ts)', y.l1.resources, y.l1.synthMs, '1x', y.l1.importMs, y.l1.totalMs, '1x'],
    ['example, no nag packs', y.example.resources, y.example.synthMs, `${y.ratio}x`, y.example.importMs, y.example.totalMs, `${y.totalRatio}x`],
    ['example + AwsSolutions + MicrovmChecks', y.exampleWithNag.resources, y.exampleWithNag.synthMs, `${y.ratioWithNag}x`,
      y.exampleWithNag.importMs, y.exampleWithNag.totalMs, `${y.totalRatioWithNag}x`],
  ]));

  say('\nGoals');
  say(table(['goal', 'target', 'measured', 'met'], r.goals.map((g) => [g.name, g.goal, g.measured, g.met ? 'yes' : 'NO'])));
}

main().then(() => process.exit(0), (error) => {
  say(`bench failed: ${error instanceof Error ? error.stack : String(error)}`);
  process.exit(1);
});
