import { Duration, Token } from 'aws-cdk-lib';
import { LIMITS } from '../shared/contract';
import { credentialKind, dynamicSecretReference, environmentSecret } from '../shared/secrets';
import { durationInRange, invalidProp, isToken } from '../shared/validation';
import type { SmokeTestCheck } from './private/smoke-test-resource';

/** Options of {@link SmokeTest.http}. */
export interface SmokeTestHttpOptions {
  /**
   * The path the check calls through the new VM's endpoint (it may carry a query string).
   * @default '/'
   */
  readonly path?: string;
  /**
   * The status the app must answer. Any other answer fails the deployment at once, except 502-504, which the
   * endpoint answers while the app is not listening yet: those are retried until `timeout`.
   * @default 200
   */
  readonly expectedStatus?: number;
  /**
   * How long the app may take, from RUNNING, to answer `expectedStatus`. From 1 second to 10 minutes.
   * @default Duration.seconds(30)
   */
  readonly timeout?: Duration;
  /**
   * The app port the check calls. Must be one of the orchestrator's `appPorts` (never the hooks port).
   * @default the orchestrator's first app port
   */
  readonly port?: number;
  /**
   * The `/run` hook payload the probe VM is launched with, for an image whose `/run` expects one. It is written
   * into the template, so it must never hold a secret: synth fails on a value that looks like one.
   * At most 4096 bytes.
   * @default no payload
   */
  readonly payload?: string;
}

/**
 * How a new image version is tested before the orchestrator launches it for anyone.
 *
 * At deploy time, between the image and the orchestrator, a custom resource launches one MicroVM from the version
 * with the orchestrator's own run configuration (egress, ingress, execution role, runtime logs), waits for RUNNING,
 * calls the check through the VM's endpoint with a one-minute token for that port, and terminates the VM, always.
 * The orchestrator launches only the version that passed. A failure fails the deployment with what happened (the
 * VM's `stateReason`, the HTTP status and the start of the body, the time waited), sets the version INACTIVE
 * (never the version the orchestrator runs already), and leaves running sessions untouched.
 */
export class SmokeTest {
  /** Check one HTTP path of the app: the default is `GET /` answering 200 within 30 seconds. */
  public static http(options: SmokeTestHttpOptions = {}): SmokeTest {
    return new SmokeTest(options);
  }

  /**
   * No smoke test: every new version is launched for every new session as soon as it is ACTIVE. Only for an app
   * with no endpoint to call (`Ingress.none()`), or while you test releases some other way.
   */
  public static disabled(): SmokeTest {
    return new SmokeTest(undefined);
  }

  private constructor(private readonly options: SmokeTestHttpOptions | undefined) {}

  /**
   * The check with its defaults, validated against the orchestrator's app ports, or `undefined` when disabled.
   * @internal
   */
  public _resolve(appPorts: number[], ingressNone: boolean): SmokeTestCheck | undefined {
    const o = this.options;
    if (!o) return undefined;
    if (ingressNone) {
      throw invalidProp('smokeTest', 'SmokeTest.http()', 'reach the app through the VM\'s endpoint, which Ingress.none() closes',
        'Pass smokeTest: SmokeTest.disabled() for an outbound-only worker, or give the orchestrator an ingress.');
    }
    const path = o.path ?? '/';
    if (!Token.isUnresolved(path) && (!path.startsWith('/') || /\s/.test(path))) {
      throw invalidProp('smokeTest.path', path, 'start with / and contain no whitespace', 'For example \'/health\'.');
    }
    const expectedStatus = o.expectedStatus ?? 200;
    if (!isToken(expectedStatus) && (!Number.isInteger(expectedStatus) || expectedStatus < 100 || expectedStatus > 599)) {
      throw invalidProp('smokeTest.expectedStatus', expectedStatus, 'be an HTTP status from 100 to 599', 'For example 200.');
    }
    const timeoutSeconds = durationInRange('smokeTest.timeout', o.timeout ?? Duration.seconds(30),
      { unit: 'seconds', min: 1, max: 600, rule: 'be whole seconds from 1 second to 10 minutes' },
      'The whole test runs in one Lambda invocation of at most 15 minutes, launch included.').toSeconds();
    const port = o.port ?? appPorts[0];
    if (!isToken(port) && !isToken(appPorts) && !appPorts.includes(port)) {
      throw invalidProp('smokeTest.port', port, `be one of the orchestrator's appPorts ${JSON.stringify(appPorts)}`,
        'The check calls the app the way a client does: with a token for an app port, never the hooks port.');
    }
    if (o.payload !== undefined && !Token.isUnresolved(o.payload)) checkPayload(o.payload);
    return { port, path, expectedStatus, timeoutSeconds, payload: o.payload };
  }
}

/** The payload is in the template for anyone who can read it: refuse what looks like a secret, and oversize. */
function checkPayload(payload: string): void {
  const bytes = Buffer.byteLength(payload, 'utf8');
  if (bytes > LIMITS.RUN_HOOK_PAYLOAD_BYTES) {
    throw invalidProp('smokeTest.payload', `${bytes} bytes`, `be at most ${LIMITS.RUN_HOOK_PAYLOAD_BYTES} bytes`, 'Send a smaller test payload.');
  }
  const why = dynamicSecretReference(payload) ?? credentialKind(payload) ?? secretField(payload);
  if (why) {
    // the message names what was found, never the value.
    throw invalidProp('smokeTest.payload', payload, `not hold a secret: it looks like ${why}`,
      'The payload is written into the template. Give the probe test data only; a real secret belongs in Secrets Manager, read by the app at run time.',
      true);
  }
}

/** A JSON payload's field whose name says secret and whose value is not a placeholder. */
function secretField(payload: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return undefined;
  }
  const walk = (value: unknown, key: string): string | undefined => {
    if (typeof value === 'string') return environmentSecret(key, value) ? `a secret in the field "${key}"` : undefined;
    if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        const found = walk(v, k);
        if (found) return found;
      }
    }
    return undefined;
  };
  return walk(parsed, '');
}
