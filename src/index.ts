export * from './image';
export * from './network';
export * from './orchestrator';
export * from './nag';
export { MicrovmLogging } from './shared/microvm-logging';
export type { MicrovmLogGroupOptions } from './shared/microvm-logging';
