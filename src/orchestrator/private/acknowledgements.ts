import { Stack, Validations, aws_iam as iam, aws_lambda as lambda } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { acknowledgeComplianceFindings } from './operations';
import type { IMicrovmImage } from '../../image/microvm-image-base';
import { flattenReference } from '../../shared/nag-ids';

/** What the orchestrator's acknowledgements are about. */
export interface AcknowledgedOrchestrator {
  readonly scope: Construct;
  readonly egressMode: string;
  readonly orchestratorFunction: lambda.IFunction;
  readonly sweeperFunction: lambda.IFunction;
  readonly smokeTestFunction?: lambda.IFunction;
  readonly executionRole: iam.IRole;
}

/**
 * Acknowledges, each with its reason, the findings the orchestrator's design makes inherent: the image's build
 * egress (it always launches with an explicit one), the wildcards a MicroVM launcher cannot avoid, and the
 * compliance packs' findings on its own functions and roles.
 */
export function acknowledgeOrchestratorFindings(o: AcknowledgedOrchestrator, image: IMicrovmImage): void {
  const cfnImage = image.node.defaultChild;
  if (cfnImage instanceof lambda.CfnMicrovmImage) {
    Validations.of(cfnImage).acknowledge({
      id: 'MicrovmChecks-EgressInternet',
      reason: `MicrovmOrchestrator ${o.scope.node.path} launches this image only with an explicit egress connector ` +
        `(${o.egressMode} egress, recorded in its run configuration), so its MicroVMs never inherit the ` +
        'image\'s build egress. Launching it any other way needs its own review.',
    });
  }
  acknowledgeInherentWildcards(o.orchestratorFunction, 'the sessions table it reads and writes');
  acknowledgeInherentWildcards(o.sweeperFunction,
    'the sessions table it reads and writes, and the SweeperFailures queue Lambda sends failed runs to with this role');
  if (o.smokeTestFunction) acknowledgeInherentWildcards(o.smokeTestFunction, 'its log group');
  const ownRoles = [
    { role: o.orchestratorFunction.role!, purpose: 'the session API function' },
    { role: o.sweeperFunction.role!, purpose: 'the sweeper function' },
    ...(o.smokeTestFunction ? [{ role: o.smokeTestFunction.role!, purpose: 'the smoke test function' }] : []),
    ...(o.executionRole.node.scope === o.scope ? [{ role: o.executionRole, purpose: 'the MicroVMs\' execution role' }] : []),
  ];
  acknowledgeComplianceFindings({ orchestrator: o.orchestratorFunction, sweeper: o.sweeperFunction, smokeTest: o.smokeTestFunction }, ownRoles);
}

/** why a wildcard in a statement with these actions is inherent, or undefined when it is not ours to excuse. */
function wildcardReason(actions: string[]): string | undefined {
  if (actions.length === 1 && actions[0] === 'lambda:ListMicrovms') {
    return 'lambda:ListMicrovms has no resource type, so it needs Resource "*"; the sweeper lists with the image ARN as ' +
      'its filter, and its GetMicrovm and TerminateMicrovm are scoped to that image.';
  }
  if (actions.length > 0 && actions.every((a) => a === 'xray:PutTraceSegments' || a === 'xray:PutTelemetryRecords')) {
    return 'X-Ray\'s PutTraceSegments and PutTelemetryRecords have no resource type, so active tracing needs Resource "*"; ' +
      'they only write trace data.';
  }
  if (actions.length > 0 && actions.every((a) => ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'].includes(a))) {
    return `${actions.join(', ')} on the checkpoint bucket's objects: checkpoint keys (<owner>/<session>/<generation>/<timestamp>) ` +
      'are made at run time, so the grant names the one bucket and every key in it.';
  }
  if (actions.length === 1 && actions[0] === 'lambda:PassNetworkConnector') {
    return 'lambda:PassNetworkConnector: the ":*" form of each connector ARN covers that connector\'s numbered versions ' +
      '(RunMicrovm may name one); only the egress and ingress connectors this orchestrator passes are listed.';
  }
  return undefined;
}

/**
 * Acknowledges the AwsSolutions-IAM5 findings a MicroVM launcher cannot avoid, one resource at a time and as they
 * appear in the function's policy, so any other wildcard still surfaces.
 */
function acknowledgeInherentWildcards(fn: lambda.IFunction, keyUses: string): void {
  const policy = fn.role?.node.tryFindChild('DefaultPolicy');
  if (!(policy instanceof iam.Policy)) return;
  // toJSON renders without freezing the statements, so later grants still work.
  const document = Stack.of(policy).resolve(policy.document.toJSON());
  // one acknowledgement per id: two statements with a "*" resource share one reason that covers both.
  const reasons = new Map<string, string[]>();
  for (const statement of document?.Statement ?? []) {
    if (statement.Effect !== 'Allow') continue;
    const actions: string[] = [statement.Action].flat();
    for (const action of actions.filter((a) => a.startsWith('kms:') && a.includes('*'))) {
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Action::${action}]`,
        reason: `${action} is the action family CDK's KMS grants use (for ${keyUses}); the statement is scoped to the orchestrator's one key.`,
      });
    }
    const reason = wildcardReason(actions);
    if (!reason) continue;
    for (const resource of [statement.Resource].flat()) {
      const flat = flattenReference(resource);
      if (!flat.includes('*')) continue;
      const id = `AwsSolutions-IAM5[Resource::${flat}]`;
      reasons.set(id, [...(reasons.get(id) ?? []), reason]);
    }
  }
  for (const [id, list] of reasons) Validations.of(policy).acknowledge({ id, reason: [...new Set(list)].join(' ') });
}

