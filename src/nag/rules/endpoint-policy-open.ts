import { CfnResource, aws_ec2 as ec2 } from 'aws-cdk-lib';
import { NagMessageLevel, NagRuleCompliance, NagRuleResult } from 'cdk-nag';
import { microvmVpcsOfStack, vpcIdentity } from '../private/microvm';
import { MicrovmRule } from '../private/rule';
import { isObject, render } from '../private/template';

/**
 * A VPC endpoint (gateway or interface) in the VPC of a MicroVM egress connector of the same stack whose policy
 * admits everything: no `PolicyDocument` (the service default: any principal, any account, any resource), or an
 * `Allow` statement for every principal on every resource (`Resource: "*"` or `NotResource`) with no `Condition`,
 * whatever its actions. A policy CloudFormation alone can compute is not judged.
 */
export const EndpointPolicyOpen: MicrovmRule = {
  id: 'EndpointPolicyOpen',
  level: NagMessageLevel.ERROR,
  info: 'A VPC endpoint that MicroVMs can reach admits any principal to any resource of any account.',
  explanation: 'An endpoint without a policy (or with an unconditioned "*" statement) lets code in a MicroVM use '
    + 'credentials it brings from another account, so an "isolated" sandbox can upload data to an S3 bucket, a queue '
    + 'or a secret its author owns. Give the endpoint a policy: only this account\'s resources (aws:ResourceAccount), '
    + 'only this account\'s callers (aws:PrincipalAccount), or the resources the VMs need (MicrovmNetwork does by '
    + 'default; addS3Endpoint({ buckets })). Acknowledge with a reason when any resource is intended.',
  check: (node: CfnResource): NagRuleResult => {
    if (node.cfnResourceType !== ec2.CfnVPCEndpoint.CFN_RESOURCE_TYPE_NAME) return NagRuleCompliance.NOT_APPLICABLE;
    const properties = render(node)?.properties;
    const vpc = properties ? vpcIdentity(node, properties.VpcId) : undefined;
    if (!properties || !vpc || !microvmVpcsOfStack(node).has(vpc)) return NagRuleCompliance.NOT_APPLICABLE;
    const document = readDocument(properties.PolicyDocument);
    if (document === undefined) return NagRuleCompliance.NON_COMPLIANT;
    if (document === UNREADABLE) return NagRuleCompliance.NOT_APPLICABLE;
    return [document.Statement].flat().some(isOpenStatement) ? NagRuleCompliance.NON_COMPLIANT : NagRuleCompliance.COMPLIANT;
  },
};

const UNREADABLE = Symbol('unreadable');

function readDocument(value: unknown): Record<string, unknown> | undefined | typeof UNREADABLE {
  if (value === undefined) return undefined;
  if (typeof value === 'string') {
    try {
      const parsed = JSON.parse(value);
      return isObject(parsed) ? parsed : UNREADABLE;
    } catch {
      return UNREADABLE;
    }
  }
  return isObject(value) && value.Statement !== undefined ? value : UNREADABLE;
}

function isOpenStatement(statement: unknown): boolean {
  if (!isObject(statement) || statement.Effect !== 'Allow') return false;
  if (isObject(statement.Condition) && Object.keys(statement.Condition).length > 0) return false;
  const principal = statement.Principal;
  const everyone = principal === '*' || (isObject(principal) && [principal.AWS].flat().includes('*'));
  const everything = statement.NotResource !== undefined || [statement.Resource].flat().includes('*');
  return everyone && everything;
}
