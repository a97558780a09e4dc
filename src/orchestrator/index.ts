export * from './idle-policy';
export * from './microvm-orchestrator';
