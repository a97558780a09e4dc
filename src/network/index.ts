export * from './egress';
export * from './ingress';
export * from './microvm-network';
export * from './endpoint-policy';
