import { ArnFormat, RemovalPolicy, Stack, aws_iam as iam, aws_kms as kms } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/**
 * A rotated customer-managed key for one of the library's constructs (about $1 per month plus requests).
 * Retained when it leaves the stack: data it encrypted (logs, table backups, snapshots) may outlive the stack.
 */
export function newEncryptionKey(scope: Construct, description: string): kms.Key {
  return new kms.Key(scope, 'Key', {
    description,
    enableKeyRotation: true,
    removalPolicy: RemovalPolicy.RETAIN,
  });
}

/**
 * Lets CloudWatch Logs use the key for this account's log groups in the key's Region (a no-op for an imported key,
 * whose policy cannot be changed here: its own policy must already allow it).
 */
export function allowLogsToUse(key: kms.IKey): void {
  if (!once(key, 'logs')) return;
  const stack = Stack.of(key);
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'CloudWatchLogsOfThisAccount',
    principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
    actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
    resources: ['*'],
    conditions: {
      ArnLike: {
        'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
          service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      },
    },
  }), true);
}

/**
 * Lets an AWS service that acts for this account (CloudWatch alarms publishing to an encrypted topic, EventBridge
 * delivering to an encrypted dead-letter queue) encrypt with the key: the data keys it needs and nothing more.
 */
export function allowServiceToEncrypt(key: kms.IKey, service: string, sid: string): void {
  if (!once(key, sid)) return;
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid,
    principals: [new iam.ServicePrincipal(service)],
    actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
    resources: ['*'],
    conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(key).account } },
  }), true);
}

/**
 * Lets Lambda use the key for a MicroVM image, whichever way the service turns out to call KMS (which one it uses is
 * not documented): on behalf of a caller in this account (`kms:ViaService` for Lambda in the key's Region, with the
 * caller's own IAM permissions still required), or as the Lambda service principal acting for this account.
 */
export function allowLambdaToUse(key: kms.IKey): void {
  if (!once(key, 'lambda')) return;
  const stack = Stack.of(key);
  const actions = ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*', 'kms:DescribeKey', 'kms:CreateGrant'];
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'LambdaOnBehalfOfThisAccount',
    principals: [new iam.AccountPrincipal(stack.account)],
    actions,
    resources: ['*'],
    conditions: { StringEquals: { 'kms:ViaService': `lambda.${stack.region}.amazonaws.com`, 'kms:CallerAccount': stack.account } },
  }), true);
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'LambdaServiceForThisAccount',
    principals: [new iam.ServicePrincipal('lambda.amazonaws.com')],
    actions,
    resources: ['*'],
    conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
  }), true);
}

const added = new WeakMap<kms.IKey, Set<string>>();

/** true the first time a statement of this kind is added to this key (several constructs may share one key). */
function once(key: kms.IKey, kind: string): boolean {
  const kinds = added.get(key) ?? new Set<string>();
  added.set(key, kinds);
  if (kinds.has(kind)) return false;
  kinds.add(kind);
  return true;
}
