import { CfnResource } from 'aws-cdk-lib';
import { NagMessageLevel, NagRuleCompliance, NagRuleResult } from 'cdk-nag';
import { credentialKind, dynamicSecretReference, environmentSecret, isSecretName, isTrivialValue } from '../../shared/secrets';
import { buildContextDirectories, scanBuildContext } from '../private/asset-scan';
import { isMicrovmImage } from '../private/microvm';
import { MicrovmRule } from '../private/rule';
import { UNKNOWN, isObject, listCandidates, referencesNoEchoParameter, render, stringCandidates } from '../private/template';

/**
 * Secrets baked into an image snapshot. One finding per place, never carrying the value:
 * `EnvironmentVariables::<KEY>` (a credential-looking value, a secret-named key with a non-trivial value, a
 * Secrets Manager / SSM SecureString dynamic reference anywhere in the value, a `Ref` to a NoEcho parameter),
 * `BuildContext::<path>` (a secret file in the staged asset the image is built from) and `Dockerfile::<NAME>`
 * (an `ENV`/`ARG` secret in its Dockerfile).
 */
export const SnapshotSecret: MicrovmRule = {
  id: 'SnapshotSecret',
  level: NagMessageLevel.ERROR,
  info: 'A secret is baked into the MicroVM image snapshot (environment variable, build-context file or Dockerfile ENV/ARG).',
  explanation: 'Everything in an image\'s environment, code artifact and Dockerfile is frozen into the snapshot '
    + 'that every MicroVM of that version starts from, and readable by any code running in any of them (and by '
    + 'anyone who can read the template or the artifact). Remove it: pass per-session credentials through the '
    + 'run hook payload, fetch long-lived secrets at run time with the execution role (Secrets Manager, SSM), '
    + 'keep secret files out of the build context, and pass build secrets as ARGs without defaults.',
  check: (node: CfnResource): NagRuleResult => {
    if (!isMicrovmImage(node)) return NagRuleCompliance.NOT_APPLICABLE;
    const properties = render(node)?.properties;
    if (!properties) return NagRuleCompliance.NOT_APPLICABLE;
    const findings = new Set<string>();
    for (const [key, value] of environmentEntries(node, properties.EnvironmentVariables)) {
      if (isSecretEntry(node, key, value)) findings.add(`EnvironmentVariables::${key}`);
    }
    for (const directory of buildContextDirectories(node, properties.CodeArtifact)) {
      scanBuildContext(directory).forEach((f) => findings.add(f));
    }
    return findings.size > 0 ? [...findings] : NagRuleCompliance.COMPLIANT;
  },
};

function environmentEntries(node: CfnResource, environment: unknown): Array<[string, unknown]> {
  // CloudFormation takes a list of {Key, Value}; a map (an override written the SAM way) is read too.
  if (isObject(environment) && !Object.keys(environment).some((k) => k.startsWith('Fn::') || k === 'Ref')) {
    return Object.entries(environment);
  }
  return listCandidates(node, environment).flat()
    .filter(isObject)
    .map((entry): [string, unknown] => [keyName(node, entry.Key), entry.Value]);
}

function keyName(node: CfnResource, key: unknown): string {
  return stringCandidates(node, key).find((c) => !c.includes(UNKNOWN)) ?? '<unresolved>';
}

function isSecretEntry(node: CfnResource, key: string, value: unknown): boolean {
  if (referencesNoEchoParameter(node, value)) return true;
  return stringCandidates(node, value).some((candidate) => {
    if (!candidate.includes(UNKNOWN)) return environmentSecret(key, candidate) !== undefined;
    // only part of the value is known: judge the known parts, never glue them into a credential.
    if (dynamicSecretReference(candidate) || credentialKind(candidate.split(UNKNOWN).join('-'))) return true;
    const known = candidate.split(UNKNOWN).join('');
    return isSecretName(key) && known.trim() !== '' && !isTrivialValue(known);
  });
}
