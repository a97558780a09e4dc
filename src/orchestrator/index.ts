export * from './idle-policy';
export * from './microvm-orchestrator';
export * from './session-owner';
