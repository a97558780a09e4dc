import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaMicrovmsClient } from '@aws-sdk/client-lambda-microvms';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { ENV, SWEEPER_METRICS } from '../shared/contract';
import { AdmissionCounter } from './runtime/admission-counter';
import { CheckpointConfig, parseCheckpointConfig } from './runtime/checkpoint-config';
import type { CheckpointRequest } from './runtime/checkpoint-route';
import { CheckpointSaver, SaveOutcome } from './runtime/checkpoint-saver';
import { ConfigError, telemetryNames } from './runtime/config';
import { eventsFor, SessionEvents } from './runtime/session-events';
import type { SweepReport } from './runtime/sweep-report';
import { Sweeper } from './runtime/sweeper';
import { countsAdmission, DEFAULT_SWEEPER_BUDGET, deadlineFor, parseSweeperConfig, SweeperConfig } from './runtime/sweeper-config';
import { VersionPruner } from './runtime/version-pruner';

// default client configuration, so AWS_ENDPOINT_URL_LAMBDA_MICROVMS / AWS_ENDPOINT_URL_DYNAMODB (and
// AWS_ENDPOINT_URL_EVENTBRIDGE for the events) redirect them.
const microvms = new LambdaMicrovmsClient({});
const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}));
// checkpoints only: built once, used by every save (AWS_ENDPOINT_URL_S3 redirects it).
const s3 = new S3Client({});

const { serviceName, metricsNamespace } = telemetryNames(process.env);
const logger = new Logger({ serviceName });
const metrics = new Metrics({ namespace: metricsNamespace, serviceName });

let config: Omit<SweeperConfig, 'budget'> | undefined;
let configError: string | undefined;
let admission: AdmissionCounter | undefined;
let pruner: VersionPruner | undefined;
let checkpoints: CheckpointConfig | undefined;
try {
  config = parseSweeperConfig(process.env);
  checkpoints = parseCheckpointConfig(process.env);
  // rows the sweeper removes give their slot back only where the session API counts them.
  admission = countsAdmission(process.env) ? AdmissionCounter.of(documentClient, config.tableName) : AdmissionCounter.disabled();
  if (config.keepVersions !== undefined) {
    pruner = new VersionPruner({
      microvms,
      config: { imageArn: config.imageArn, keepVersions: config.keepVersions, launchVersion: config.launchVersion },
      logger,
    });
  }
} catch (err) {
  configError = err instanceof ConfigError ? err.message : 'could not read the sweeper configuration';
}

// the local emulator's data plane (tests only; the construct never sets it): where a save reaches the VM.
const dataPlane = process.env[ENV.DATA_PLANE_URL_TEMPLATE];
const endpointUrl = dataPlane ? (endpoint: string) => dataPlane.replace('{endpoint}', endpoint.replace(/^[a-z]+:\/\//i, '')) : undefined;

/**
 * Scheduled entry point: the event is ignored, the service's list and the table are the whole input. The session
 * API also invokes it asynchronously with a {@link CheckpointRequest} to run a requested save.
 */
export const handler = async (event: unknown, context?: Context): Promise<SweepReport | SaveOutcome | undefined> => {
  if (context) logger.addContext(context);
  if ((event as CheckpointRequest | undefined)?.action === 'checkpoint') return saveRequested(event as CheckpointRequest, context);
  if (!config) {
    logger.error('sweeper misconfigured', { reason: configError });
    metrics.addMetric(SWEEPER_METRICS.SWEEP_ERRORS, MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
    // fail the invocation too, so the function's Errors metric shows it.
    throw new Error(`sweeper misconfigured: ${configError}`);
  }
  const remainingMs = context?.getRemainingTimeInMillis() ?? 60_000;
  // one queue of events for the sweep and the saves it makes: published together at the end of the run.
  const events = eventsFor(config.events?.eventBusName, serviceName, logger, metrics);
  const sweeper = new Sweeper({
    microvms,
    documentClient,
    config: { ...config, budget: { ...DEFAULT_SWEEPER_BUDGET, deadlineMs: deadlineFor(remainingMs) } },
    logger,
    metrics,
    admission,
    pruner,
    events,
    checkpoints: checkpoints && {
      beforeEndSeconds: checkpoints.beforeEndSeconds,
      onSuspend: checkpoints.onSuspend,
      saver: saverFor(config.tableName, checkpoints, events, 60_000),
    },
  });
  return sweeper.run();
};

async function saveRequested(request: CheckpointRequest, context?: Context): Promise<SaveOutcome | undefined> {
  if (!config || !checkpoints) {
    logger.error('checkpoint requested but checkpoints are not configured', { reason: configError });
    return undefined;
  }
  const remainingMs = context?.getRemainingTimeInMillis() ?? 300_000;
  const events = eventsFor(config.events?.eventBusName, serviceName, logger, metrics);
  const saver = saverFor(config.tableName, checkpoints, events, Math.max(10_000, deadlineFor(remainingMs) - 15_000));
  try {
    return await saver.saveRequested({ owner: String(request.owner), sessionId: String(request.sessionId), generation: Number(request.generation) });
  } finally {
    await events.flush();
    metrics.publishStoredMetrics();
  }
}

/** The saver of one sweep or one requested save; its events go out with the caller's flush. */
function saverFor(tableName: string, checkpointConfig: CheckpointConfig, events: SessionEvents, guestTimeoutMs: number): CheckpointSaver {
  return new CheckpointSaver({
    microvms, s3, documentClient, tableName, config: checkpointConfig, logger, metrics, events, guestTimeoutMs, endpointUrl,
  });
}
