import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaMicrovmsClient } from '@aws-sdk/client-lambda-microvms';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2WithIAMAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { DEFAULT_METRICS_NAMESPACE, ENV } from './constants';
import { ApiError } from './runtime/api-error';
import { ConfigError, OrchestratorConfig, parseConfig } from './runtime/config';
import { errorResponse } from './runtime/http';
import { SessionApi } from './runtime/session-api';

// default client configuration, so AWS_ENDPOINT_URL_LAMBDA_MICROVMS / AWS_ENDPOINT_URL_DYNAMODB redirect them.
const microvms = new LambdaMicrovmsClient({});
const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}));

const logger = new Logger({ serviceName: process.env[ENV.SERVICE_NAME] ?? 'microvm-orchestrator' });
const metrics = new Metrics({
  namespace: process.env[ENV.METRICS_NAMESPACE] || DEFAULT_METRICS_NAMESPACE,
  serviceName: process.env[ENV.SERVICE_NAME] ?? 'microvm-orchestrator',
});

let api: SessionApi | undefined;
let configError: string | undefined;
try {
  const config: OrchestratorConfig = parseConfig(process.env);
  api = new SessionApi({ microvms, documentClient, config, logger, metrics });
} catch (err) {
  // fail fast but answer: every request gets a 503 and the log says exactly what to fix.
  configError = err instanceof ConfigError ? err.message : 'could not read the orchestrator configuration';
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
