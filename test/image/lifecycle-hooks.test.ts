import { Duration, Lazy } from 'aws-cdk-lib';
import { imageProps, newStack, SANDBOX } from './util';
import { Hook, ImageCode, LifecycleHooks, MicrovmImage } from '../../src/image';

function hooksOf(hooks: LifecycleHooks): any {
  const stack = newStack();
  new MicrovmImage(stack, 'Image', { code: ImageCode.fromDirectory(SANDBOX), hooks });
  return imageProps(stack).Hooks;
}

function fails(hooks: LifecycleHooks): () => void {
  return () => new MicrovmImage(newStack(), 'Image', { code: ImageCode.fromDirectory(SANDBOX), hooks });
}

describe('hooks rendering', () => {
  test('no hooks render an empty Hooks block', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new MicrovmImage(stack, 'Image', { code: ImageCode.fromDirectory(SANDBOX) });
    // THEN
    expect(imageProps(stack).Hooks).toEqual({});
  });

  test('every hook state is explicit and enabled hooks carry their default timeouts', () => {
    // WHEN
    const hooks = hooksOf({ port: 9000, ready: Hook.enabled(), run: Hook.enabled() });
    // THEN
    expect(hooks).toEqual({
      Port: 9000,
      MicrovmImageHooks: { Ready: 'ENABLED', ReadyTimeoutInSeconds: 300, Validate: 'DISABLED' },
      MicrovmHooks: { Run: 'ENABLED', RunTimeoutInSeconds: 10, Resume: 'DISABLED', Suspend: 'DISABLED', Terminate: 'DISABLED' },
    });
  });

  test('all six hooks with explicit timeouts', () => {
    // WHEN
    const hooks = hooksOf({
      port: 8081,
      ready: Hook.enabled(Duration.hours(1)),
      validate: Hook.enabled(Duration.seconds(1)),
      run: Hook.enabled(Duration.seconds(60)),
      resume: Hook.enabled(Duration.seconds(2)),
      suspend: Hook.enabled(Duration.minutes(1)),
      terminate: Hook.enabled(Duration.seconds(5)),
    });
    // THEN
    expect(hooks).toEqual({
      Port: 8081,
      MicrovmImageHooks: { Ready: 'ENABLED', ReadyTimeoutInSeconds: 3600, Validate: 'ENABLED', ValidateTimeoutInSeconds: 1 },
      MicrovmHooks: {
        Run: 'ENABLED',
        RunTimeoutInSeconds: 60,
        Resume: 'ENABLED',
        ResumeTimeoutInSeconds: 2,
        Suspend: 'ENABLED',
        SuspendTimeoutInSeconds: 60,
        Terminate: 'ENABLED',
        TerminateTimeoutInSeconds: 5,
      },
    });
  });

  test('Hook.disabled() is the same as leaving a hook out', () => {
    // WHEN
    const hooks = hooksOf({ port: 9000, ready: Hook.enabled(), validate: Hook.disabled() });
    // THEN
    expect(hooks.MicrovmImageHooks).toEqual({ Ready: 'ENABLED', ReadyTimeoutInSeconds: 300, Validate: 'DISABLED' });
  });

  test('a validate hook alone is allowed (only runtime hooks need ready)', () => {
    // WHEN
    const hooks = hooksOf({ port: 9000, validate: Hook.enabled() });
    // THEN
    expect(hooks.MicrovmImageHooks.Validate).toBe('ENABLED');
  });

  test('token port and timeouts skip validation', () => {
    // WHEN
    const hooks = hooksOf({
      port: Lazy.number({ produce: () => 70000 }),
      ready: Hook.enabled(Duration.seconds(Lazy.number({ produce: () => 5000 }))),
    });
    // THEN
    expect(hooks.Port).toBe(70000);
    expect(hooks.MicrovmImageHooks.ReadyTimeoutInSeconds).toBe(5000);
  });
});

describe('hooks validation', () => {
  test.each([0, 65536, 80.5, -1])('fails if the port is %p', (port) => {
    expect(fails({ port, ready: Hook.enabled() })).toThrow(new RegExp(`hooks.port must be an integer from 1 to 65535, got ${port}\\.`));
  });

  test('fails if a port is given with no hook enabled', () => {
    expect(fails({ port: 9000 })).toThrow(/hooks must enable at least one hook \(the service rejects a hooks port with no hook\), got \{"port":9000\}/);
    expect(fails({ port: 9000, ready: Hook.disabled() })).toThrow(/enable at least one hook/);
  });

  test.each(['run', 'resume', 'suspend', 'terminate'])('fails if %s is enabled without ready', (name) => {
    expect(fails({ port: 9000, [name]: Hook.enabled() } as LifecycleHooks))
      .toThrow(new RegExp(`hooks.ready must be enabled when a runtime hook is \\(${name}\\), got "disabled"\\. Serve /aws/lambda-microvms/runtime/v1/ready`));
  });

  test.each([
    ['ready', Duration.seconds(3601), /hooks.ready.timeout must be from 1 second to 1 hour/],
    ['validate', Duration.millis(500), /hooks.validate.timeout must be a whole number of seconds, got "500 millis"/],
    ['run', Duration.seconds(61), /hooks.run.timeout must be from 1 second to 1 minute, got "1 minute 1 second"/],
    ['resume', Duration.seconds(0), /hooks.resume.timeout must be from 1 second to 1 minute/],
    ['suspend', Duration.minutes(2), /hooks.suspend.timeout must be from 1 second to 1 minute/],
    ['terminate', Duration.millis(1500), /hooks.terminate.timeout must be a whole number of seconds/],
  ])('fails if the %s timeout is %s', (name, timeout, message) => {
    expect(fails({ port: 9000, ready: Hook.enabled(), [name]: Hook.enabled(timeout as Duration) } as LifecycleHooks)).toThrow(message as RegExp);
  });
});
