import { randomUUID } from 'node:crypto';
import type { IdlePolicy, MicrovmState, StateChange, VmSnapshot } from './types';

/** Internal phases; `resuming` is reported as SUSPENDED because the VM stays SUSPENDED while `/resume` runs. */
export type Phase = 'launching' | 'running' | 'suspending' | 'suspended' | 'resuming' | 'terminating' | 'terminated';

const REPORTED: Record<Phase, MicrovmState> = {
  launching: 'PENDING',
  running: 'RUNNING',
  suspending: 'SUSPENDING',
  suspended: 'SUSPENDED',
  resuming: 'SUSPENDED',
  terminating: 'TERMINATING',
  terminated: 'TERMINATED',
};

/** Phases whose memory counts against the quota (everything not on its way out). */
const HOLDS_MEMORY: ReadonlySet<Phase> = new Set<Phase>(['launching', 'running', 'suspending', 'suspended', 'resuming']);

export interface TransitionDelays {
  readonly launchMs: number;
  readonly suspendMs: number;
  readonly resumeMs: number;
  readonly terminateMs: number;
}

export interface VmRecord {
  readonly id: string;
  readonly seq: number;
  readonly imageArn: string;
  readonly imageVersion: string;
  readonly memoryMiB: number;
  readonly startedAt: number;
  readonly maximumDurationInSeconds: number;
  readonly idlePolicy?: IdlePolicy;
  readonly executionRoleArn?: string;
  readonly runHookPayload?: string;
  readonly clientToken?: string;
  readonly ingressNetworkConnectors: string[];
  readonly egressNetworkConnectors: string[];
  readonly logging?: unknown;
  /** Set when the version's `/run` hook fails: the launch ends in TERMINATING with this reason, never RUNNING. */
  readonly runHookFailure?: string;
  stuckPending: boolean;
  phase: Phase;
  phaseSince: number;
  reason?: string;
  terminatedAt?: number;
  lastTrafficAt?: number;
  readonly history: StateChange[];
  /** Cached time of the next automatic transition (valid for `cacheEpoch`), so reads of idle VMs cost O(1). */
  nextAt?: number;
  cacheEpoch?: number;
}

export type NewVm = Omit<
  VmRecord,
  'id' | 'seq' | 'phase' | 'phaseSince' | 'history' | 'reason' | 'terminatedAt' | 'lastTrafficAt' | 'nextAt' | 'cacheEpoch'
>;

interface Transition {
  readonly at: number;
  readonly phase: Phase;
  readonly reason: string | undefined;
}

/**
 * The VMs of the emulated account. State is computed lazily from timestamps: before a VM is read or changed,
 * every automatic transition due by "now" is applied in time order, so results depend only on the clock.
 */
export class VmStore {
  private readonly vms = new Map<string, VmRecord>();
  private seq = 0;
  private epoch = 0;

  constructor(
    private readonly region: string,
    private readonly delays: () => TransitionDelays,
    private readonly retentionMs: () => number,
  ) {}

  public create(vm: NewVm, phase: Phase = 'launching', at: number = vm.startedAt): VmRecord {
    const id = `mvm-${randomUUID()}`;
    // every field set in one fixed order: records share one hidden class, which keeps lists of 10,000 VMs fast.
    const record: VmRecord = {
      id,
      seq: this.seq++,
      imageArn: vm.imageArn,
      imageVersion: vm.imageVersion,
      memoryMiB: vm.memoryMiB,
      startedAt: vm.startedAt,
      maximumDurationInSeconds: vm.maximumDurationInSeconds,
      idlePolicy: vm.idlePolicy,
      executionRoleArn: vm.executionRoleArn,
      runHookPayload: vm.runHookPayload,
      clientToken: vm.clientToken,
      ingressNetworkConnectors: vm.ingressNetworkConnectors,
      egressNetworkConnectors: vm.egressNetworkConnectors,
      logging: vm.logging,
      runHookFailure: vm.runHookFailure,
      stuckPending: vm.stuckPending,
      phase: 'launching',
      phaseSince: vm.startedAt,
      reason: undefined,
      terminatedAt: undefined,
      lastTrafficAt: undefined,
      history: [],
      nextAt: undefined,
      cacheEpoch: -1,
    };
    record.history.push({ state: 'PENDING', at: vm.startedAt });
    if (phase !== 'launching') this.apply(record, { at, phase, reason: undefined });
    this.vms.set(id, record);
    return record;
  }

  public endpointOf(id: string): string {
    return `${id}.lambda-microvm.${this.region}.on.aws`;
  }

  /** The VM, advanced to `now`; undefined when unknown or past its retention after TERMINATED. */
  public find(id: string, now: number): VmRecord | undefined {
    const vm = this.vms.get(id);
    if (!vm) return undefined;
    this.advance(vm, now);
    if (this.expired(vm, now)) {
      this.vms.delete(id);
      return undefined;
    }
    return vm;
  }

  /** Every visible VM in creation order, advanced to `now` (expired ones are dropped). */
  public all(now: number): VmRecord[] {
    const result: VmRecord[] = [];
    for (const vm of this.vms.values()) {
      this.advance(vm, now);
      if (this.expired(vm, now)) this.vms.delete(vm.id);
      else result.push(vm);
    }
    return result;
  }

  /** Memory held by VMs that count against the quota. */
  public memoryInUse(now: number): number {
    return this.all(now).reduce((sum, vm) => (HOLDS_MEMORY.has(vm.phase) ? sum + vm.memoryMiB : sum), 0);
  }

