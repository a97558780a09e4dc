import { CfnResource, aws_iam as iam } from 'aws-cdk-lib';
import { NagMessageLevel, NagRuleCompliance, NagRuleResult } from 'cdk-nag';
import { runConfiguration } from '../private/microvm';
import { MicrovmRule } from '../private/rule';
import {
  UNKNOWN, findElement, isObject, referenceTarget, referencedIds, render, resourcesOfType, stringCandidates,
} from '../private/template';

const ROLE_TYPE = iam.CfnRole.CFN_RESOURCE_TYPE_NAME;
const POLICY_TYPES = [iam.CfnPolicy.CFN_RESOURCE_TYPE_NAME, iam.CfnManagedPolicy.CFN_RESOURCE_TYPE_NAME];
// AWS managed policies that are wildcards by design.
const BROAD_MANAGED_POLICIES = /:iam::aws:policy\/(AdministratorAccess|PowerUserAccess|ReadOnlyAccess)$/;
// actions that have no resource type, so `Resource: "*"` is the only way to grant them.
const RESOURCELESS_ACTIONS = new Set([
  'xray:puttracesegments', 'xray:puttelemetryrecords', 'xray:getsamplingrules', 'xray:getsamplingtargets',
  'cloudwatch:putmetricdata', 'sts:getcalleridentity',
]);

/**
 * The VM execution role of a run configuration with wildcard permissions: an `Allow` statement with `*` (or
 * `service:*`) actions or `NotAction`, or with `*` resources (or `NotResource`) for actions other than list and
 * describe calls and the few that have no resource type. The role is the one `executionRoleArn` points at, plus
 * any role trusted by `lambda.amazonaws.com` that the run configuration references; its inline policies,
 * `AWS::IAM::Policy` / `AWS::IAM::ManagedPolicy` resources attached to it in the same stack, and broad AWS managed
 * policies are checked.
 */
export const ExecutionRoleWildcard: MicrovmRule = {
  id: 'ExecutionRoleWildcard',
  level: NagMessageLevel.WARN,
  info: 'The MicroVM execution role grants wildcard actions or wildcard resources.',
  explanation: 'The execution role\'s credentials are served to the guest over IMDS, so every process in every '
    + 'MicroVM of the image (including untrusted code) can use them. A wildcard turns one compromised VM into '
    + 'access to the whole account. Grant the role only what the VM needs (logs on its log group, specific '
    + 'ARNs) and move broader work behind an API the VM calls.',
  check: (node: CfnResource): NagRuleResult => {
    const config = runConfiguration(node);
    if (!config) return NagRuleCompliance.NOT_APPLICABLE;
    const roles = executionRoles(node, config);
    return roles.some((role) => hasWildcard(role)) ? NagRuleCompliance.NON_COMPLIANT : NagRuleCompliance.COMPLIANT;
  },
};

function executionRoles(node: CfnResource, config: Record<string, unknown>): CfnResource[] {
  const roles = new Map<string, CfnResource>();
  const add = (id: string, requireLambdaTrust: boolean) => {
    const element = findElement(node, id);
    if (element instanceof CfnResource && element.cfnResourceType === ROLE_TYPE && (!requireLambdaTrust || trustsLambda(element))) {
      roles.set(id, element);
    }
  };
  referencedIds(config.executionRoleArn).forEach((id) => add(id, false));
  referencedIds(config).forEach((id) => add(id, true));
  // a literal role ARN names a role of this stack when the names match.
  for (const arn of stringCandidates(node, config.executionRoleArn)) {
    const name = /:role\/(?:.*\/)?([^/]+)$/.exec(arn)?.[1];
    if (!name || name.includes(UNKNOWN)) continue;
    for (const role of resourcesOfType(node, ROLE_TYPE)) {
      if (render(role)?.properties.RoleName === name) roles.set(role.node.path, role);
    }
  }
  return [...roles.values()];
}

function trustsLambda(role: CfnResource): boolean {
  const document = render(role)?.properties.AssumeRolePolicyDocument;
  return statements(document).some((s) => {
    const principal = s.Principal;
    const services = isObject(principal) ? [principal.Service].flat() : [];
    return services.some((service) => stringCandidates(role, service).some((c) => /^lambda\.(amazonaws\.com|\u0000)/.test(c)));
  });
}

function hasWildcard(role: CfnResource): boolean {
  const roleId = role.stack.resolve(role.logicalId);
  const properties = render(role)?.properties;
  if (!properties) return false;
  const documents: unknown[] = [];
  for (const policy of [properties.Policies].flat()) {
    if (isObject(policy)) documents.push(policy.PolicyDocument);
  }
  for (const type of POLICY_TYPES) {
    for (const policy of resourcesOfType(role, type)) {
      const policyProperties = render(policy)?.properties ?? {};
      const attached = [policyProperties.Roles].flat().some((r) => referenceTarget(r) === roleId || r === properties.RoleName);
      const managedId = policy.stack.resolve(policy.logicalId);
      const referenced = [properties.ManagedPolicyArns].flat().some((arn) => referenceTarget(arn) === managedId);
      if (attached || referenced) documents.push(policyProperties.PolicyDocument);
    }
  }
  const broadManaged = [properties.ManagedPolicyArns].flat()
    .some((arn) => arn !== undefined && stringCandidates(role, arn).some((c) => BROAD_MANAGED_POLICIES.test(c)));
  return broadManaged || documents.some((document) => statements(document).some((s) => isWildcardStatement(role, s)));
}

function statements(document: unknown): Array<Record<string, unknown>> {
  if (!isObject(document)) return [];
  return [document.Statement].flat().filter(isObject);
}

function isWildcardStatement(node: CfnResource, statement: Record<string, unknown>): boolean {
  if (statement.Effect !== 'Allow') return false;
  if (statement.NotAction !== undefined) return true;
  const actions = strings(node, statement.Action).map((a) => a.toLowerCase());
  if (actions.some((a) => a === '*' || /^[a-z0-9-]+:\*$/.test(a))) return true;
  const everyResource = statement.NotResource !== undefined || strings(node, statement.Resource).includes('*');
  return everyResource && actions.some((a) => !isResourceless(a));
}

function isResourceless(action: string): boolean {
  const name = action.split(':')[1] ?? '';
  return name.startsWith('list') || name.startsWith('describe') || RESOURCELESS_ACTIONS.has(action);
}

function strings(node: CfnResource, value: unknown): string[] {
  return [value].flat().filter((v) => v !== undefined).flatMap((v) => stringCandidates(node, v));
}
