export * from './microvm-image-base';
