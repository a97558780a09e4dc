import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import {
  GetMicrovmCommand,
  GetMicrovmResponse,
  LambdaMicrovmsClient,
  ListMicrovmsCommand,
  MicrovmItem,
  TerminateMicrovmCommand,
} from '@aws-sdk/client-lambda-microvms';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AdmissionCounter, countsForAdmission, SlotCounter } from './admission-counter';
import { errorMessage, errorName } from './aws-errors';
import { SessionEvents } from './session-events';
import { hasLiveLease, isDeadLaunch, isFresh, isPastEnd } from './session-rows';
import { endReasonOf, EventsConfig, reportEnded } from './session-usage';
import { dueForCheckpoint, dueOnSuspend, SweepCheckpoints } from './sweep-checkpoints';
import { countVm, emptyReport, MutableReport, publishReport, SweepReport } from './sweep-report';
import { newRun, Run } from './sweep-run';
import { DEFAULT_SWEEPER_BUDGET, SweeperConfig } from './sweeper-config';
import {
  BackoffOptions, Clock, DEFAULT_BACKOFF, forEachLimit, monotonicClock, RateLimiter, realSleep, RetryContext, Sleep, withRetries,
} from './sweeper-pacing';
import { ScannedSession, SuspectRow } from './table/schema';
import { SweeperStore } from './table/sweeper-store';
import { pruneAfterSweep, VersionPruner } from './version-pruner';
import { LIMITS, LIVE_VM_STATES } from '../../shared/contract';
import { SESSION_EVENT_TYPES } from '../../shared/session-events';

export interface SweeperOptions {
  readonly microvms: LambdaMicrovmsClient;
  readonly documentClient: DynamoDBDocumentClient;
  readonly config: SweeperConfig;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /**
   * The session API's `maxSessions` counter: rows the sweeper removes or marks TERMINATED give their slot back, and
   * each run reconciles it with the table. Default {@link AdmissionCounter.disabled} (no `maxSessions`).
   */
  readonly admission?: AdmissionCounter;
  /**
   * Where the lifecycle events of the sessions this sweep sees end (and of the orphans it terminates) go; they are
   * published together at the end of the run. Default {@link SessionEvents.disabled}.
   */
  readonly events?: SessionEvents;
  /** With checkpoints: saves every live session within `beforeEndSeconds` of its end. Default none. */
  readonly checkpoints?: SweepCheckpoints;
  /** Deletes old image versions after a sweep whose list was complete. Default none (no pruning). */
  readonly pruner?: VersionPruner;
  /** Epoch milliseconds, in the same time base as the service's `startedAt`. Default `Date.now`. */
  readonly now?: () => number;
  /** Monotonic milliseconds for the deadline and pacing. Default `performance.now`. */
  readonly clock?: Clock;
  readonly sleep?: Sleep;
  readonly backoff?: BackoffOptions;
  readonly runId?: string;
}

const PAGE_SIZE = LIMITS.LIST_PAGE_SIZE;
/** A claim (or a termination) older than this is assumed lost and may be redone. */
const CLAIM_TIMEOUT_MS = 5 * 60_000;
/** A save before the end is started only with this much of the run left (the guest may take a minute). */
const SAVE_TIME_MS = 75_000;
/** Suspects expire on their own if nothing clears them (TERMINATED VMs stay listed about a day). */
const SUSPECT_TTL_SECONDS = 2 * 86_400;

/**
 * The orphan sweeper. The service's own list is the ground truth: it terminates VMs of this image that no
 * session owns (after a grace period and two sightings at least `confirmAfterSeconds` apart), ends sessions
 * past their end, and repairs rows whose VM is gone. Every change is a conditional write or a claim, so two
 * sweeps at once, or a sweep racing a launch, never act twice or clobber each other.
 */
export class Sweeper {
  private readonly now: () => number;
  private readonly clock: Clock;
  private readonly sleep: Sleep;
  private readonly listLimiter: RateLimiter;
  private readonly terminateLimiter: RateLimiter;
  private readonly getLimiter: RateLimiter;
  private readonly graceMs: number;
  private readonly confirmMs: number;
  private readonly maxDurationMs?: number;
  private readonly maxListPages: number;
  private readonly maxTerminations: number;
  private readonly concurrency: number;
  private readonly admission: AdmissionCounter;
  private readonly events: SessionEvents;
  private readonly eventsConfig: EventsConfig;

