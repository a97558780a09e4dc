import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiHandler } from './api-handler';
import { AppRegistry, type AppPorts, type AppTarget } from './apps';
import { MicrovmDataPlane } from './data-plane';
import { FaultInjector, RateLimiter, SeededRandom } from './faults';
import { ImageApi } from './image-api';
import { ImageStore, MAX_VERSIONS_PER_IMAGE } from './image-store';
import { MicrovmApi } from './microvm-api';
import { MAX_DURATION_SECONDS, managedConnectorArn, type RunRequest } from './request-validation';
import { TokenRegistry, allowsPort } from './tokens';
import type {
  EmulatorOptions,
  FaultOptions,
  IssuedToken,
  MicrovmState,
  OperationName,
  RateLimits,
  RegisterImageOptions,
  SeedVmsOptions,
  VmSnapshot,
} from './types';
import { VmStore, type Phase, type TransitionDelays } from './vm-store';

const DAY_MS = 86_400_000;

const PHASE_OF_STATE: Record<MicrovmState, Phase> = {
  PENDING: 'launching',
  RUNNING: 'running',
  SUSPENDING: 'suspending',
  SUSPENDED: 'suspended',
  TERMINATING: 'terminating',
  TERMINATED: 'terminated',
};

/** Which RunMicrovm calls launch a VM that never leaves PENDING. */
export type StickPendingSelector = number | ((request: RunRequest) => boolean);

/**
 * A local Lambda MicroVMs API: an HTTP server on 127.0.0.1 that speaks the restJson1 protocol of
 * `@aws-sdk/client-lambda-microvms`, with the service's VM state machine on an emulated clock, idempotent
 * `clientToken`, pagination, rate limits, the memory and versions quotas, and injectable faults and latency; plus
 * a data plane (a second server on 127.0.0.1) serving each VM's endpoint, with the endpoint's token and port
 * checks, in front of apps registered per image version.
 *
 * ```ts
 * const emulator = await MicrovmEmulator.start();
 * const imageArn = emulator.registerImage({ name: 'sandbox' });
 * const client = new LambdaMicrovmsClient({ endpoint: emulator.endpoint, region: emulator.region, credentials });
 * ```
 */
