import { randomBytes } from 'node:crypto';
import { conflict, notFound, quotaExceeded, validation } from './errors';
import type { ImageStore } from './image-store';
import { paginate, parseMaxResults, type Page } from './pagination';
import {
  MAX_DURATION_SECONDS,
  managedConnectorArn,
  validateAuthTokenRequest,
  validateExpiration,
  validateMicrovmId,
  validateRunRequest,
  type RunRequest,
} from './request-validation';
import type { IssuedToken } from './types';
import type { VmRecord, VmStore } from './vm-store';
import { canonicalJson, seconds } from './wire';
import { DATA_PLANE } from '../shared/contract';

/** The header name the data plane reads the token from, and the key of the `authToken` map. */
export const AUTH_TOKEN_KEY = DATA_PLANE.AUTH_HEADER;
/** The port shell tokens grant. */
export const SHELL_PORT = DATA_PLANE.SHELL_PORT;

/** What the MicroVM operations need from the emulator. */
export interface MicrovmApiContext {
  readonly region: string;
  readonly vms: VmStore;
  readonly images: ImageStore;
  now(): number;
  memoryQuotaMiB(): number;
  staleReadMs(): number;
  /** True when this launch must stay in PENDING (consumes one `stickPending` budget). */
  shouldStickPending(request: RunRequest): boolean;
  recordToken(token: IssuedToken): void;
  /** The `stateReason` a launch of this image version ends with because its `/run` hook fails, if it does. */
  runHookFailure(imageArn: string, imageVersion: string): string | undefined;
}

/** The MicroVM operations, on parsed input, returning the JSON body of the answer. */
export class MicrovmApi {
  /** clientToken -> fingerprint of the request and the VM it created. */
  private readonly clientTokens = new Map<string, { fingerprint: string; vmId: string }>();

  constructor(private readonly ctx: MicrovmApiContext) {}

  public run(body: Record<string, any>): Record<string, unknown> {
    const request = validateRunRequest(body);
    const now = this.ctx.now();
    const fingerprint = canonicalJson({ ...request, clientToken: undefined });
    if (request.clientToken !== undefined) {
      const previous = this.clientTokens.get(request.clientToken);
      if (previous) {
        if (previous.fingerprint !== fingerprint) {
          throw conflict('Microvm', previous.vmId, 'The clientToken was already used with different parameters.');
        }
        const vm = this.ctx.vms.find(previous.vmId, now);
        // the VM outlived its retention: the token is forgotten with it.
        if (vm) return this.describe(vm);
        this.clientTokens.delete(request.clientToken);
      }
    }
    const image = this.ctx.images.resolve(request.imageIdentifier);
    const version = this.ctx.images.runnableVersion(image, request.imageVersion, now);
    const inUse = this.ctx.vms.memoryInUse(now);
    const quota = this.ctx.memoryQuotaMiB();
    if (inUse + version.memoryMiB > quota) {
      throw quotaExceeded(
        `Launching would use ${inUse + version.memoryMiB} MiB of MicroVM memory, over the account quota of ${quota} MiB.`,
        'microvm-memory',
      );
    }
    const imageEgress = Array.isArray(version.config.egressNetworkConnectors) ? version.config.egressNetworkConnectors as string[] : [];
    const vm = this.ctx.vms.create({
      imageArn: image.arn,
      imageVersion: version.version,
      memoryMiB: version.memoryMiB,
      startedAt: now,
      maximumDurationInSeconds: request.maximumDurationInSeconds ?? MAX_DURATION_SECONDS,
      idlePolicy: request.idlePolicy ? { ...request.idlePolicy } : undefined,
      executionRoleArn: request.executionRoleArn,
      runHookPayload: request.runHookPayload,
      clientToken: request.clientToken,
      logging: request.logging,
      ingressNetworkConnectors: request.ingressNetworkConnectors?.length
        ? [...request.ingressNetworkConnectors]
        : [managedConnectorArn(this.ctx.region, 'HTTP_INGRESS')],
      // an omitted or empty egress list inherits the image version's connectors (third-party measurement).
      egressNetworkConnectors: request.egressNetworkConnectors?.length
        ? [...request.egressNetworkConnectors]
        : imageEgress.length ? [...imageEgress] : [managedConnectorArn(this.ctx.region, 'INTERNET_EGRESS')],
      runHookFailure: this.ctx.runHookFailure(image.arn, version.version),
      stuckPending: this.ctx.shouldStickPending(request),
    });
    if (request.clientToken !== undefined) this.clientTokens.set(request.clientToken, { fingerprint, vmId: vm.id });
    return this.describe(vm);
  }

  public get(id: string): Record<string, unknown> {
    const vm = this.find(id);
    const stale = this.ctx.staleReadMs();
    if (stale <= 0) return this.describe(vm);
    const seen = this.ctx.vms.stateAt(vm, this.ctx.now() - stale);
    return {
      ...this.describe(vm),
      state: seen.state,
      stateReason: seen.reason,
      terminatedAt: seen.state === 'TERMINATED' ? seconds(vm.terminatedAt) : undefined,
    };
  }