  constructor(private readonly options: SweeperOptions) {
    const { config } = options;
    this.now = options.now ?? Date.now;
    this.clock = options.clock ?? monotonicClock;
    this.sleep = options.sleep ?? realSleep;
    const rates = config.rates ?? {};
    this.listLimiter = new RateLimiter(rates.listPerSecond ?? 5, this.clock, this.sleep);
    this.terminateLimiter = new RateLimiter(rates.terminatePerSecond ?? 5, this.clock, this.sleep);
    this.getLimiter = new RateLimiter(rates.getPerSecond ?? 20, this.clock, this.sleep);
    this.graceMs = config.orphanGracePeriodSeconds * 1000;
    this.confirmMs = (config.confirmAfterSeconds ?? Math.min(60, config.orphanGracePeriodSeconds)) * 1000;
    this.maxDurationMs = config.maxSessionDurationSeconds === undefined ? undefined : config.maxSessionDurationSeconds * 1000;
    this.maxListPages = config.budget.maxListPages ?? DEFAULT_SWEEPER_BUDGET.maxListPages;
    this.maxTerminations = config.budget.maxTerminations ?? DEFAULT_SWEEPER_BUDGET.maxTerminations;
    this.concurrency = config.concurrency ?? 4;
    this.admission = options.admission ?? AdmissionCounter.disabled();
    this.events = options.events ?? SessionEvents.disabled();
    this.eventsConfig = config.events ?? {};
  }

  /** One sweep. Never throws: failures are counted in `errors`, logged, and retried by the next run. */
  public async run(): Promise<SweepReport> {
    const runId = this.options.runId ?? randomUUID();
    const started = this.clock();
    const deadlineAt = started + (this.options.config.budget.deadlineMs ?? Number.POSITIVE_INFINITY);
    const remainingMs = () => deadlineAt - this.clock();
    const retry: RetryContext = {
      backoff: this.options.backoff ?? DEFAULT_BACKOFF,
      sleep: this.sleep,
      remainingMs,
      onRetry: (err, attempt, delayMs) => this.options.logger.debug('retrying after a transient error', {
        error: errorName(err), attempt, delayMs: Math.round(delayMs),
      }),
    };
    const report = emptyReport(runId);
    const table = new SweeperStore(this.options.documentClient, this.options.config.tableName, (fn) => withRetries(retry, fn));
    try {
      // read before the scan: a slot taken or given back while the scan runs changes its version.
      const counter = await withRetries(retry, () => this.admission.read());
      const snapshot = await table.scan(() => remainingMs() <= 0);
      if (!snapshot) {
        report.stoppedBy = 'deadline';
        report.remaining.listUnfinished = true;
      } else {
        report.tablePages = snapshot.pages;
        report.sessionsScanned = snapshot.sessions.length;
        if (counter) {
          const counted = snapshot.sessions.filter(countsForAdmission).length;
          await this.guard(report, () => this.reconcileSlots(report, retry, counter, counted));
        }
        const run = newRun({ report, snapshot, table, retry, remainingMs }, this.now(), this.graceMs);
        await this.sweepList(run);
        await this.sweepRows(run);
        await this.sweepSuspects(run);
        await this.guard(report, () => pruneAfterSweep(report, this.options.pruner, this.options.config.launchVersion, remainingMs));
      }
    } catch (err) {
      report.errors++;
      this.options.logger.error('sweep failed', { error: errorName(err), message: errorMessage(err) });
    }
    await this.events.flush();
    report.durationMs = Math.round(this.clock() - started);
    publishReport(report, this.options.metrics, this.options.logger);
    return report;
  }

  /**
   * Brings the `maxSessions` counter back to the number of session rows that count (all but those of TERMINATED
   * VMs). Without it, every counted row that DynamoDB's TTL removes keeps its slot forever and admission ends up
   * refusing every new session.
   */
  private async reconcileSlots(report: MutableReport, retry: RetryContext, counter: SlotCounter, rows: number): Promise<void> {
    if (counter.count === rows || !await withRetries(retry, () => this.admission.reconcile(counter, rows))) {
      return;
    }
    report.slotsReconciled = counter.count - rows;
    this.options.logger.info('reconciled the admission counter with the table', { counted: counter.count, rows });
  }

