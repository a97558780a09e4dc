export * from './egress';
export * from './ingress';