  public list(query: URLSearchParams): Page<Record<string, unknown>> {
    const maxResults = parseMaxResults(query.get('maxResults'));
    const imageIdentifier = query.get('imageIdentifier') ?? undefined;
    const imageVersion = query.get('imageVersion') ?? undefined;
    if (imageIdentifier !== undefined && (imageIdentifier.length < 1 || imageIdentifier.length > 256)) {
      throw validation('imageIdentifier must be 1-256 characters.');
    }
    const matchesImage = (vm: VmRecord): boolean =>
      imageIdentifier === undefined || vm.imageArn === imageIdentifier || vm.imageArn.endsWith(`:microvm-image:${imageIdentifier}`);
    const vms = this.ctx.vms.all(this.ctx.now())
      .filter((vm) => matchesImage(vm) && (imageVersion === undefined || vm.imageVersion === imageVersion));
    const page = paginate(vms, (vm) => vm.seq, maxResults, query.get('nextToken'), `vms|${imageIdentifier ?? ''}|${imageVersion ?? ''}`);
    return {
      items: page.items.map((vm) => ({
        microvmId: vm.id,
        state: this.ctx.vms.reported(vm),
        imageArn: vm.imageArn,
        imageVersion: vm.imageVersion,
        startedAt: seconds(vm.startedAt),
      })),
      nextToken: page.nextToken,
    };
  }

  public suspend(id: string): Record<string, unknown> {
    const vm = this.find(id);
    const state = this.ctx.vms.reported(vm);
    if (state !== 'RUNNING') throw conflict('Microvm', id, `MicroVM ${id} is ${state}; only a RUNNING MicroVM can be suspended.`);
    this.ctx.vms.transition(vm, 'suspending', this.ctx.now(), 'Suspended by SuspendMicrovm.');
    return {};
  }

  public resume(id: string): Record<string, unknown> {
    const vm = this.find(id);
    if (vm.phase === 'resuming') return {};
    const state = this.ctx.vms.reported(vm);
    if (state !== 'SUSPENDED') throw conflict('Microvm', id, `MicroVM ${id} is ${state}; only a SUSPENDED MicroVM can be resumed.`);
    this.ctx.vms.transition(vm, 'resuming', this.ctx.now(), undefined);
    return {};
  }

  public terminate(id: string): Record<string, unknown> {
    const vm = this.find(id);
    if (vm.phase !== 'terminating' && vm.phase !== 'terminated') {
      this.ctx.vms.transition(vm, 'terminating', this.ctx.now(), 'Terminated by TerminateMicrovm.');
    }
    return {};
  }

  public authToken(id: string, body: Record<string, any>): Record<string, unknown> {
    validateMicrovmId(id);
    const request = validateAuthTokenRequest(body);
    const vm = this.findLive(id);
    return { authToken: { [AUTH_TOKEN_KEY]: this.issue('app', vm, request.expirationInMinutes, request.allowedPorts) } };
  }

  public shellAuthToken(id: string, body: Record<string, any>): Record<string, unknown> {
    validateMicrovmId(id);
    const expirationInMinutes = validateExpiration(body ?? {});
    const vm = this.findLive(id);
    if (!vm.ingressNetworkConnectors.some((arn) => arn.endsWith(':aws-network-connector:SHELL_INGRESS'))) {
      throw validation(`MicroVM ${id} was not launched with the SHELL_INGRESS connector.`);
    }
    return { authToken: { [AUTH_TOKEN_KEY]: this.issue('shell', vm, expirationInMinutes, [{ port: SHELL_PORT }]) } };
  }

  /** The GetMicrovm/RunMicrovm answer for a VM as it is now. */
  public describe(vm: VmRecord): Record<string, unknown> {
    return {
      microvmId: vm.id,
      state: this.ctx.vms.reported(vm),
      endpoint: this.ctx.vms.endpointOf(vm.id),
      imageArn: vm.imageArn,
      imageVersion: vm.imageVersion,
      executionRoleArn: vm.executionRoleArn,
      idlePolicy: vm.idlePolicy,
      maximumDurationInSeconds: vm.maximumDurationInSeconds,
      startedAt: seconds(vm.startedAt),
      terminatedAt: seconds(vm.terminatedAt),
      stateReason: vm.reason,
      ingressNetworkConnectors: vm.ingressNetworkConnectors,
      egressNetworkConnectors: vm.egressNetworkConnectors,
    };
  }

  private find(id: string): VmRecord {
    validateMicrovmId(id);
    const vm = this.ctx.vms.find(id, this.ctx.now());
    if (!vm) throw notFound('Microvm', id);
    return vm;
  }

  private findLive(id: string): VmRecord {
    const vm = this.find(id);
    const state = this.ctx.vms.reported(vm);
    if (state === 'TERMINATING' || state === 'TERMINATED') {
      throw conflict('Microvm', id, `MicroVM ${id} is ${state}; no token can be issued.`);
    }
    return vm;
  }

  private issue(kind: 'app' | 'shell', vm: VmRecord, minutes: number, ports: IssuedToken['allowedPorts']): string {
    // opaque and random, like the service's JWE: nothing in it can be parsed or guessed.
    const token = `emu.${randomBytes(48).toString('base64url')}`;
    const issuedAt = this.ctx.now();
    this.ctx.recordToken({
      kind,
      microvmId: vm.id,
      token,
      allowedPorts: ports.map((p) => JSON.parse(JSON.stringify(p))),
      expirationInMinutes: minutes,
      issuedAt,
      expiresAt: issuedAt + minutes * 60_000,
    });
    return token;
  }
}
