import { CfnResource } from 'aws-cdk-lib';
import { NagMessageLevel, NagRuleCompliance, NagRuleResult } from 'cdk-nag';
import { internetEgress, isMicrovmImage, runConfiguration } from '../private/microvm';
import { MicrovmRule } from '../private/rule';
import { render } from '../private/template';

/**
 * An image, or an orchestrator's run configuration, whose MicroVM egress reaches the internet: the managed
 * INTERNET_EGRESS connector in any form (literal, `Fn::Join`/`Fn::Sub` with pseudo parameters, any partition,
 * a parameter that defaults to or allows it, either branch of an `Fn::If`), no VPC egress connector at all, or
 * a run configuration whose egress mode is INTERNET.
 */
export const EgressInternet: MicrovmRule = {
  id: 'EgressInternet',
  level: NagMessageLevel.ERROR,
  info: 'The MicroVM egress reaches the internet (the INTERNET_EGRESS connector, or no VPC egress connector).',
  explanation: 'Code in a MicroVM (often untrusted: agents, tenants, user code) can then send anything anywhere. '
    + 'An image\'s egress connectors are also the default run-time egress of every VM launched from it without '
    + 'an explicit connector. Use a VPC egress connector (MicrovmNetwork: isolated, or a domain allowlist); if the '
    + 'internet is intended (e.g. a trusted image build that pulls from registries), acknowledge with a reason.',
  check: (node: CfnResource): NagRuleResult => {
    if (isMicrovmImage(node)) {
      const image = render(node);
      if (!image) return NagRuleCompliance.NOT_APPLICABLE;
      return internetEgress(node, image.properties.EgressNetworkConnectors)
        ? NagRuleCompliance.NON_COMPLIANT : NagRuleCompliance.COMPLIANT;
    }
    const config = runConfiguration(node);
    if (!config) return NagRuleCompliance.NOT_APPLICABLE;
    if (String(config.egressMode).toUpperCase() === 'INTERNET') return NagRuleCompliance.NON_COMPLIANT;
    return internetEgress(node, config.egressNetworkConnectors)
      ? NagRuleCompliance.NON_COMPLIANT : NagRuleCompliance.COMPLIANT;
  },
};
