import { Stack, Token, Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * The Regions where AWS Lambda MicroVMs is available, and the day this list was last checked. The one place to
 * update when the service launches in another Region (the README's list is tested against it).
 *
 * Launch (2026-06-22): us-east-1, us-east-2, us-west-2, eu-west-1, ap-northeast-1. Added 2026-08-19: ap-south-1,
 * ap-southeast-1, ap-southeast-2, eu-central-1, eu-north-1 (announced on AWS What's New; seen through secondary
 * citations only).
 */
export const MICROVM_REGIONS = {
  checked: '2026-12-05',
  regions: [
    'us-east-1', 'us-east-2', 'us-west-2', 'eu-west-1', 'ap-northeast-1',
    'ap-south-1', 'ap-southeast-1', 'ap-southeast-2', 'eu-central-1', 'eu-north-1',
  ],
} as const;

/** The id of the synth-time warning for a Region not in the list; acknowledge it as `annotation::<id>`. */
export const REGION_WARNING_ID = 'cdk-lambda-microvms:regionWithoutMicrovms';

const warned = new WeakSet<Stack>();

/**
 * Warns once per stack whose Region is concrete and not one where the service is known to be available: without it,
 * the first sign is an "unrecognized resource type" at deploy time. Region-agnostic stacks get no warning.
 */
export function warnIfRegionLacksMicrovms(scope: IConstruct): void {
  const stack = Stack.of(scope);
  const region = stack.region;
  if (Token.isUnresolved(region) || warned.has(stack)) return;
  warned.add(stack);
  if ((MICROVM_REGIONS.regions as readonly string[]).includes(region)) return;
  Validations.of(stack).addWarning(REGION_WARNING_ID,
    `Stack ${stack.stackName} deploys to ${region}, where AWS Lambda MicroVMs is not known to be available ` +
    `(checked ${MICROVM_REGIONS.checked}: ${MICROVM_REGIONS.regions.join(', ')}); CloudFormation would reject its MicroVM ` +
    'resources as an unrecognized type. Deploy to one of those Regions, or, if the service has launched in ' +
    `${region} since, acknowledge it: Validations.of(stack).acknowledge({ id: 'annotation::${REGION_WARNING_ID}', reason }).`);
}
