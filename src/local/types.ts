import type { IdlePolicyWire, VmState } from '../shared/contract';

// types of the local emulator. this folder is not part of the jsii API (it is not exported from src/index.ts),
// so plain TypeScript unions and functions are fine here.

/** The MicroVM states, as the service reports them. */
export type MicrovmState = VmState;

/** Every operation the emulator answers, named as in the SDK (`RunMicrovmCommand` -> `RunMicrovm`). */
export type OperationName =
  | 'RunMicrovm'
  | 'GetMicrovm'
  | 'ListMicrovms'
  | 'SuspendMicrovm'
  | 'ResumeMicrovm'
  | 'TerminateMicrovm'
  | 'CreateMicrovmAuthToken'
  | 'CreateMicrovmShellAuthToken'
  | 'CreateMicrovmImage'
  | 'GetMicrovmImage'
  | 'ListMicrovmImages'
  | 'UpdateMicrovmImage'
  | 'DeleteMicrovmImage'
  | 'ListMicrovmImageVersions'
  | 'GetMicrovmImageVersion'
  | 'UpdateMicrovmImageVersion'
  | 'DeleteMicrovmImageVersion'
  | 'ListManagedMicrovmImages'
  | 'ListManagedMicrovmImageVersions';

/** Per-operation requests per second (token bucket, burst = rate). */
export type RateLimits = Partial<Record<OperationName, number>>;

/** Added latency: a fixed number of milliseconds, or uniformly drawn from [minMs, maxMs] with the seeded PRNG. */
export type LatencySpec = number | { readonly minMs: number; readonly maxMs: number };

/** Fault settings for one operation (or for all, at the top level of {@link FaultOptions}). */
export interface OperationFaults {
  /** Probability (0-1) that a request is answered with ThrottlingException (429) before it takes effect. */
  readonly throttleRate?: number;
  /** Probability (0-1) that a request is answered with InternalServerException (500) before it takes effect. */
  readonly errorRate?: number;
  /**
   * Probability (0-1) that a request takes effect but its answer is lost: the client gets an
   * InternalServerException (500). Models a response lost on the wire; RunMicrovm retried with the same
   * clientToken then returns the VM that was created.
   */
  readonly errorAfterEffectRate?: number;
  /** Probability (0-1) that RunMicrovm is answered with InsufficientCapacityException (500). RunMicrovm only. */
  readonly capacityErrorRate?: number;
  /** Latency added before the request is processed (real time). */
  readonly latencyMs?: LatencySpec;
}

/** Fault injection: top-level values apply to every operation; `operations` overrides them per operation. */
export interface FaultOptions extends OperationFaults {
  readonly operations?: Partial<Record<OperationName, OperationFaults>>;
}

/** A customer image registered without going through CreateMicrovmImage. */
export interface RegisterImageOptions {
  /** Image name; the ARN is `arn:aws:lambda:<region>:<account>:microvm-image:<name>`. */
  readonly name: string;
  /** Baseline memory of a VM of this image, counted against the memory quota. @default 2048 */
  readonly memoryMiB?: number;
  /** Version strings, all SUCCESSFUL and ACTIVE; the last is the latest. @default ['1'] */
  readonly versions?: string[];
  /** The image's hooks port (recorded on the version's `hooks.port`). @default none */
  readonly hooksPort?: number;
}

