import { CfnResource } from 'aws-cdk-lib';
import { NagMessageLevel, NagRuleCompliance, NagRuleResult } from 'cdk-nag';
import { runConfiguration } from '../private/microvm';
import { MicrovmRule } from '../private/rule';
import { listCandidates, stringCandidates } from '../private/template';

// the AWS-managed connector in any partition or Region, literal or built with Fn::Join/Fn::Sub.
const SHELL_INGRESS = /(?:^|[:/\u0000])SHELL_INGRESS$/i;

/**
 * A run configuration that launches MicroVMs with the `SHELL_INGRESS` connector, so shell tokens can be minted for
 * them.
 */
export const ShellIngress: MicrovmRule = {
  id: 'ShellIngress',
  level: NagMessageLevel.WARN,
  info: 'The run configuration launches MicroVMs with the SHELL_INGRESS connector (interactive shell access).',
  explanation: 'A shell token gives full interactive access, as the VM\'s user, to everything in the MicroVM: the '
    + 'app\'s memory and files, the run hook payload and the execution role\'s credentials. It bypasses the app\'s '
    + 'own authentication. Launch with SHELL_INGRESS only when someone needs a shell, keep the principals that may '
    + 'mint shell tokens (lambda:CreateMicrovmShellAuthToken) few and their tokens short, and acknowledge this '
    + 'finding with the reason and who may open a shell.',
  check: (node: CfnResource): NagRuleResult => {
    const config = runConfiguration(node);
    if (!config) return NagRuleCompliance.NOT_APPLICABLE;
    const shell = listCandidates(node, config.ingressNetworkConnectors)
      .some((entries) => entries.some((entry) => stringCandidates(node, entry).some((c) => SHELL_INGRESS.test(c))));
    return shell ? NagRuleCompliance.NON_COMPLIANT : NagRuleCompliance.COMPLIANT;
  },
};
