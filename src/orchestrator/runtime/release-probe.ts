import {
  CreateMicrovmAuthTokenCommand,
  GetMicrovmCommand,
  GetMicrovmImageCommand,
  LambdaMicrovmsClient,
  RunMicrovmCommand,
  TerminateMicrovmCommand,
  UpdateMicrovmImageVersionCommand,
} from '@aws-sdk/client-lambda-microvms';
import { errorMessage, errorName, isRetryable } from './aws-errors';
import { DATA_PLANE, LIMITS } from '../../shared/contract';

const PROXY_AUTH_HEADER = DATA_PLANE.AUTH_HEADER;
const PROXY_PORT_HEADER = DATA_PLANE.PORT_HEADER;

/** What one smoke test launches and checks: the orchestrator's own run configuration plus the health check. */
export interface ProbeInput {
  readonly imageArn: string;
  /** the version to test; empty for the image's latest ACTIVE version, resolved at test time. */
  readonly imageVersion?: string;
  /** the version the last successful test promoted: never set INACTIVE by a failure (rollbacks land on it). */
  readonly promotedVersion?: string;
  readonly executionRoleArn?: string;
  readonly runtimeLogGroup?: string;
  readonly egressConnectors: string[];
  readonly ingressConnectors: string[];
  /** the app port the check calls through the VM's endpoint. */
  readonly port: number;
  readonly path: string;
  readonly expectedStatus: number;
  /** how long the app may take to answer the check, from RUNNING. */
  readonly timeoutSeconds: number;
  /** the `/run` hook payload the probe sends, if the image expects one. Never a secret: it is in the template. */
  readonly payload?: string;
}

/** What a passed test reports. */
export interface ProbeResult {
  readonly imageVersion: string;
  readonly microvmId: string;
  readonly status: number;
  readonly waitedMs: number;
  /** every service call made, in order: the benchmark counts them. */
  readonly calls: readonly string[];
}

/** A failed test: its message says what happened, and is safe to show in CloudFormation's events. */
export class ProbeFailed extends Error {
  /**
   * @param versionAtFault true when the version itself failed (its VM ended, its app answered wrong or not at
   * all); false when the service or the setup did, which says nothing about the version.
   */
  constructor(message: string, public readonly versionAtFault = true) {
    super(message);
    this.name = 'ProbeFailed';
  }
}

/** Knobs the tests and the benchmark turn; the defaults are the deployed ones. */
export interface ProbeOptions {
  /** `https://<endpoint>` in Lambda; the emulator's data plane in tests. */
  readonly endpointUrl?: (endpoint: string) => string;
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
  /** how long a launch may take to reach RUNNING. @default 180 seconds */
  readonly launchTimeoutMs?: number;
  readonly log?: (message: string, fields: Record<string, unknown>) => void;
}

/** The probe's `maximumDurationInSeconds`: a Lambda function's own limit, so the probe cannot outlive its handler. */
export const PROBE_MAX_DURATION_SECONDS = 900;
/** Delays between GetMicrovm polls: quick at first (a launch takes about two seconds), then every 5 s. */
export const POLL_DELAYS_MS = [500, 500, 1000, 1000, 2000, 3000, 5000];
/** Attempts at TerminateMicrovm before the sweeper is left to end the probe as an orphan. */
export const TERMINATE_ATTEMPTS = 6;
/** The health check's retry delay while the endpoint answers 502-504 or not at all. */
const CHECK_RETRY_MS = 1000;
/** How much of a failing answer's body goes into the message. */
const BODY_EXCERPT = 200;

/**
 * Launches one MicroVM from an image version with the orchestrator's run configuration, waits for RUNNING, calls
 * a health check through the VM's real endpoint with a short token for the app port, and terminates the VM, always.
 * A failed check sets the version INACTIVE (unless it is the promoted one) and throws {@link ProbeFailed}.
 * Never logs a token or the payload.
 */
export class ReleaseProbe {
  private readonly endpointUrl: (endpoint: string) => string;
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly launchTimeoutMs: number;
  private readonly log: (message: string, fields: Record<string, unknown>) => void;
  private readonly calls: string[] = [];

