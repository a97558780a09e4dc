import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { LambdaMicrovmsClient } from '@aws-sdk/client-lambda-microvms';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2WithIAMAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ApiError } from './runtime/api-error';
import type { CheckpointWorker } from './runtime/checkpoint-route';
import { ConfigError, OrchestratorConfig, parseConfig, telemetryNames } from './runtime/config';
import { errorResponse } from './runtime/http';
import { SessionApi } from './runtime/session-api';
import { eventsFor } from './runtime/session-events';

// default client configuration, so AWS_ENDPOINT_URL_LAMBDA_MICROVMS / AWS_ENDPOINT_URL_DYNAMODB (and
// AWS_ENDPOINT_URL_EVENTBRIDGE for the events) redirect them.
const microvms = new LambdaMicrovmsClient({});
const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}));

// the config's names when it parses; otherwise the same defaults, so the misconfiguration is still logged.
let config: OrchestratorConfig | undefined;
let configError: string | undefined;
try {
  config = parseConfig(process.env);
} catch (err) {
  // fail fast but answer: every request gets a 503 and the log says exactly what to fix.
  configError = err instanceof ConfigError ? err.message : 'could not read the orchestrator configuration';
}
const { serviceName, metricsNamespace } = config ?? telemetryNames(process.env);
const logger = new Logger({ serviceName });
const metrics = new Metrics({ namespace: metricsNamespace, serviceName });

let api: SessionApi | undefined;
if (config) {
  const events = eventsFor(config.events.eventBusName, serviceName, logger, metrics);
  api = new SessionApi({ microvms, documentClient, config, logger, metrics, events, ...checkpointClients(config) });
} else {
  logger.error('orchestrator misconfigured', { reason: configError });
}

/** Function URL entry point of the session API (payload format 2.0). */
export const handler = async (event: APIGatewayProxyEventV2WithIAMAuthorizer): Promise<APIGatewayProxyStructuredResultV2> => {
  if (!api) {
    logger.error('orchestrator misconfigured', { reason: configError });
    return errorResponse(ApiError.unavailable('Misconfigured', 'the session API is misconfigured; the operator must fix its environment', 60));
  }
  try {
    return await api.handle(event);
  } finally {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
};

/** With checkpoints: S3 for restores and deletes, and the worker that hands a requested save to the sweeper function. */
function checkpointClients(c: OrchestratorConfig): { s3?: S3Client; checkpointWorker?: CheckpointWorker } {
  const functionName = c.checkpoints?.workerFunction;
  if (!c.checkpoints) return {};
  const lambda = new LambdaClient({});
  return {
    s3: new S3Client({}),
    checkpointWorker: functionName
      ? async (request) => {
        // an asynchronous invoke: the save runs in the sweeper function, the caller reads its result on GET.
        await lambda.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(request)) }));
      }
      : undefined,
  };
}
