import type { FaultOptions, LatencySpec, OperationFaults, OperationName, RateLimits } from './types';

/**
 * The service's documented API rate limits (requests per second; burst equals the rate). The list and image
 * operations have no published limit: the emulator uses 20 for ListMicrovms and 10 for the image APIs.
 */
export const DEFAULT_RATE_LIMITS: Readonly<Record<OperationName, number>> = {
  RunMicrovm: 5,
  ResumeMicrovm: 5,
  SuspendMicrovm: 2,
  TerminateMicrovm: 10,
  GetMicrovm: 100,
  CreateMicrovmAuthToken: 50,
  CreateMicrovmShellAuthToken: 5,
  ListMicrovms: 20,
  CreateMicrovmImage: 10,
  GetMicrovmImage: 10,
  ListMicrovmImages: 10,
  UpdateMicrovmImage: 10,
  DeleteMicrovmImage: 10,
  ListMicrovmImageVersions: 10,
  GetMicrovmImageVersion: 10,
  UpdateMicrovmImageVersion: 10,
  DeleteMicrovmImageVersion: 10,
  ListManagedMicrovmImages: 10,
  ListManagedMicrovmImageVersions: 10,
};

/** mulberry32: small, fast and good enough to make fault rates reproducible from a seed. */
/* eslint-disable no-bitwise */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  public next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}
/* eslint-enable no-bitwise */

/** Token buckets per operation on the emulated clock, so a frozen clock makes throttling exact. */
export class RateLimiter {
  private readonly buckets = new Map<OperationName, { tokens: number; at: number }>();
  private limits: Partial<Record<OperationName, number>> | undefined;

  constructor(limits: RateLimits | false | undefined) {
    this.limits = limits === false ? undefined : { ...DEFAULT_RATE_LIMITS, ...(limits ?? {}) };
  }

  /** Replaces the limits (merged over the defaults), or disables them with `false`. */
  public configure(limits: RateLimits | false): void {
    this.limits = limits === false ? undefined : { ...DEFAULT_RATE_LIMITS, ...limits };
    this.buckets.clear();
  }

  /**
   * Takes one token. Returns 0 when the request may proceed, otherwise the seconds until the bucket holds a
   * token again (the Retry-After hint).
   */
  public take(operation: OperationName, now: number): number {
    const rate = this.limits?.[operation];
    if (rate === undefined || rate <= 0 || !Number.isFinite(rate)) return 0;
    const bucket = this.buckets.get(operation) ?? { tokens: rate, at: now };
    const elapsed = Math.max(0, now - bucket.at);
    bucket.tokens = Math.min(rate, bucket.tokens + (elapsed / 1000) * rate);
    bucket.at = now;
    this.buckets.set(operation, bucket);
    if (bucket.tokens < 1) return Math.max(0.001, (1 - bucket.tokens) / rate);
    bucket.tokens -= 1;
    return 0;
  }
}

/** What the fault injector decided for one request. */
export interface FaultDecision {
  readonly latencyMs: number;
  readonly fault?: 'throttle' | 'error' | 'capacity';
  readonly errorAfterEffect: boolean;
}

/**
 * Draws faults for each request from the seeded PRNG. Draws happen only for rates above zero, in a fixed
 * order (latency, throttle, error, capacity, error-after-effect), so sequential requests give the same outcome
 * for the same seed.
 */
export class FaultInjector {
  private options: FaultOptions;

  constructor(private readonly random: SeededRandom, options: FaultOptions = {}) {
    this.options = options;
  }

  public set(options: FaultOptions): void {
    this.options = options;
  }

  public decide(operation: OperationName): FaultDecision {
    const op: OperationFaults = { ...this.options, ...(this.options.operations?.[operation] ?? {}) };
    const latencyMs = this.latency(op.latencyMs);
    if (this.hit(op.throttleRate)) return { latencyMs, fault: 'throttle', errorAfterEffect: false };
    if (this.hit(op.errorRate)) return { latencyMs, fault: 'error', errorAfterEffect: false };
    if (operation === 'RunMicrovm' && this.hit(op.capacityErrorRate)) {
      return { latencyMs, fault: 'capacity', errorAfterEffect: false };
    }
    return { latencyMs, errorAfterEffect: this.hit(op.errorAfterEffectRate) };
  }

  private hit(rate: number | undefined): boolean {
    if (!rate || rate <= 0) return false;
    return this.random.next() < rate;
  }

  private latency(spec: LatencySpec | undefined): number {
    if (spec === undefined) return 0;
    if (typeof spec === 'number') return Math.max(0, spec);
    const min = Math.max(0, spec.minMs);
    const max = Math.max(min, spec.maxMs);
    return min + this.random.next() * (max - min);
  }
}
