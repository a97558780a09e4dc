export * from './idle-policy';
export * from './microvm-orchestrator';
export * from './microvm-orchestrator-props';
export * from './session-owner';
export * from './orchestrator-metrics';
export * from './smoke-test';
export * from './shell-access';
export * from './lifecycle-events';
