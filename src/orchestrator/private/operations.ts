import { Duration, aws_cloudwatch as cloudwatch, aws_cloudwatch_actions as actions, aws_iam as iam, aws_kms as kms, aws_lambda as lambda, aws_sns as sns, aws_sqs as sqs } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import {
  acknowledgeAll, acknowledgeInlinePolicy, LAMBDA_CONCURRENCY_RULES, LAMBDA_DLQ_RULES, LAMBDA_INSIDE_VPC_RULES,
} from '../../shared/compliance';
import { allowServiceToEncrypt } from '../../shared/encryption';

/**
 * The queue that receives sweeps that never ran or failed: the schedule's dead-letter queue (EventBridge could not
 * invoke the sweeper) and the sweeper's on-failure destination (an asynchronous invocation failed or expired).
 * Encrypted with the orchestrator's key when it has one, TLS only, messages kept 14 days.
 */
export function newSweeperFailureQueue(scope: Construct, key?: kms.IKey): sqs.Queue {
  if (key) allowServiceToEncrypt(key, 'events.amazonaws.com', 'EventBridgeDeadLetters');
  const queue = new sqs.Queue(scope, 'SweeperFailures', {
    encryption: key ? sqs.QueueEncryption.KMS : sqs.QueueEncryption.SQS_MANAGED,
    encryptionMasterKey: key,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  acknowledgeAll(queue, ['AwsSolutions-SQS3', 'Serverless-SQSRedrivePolicy'],
    'this queue is itself the dead-letter queue and failure destination of the sweeper and its schedule.');
  return queue;
}

/** The topic the alarms notify: encrypted with the orchestrator's key when it has one, TLS only. */
export function newAlarmTopic(scope: Construct, key?: kms.IKey): sns.Topic {
  if (key) allowServiceToEncrypt(key, 'cloudwatch.amazonaws.com', 'CloudWatchAlarmsToTopic');
  return new sns.Topic(scope, 'AlarmTopic', {
    displayName: 'Lambda MicroVMs orchestrator alarms',
    masterKey: key,
    enforceSSL: true,
  });
}

/** Sends every alarm's ALARM and OK transitions to the topic. */
export function notify(topic: sns.ITopic, alarms: cloudwatch.Alarm[]): void {
  const action = new actions.SnsAction(topic);
  for (const alarm of alarms) {
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
  }
}

/**
 * Acknowledges, with the reason a reviewer needs, the findings of cdk-nag's compliance packs (NIST 800-53 rev 5,
 * HIPAA, PCI DSS 3.2.1, Serverless) that the orchestrator's functions and roles cannot fix without a user's choice
 * or a cost that buys nothing. Each is acknowledged on the one construct it is about, so the same finding on
 * anything else still surfaces.
 */
export function acknowledgeComplianceFindings(
  fns: { orchestrator: lambda.IFunction; sweeper: lambda.IFunction; smokeTest?: lambda.IFunction },
  roles: Array<{ role: iam.IRole; purpose: string }>,
): void {
  for (const fn of [fns.orchestrator, fns.sweeper, fns.smokeTest]) {
    if (!fn) continue;
    acknowledgeAll(fn, LAMBDA_INSIDE_VPC_RULES,
      'the function calls only AWS APIs (Lambda MicroVMs, DynamoDB, CloudWatch) over TLS with SigV4 and serves no ' +
      'network listener; a VPC would add NAT or interface endpoints (cost and more paths out) and isolate nothing.');
    acknowledgeAll(fn, LAMBDA_CONCURRENCY_RULES,
      'reserving concurrency fails to deploy in accounts still at the new-account concurrency limit, and a reservation ' +
      'small enough to be safe would throttle the session API under load; admission limits (maxSessions, ' +
      'maxSessionsPerOwner) bound what the function can launch.');
  }
  acknowledgeAll(fns.orchestrator, LAMBDA_DLQ_RULES,
    'the session API is only invoked synchronously through its Function URL, and a dead-letter queue only receives ' +
    'asynchronous invocations; callers get every failure as an HTTP answer.');
  acknowledgeAll(fns.sweeper, LAMBDA_DLQ_RULES,
    'failed asynchronous sweeps go to the on-failure destination (the SweeperFailures queue), which Lambda prefers ' +
    'to a dead-letter queue and which records the failure reason as well.');
  if (fns.smokeTest) {
    acknowledgeAll(fns.smokeTest, LAMBDA_DLQ_RULES,
      'only CloudFormation invokes the smoke test, as a custom resource, and waits for its answer: a failed invocation ' +
      'fails the deployment, which is where the failure must show; a queued event would be read by no one.');
  }
  for (const { role, purpose } of roles) acknowledgeInlinePolicy(role, purpose);
}
