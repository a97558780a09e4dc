export * from './image';
export * from './network';
export * from './orchestrator';
export * from './nag';