  private async sweepList(run: Run): Promise<void> {
    const { report, retry, remainingMs } = run;
    let nextToken: string | undefined;
    do {
      if (report.listPages >= this.maxListPages) {
        report.stoppedBy = 'maxListPages';
        break;
      }
      if (remainingMs() <= 0) {
        report.stoppedBy = 'deadline';
        break;
      }
      // what the page shows was true at least from here on: a VM it lists RUNNING ran after this time.
      const listedAt = this.now();
      const page = await withRetries(retry, () => this.options.microvms.send(new ListMicrovmsCommand({
        imageIdentifier: this.options.config.imageArn,
        maxResults: PAGE_SIZE,
        nextToken,
      })), this.listLimiter);
      report.listPages++;
      const items = (page.items ?? []).filter((vm) => vm.microvmId && (!vm.imageArn || vm.imageArn === this.options.config.imageArn));
      for (const vm of items) {
        run.seen.add(vm.microvmId!);
        countVm(report, vm);
      }
      await forEachLimit(items, this.concurrency, (vm) => this.guard(report, () => this.handleVm(run, vm, listedAt)));
      nextToken = page.nextToken ?? undefined;
    } while (nextToken);
    report.listComplete = !nextToken && report.stoppedBy === undefined;
    report.remaining.listUnfinished = !report.listComplete;
  }

  private async handleVm(run: Run, vm: MicrovmItem, listedAt: number): Promise<void> {
    const { table } = run;
    const id = vm.microvmId!;
    const owners = run.byVm.get(id) ?? [];
    const suspect = run.snapshot.suspects.get(id);
    const now = this.now();
    if (vm.state === 'TERMINATED') {
      for (const row of owners) {
        await this.repairRow(run, row, now);
      }
      if (suspect && await table.deleteSuspect(id)) {
        run.report.suspectsCleared++;
      }
      return;
    }
    if (!vm.state || !LIVE_VM_STATES.has(vm.state)) {
      // TERMINATING: on its way out; its rows are repaired once the list shows it TERMINATED.
      return;
    }
    if (owners.length > 0) {
      if (suspect && await table.deleteSuspect(id)) {
        run.report.suspectsCleared++;
      }
      for (const row of owners) {
        if (hasLiveLease(row, now)) {
          continue;
        }
        if (isPastEnd(row, vm.startedAt?.getTime(), now, this.maxDurationMs) || row.status === 'ENDING') {
          await this.endSession(run, row, now);
        } else if (this.options.checkpoints) {
          await this.checkpoint(run, this.options.checkpoints, row, vm.state, now, listedAt);
        }
      }
      return;
    }
    const startedAt = vm.startedAt?.getTime() ?? now;
    if (now - startedAt < this.graceMs) {
      run.report.unownedInGrace++;
      return;
    }
    if (startedAt >= run.launchesSince) {
      run.report.protectedByLaunch++;
      return;
    }
    run.report.orphansFound++;
    if (!suspect) {
      const firstSeenAt = new Date(now).toISOString();
      if (await table.putSuspect(id, firstSeenAt, Math.floor(now / 1000) + SUSPECT_TTL_SECONDS)) {
        run.report.suspectsRecorded++;
      }
      return;
    }
    const firstSeen = Date.parse(suspect.firstSeenAt);
    if (!Number.isFinite(firstSeen) || now - firstSeen < this.confirmMs) {
      // seen by a sweep too recent to count as a second, independent sighting.
      return;
    }
    await this.terminateOrphan(run, suspect, vm, now);
  }

  private async terminateOrphan(run: Run, suspect: SuspectRow, vm: MicrovmItem, now: number): Promise<void> {
    const { table } = run;
    if (!this.mayTerminate(run)) {
      return;
    }
    if (!await table.claimSuspect(suspect, run.report.runId, now, now - CLAIM_TIMEOUT_MS)) {
      run.reserved.count--;
      return;
    }
    let done = false;
    try {
      done = await this.terminate(run, suspect.microvmId);
    } finally {
      await table.releaseSuspect(suspect.microvmId, run.report.runId, done ? new Date(this.now()).toISOString() : undefined);
    }
    if (done) {
      run.report.orphansTerminated++;
      this.options.logger.info('terminated orphan', { microvmId: suspect.microvmId, firstSeenAt: suspect.firstSeenAt });
      this.events.emit(SESSION_EVENT_TYPES.ORPHAN_TERMINATED, {
        microvmId: suspect.microvmId,
        ...vm.imageVersion ? { imageVersion: vm.imageVersion } : {},
        time: new Date(this.now()).toISOString(),
        reason: 'orphan',
      });
    }
  }

