import { CfnResource } from 'aws-cdk-lib';
import { NagMessageLevel, NagRuleCompliance, NagRuleResult } from 'cdk-nag';
import { asArray, asNumber, isMicrovmImage, runConfiguration } from '../private/microvm';
import { MicrovmRule } from '../private/rule';
import { isObject, referencedResource, render } from '../private/template';

/**
 * A run configuration whose app ports include the lifecycle hooks port: its own `hooksPort`, or the `Hooks.Port`
 * of the image it launches when that image is in the same stack.
 */
export const HooksPortInAppPorts: MicrovmRule = {
  id: 'HooksPortInAppPorts',
  level: NagMessageLevel.WARN,
  info: 'The run configuration mints tokens for the image\'s lifecycle hooks port.',
  explanation: 'The hooks port serves /ready, /run, /suspend, /resume and /terminate, and /run receives the '
    + 'per-session payload (where credentials belong). A token holder who can reach it can replay or spoof '
    + 'lifecycle calls and read what they return. Serve the app and the hooks on different ports and keep the '
    + 'hooks port out of appPorts.',
  check: (node: CfnResource): NagRuleResult => {
    const config = runConfiguration(node);
    if (!config) return NagRuleCompliance.NOT_APPLICABLE;
    const appPorts = asArray(config.appPorts).map(asNumber).filter((p): p is number => p !== undefined);
    const hooksPorts = [asNumber(config.hooksPort)];
    const image = referencedResource(node, config.imageArn);
    if (image && isMicrovmImage(image)) {
      const hooks = render(image)?.properties.Hooks;
      if (isObject(hooks)) hooksPorts.push(asNumber(hooks.Port));
    }
    return hooksPorts.some((p) => p !== undefined && appPorts.includes(p))
      ? NagRuleCompliance.NON_COMPLIANT : NagRuleCompliance.COMPLIANT;
  },
};
