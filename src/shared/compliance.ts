import { Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** the ids the compliance packs of cdk-nag (NIST 800-53 rev 5, HIPAA, PCI DSS 3.2.1) give the inline-policy rule. */
const INLINE_POLICY_RULES = ['NIST.800.53.R5-IAMNoInlinePolicy', 'HIPAA.Security-IAMNoInlinePolicy', 'PCI.DSS.321-IAMNoInlinePolicy'];

/** The compliance packs' ids for a Lambda function outside a VPC. */
export const LAMBDA_INSIDE_VPC_RULES = ['NIST.800.53.R5-LambdaInsideVPC', 'HIPAA.Security-LambdaInsideVPC', 'PCI.DSS.321-LambdaInsideVPC'];
/** The compliance packs' ids for a Lambda function without reserved concurrency. */
export const LAMBDA_CONCURRENCY_RULES = ['NIST.800.53.R5-LambdaConcurrency', 'HIPAA.Security-LambdaConcurrency'];
/** The packs' ids for a Lambda function without a dead-letter queue. */
export const LAMBDA_DLQ_RULES = ['NIST.800.53.R5-LambdaDLQ', 'HIPAA.Security-LambdaDLQ', 'Serverless-LambdaDLQ'];

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
