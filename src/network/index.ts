export * from './egress';
export * from './ingress';
export * from './microvm-network';
export * from './microvm-network-props';
export * from './endpoint-policy';
