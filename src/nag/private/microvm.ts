import { CfnResource, aws_lambda as lambda } from 'aws-cdk-lib';
import { UNKNOWN, isObject, listCandidates, referenceTarget, referencedResource, render, resourcesOfType, stringCandidates } from './template';
import { RUN_CONFIGURATION_METADATA_KEY } from '../../shared/metadata';

/**
 * What the rules need to know about MicroVM resources, independent of this library's L2s.
 */

const MICROVM_IMAGE_TYPE = 'AWS::Lambda::MicrovmImage';
const NETWORK_CONNECTOR_TYPE = 'AWS::Lambda::NetworkConnector';

/**
 * True for `CfnMicrovmImage`, and for a plain `CfnResource` of that type (hand-written or imported templates
 * produce those too).
 */
export function isMicrovmImage(node: CfnResource): boolean {
  return node instanceof lambda.CfnMicrovmImage || node.cfnResourceType === MICROVM_IMAGE_TYPE;
}

/** True for `CfnNetworkConnector` (or a plain `CfnResource` of that type). */
export function isNetworkConnector(node: CfnResource): boolean {
  return node instanceof lambda.CfnNetworkConnector || node.cfnResourceType === NETWORK_CONNECTOR_TYPE;
}

/**
 * The run configuration an orchestrator recorded in the resource's CloudFormation Metadata (rendered, so an
 * `addOverride('Metadata...')` is seen), or `undefined` when the resource carries none.
 */
export function runConfiguration(node: CfnResource): Record<string, unknown> | undefined {
  const value = render(node)?.metadata[RUN_CONFIGURATION_METADATA_KEY];
  return isObject(value) ? value : undefined;
}

/** How one egress connector entry reaches out. */
export enum EgressKind {
  /** the AWS-managed INTERNET_EGRESS connector. */
  INTERNET = 'INTERNET',
  /** a customer VPC egress connector. */
  VPC = 'VPC',
  /** another AWS-managed connector (an ingress one): not a VPC egress connector. */
  MANAGED = 'MANAGED',
  /** cannot be known at synth time (imported value, parameter without default, ...). */
  UNDETERMINED = 'UNDETERMINED',
}

const INTERNET_EGRESS = /(?:^|[:/\u0000])INTERNET_EGRESS$/i;
// INTERNET_EGRESS is the only AWS-managed egress connector, so a managed connector whose name only
// CloudFormation knows is taken to be it.
const MANAGED_UNKNOWN_NAME = /aws-network-connector:[^:]*\u0000[^:]*$/;
const MANAGED_CONNECTOR = /aws-network-connector:[A-Za-z_]+$/;
const CUSTOMER_CONNECTOR = /:network-connector:(?!aws-network-connector)[^:]+(?::\d+)?$/;

/** Classifies one entry of an `EgressNetworkConnectors` list. */
export function classifyEgress(node: CfnResource, value: unknown): EgressKind {
  const candidates = stringCandidates(node, value);
  if (candidates.some((c) => INTERNET_EGRESS.test(c) || MANAGED_UNKNOWN_NAME.test(c))) return EgressKind.INTERNET;
  const target = referencedResource(node, value);
  if (target && isNetworkConnector(target)) return EgressKind.VPC;
  if (candidates.length > 0 && candidates.every((c) => !c.includes(UNKNOWN) && MANAGED_CONNECTOR.test(c))) {
    return EgressKind.MANAGED;
  }
  if (candidates.every((c) => CUSTOMER_CONNECTOR.test(c))) return EgressKind.VPC;
  return EgressKind.UNDETERMINED;
}

/**
 * Why an egress connector list lets a MicroVM reach the internet, or `undefined` when it does not. An absent or
 * empty list means the service default: the image's connectors, normally INTERNET_EGRESS. Lists that cannot be
 * known at synth time get the benefit of the doubt.
 */
export function internetEgress(node: CfnResource, list: unknown): string | undefined {
  if (list === undefined || list === null) return 'no egress connector (the service default is INTERNET_EGRESS)';
  for (const entries of listCandidates(node, list)) {
    const kinds = entries.map((entry) => classifyEgress(node, entry));
    if (kinds.includes(EgressKind.INTERNET)) return 'the INTERNET_EGRESS connector';
    if (!kinds.includes(EgressKind.VPC) && !kinds.includes(EgressKind.UNDETERMINED)) {
      return 'no VPC egress connector (the service default is INTERNET_EGRESS)';
    }
  }
  return undefined;
}

/** The number a value resolves to, if it is one (numbers in metadata or properties may arrive as strings). */
export function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim())) return Number(value);
  return undefined;
}

/** The array a value resolves to, or an empty one. */
export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** The `VpcEgressConfiguration` of a network connector that serves MicroVMs, or `undefined`. */
export function microvmVpcEgress(node: CfnResource): Record<string, unknown> | undefined {
  if (!isNetworkConnector(node)) return undefined;
  const configuration = render(node)?.properties.Configuration;
  const vpc = isObject(configuration) ? configuration.VpcEgressConfiguration : undefined;
  return isObject(vpc) && forMicrovms(node, vpc.AssociatedComputeResourceTypes) ? vpc : undefined;
}

function forMicrovms(node: CfnResource, types: unknown): boolean {
  const lists = listCandidates(node, types);
  // a list only CloudFormation knows may name MicroVm: check it.
  if (lists.length === 0) return true;
  return lists.some((list) => list.some((t) => stringCandidates(node, t).some((c) => c === UNKNOWN || c.toLowerCase() === 'microvm')));
}

/**
 * What identifies a VPC in a template: `ref:<logical id>` for a `Ref`/`Fn::GetAtt` to a resource of the stack, or
 * `id:<vpc-...>` for a literal id; `undefined` when only CloudFormation knows it.
 */
export function vpcIdentity(node: CfnResource, value: unknown): string | undefined {
  const target = referenceTarget(value);
  if (target) return `ref:${target}`;
  const literal = stringCandidates(node, value);
  return literal.length === 1 && !literal[0].includes(UNKNOWN) ? `id:${literal[0]}` : undefined;
}

/**
 * The VPCs the egress connector `node` (a MicroVM VPC egress connector) puts its interfaces in, as
 * {@link vpcIdentity} values: read from its subnets and security groups that are resources of the stack.
 */
export function connectorVpcs(node: CfnResource, vpcEgress: Record<string, unknown>): Set<string> {
  const vpcs = new Set<string>();
  for (const list of [vpcEgress.SubnetIds, vpcEgress.SecurityGroupIds]) {
    for (const entry of listCandidates(node, list).flat()) {
      const resource = referencedResource(node, entry);
      const vpc = resource ? render(resource)?.properties.VpcId : undefined;
      const identity = vpc === undefined ? undefined : vpcIdentity(resource!, vpc);
      if (identity) vpcs.add(identity);
    }
  }
  return vpcs;
}

/** The VPCs of every MicroVM egress connector in `node`'s stack. */
export function microvmVpcsOfStack(node: CfnResource): Set<string> {
  const vpcs = new Set<string>();
  for (const connector of resourcesOfType(node, NETWORK_CONNECTOR_TYPE)) {
    const vpcEgress = microvmVpcEgress(connector);
    if (vpcEgress) connectorVpcs(connector, vpcEgress).forEach((v) => vpcs.add(v));
  }
  return vpcs;
}
