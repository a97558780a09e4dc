import { Duration, Token } from 'aws-cdk-lib';
import { IdlePolicy } from '../../src/orchestrator';

describe('IdlePolicy.suspendAfter', () => {
  test('renders all three service fields with the defaults', () => {
    // WHEN
    const config = IdlePolicy.suspendAfter(Duration.minutes(15))._render();

    // THEN
    expect(config).toEqual({ maxIdleDurationSeconds: 900, suspendedDurationSeconds: 3600, autoResumeEnabled: true });
  });

  test('renders the given terminateAfter and autoResume', () => {
    // WHEN
    const config = IdlePolicy.suspendAfter(Duration.seconds(60), { terminateAfter: Duration.seconds(0), autoResume: false })._render();

    // THEN
    expect(config).toEqual({ maxIdleDurationSeconds: 60, suspendedDurationSeconds: 0, autoResumeEnabled: false });
  });

  test('accepts the 8 hour upper bound', () => {
    expect(IdlePolicy.suspendAfter(Duration.hours(8))._render()?.maxIdleDurationSeconds).toBe(28_800);
  });

  test('fails if idle is under 60 seconds', () => {
    expect(() => IdlePolicy.suspendAfter(Duration.seconds(59)))
      .toThrow(/idlePolicy.suspendAfter must be between 60 seconds and 8 hours, got "59 seconds"/);
  });

  test('fails if idle is over 8 hours', () => {
    expect(() => IdlePolicy.suspendAfter(Duration.seconds(28_801))).toThrow(/idlePolicy.suspendAfter must be between 60 seconds and 8 hours/);
  });

  test('fails if idle is not whole seconds', () => {
    expect(() => IdlePolicy.suspendAfter(Duration.millis(60_500)))
      .toThrow(/idlePolicy.suspendAfter must be a non-negative whole number of seconds/);
  });

  test('fails if terminateAfter is not whole seconds', () => {
    expect(() => IdlePolicy.suspendAfter(Duration.minutes(5), { terminateAfter: Duration.millis(1500) }))
      .toThrow(/idlePolicy.terminateAfter must be a non-negative whole number of seconds/);
  });

  test('skips validation for tokens', () => {
    // GIVEN
    const idle = Duration.seconds(Token.asNumber({ Ref: 'Idle' }));
    const terminate = Duration.seconds(Token.asNumber({ Ref: 'Terminate' }));

    // WHEN
    const config = IdlePolicy.suspendAfter(idle, { terminateAfter: terminate })._render();

    // THEN
    expect(Token.isUnresolved(config?.maxIdleDurationSeconds)).toBe(true);
    expect(Token.isUnresolved(config?.suspendedDurationSeconds)).toBe(true);
  });
});

describe('IdlePolicy.none', () => {
  test('renders nothing, so the block is omitted', () => {
    expect(IdlePolicy.none()._render()).toBeUndefined();
  });
});