export class MicrovmEmulator {
  /** Starts an emulator on 127.0.0.1 (a free port unless `options.port`). */
  public static async start(options: EmulatorOptions = {}): Promise<MicrovmEmulator> {
    const emulator = new MicrovmEmulator(options);
    await new Promise<void>((resolve, reject) => {
      emulator.server.once('error', reject);
      emulator.server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    const address = emulator.server.address() as AddressInfo;
    emulator.endpoint = `http://127.0.0.1:${address.port}`;
    try {
      await emulator.dataPlane.listen(options.dataPlanePort ?? 0);
    } catch (error) {
      await emulator.stop();
      throw error;
    }
    return emulator;
  }

  /** `http://127.0.0.1:<port>`: pass it as the SDK client's `endpoint` (or `AWS_ENDPOINT_URL_LAMBDA_MICROVMS`). */
  public endpoint = '';
  /**
   * `http://127.0.0.1:<port>` of the data plane, which serves every VM's endpoint; `endpointUrl(vm.endpoint)`
   * gives one VM's base URL.
   */
  public get dataPlaneEndpoint(): string {
    return this.dataPlane.url;
  }
  public readonly region: string;
  public readonly accountId: string;

  private readonly server: http.Server;
  private readonly clock: () => number;
  private offsetMs = 0;
  private readonly random: SeededRandom;
  private readonly faults: FaultInjector;
  private readonly limiter: RateLimiter;
  private readonly images: ImageStore;
  private readonly vms: VmStore;
  private delays: TransitionDelays;
  private memoryQuota: number;
  private staleRead: number;
  private readonly retention: number;
  private stickBudget = 0;
  private stickPredicate: ((request: RunRequest) => boolean) | undefined;
  private readonly tokens = new TokenRegistry();
  private readonly apps = new AppRegistry();
  private readonly dataPlane: MicrovmDataPlane;
  private readonly api: ApiHandler;

  private constructor(options: EmulatorOptions) {
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '123456789012';
    this.clock = options.clock ?? Date.now;
    this.random = new SeededRandom(options.seed ?? Math.floor(Math.random() * 2 ** 32));
    this.faults = new FaultInjector(this.random, options.faults);
    this.limiter = new RateLimiter(options.rateLimits);
    this.delays = {
      launchMs: options.launchDelayMs ?? 0,
      suspendMs: options.suspendDelayMs ?? 0,
      resumeMs: options.resumeDelayMs ?? 0,
      terminateMs: options.terminateDelayMs ?? 0,
    };
    this.memoryQuota = options.memoryQuotaMiB ?? 400 * 1024;
    this.staleRead = options.staleReadMs ?? 0;
    this.retention = options.terminatedRetentionMs ?? DAY_MS;
    const versionsQuota = options.versionsPerImageQuota ?? MAX_VERSIONS_PER_IMAGE;
    if (!(Number.isInteger(versionsQuota) && versionsQuota >= 1)) {
      throw new Error(`versionsPerImageQuota must be a whole number of at least 1, got ${versionsQuota}`);
    }
    this.images = new ImageStore(this.region, this.accountId, this.now(), () => versionsQuota);
    this.vms = new VmStore(this.region, () => this.delays, () => this.retention);
    const buildDelay = options.imageBuildDelayMs ?? 0;
    const buildOutcome = options.imageBuildOutcome ?? 'SUCCESSFUL';
    const microvmApi = new MicrovmApi({
      region: this.region,
      vms: this.vms,
      images: this.images,
      now: () => this.now(),
      memoryQuotaMiB: () => this.memoryQuota,
      staleReadMs: () => this.staleRead,
      shouldStickPending: (request) => this.shouldStick(request),
      recordToken: (token) => this.tokens.record(token),
      runHookFailure: (arn, version) => this.apps.runHookFailure(arn, version),
    });
    const imageApi = new ImageApi({
      images: this.images,
      now: () => this.now(),
      buildDelayMs: () => buildDelay,
      buildOutcome: () => buildOutcome,
      liveVmsOf: (arn) => this.vms.all(this.now()).filter((vm) => vm.imageArn === arn && vm.phase !== 'terminated').length,
    });
    for (const image of options.images ?? []) this.registerImage(image);
    this.api = new ApiHandler({
      microvmApi,
      imageApi,
      faults: this.faults,
      limiter: this.limiter,
      requireSignature: options.requireSignature ?? true,
      now: () => this.now(),
    });
    this.server = http.createServer((req, res) => void this.api.handle(req, res));
    const appTimeoutMs = options.appTimeoutMs ?? 30_000;
    this.dataPlane = new MicrovmDataPlane({
      region: this.region,
      vms: this.vms,
      tokens: this.tokens,
      apps: this.apps,
      now: () => this.now(),
      recordTraffic: (id) => this.recordTraffic(id),
      appTimeoutMs: () => appTimeoutMs,
    });
  }

  // ---- clock ------------------------------------------------------------------------------------------------

  /** Emulated time, epoch ms. */
  public now(): number {
    return this.clock() + this.offsetMs;
  }

  /** Moves emulated time forward (VM transitions, lifetimes, token expiry and rate-limit refills follow it). */
  public advanceTime(ms: number): void {
    if (!(ms >= 0)) throw new Error(`advanceTime needs a non-negative number of ms, got ${ms}`);
    this.offsetMs += ms;
  }

  // ---- configuration ----------------------------------------------------------------------------------------

  /** Adds a ready-to-run image and returns its ARN. */
  public registerImage(options: RegisterImageOptions): string {
    return this.images.register(options, this.now());
  }

  // ---- data plane -------------------------------------------------------------------------------------------

  /**
   * The local base URL to use in place of `https://${endpoint}` for a VM's endpoint (as RunMicrovm and GetMicrovm
   * return it, with or without the scheme): `http://127.0.0.1:<data plane port>/<endpoint>`.
   */
  public endpointUrl(endpoint: string): string {
    return this.dataPlane.endpointUrl(endpoint);
  }

  /**
   * Sets what answers inside VMs of one image version: a request listener or base URL (on port 8080), or one per
   * port (`{ 8080: app, 9000: hooks }`). Replaces an earlier registration; VMs already running see the change.
   * See `DataPlaneApps` for built-in apps.
   */
  public registerApp(imageArn: string, imageVersion: string, app: AppTarget | AppPorts): void {
    this.apps.register(imageArn, imageVersion, app);
  }

  /**
   * Makes the `/run` hook of an image version fail from now on: its launches go from PENDING to TERMINATING
   * (after the launch delay) with `stateReason` set to `reason`, and never reach RUNNING.
   */
  public failRunHook(imageArn: string, imageVersion: string, reason = 'The /run hook failed (HTTP 500).'): void {
    this.apps.failRunHook(imageArn, imageVersion, reason);
  }

  /** Lets later launches of the image version pass their `/run` hook again. */
  public clearRunHookFailure(imageArn: string, imageVersion: string): void {
    this.apps.clearRunHookFailure(imageArn, imageVersion);
  }

  /** Replaces the fault settings (`{}` clears them). */
  public setFaults(faults: FaultOptions): void {
    this.faults.set(faults);
  }

  /** Replaces the rate limits (merged over the defaults), or disables them with `false`. */
  public setRateLimits(limits: RateLimits | false): void {
    this.limiter.configure(limits);
  }

  /** Sets the memory quota across PENDING, RUNNING, SUSPENDING and SUSPENDED VMs. */
  public setMemoryQuotaMiB(quotaMiB: number): void {
    this.memoryQuota = quotaMiB;
  }

  /** Makes GetMicrovm report the state as it was `ms` ago. */
  public setStaleReadMs(ms: number): void {
    this.staleRead = ms;
  }

  /** Changes the time VMs spend in the transitional states. */
  public setTransitionDelays(delays: Partial<TransitionDelays>): void {
    this.delays = { ...this.delays, ...delays };
    this.vms.invalidate();
  }

  /**
   * Makes launches stay in PENDING forever (until terminated or past their maximum duration): a number adds
   * that many upcoming RunMicrovm launches; a predicate selects launches by their request until cleared.
   */
  public stickPending(selector: StickPendingSelector): void {
    if (typeof selector === 'number') this.stickBudget += selector;
    else this.stickPredicate = selector;
  }

  /** Stops sticking launches in PENDING (VMs already stuck stay stuck; see `releasePending`). */
  public clearStickPending(): void {
    this.stickBudget = 0;
    this.stickPredicate = undefined;
  }

  /** Lets a stuck VM finish launching, from now. */
  public releasePending(id: string): void {
    const vm = this.requireVm(id);
    if (vm.phase === 'launching' && vm.stuckPending) {
      vm.stuckPending = false;
      vm.phaseSince = this.now();
      this.vms.invalidate(vm);
    }
  }

  /** Terminates a VM as the service would on its own (e.g. a host failure); false when the VM is unknown. */
  public terminateExternally(id: string, reason = 'Terminated by the service.'): boolean {
    const vm = this.vms.find(id, this.now());
    if (!vm) return false;
    if (vm.phase !== 'terminating' && vm.phase !== 'terminated') this.vms.transition(vm, 'terminating', this.now(), reason);
    return true;
  }

  /**
   * Simulates inbound traffic through the VM's endpoint: restarts a RUNNING VM's idle clock, and resumes a
   * SUSPENDED VM whose idle policy has `autoResumeEnabled` (the first request waits for the resume). Returns
   * whether the endpoint would take the traffic: false for PENDING, SUSPENDING, TERMINATING and TERMINATED VMs and
   * for SUSPENDED ones without auto-resume (the service answers 502).
   */
  public recordTraffic(id: string): boolean {
    const vm = this.requireVm(id);
    const now = this.now();
    vm.lastTrafficAt = now;
    this.vms.invalidate(vm);
    if (vm.phase === 'running' || vm.phase === 'resuming') return true;
    if (vm.phase === 'suspended' && vm.idlePolicy?.autoResumeEnabled) {
      this.vms.transition(vm, 'resuming', now, undefined);
      return true;
    }
    return false;
  }

  /**
   * Checks a token as the VM's endpoint would: issued by this emulator, not expired, for a VM that is not
   * TERMINATING or TERMINATED, and allowing `port` (default 8080, the endpoint's default target port).
   * Returns the token's record, or undefined when the endpoint would refuse the request (403, or 502 once the
   * VM is TERMINATING or TERMINATED).
   */
  public verifyToken(token: string, port = 8080): IssuedToken | undefined {
    const record = this.tokens.valid(token, this.now());
    if (!record) return undefined;
    const vm = this.vms.find(record.microvmId, this.now());
    if (!vm || vm.phase === 'terminating' || vm.phase === 'terminated') return undefined;
    return allowsPort(record, port) ? this.tokens.check(token, record.microvmId, this.now()).record : undefined;
  }

  // ---- inspection -------------------------------------------------------------------------------------------

  /** Requests received per operation, whatever their outcome (throttled and failed ones included). */
  public callCounts(): Partial<Record<OperationName, number>> {
    return this.api.callCounts();
  }

  /** Error answers per operation and error type, e.g. `{ RunMicrovm: { ThrottlingException: 2 } }`. */
  public errorCounts(): Partial<Record<OperationName, Record<string, number>>> {
    return this.api.errorCounts();
  }

  public resetCallCounts(): void {
    this.api.resetCounts();
  }

  /** Every visible VM (TERMINATED ones until their retention ends), in launch order. */
  public listVms(): VmSnapshot[] {
    return this.vms.all(this.now()).map((vm) => this.vms.snapshot(vm));
  }

  public getVm(id: string): VmSnapshot | undefined {
    const vm = this.vms.find(id, this.now());
    return vm ? this.vms.snapshot(vm) : undefined;
  }

  /** Tokens issued so far (app and shell), values included: for tests only. */
  public issuedTokens(): IssuedToken[] {
    return this.tokens.all();
  }

  /**
   * Creates `count` VMs at once, without API calls, rate limits or the quota. Returns their ids in launch order.
   */
  public seedVms(count: number, options: SeedVmsOptions): string[] {
    const image = this.images.resolve(options.imageArn);
    const version = options.imageVersion !== undefined
      ? this.images.version(image, options.imageVersion)
      : this.images.latestActive(image, this.now());
    if (!version) throw new Error(`image ${options.imageArn} has no active version to seed from`);
    const startedAt = options.startedAt instanceof Date ? options.startedAt.getTime() : options.startedAt ?? this.now();
    const phase = PHASE_OF_STATE[options.state ?? 'RUNNING'];
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const vm = this.vms.create({
        imageArn: image.arn,
        imageVersion: version.version,
        memoryMiB: version.memoryMiB,
        startedAt,
        maximumDurationInSeconds: options.maximumDurationInSeconds ?? MAX_DURATION_SECONDS,
        idlePolicy: options.idlePolicy,
        ingressNetworkConnectors: [managedConnectorArn(this.region, 'HTTP_INGRESS')],
        egressNetworkConnectors: [managedConnectorArn(this.region, 'INTERNET_EGRESS')],
        stuckPending: phase === 'launching' && (options.stuckPending ?? false),
      }, phase, startedAt);
      ids.push(vm.id);
    }
    return ids;
  }

  /** Stops the servers (API, data plane and the apps it serves) and drops open connections. */
  public async stop(): Promise<void> {
    await Promise.all([
      new Promise<void>((resolve) => {
        if (!this.server.listening) return resolve();
        this.server.close(() => resolve());
        this.server.closeAllConnections();
      }),
      this.dataPlane.close(),
      this.apps.close(),
    ]);
  }

  private shouldStick(request: RunRequest): boolean {
    if (this.stickBudget > 0) {
      this.stickBudget--;
      return true;
    }
    return this.stickPredicate?.(request) ?? false;
  }

  private requireVm(id: string) {
    const vm = this.vms.find(id, this.now());
    if (!vm) throw new Error(`unknown MicroVM ${id}`);
    return vm;
  }
}