  /**
   * Saves a session due for a checkpoint (near its end, or newly suspended with `onSuspend`), or notes that its VM
   * runs again. A failed save changes nothing but the attempts of a suspension: the next sweep retries it.
   */
  private async checkpoint(
    run: Run, checkpoints: SweepCheckpoints, row: ScannedSession, vmState: string, now: number, listedAt: number,
  ): Promise<void> {
    const nearEnd = dueForCheckpoint(row, now, checkpoints.beforeEndSeconds * 1000);
    const suspension = checkpoints.onSuspend === true && dueOnSuspend(row, vmState, now);
    if ((nearEnd || suspension) && run.remainingMs() > SAVE_TIME_MS) {
      // claimed only if no save happened since this sweep's scan: two sweeps at once save a session once.
      await checkpoints.saver.save({ ...row, generation: row.generation!, vmState }, nearEnd ? 'beforeEnd' : 'onSuspend', {
        lastKey: row.lastCheckpoint?.key,
        ...suspension && !nearEnd ? { suspensionAttempts: row.suspensionSaveAttempts ?? 0 } : {},
      });
    } else if (vmState === 'RUNNING' && row.generation !== undefined) {
      await checkpoints.saver.sawRunning({ ...row, generation: row.generation }, listedAt);
    }
  }

  private async endSession(run: Run, row: ScannedSession, now: number): Promise<void> {
    if (!this.mayTerminate(run)) {
      return;
    }
    const nowIso = new Date(now).toISOString();
    if (!await run.table.claimSessionVm(row, nowIso, new Date(now - CLAIM_TIMEOUT_MS).toISOString())) {
      run.reserved.count--;
      return;
    }
    if (await this.terminate(run, row.microvmId!)) {
      run.report.sessionsEnded++;
      this.options.logger.info('ended session', { microvmId: row.microvmId, status: row.status, expiresAt: row.expiresAt });
    }
  }

  /**
   * Reserves one termination before the claim (concurrent lanes would otherwise overshoot the budget); false,
   * and counted as left over, when the budget or the time is used up.
   */
  private mayTerminate(run: Run): boolean {
    if (run.reserved.count >= this.maxTerminations || run.remainingMs() <= 0) {
      run.report.remaining.terminations++;
      return false;
    }
    run.reserved.count++;
    return true;
  }

  /** True when this call terminated the VM; false when it was already gone or going. */
  private async terminate(run: Run, microvmId: string): Promise<boolean> {
    run.report.terminateCalls++;
    try {
      const command = new TerminateMicrovmCommand({ microvmIdentifier: microvmId });
      await withRetries(run.retry, () => this.options.microvms.send(command), this.terminateLimiter);
      return true;
    } catch (err) {
      const name = errorName(err);
      if (name === 'ResourceNotFoundException' || name === 'ConflictException') {
        return false;
      }
      run.report.errors++;
      this.options.logger.warn('terminate failed', { microvmId, error: name });
      return false;
    }
  }

  /**
   * Marks (or, for an ENDING session, deletes) a row whose VM is gone, and reports the end: the conditional write
   * that took the row off its VM is made once, so the `Session Ended` event is too. `seen` is the VM as a
   * GetMicrovm already showed it, if one did.
   */
  private async repairRow(run: Run, row: ScannedSession, now: number, seen?: GetMicrovmResponse): Promise<void> {
    const { table } = run;
    if (hasLiveLease(row, now)) {
      return;
    }
    let repaired = false;
    if (row.status === 'ENDING') {
      repaired = await this.deleteRow(run, row);
      // a VM already marked TERMINATED had its end reported then.
      if (repaired && row.microvmId && countsForAdmission(row)) reportEnded(this.events, this.options.metrics, this.eventsConfig, row, 'deleted', now);
    } else if (countsForAdmission(row) && await table.markTerminated(row, new Date(now).toISOString())) {
      // the session no longer counts toward the admission limits: its slot goes back.
      await withRetries(run.retry, () => this.admission.release());
      repaired = true;
      await this.reportVmEnded(run, row, now, seen);
    }
    if (repaired) {
      run.report.rowsRepaired++;
      this.options.logger.info('repaired row of a terminated VM', { microvmId: row.microvmId, status: row.status });
    }
  }

