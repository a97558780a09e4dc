import type { IdlePolicyWire } from './contract';

/**
 * CloudFormation `Metadata` key under which `MicrovmOrchestrator` records the run configuration of the
 * MicroVMs it launches, on its orchestrator function. `MicrovmChecks` and auditors read it from the template.
 */
export const RUN_CONFIGURATION_METADATA_KEY = 'cdk-lambda-microvms:run-configuration';

/**
 * The shape recorded under {@link RUN_CONFIGURATION_METADATA_KEY}. Values may be CloudFormation
 * intrinsics (`{ "Ref": ... }`, `{ "Fn::GetAtt": ... }`) in the synthesized template.
 */
export interface RunConfigurationMetadata {
  /** ARN of the image the orchestrator launches. */
  readonly imageArn: unknown;
  /** Pinned image version, or the image's LatestActiveImageVersion attribute. */
  readonly imageVersion: unknown;
  /** Egress connector ARNs passed on every RunMicrovm (never empty: the orchestrator always passes one). */
  readonly egressNetworkConnectors: unknown[];
  /** What the egress reaches: ISOLATED, DOMAIN_ALLOWLIST, VPC or INTERNET. */
  readonly egressMode: string;
  /** Ingress connector ARNs passed on every RunMicrovm. */
  readonly ingressNetworkConnectors: unknown[];
  /** Ports tokens are minted for. */
  readonly appPorts: number[];
  /** The image's hooks port, when known. */
  readonly hooksPort?: number;
  /** Upper bound of a token's lifetime, in seconds. */
  readonly tokenTtlSeconds: number;
  /** Whether tokens may cover every port (always false for this library's orchestrator). */
  readonly allPortsTokens: boolean;
  /** The idle policy sent to RunMicrovm, absent for `IdlePolicy.none()`. */
  readonly idlePolicy?: IdlePolicyWire;
  /** maximumDurationInSeconds sent to RunMicrovm. */
  readonly maximumDurationSeconds?: number;
  /** ARN of the VM execution role, if any. */
  readonly executionRoleArn?: unknown;
  /** The IAM roles and users that may get shell tokens, when the orchestrator has shell access. */
  readonly shellAllowedPrincipalArns?: unknown[];
}
