import { Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** the ids the compliance packs of cdk-nag (NIST 800-53 rev 5, HIPAA, PCI DSS 3.2.1) give the inline-policy rule. */
const INLINE_POLICY_RULES = ['NIST.800.53.R5-IAMNoInlinePolicy', 'HIPAA.Security-IAMNoInlinePolicy', 'PCI.DSS.321-IAMNoInlinePolicy'];

/** Acknowledges each rule id on one construct (and so on what it contains), with one reason. */
export function acknowledgeAll(scope: IConstruct, ids: string[], reason: string): void {
  for (const id of ids) Validations.of(scope).acknowledge({ id, reason });
}

/**
 * Acknowledges the compliance packs' "no inline policy" finding on a role the library creates: its policy is the
 * least-privilege grant of that one role, to this construct's resources.
 */
export function acknowledgeInlinePolicy(role: IConstruct, purpose: string): void {
  acknowledgeAll(role, INLINE_POLICY_RULES,
    `the policy grants this one role (${purpose}) least-privilege access to this construct's own resources; a ` +
    'managed policy would hold the same statements for the same single role, and invite attaching them elsewhere.');
}
