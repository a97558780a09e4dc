import { CfnResource } from 'aws-cdk-lib';
import { NagMessageLevel, NagRuleCompliance, NagRuleResult } from 'cdk-nag';
import { asNumber, runConfiguration } from '../private/microvm';
import { MicrovmRule } from '../private/rule';
import { isObject } from '../private/template';

/**
 * A run configuration without an idle policy or without a maximum duration.
 */
export const NoLifetimeLimit: MicrovmRule = {
  id: 'NoLifetimeLimit',
  level: NagMessageLevel.WARN,
  info: 'The run configuration launches MicroVMs without an idle policy or without a maximum duration.',
  explanation: 'Without an idle policy a forgotten VM keeps running (and billing) until its maximum duration; '
    + 'without a maximum duration it runs up to the 8-hour service cap. Set an idle policy '
    + '(IdlePolicy.suspendAfter) and maxSessionDuration; outbound-only workers that are never "idle" may use '
    + 'IdlePolicy.none() and acknowledge this finding with a reason.',
  check: (node: CfnResource): NagRuleResult => {
    const config = runConfiguration(node);
    if (!config) return NagRuleCompliance.NOT_APPLICABLE;
    if (!isObject(config.idlePolicy)) return NagRuleCompliance.NON_COMPLIANT;
    const max = asNumber(config.maximumDurationSeconds);
    return max === undefined || max <= 0 ? NagRuleCompliance.NON_COMPLIANT : NagRuleCompliance.COMPLIANT;
  },
};
