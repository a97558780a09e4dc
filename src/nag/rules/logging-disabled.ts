import { CfnResource } from 'aws-cdk-lib';
import { NagMessageLevel, NagRuleCompliance, NagRuleResult } from 'cdk-nag';
import { isMicrovmImage } from '../private/microvm';
import { MicrovmRule } from '../private/rule';
import { isObject, render } from '../private/template';

/**
 * An image whose logging is disabled, or not pinned to a log group (`Logging.CloudWatch.LogGroup`).
 */
export const LoggingDisabled: MicrovmRule = {
  id: 'LoggingDisabled',
  level: NagMessageLevel.WARN,
  info: 'The MicroVM image has logging disabled or no pinned CloudWatch log group.',
  explanation: 'Image logging covers the build and the MicroVMs\' runtime logs: without it a failed build or a '
    + 'misbehaving VM leaves no trace. An unpinned log group is created by the service with no retention and no '
    + 'encryption you control. Set Logging.CloudWatch.LogGroup to a log group you own with a retention period.',
  check: (node: CfnResource): NagRuleResult => {
    if (!isMicrovmImage(node)) return NagRuleCompliance.NOT_APPLICABLE;
    const image = render(node);
    if (!image) return NagRuleCompliance.NOT_APPLICABLE;
    const logging = image.properties.Logging;
    if (!isObject(logging)) return NagRuleCompliance.NON_COMPLIANT;
    if (logging.Disabled === true || logging.Disabled === 'true') return NagRuleCompliance.NON_COMPLIANT;
    const cloudWatch = logging.CloudWatch;
    return isObject(cloudWatch) && cloudWatch.LogGroup !== undefined && cloudWatch.LogGroup !== ''
      ? NagRuleCompliance.COMPLIANT : NagRuleCompliance.NON_COMPLIANT;
  },
};
