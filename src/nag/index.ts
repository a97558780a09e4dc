export * from './microvm-checks';
