// the local emulator and helpers, for tests and `npm run local`. not exported from src/index.ts: these use
// TypeScript-only types (functions, unions) that jsii cannot carry to other languages.
export * from './emulator';
export * from './dynalite';
export * from './types';
export { DEFAULT_RATE_LIMITS } from './faults';
export { AUTH_TOKEN_KEY } from './microvm-api';
export { DataPlaneApps, DEFAULT_TARGET_PORT, type AppPorts, type AppTarget } from './apps';
export { PROXY_AUTH_HEADER, PROXY_PORT_HEADER } from './data-plane';
export { createSessionsTable } from './sessions-table';
export { LocalEventBus, type EventBusFault, type LocalEventBusOptions, type RecordedEvent } from './event-bus';
