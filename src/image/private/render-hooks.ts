import { Duration, Token, aws_lambda as lambda } from 'aws-cdk-lib';
import { invalidProp } from '../../shared/validation';
import { Hook, LifecycleHooks } from '../lifecycle-hooks';

interface HookRule {
  readonly name: 'ready' | 'validate' | 'run' | 'resume' | 'suspend' | 'terminate';
  readonly maxSeconds: number;
  readonly defaultSeconds: number;
  readonly runtime: boolean;
}

const RULES: HookRule[] = [
  { name: 'ready', maxSeconds: 3600, defaultSeconds: 300, runtime: false },
  { name: 'validate', maxSeconds: 3600, defaultSeconds: 300, runtime: false },
  { name: 'run', maxSeconds: 60, defaultSeconds: 10, runtime: true },
  { name: 'resume', maxSeconds: 60, defaultSeconds: 10, runtime: true },
  { name: 'suspend', maxSeconds: 60, defaultSeconds: 10, runtime: true },
  { name: 'terminate', maxSeconds: 60, defaultSeconds: 10, runtime: true },
];

/**
 * Checks `hooks` against the service rules; throws on the first violation. Tokens are skipped.
 */
export function validateHooks(hooks: LifecycleHooks | undefined, prop = 'hooks'): void {
  if (hooks === undefined) return;
  const port = hooks.port;
  if (!Token.isUnresolved(port) && (!Number.isInteger(port) || port < 1 || port > 65535)) {
    throw invalidProp(`${prop}.port`, port, 'be an integer from 1 to 65535', 'Use the port your application serves its hooks on, e.g. 9000.');
  }
  const enabled = RULES.filter((rule) => hooks[rule.name]?.isEnabled);
  if (enabled.length === 0) {
    throw invalidProp(`${prop}`, { port }, 'enable at least one hook (the service rejects a hooks port with no hook)',
      'Enable `ready: Hook.enabled()`, or leave `hooks` out.');
  }
  const runtime = enabled.filter((rule) => rule.runtime).map((rule) => rule.name);
  if (runtime.length > 0 && !hooks.ready?.isEnabled) {
    throw invalidProp(`${prop}.ready`, 'disabled', `be enabled when a runtime hook is (${runtime.join(', ')})`,
      'Serve /aws/lambda-microvms/runtime/v1/ready and set `ready: Hook.enabled()`.');
  }
  for (const rule of enabled) {
    const timeout = (hooks[rule.name] as Hook).timeout;
    if (timeout === undefined || timeout.isUnresolved()) continue;
    const seconds = timeout.toMilliseconds() / 1000;
    if (!Number.isInteger(seconds)) {
      throw invalidProp(`${prop}.${rule.name}.timeout`, timeout.toHumanString(), 'be a whole number of seconds', 'Use Duration.seconds(n) with an integer n.');
    }
    if (seconds < 1 || seconds > rule.maxSeconds) {
      throw invalidProp(`${prop}.${rule.name}.timeout`, timeout.toHumanString(), `be from 1 second to ${Duration.seconds(rule.maxSeconds).toHumanString()}`,
        rule.runtime ? 'Keep the hook fast and do longer work asynchronously.' : 'Return 503 while not ready; the service retries until the timeout.');
    }
  }
}

/**
 * Renders validated hooks to the L1 `Hooks` shape; every hook state is explicit so an update never depends on
 * what the service fills in for a missing one.
 */
export function renderHooks(hooks: LifecycleHooks | undefined): lambda.CfnMicrovmImage.HooksProperty {
  if (hooks === undefined) return {};
  const state = (name: HookRule['name']) => (hooks[name]?.isEnabled ? 'ENABLED' : 'DISABLED');
  const seconds = (name: HookRule['name']) => {
    const hook = hooks[name];
    if (!hook?.isEnabled) return undefined;
    const rule = RULES.find((r) => r.name === name)!;
    return hook.timeout ? hook.timeout.toSeconds() : rule.defaultSeconds;
  };
  return {
    port: hooks.port,
    microvmImageHooks: {
      ready: state('ready'),
      readyTimeoutInSeconds: seconds('ready'),
      validate: state('validate'),
      validateTimeoutInSeconds: seconds('validate'),
    },
    microvmHooks: {
      run: state('run'),
      runTimeoutInSeconds: seconds('run'),
      resume: state('resume'),
      resumeTimeoutInSeconds: seconds('resume'),
      suspend: state('suspend'),
      suspendTimeoutInSeconds: seconds('suspend'),
      terminate: state('terminate'),
      terminateTimeoutInSeconds: seconds('terminate'),
    },
  };
}
