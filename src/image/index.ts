export * from './microvm-image-base';
export * from './microvm-image';
export * from './image-code';
export * from './base-image';
export * from './microvm-memory';
export * from './lifecycle-hooks';
export * from './os-capability';