  /**
   * Rows whose VM was not in the list (only trusted after a complete pass: GetMicrovm confirms before any
   * repair, since the list is eventually consistent), and launches that died without a VM.
   */
  private async sweepRows(run: Run): Promise<void> {
    const now = this.now();
    const missing = run.report.listComplete
      ? run.snapshot.sessions.filter((row) => row.microvmId && !run.seen.has(row.microvmId)
        && (row.vmState !== 'TERMINATED' || row.status === 'ENDING') && !hasLiveLease(row, now) && !isFresh(row, now, this.confirmMs))
      : [];
    const deadLaunches = run.snapshot.sessions.filter((row) => isDeadLaunch(row, now, this.graceMs));
    await forEachLimit(missing, this.concurrency, (row) => this.guard(run.report, async () => {
      if (run.remainingMs() <= 0) {
        run.report.remaining.rowsToCheck++;
        return;
      }
      const vm = await this.describeVm(run, row.microvmId!);
      if (!vm || vm.state === 'TERMINATED') {
        await this.repairRow(run, row, now, vm);
      }
    }));
    await forEachLimit(deadLaunches, this.concurrency, (row) => this.guard(run.report, async () => {
      if (await this.deleteRow(run, row)) {
        run.report.rowsRepaired++;
        this.options.logger.info('removed a launch that expired without a VM', { status: row.status });
      }
    }));
  }

  /** Suspects whose VM left the list altogether (only known after a complete pass). */
  private async sweepSuspects(run: Run): Promise<void> {
    if (!run.report.listComplete) {
      return;
    }
    const gone = [...run.snapshot.suspects.keys()].filter((id) => !run.seen.has(id));
    await forEachLimit(gone, this.concurrency, (id) => this.guard(run.report, async () => {
      if (await run.table.deleteSuspect(id)) {
        run.report.suspectsCleared++;
      }
    }));
  }

  private async deleteRow(run: Run, row: ScannedSession): Promise<boolean> {
    if (!await run.table.deleteRow(row)) {
      return false;
    }
    await withRetries(run.retry, () => this.admission.releaseFor(row));
    return true;
  }

  /** The VM as GetMicrovm shows it; undefined when it no longer exists. */
  private async describeVm(run: Run, microvmId: string): Promise<GetMicrovmResponse | undefined> {
    try {
      const command = new GetMicrovmCommand({ microvmIdentifier: microvmId });
      return await withRetries(run.retry, () => this.options.microvms.send(command), this.getLimiter);
    } catch (err) {
      if (errorName(err) === 'ResourceNotFoundException') {
        return undefined;
      }
      throw err;
    }
  }

  /**
   * Reports the end of a session whose VM ended on its own (or by the sweeper's hand): why, from the service's
   * `stateReason` (one GetMicrovm when events are on and the list was all this run saw of it), and its usage.
   */
  private async reportVmEnded(run: Run, row: ScannedSession, now: number, seen?: GetMicrovmResponse): Promise<void> {
    let vm = seen;
    if (!vm && this.events.enabled) {
      // the reason is worth one read, not a failed report: without it the event says `vmEnded`.
      vm = await this.describeVm(run, row.microvmId!).catch(() => undefined);
    }
    const endedAt = vm?.terminatedAt instanceof Date ? vm.terminatedAt.getTime() : now;
    const stateReason = vm?.stateReason ?? undefined;
    reportEnded(this.events, this.options.metrics, this.eventsConfig, row, endReasonOf(row, endedAt, stateReason), endedAt, stateReason);
  }

  /** Runs one unit of work; a failure is counted and logged and never stops the rest of the sweep. */
  private async guard(report: MutableReport, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      report.errors++;
      this.options.logger.warn('sweep step failed', { error: errorName(err), message: errorMessage(err) });
    }
  }
}
