import { CfnResource } from 'aws-cdk-lib';
import { NagMessageLevel, NagRuleCompliance, NagRuleResult } from 'cdk-nag';
import { asNumber, runConfiguration } from '../private/microvm';
import { MicrovmRule } from '../private/rule';

/** Longest token lifetime the rule accepts, in seconds (AWS recommends 15-30 minute, port-scoped tokens). */
export const MAX_TOKEN_TTL_SECONDS = 900;

/**
 * A run configuration that mints tokens living longer than 15 minutes, or tokens for all ports.
 */
export const TokenScope: MicrovmRule = {
  id: 'TokenScope',
  level: NagMessageLevel.WARN,
  info: 'The run configuration mints MicroVM auth tokens valid for more than 15 minutes or for all ports.',
  explanation: 'A MicroVM token is a bearer credential for the VM\'s endpoint: a leaked long-lived or all-ports '
    + 'token lets anyone reach every port of the VM (including the lifecycle hooks port) until it expires. Keep the '
    + 'token TTL at 15 minutes or less, refresh tokens before they expire, and scope them to the app ports.',
  check: (node: CfnResource): NagRuleResult => {
    const config = runConfiguration(node);
    if (!config) return NagRuleCompliance.NOT_APPLICABLE;
    const ttl = asNumber(config.tokenTtlSeconds);
    if (ttl !== undefined && ttl > MAX_TOKEN_TTL_SECONDS) return NagRuleCompliance.NON_COMPLIANT;
    if (config.allPortsTokens === true || config.allPortsTokens === 'true') return NagRuleCompliance.NON_COMPLIANT;
    return NagRuleCompliance.COMPLIANT;
  },
};