  public reported(vm: VmRecord): MicrovmState {
    return REPORTED[vm.phase];
  }

  /** The state as it was at `at` (for stale reads), from the recorded history. */
  public stateAt(vm: VmRecord, at: number): StateChange {
    let result = vm.history[0];
    for (const change of vm.history) {
      if (change.at <= at) result = change;
      else break;
    }
    return result;
  }

  /** Moves a VM to a new phase now (API calls and external events). */
  public transition(vm: VmRecord, phase: Phase, now: number, reason: string | undefined): void {
    this.apply(vm, { at: now, phase, reason });
    this.advance(vm, now);
  }

  public snapshot(vm: VmRecord): VmSnapshot {
    return {
      microvmId: vm.id,
      state: REPORTED[vm.phase],
      stateReason: vm.reason,
      endpoint: this.endpointOf(vm.id),
      imageArn: vm.imageArn,
      imageVersion: vm.imageVersion,
      memoryMiB: vm.memoryMiB,
      startedAt: vm.startedAt,
      terminatedAt: vm.terminatedAt,
      maximumDurationInSeconds: vm.maximumDurationInSeconds,
      idlePolicy: vm.idlePolicy ? { ...vm.idlePolicy } : undefined,
      executionRoleArn: vm.executionRoleArn,
      runHookPayload: vm.runHookPayload,
      clientToken: vm.clientToken,
      ingressNetworkConnectors: [...vm.ingressNetworkConnectors],
      egressNetworkConnectors: [...vm.egressNetworkConnectors],
      stuckPending: vm.stuckPending,
      history: vm.history.map((h) => ({ ...h })),
    };
  }

  /** Applies every automatic transition due by `now`, in time order. */
  public advance(vm: VmRecord, now: number): void {
    if (vm.cacheEpoch === this.epoch && vm.nextAt !== undefined && now < vm.nextAt) return;
    for (let guard = 0; guard < 16; guard++) {
      const next = this.nextTransition(vm);
      if (!next || next.at > now) {
        vm.nextAt = next ? next.at : Infinity;
        vm.cacheEpoch = this.epoch;
        return;
      }
      this.apply(vm, next);
    }
  }

  /** Forgets cached transition times: call after changing a VM's record or the delays. */
  public invalidate(vm?: VmRecord): void {
    if (vm) vm.nextAt = undefined;
    else this.epoch++;
  }

  private expired(vm: VmRecord, now: number): boolean {
    return vm.phase === 'terminated' && vm.terminatedAt !== undefined && now - vm.terminatedAt >= this.retentionMs();
  }

  private nextTransition(vm: VmRecord): Transition | undefined {
    const delays = this.delays();
    const candidates: Transition[] = [];
    if (vm.phase !== 'terminating' && vm.phase !== 'terminated') {
      // maximumDurationInSeconds counts running and suspended time alike.
      candidates.push({
        at: vm.startedAt + vm.maximumDurationInSeconds * 1000,
        phase: 'terminating',
        reason: `Maximum duration of ${vm.maximumDurationInSeconds} seconds reached.`,
      });
    }
    const idle = vm.idlePolicy;
    switch (vm.phase) {
      case 'launching':
        // the endpoint takes traffic only after `/run` returns 200; a failed hook goes straight to TERMINATING.
        if (!vm.stuckPending) {
          candidates.push(vm.runHookFailure === undefined
            ? { at: vm.phaseSince + delays.launchMs, phase: 'running', reason: undefined }
            : { at: vm.phaseSince + delays.launchMs, phase: 'terminating', reason: vm.runHookFailure });
        }
        break;
      case 'running':
        if (idle) {
          // the emulator sees no inbound traffic, so the idle clock runs from RUNNING or the last `recordTraffic`.
          const from = Math.max(vm.phaseSince, vm.lastTrafficAt ?? 0);
          candidates.push({
            at: from + idle.maxIdleDurationSeconds * 1000,
            phase: 'suspending',
            reason: `No inbound traffic for ${idle.maxIdleDurationSeconds} seconds (idle policy).`,
          });
        }
        break;
      case 'suspending':
        candidates.push({ at: vm.phaseSince + delays.suspendMs, phase: 'suspended', reason: vm.reason });
        break;
      case 'suspended':
        if (idle) {
          candidates.push({
            at: vm.phaseSince + idle.suspendedDurationSeconds * 1000,
            phase: 'terminating',
            reason: `Suspended for ${idle.suspendedDurationSeconds} seconds (idle policy).`,
          });
        }
        break;
      case 'resuming':
        candidates.push({ at: vm.phaseSince + delays.resumeMs, phase: 'running', reason: undefined });
        break;
      case 'terminating':
        candidates.push({ at: vm.phaseSince + delays.terminateMs, phase: 'terminated', reason: vm.reason });
        break;
      case 'terminated':
        break;
    }
    // the earliest wins; on a tie the first listed (the lifetime limit) wins.
    return candidates.reduce<Transition | undefined>((best, c) => (best === undefined || c.at < best.at ? c : best), undefined);
  }

  private apply(vm: VmRecord, transition: Transition): void {
    vm.nextAt = undefined;
    vm.phase = transition.phase;
    vm.phaseSince = transition.at;
    vm.reason = transition.reason;
    if (transition.phase === 'terminated') vm.terminatedAt = transition.at;
    const state = REPORTED[transition.phase];
    const last = vm.history[vm.history.length - 1];
    if (!last || last.state !== state) {
      vm.history.push(transition.reason === undefined ? { state, at: transition.at } : { state, at: transition.at, reason: transition.reason });
    }
  }
}
