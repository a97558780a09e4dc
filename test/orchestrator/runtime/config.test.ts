import { parseCheckpointConfig } from '../../../src/orchestrator/runtime/checkpoint-config';
import { ConfigError, parseConfig } from '../../../src/orchestrator/runtime/config';
import { ENV } from '../../../src/shared/contract';

const IMAGE = 'arn:aws:lambda:us-east-1:123456789012:microvm-image:sandbox';
const BASE = { [ENV.TABLE_NAME]: 'sessions', [ENV.IMAGE_ARN]: IMAGE };

describe('parseConfig', () => {
  test('applies the documented defaults', () => {
    const config = parseConfig(BASE);
    expect(config).toMatchObject({
      tableName: 'sessions',
      imageArn: IMAGE,
      appPorts: [8080],
      tokenTtlSeconds: 300,
      maxDurationSeconds: 3600,
      egressConnectors: [],
      ingressConnectors: [],
      metricsNamespace: 'LambdaMicrovms',
    });
    expect(config.idlePolicy).toBeUndefined();
    expect(config.imageVersion).toBeUndefined();
    expect(config.maxSessions).toBeUndefined();
  });

  test('reads every variable', () => {
    const config = parseConfig({
      ...BASE,
      [ENV.IMAGE_VERSION]: '3',
      [ENV.EGRESS_CONNECTORS]: '["arn:aws:lambda:us-east-1:123456789012:network-connector:closed"]',
      [ENV.INGRESS_CONNECTORS]: '["arn:aws:lambda:us-east-1:aws:network-connector:aws-network-connector:HTTP_INGRESS"]',
      [ENV.EXECUTION_ROLE_ARN]: 'arn:aws:iam::123456789012:role/vm',
      [ENV.RUNTIME_LOG_GROUP]: '/vm/logs',
      [ENV.APP_PORTS]: '[8080, 3000]',
      [ENV.HOOKS_PORT]: '9000',
      [ENV.TOKEN_TTL_SECONDS]: '900',
      [ENV.IDLE_POLICY]: '{"maxIdleDurationSeconds":300,"suspendedDurationSeconds":0,"autoResumeEnabled":false}',
      [ENV.MAX_DURATION_SECONDS]: '28800',
      [ENV.MAX_SESSIONS]: '100',
      [ENV.MAX_SESSIONS_PER_OWNER]: '3',
      [ENV.METRICS_NAMESPACE]: 'Custom',
    });
    expect(config).toMatchObject({
      imageVersion: '3',
      appPorts: [8080, 3000],
      hooksPort: 9000,
      tokenTtlSeconds: 900,
      idlePolicy: { maxIdleDurationSeconds: 300, suspendedDurationSeconds: 0, autoResumeEnabled: false },
      maxDurationSeconds: 28800,
      maxSessions: 100,
      maxSessionsPerOwner: 3,
      metricsNamespace: 'Custom',
      executionRoleArn: 'arn:aws:iam::123456789012:role/vm',
      runtimeLogGroup: '/vm/logs',
    });
  });

  const failures: Array<[string, Record<string, string>, RegExp]> = [
    ['the table name is missing', { [ENV.TABLE_NAME]: '' }, /SESSIONS_TABLE_NAME must be set/],
    ['the image ARN is the slash form', { [ENV.IMAGE_ARN]: 'arn:aws:lambda:us-east-1:123456789012:microvm-image/sandbox' }, /MICROVM_IMAGE_ARN must be a colon-form/],
    ['the hooks port is an app port', { [ENV.APP_PORTS]: '[8080,9000]', [ENV.HOOKS_PORT]: '9000' }, /must not include the hooks port 9000/],
    ['app ports are empty', { [ENV.APP_PORTS]: '[]' }, /MICROVM_APP_PORTS must be a non-empty JSON array/],
    ['app ports are not JSON', { [ENV.APP_PORTS]: '8080' }, /MICROVM_APP_PORTS must be a non-empty JSON array/],
    ['the token TTL passes the service maximum', { [ENV.TOKEN_TTL_SECONDS]: '3601' }, /MICROVM_TOKEN_TTL_SECONDS must be a whole number from 60 to 3600/],
    ['the max duration passes 8 hours', { [ENV.MAX_DURATION_SECONDS]: '28801' }, /MICROVM_MAX_DURATION_SECONDS/],
    ['the idle policy misses a field', { [ENV.IDLE_POLICY]: '{"maxIdleDurationSeconds":300}' }, /MICROVM_IDLE_POLICY must be empty/],
    ['the idle policy is under 60 s', { [ENV.IDLE_POLICY]: '{"maxIdleDurationSeconds":59,"suspendedDurationSeconds":0,"autoResumeEnabled":true}' }, /MICROVM_IDLE_POLICY/],
    ['a connector is not an ARN', { [ENV.EGRESS_CONNECTORS]: '["closed"]' }, /MICROVM_EGRESS_CONNECTORS must be a JSON array/],
    ['the execution role is not a role ARN', { [ENV.EXECUTION_ROLE_ARN]: 'vm-role' }, /MICROVM_EXECUTION_ROLE_ARN/],
    ['maxSessions is zero', { [ENV.MAX_SESSIONS]: '0' }, /MICROVM_MAX_SESSIONS must be a whole number/],
  ];

  test.each(failures)('fails if %s', (_name, env, message) => {
    expect(() => parseConfig({ ...BASE, ...env })).toThrow(ConfigError);
    expect(() => parseConfig({ ...BASE, ...env })).toThrow(message);
  });
});

describe('parseCheckpointConfig', () => {
  const CHECKPOINTS = { [ENV.CHECKPOINT_BUCKET]: 'bucket', [ENV.CHECKPOINT_PORT]: '8181' };

  test('is off without a bucket, and has its defaults with one', () => {
    expect(parseCheckpointConfig({})).toBeUndefined();
    expect(parseCheckpointConfig(CHECKPOINTS)).toEqual({
      bucket: 'bucket', port: 8181, path: '/checkpoint', beforeEndSeconds: 900, workerFunction: undefined, onSuspend: false,
    });
  });

  test('onSuspend is "true" or "false", nothing else', () => {
    expect(parseCheckpointConfig({ ...CHECKPOINTS, [ENV.CHECKPOINT_ON_SUSPEND]: 'true' })?.onSuspend).toBe(true);
    expect(parseCheckpointConfig({ ...CHECKPOINTS, [ENV.CHECKPOINT_ON_SUSPEND]: 'false' })?.onSuspend).toBe(false);
    expect(() => parseCheckpointConfig({ ...CHECKPOINTS, [ENV.CHECKPOINT_ON_SUSPEND]: 'yes' })).toThrow(new ConfigError(
      'MICROVM_CHECKPOINT_ON_SUSPEND must be "true" or "false", got "yes". Fix the MicrovmOrchestrator props or the function\'s environment.'));
  });
});
