import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaMicrovmsClient } from '@aws-sdk/client-lambda-microvms';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { SWEEPER_METRICS } from '../shared/contract';
import { AdmissionCounter } from './runtime/admission-counter';
import { ConfigError, telemetryNames } from './runtime/config';
import { eventsFor } from './runtime/session-events';
import type { SweepReport } from './runtime/sweep-report';
import { Sweeper } from './runtime/sweeper';
import { countsAdmission, DEFAULT_SWEEPER_BUDGET, deadlineFor, parseSweeperConfig, SweeperConfig } from './runtime/sweeper-config';
import { VersionPruner } from './runtime/version-pruner';

// default client configuration, so AWS_ENDPOINT_URL_LAMBDA_MICROVMS / AWS_ENDPOINT_URL_DYNAMODB (and
// AWS_ENDPOINT_URL_EVENTBRIDGE for the events) redirect them.
const microvms = new LambdaMicrovmsClient({});
const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}));

const { serviceName, metricsNamespace } = telemetryNames(process.env);
const logger = new Logger({ serviceName });
const metrics = new Metrics({ namespace: metricsNamespace, serviceName });

let config: Omit<SweeperConfig, 'budget'> | undefined;
let configError: string | undefined;
let admission: AdmissionCounter | undefined;
let pruner: VersionPruner | undefined;
try {
  config = parseSweeperConfig(process.env);
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

/** Scheduled entry point. The event is ignored: the service's list and the table are the whole input. */
export const handler = async (_event: unknown, context?: Context): Promise<SweepReport> => {
  if (context) logger.addContext(context);
  if (!config) {
    logger.error('sweeper misconfigured', { reason: configError });
    metrics.addMetric(SWEEPER_METRICS.SWEEP_ERRORS, MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
    // fail the invocation too, so the function's Errors metric shows it.
    throw new Error(`sweeper misconfigured: ${configError}`);
  }
  const remainingMs = context?.getRemainingTimeInMillis() ?? 60_000;
  const sweeper = new Sweeper({
    microvms,
    documentClient,
    config: { ...config, budget: { ...DEFAULT_SWEEPER_BUDGET, deadlineMs: deadlineFor(remainingMs) } },
    logger,
    metrics,
    admission,
    pruner,
    events: eventsFor(config.events?.eventBusName, serviceName, logger, metrics),
  });
  return sweeper.run();
};