  constructor(private readonly microvms: LambdaMicrovmsClient, options: ProbeOptions = {}) {
    this.endpointUrl = options.endpointUrl ?? ((endpoint) => `https://${endpoint}`);
    this.fetch = options.fetch ?? fetch;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.now = options.now ?? Date.now;
    this.launchTimeoutMs = options.launchTimeoutMs ?? 180_000;
    this.log = options.log ?? (() => undefined);
  }

  async run(input: ProbeInput): Promise<ProbeResult> {
    const version = input.imageVersion || await this.latestActiveVersion(input.imageArn);
    const started = this.now();
    let microvmId: string | undefined;
    let status: number;
    try {
      microvmId = await this.launch(input, version);
      const endpoint = await this.waitForRunning(version, microvmId, started);
      status = await this.check(input, version, microvmId, endpoint);
    } catch (err) {
      const failure = err instanceof ProbeFailed
        ? err
        : new ProbeFailed(`the MicroVM service failed during the smoke test of version ${version}: ${errorName(err)} ${errorMessage(err)}`.trim(), false);
      if (microvmId) await this.terminate(input.imageArn, microvmId);
      const outcome = failure.versionAtFault
        ? await this.deactivate(input, version)
        : `Version ${version} was not judged and stays as it was; deploy again when the service answers.`;
      throw new ProbeFailed(`${failure.message} ${outcome}`, failure.versionAtFault);
    }
    await this.terminate(input.imageArn, microvmId);
    const waitedMs = this.now() - started;
    this.log('smoke test passed', { imageArn: input.imageArn, imageVersion: version, microvmId, status, waitedMs });
    return { imageVersion: version, microvmId, status, waitedMs, calls: [...this.calls] };
  }

  private async latestActiveVersion(imageArn: string): Promise<string> {
    const image = await this.send('GetMicrovmImage', () => this.microvms.send(new GetMicrovmImageCommand({ imageIdentifier: imageArn })));
    const version = image.latestActiveImageVersion;
    if (!version) throw new ProbeFailed(`${imageArn} has no ACTIVE version to test.`, false);
    return version;
  }

  private async launch(input: ProbeInput, version: string): Promise<string> {
    const vm = await this.send('RunMicrovm', () => this.microvms.send(new RunMicrovmCommand({
      imageIdentifier: input.imageArn,
      imageVersion: version,
      egressNetworkConnectors: input.egressConnectors,
      ingressNetworkConnectors: input.ingressConnectors,
      executionRoleArn: input.executionRoleArn || undefined,
      logging: input.executionRoleArn && input.runtimeLogGroup
        ? { cloudWatch: { logGroup: input.runtimeLogGroup } }
        : { disabled: {} },
      // the probe never outlives the test: the service ends it even if this handler dies before terminating it.
      maximumDurationInSeconds: PROBE_MAX_DURATION_SECONDS,
      runHookPayload: input.payload || undefined,
    })));
    if (!vm.microvmId) throw new ProbeFailed(`RunMicrovm returned no MicroVM id for version ${version}.`, false);
    this.log('smoke test launched', { imageArn: input.imageArn, imageVersion: version, microvmId: vm.microvmId });
    return vm.microvmId;
  }

  private async waitForRunning(version: string, microvmId: string, started: number): Promise<string> {
    for (let poll = 0; ; poll++) {
      const vm = await this.send('GetMicrovm', () => this.microvms.send(new GetMicrovmCommand({ microvmIdentifier: microvmId })));
      const waited = seconds(this.now() - started);
      if (vm.state === 'RUNNING' && vm.endpoint) return vm.endpoint;
      if (vm.state === 'TERMINATING' || vm.state === 'TERMINATED') {
        throw new ProbeFailed(`MicroVM ${microvmId} of version ${version} ended ${vm.state} before it ran` +
          `${vm.stateReason ? ` (stateReason: ${vm.stateReason})` : ''} after ${waited}: its /run hook failed or the app crashed.`);
      }
      if (this.now() - started >= this.launchTimeoutMs) {
        throw new ProbeFailed(`MicroVM ${microvmId} of version ${version} was still ${vm.state ?? 'unknown'} after ${waited}` +
          `${vm.stateReason ? ` (stateReason: ${vm.stateReason})` : ''}.`, false);
      }
      await this.sleep(POLL_DELAYS_MS[Math.min(poll, POLL_DELAYS_MS.length - 1)]);
    }
  }

