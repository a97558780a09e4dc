import { CfnResource } from 'aws-cdk-lib';
import { NagMessageLevel, NagRuleCompliance, NagRuleResult } from 'cdk-nag';
import { isMicrovmImage } from '../private/microvm';
import { MicrovmRule } from '../private/rule';
import { render } from '../private/template';

/**
 * An image without a customer-managed KMS key (`KmsKeyIdentifier`).
 */
export const NoCustomerManagedKey: MicrovmRule = {
  id: 'NoCustomerManagedKey',
  level: NagMessageLevel.WARN,
  info: 'The MicroVM image is not encrypted with a customer-managed KMS key.',
  explanation: 'The image configuration (including its environment variables) is encrypted at rest with a '
    + 'service-owned key: you cannot audit or revoke its use. Set KmsKeyIdentifier to a customer-managed key '
    + '(MicrovmImage `encryptionKey`), or acknowledge when a service-owned key meets your requirements.',
  check: (node: CfnResource): NagRuleResult => {
    if (!isMicrovmImage(node)) return NagRuleCompliance.NOT_APPLICABLE;
    const image = render(node);
    if (!image) return NagRuleCompliance.NOT_APPLICABLE;
    const key = image.properties.KmsKeyIdentifier;
    return key === undefined || key === null || key === '' ? NagRuleCompliance.NON_COMPLIANT : NagRuleCompliance.COMPLIANT;
  },
};
