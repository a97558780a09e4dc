import { CfnResource } from 'aws-cdk-lib';
import { NagMessageLevel, NagRuleCompliance, NagRuleResult } from 'cdk-nag';
import { isMicrovmImage } from '../private/microvm';
import { MicrovmRule } from '../private/rule';
import { listCandidates, render, stringCandidates } from '../private/template';

/**
 * An image with `AdditionalOsCapabilities: [ALL]`.
 */
export const AllOsCapabilities: MicrovmRule = {
  id: 'AllOsCapabilities',
  level: NagMessageLevel.WARN,
  info: 'The MicroVM image grants all additional OS capabilities (AdditionalOsCapabilities ALL).',
  explanation: 'ALL gives processes in the VM mounts, FUSE, network namespaces, eBPF and nested containers. '
    + 'The VM boundary still holds, but code inside can do far more (e.g. raw networking, tampering with its own '
    + 'monitoring). Leave AdditionalOsCapabilities empty unless the workload needs them, and acknowledge with a reason.',
  check: (node: CfnResource): NagRuleResult => {
    if (!isMicrovmImage(node)) return NagRuleCompliance.NOT_APPLICABLE;
    const image = render(node);
    if (!image) return NagRuleCompliance.NOT_APPLICABLE;
    const all = listCandidates(node, image.properties.AdditionalOsCapabilities)
      .some((entries) => entries.some((e) => stringCandidates(node, e).some((c) => c.toUpperCase() === 'ALL')));
    return all ? NagRuleCompliance.NON_COMPLIANT : NagRuleCompliance.COMPLIANT;
  },
};