/** Options of {@link MicrovmEmulator.start}. */
export interface EmulatorOptions {
  /** Port on 127.0.0.1. @default 0 (a free port) */
  readonly port?: number;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '123456789012' */
  readonly accountId?: string;
  /**
   * Time source in epoch milliseconds. Emulated time is `clock() + offset`, where `advanceTime(ms)` grows the
   * offset. Give a fixed clock to make state transitions and rate limits fully deterministic.
   * @default Date.now
   */
  readonly clock?: () => number;
  /** Seed of the PRNG behind fault rates and latency ranges. @default a random seed */
  readonly seed?: number;
  /** Time a VM spends in PENDING before RUNNING (emulated ms). @default 0 */
  readonly launchDelayMs?: number;
  /** Time in SUSPENDING before SUSPENDED (emulated ms). @default 0 */
  readonly suspendDelayMs?: number;
  /** Time a resuming VM still reports SUSPENDED (the `/resume` hook) before RUNNING (emulated ms). @default 0 */
  readonly resumeDelayMs?: number;
  /** Time in TERMINATING before TERMINATED (emulated ms). @default 0 */
  readonly terminateDelayMs?: number;
  /** GetMicrovm answers with the state as it was this long ago (eventual consistency). @default 0 */
  readonly staleReadMs?: number;
  /** How long a TERMINATED VM stays visible to Get and List (emulated ms). @default 86_400_000 (1 day) */
  readonly terminatedRetentionMs?: number;
  /** Memory quota across PENDING, RUNNING, SUSPENDING and SUSPENDED VMs. @default 409_600 (400 GiB) */
  readonly memoryQuotaMiB?: number;
  /**
   * Per-operation rate limits (requests per second, burst = rate), measured on the emulated clock.
   * Merged over the defaults; `false` disables rate limiting.
   * @default the service's documented TPS (see DEFAULT_RATE_LIMITS)
   */
  readonly rateLimits?: RateLimits | false;
  /** Faults from the start; change them later with `setFaults`. @default none */
  readonly faults?: FaultOptions;
  /** Images registered at start. @default none */
  readonly images?: RegisterImageOptions[];
  /** Time a CreateMicrovmImage build takes (emulated ms). @default 0 */
  readonly imageBuildDelayMs?: number;
  /**
   * Versions one image may hold; the Create or Update that would make one more fails with
   * ServiceQuotaExceededException (402). Deleted versions do not count.
   * @default 50 (the service's quota, LIMITS.VERSIONS_PER_IMAGE)
   */
  readonly versionsPerImageQuota?: number;
  /** Outcome of CreateMicrovmImage builds. @default 'SUCCESSFUL' */
  readonly imageBuildOutcome?: 'SUCCESSFUL' | 'FAILED';
  /** Reject requests without a SigV4 `Authorization` header for signing name `lambda` (403). @default true */
  readonly requireSignature?: boolean;
  /** Port of the data plane (every VM's endpoint) on 127.0.0.1. @default 0 (a free port) */
  readonly dataPlanePort?: number;
  /**
   * Real-time ms the data plane waits for an app to answer (and for an auto-resume to end) before it answers 502.
   * @default 30_000
   */
  readonly appTimeoutMs?: number;
}

/** A port grant of a token, as the SDK's `PortSpecification` union. */
export type PortSpecification =
  | { readonly port: number }
  | { readonly range: { readonly startPort: number; readonly endPort: number } }
  | { readonly allPorts: Record<string, never> };

/** A token the emulator issued (for tests: the value, the VM, the ports, the expiry). */
export interface IssuedToken {
  readonly kind: 'app' | 'shell';
  readonly microvmId: string;
  readonly token: string;
  /** Ports the token allows (shell tokens: port 8022). */
  readonly allowedPorts: PortSpecification[];
  readonly expirationInMinutes: number;
  /** Emulated epoch ms. */
  readonly issuedAt: number;
  /** Emulated epoch ms. */
  readonly expiresAt: number;
}

/** The idle policy of a VM (SDK shape). */
export type IdlePolicy = IdlePolicyWire;

/** One recorded state change of a VM. */
export interface StateChange {
  readonly state: MicrovmState;
  /** Emulated epoch ms. */
  readonly at: number;
  readonly reason?: string;
}

/** What `getVm`/`listVms` return: a copy of the emulator's record of a VM. */
export interface VmSnapshot {
  readonly microvmId: string;
  readonly state: MicrovmState;
  readonly stateReason?: string;
  readonly endpoint: string;
  readonly imageArn: string;
  readonly imageVersion: string;
  readonly memoryMiB: number;
  /** Emulated epoch ms. */
  readonly startedAt: number;
  /** Emulated epoch ms. */
  readonly terminatedAt?: number;
  readonly maximumDurationInSeconds: number;
  readonly idlePolicy?: IdlePolicy;
  readonly executionRoleArn?: string;
  readonly runHookPayload?: string;
  readonly clientToken?: string;
  readonly ingressNetworkConnectors: string[];
  readonly egressNetworkConnectors: string[];
  /** True when the VM was made to stay in PENDING (`stickPending`). */
  readonly stuckPending: boolean;
  readonly history: StateChange[];
}

/** Options of `seedVms`. */
export interface SeedVmsOptions {
  /** A registered image's ARN. */
  readonly imageArn: string;
  /** @default the image's latest version */
  readonly imageVersion?: string;
  /** State the VMs are in. @default 'RUNNING' */
  readonly state?: MicrovmState;
  /** Emulated epoch ms (or a Date) the VMs started at. @default now */
  readonly startedAt?: number | Date;
  /** @default 28800 */
  readonly maximumDurationInSeconds?: number;
  /** @default none */
  readonly idlePolicy?: IdlePolicy;
  /** With state PENDING: stay PENDING until `releasePending` (otherwise launchDelayMs applies). @default false */
  readonly stuckPending?: boolean;
}
