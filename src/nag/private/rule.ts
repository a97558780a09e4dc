import { CfnResource } from 'aws-cdk-lib';
import { NagMessageLevel, NagRuleResult } from 'cdk-nag';

/**
 * One MicrovmChecks rule: its id suffix (the finding id is `MicrovmChecks-<id>`), level, the one-line `info`
 * shown with each finding, the `explanation` (risk and fix) shown in verbose mode, and the check itself.
 */
export interface MicrovmRule {
  readonly id: string;
  readonly level: NagMessageLevel;
  readonly info: string;
  readonly explanation: string;
  readonly check: (node: CfnResource) => NagRuleResult;
}