  private async check(input: ProbeInput, version: string, microvmId: string, endpoint: string): Promise<number> {
    const token = await this.token(microvmId, input.port);
    const url = `${this.endpointUrl(endpoint)}${input.path}`;
    const deadline = this.now() + input.timeoutSeconds * 1000;
    const what = `GET ${input.path} on port ${input.port} of version ${version}`;
    let last = 'no answer';
    while (true) {
      const remaining = deadline - this.now();
      if (remaining <= 0) throw new ProbeFailed(`${what} did not answer ${input.expectedStatus} within ${input.timeoutSeconds} s (last: ${last}).`);
      let res: Response;
      try {
        this.calls.push('health');
        res = await this.fetch(url, {
          headers: { [PROXY_AUTH_HEADER]: token, [PROXY_PORT_HEADER]: String(input.port) },
          signal: AbortSignal.timeout(remaining),
          redirect: 'manual',
        });
      } catch (err) {
        last = errorName(err) === 'TimeoutError' ? 'timed out' : `${errorName(err)}`;
        await this.sleep(CHECK_RETRY_MS);
        continue;
      }
      const body = (await res.text().catch(() => '')).slice(0, BODY_EXCERPT);
      if (res.status === input.expectedStatus) return res.status;
      last = `HTTP ${res.status}${body ? `: ${JSON.stringify(body)}` : ''}`;
      // the endpoint answers 502-504 until the app listens; any other status is the app's own answer.
      if (res.status < 502 || res.status > 504) {
        throw new ProbeFailed(`${what} answered HTTP ${res.status}, expected ${input.expectedStatus}` +
          `${body ? `; body starts ${JSON.stringify(body)}` : ''}.`);
      }
      await this.sleep(CHECK_RETRY_MS);
    }
  }

  private async token(microvmId: string, port: number): Promise<string> {
    const out = await this.send('CreateMicrovmAuthToken', () => this.microvms.send(new CreateMicrovmAuthTokenCommand({
      microvmIdentifier: microvmId,
      expirationInMinutes: LIMITS.MIN_TOKEN_TTL_SECONDS / 60,
      allowedPorts: [{ port }],
    })));
    const value = out.authToken?.[PROXY_AUTH_HEADER];
    if (typeof value !== 'string' || value === '') throw new ProbeFailed(`the MicroVM service returned no ${PROXY_AUTH_HEADER} token.`, false);
    return value;
  }

  /** Sets a failed version INACTIVE so no session launches it; says what it did, for the failure message. */
  private async deactivate(input: ProbeInput, version: string): Promise<string> {
    if (!version) return '';
    if (version === input.promotedVersion) {
      return `Version ${version} is the one the orchestrator runs now, so it stays ACTIVE.`;
    }
    try {
      await this.send('UpdateMicrovmImageVersion', () => this.microvms.send(new UpdateMicrovmImageVersionCommand({
        imageIdentifier: input.imageArn, imageVersion: version, status: 'INACTIVE',
      })));
      this.log('smoke test failed: version set INACTIVE', { imageArn: input.imageArn, imageVersion: version });
      return `Version ${version} was set INACTIVE; running sessions are untouched.`;
    } catch (err) {
      return `Setting version ${version} INACTIVE failed (${errorName(err)}): set it by hand before another deployment.`;
    }
  }

  /** Terminates the probe, retrying throttling and 5xx; if it still fails the sweeper ends it as an orphan. */
  private async terminate(imageArn: string, microvmId: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.send('TerminateMicrovm', () => this.microvms.send(new TerminateMicrovmCommand({ microvmIdentifier: microvmId })));
        this.log('smoke test probe terminated', { imageArn, microvmId });
        return;
      } catch (err) {
        const name = errorName(err);
        if (name === 'ResourceNotFoundException') return;
        if (!isRetryable(err) || attempt >= TERMINATE_ATTEMPTS) {
          this.log('smoke test probe not terminated: the sweeper ends it as an orphan', { imageArn, microvmId, error: name });
          return;
        }
        await this.sleep(Math.min(8000, 250 * 2 ** attempt));
      }
    }
  }

  private async send<T>(operation: string, call: () => Promise<T>): Promise<T> {
    this.calls.push(operation);
    return call();
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
