import { AllOsCapabilities } from './all-os-capabilities';
import { DnsUnfiltered } from './dns-unfiltered';
import { EgressInternet } from './egress-internet';
import { EgressOpenSecurityGroup } from './egress-open-security-group';
import { EndpointPolicyOpen } from './endpoint-policy-open';
import { ExecutionRoleWildcard } from './execution-role-wildcard';
import { HooksPortInAppPorts } from './hooks-port-in-app-ports';
import { LoggingDisabled } from './logging-disabled';
import { NoCustomerManagedKey } from './no-customer-managed-key';
import { NoLifetimeLimit } from './no-lifetime-limit';
import { ShellIngress } from './shell-ingress';
import { SnapshotSecret } from './snapshot-secret';
import { TokenScope } from './token-scope';
import { MicrovmRule } from '../private/rule';

/** Every rule of the pack, errors first; ids are `MicrovmChecks-<id>`. */
export const MICROVM_RULES: MicrovmRule[] = [
  EgressInternet,
  EgressOpenSecurityGroup,
  EndpointPolicyOpen,
  SnapshotSecret,
  LoggingDisabled,
  DnsUnfiltered,
  NoCustomerManagedKey,
  AllOsCapabilities,
  TokenScope,
  HooksPortInAppPorts,
  NoLifetimeLimit,
  ExecutionRoleWildcard,
  ShellIngress,
];
