// The session API's constructor arguments and the request shapes its routes share.
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { LambdaMicrovmsClient } from '@aws-sdk/client-lambda-microvms';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AdmissionCounter } from './admission-counter';
import type { CheckpointWorker } from './checkpoint-route';
import type { OrchestratorConfig } from './config';
import type { Labels } from './labels';
import type { SessionEvents } from './session-events';

/** Constructor arguments of {@link SessionApi}. */
export interface SessionApiProps {
  readonly microvms: LambdaMicrovmsClient;
  readonly documentClient: DynamoDBDocumentClient;
  readonly config: OrchestratorConfig;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The `maxSessions` counter. @default built from `config.maxSessions` (disabled without it) */
  readonly admission?: AdmissionCounter;
  /** With checkpoints: presigns the restore's download URL and deletes a deleted session's checkpoints. */
  readonly s3?: S3Client;
  /** With checkpoints: runs a requested save asynchronously (the handler invokes the sweeper function). */
  readonly checkpointWorker?: CheckpointWorker;
  /** Where lifecycle events go. @default SessionEvents.disabled() */
  readonly events?: SessionEvents;
  /** Clock for leases and lifetimes (epoch ms). */
  readonly now?: () => number;
  /** How long a launch lease lasts before another caller may take the launch over. @default 30 s */
  readonly leaseMilliseconds?: number;
  /** How long a PUT waits for a concurrent launch of the same session before answering 503. @default 1500 ms */
  readonly launchWaitMilliseconds?: number;
}

export interface Caller {
  /** SHA-256 of `ownerArn`: the partition key of the caller's sessions. */
  readonly owner: string;
  /** The principal that owns the caller's sessions (see `ownerPrincipal`), stored on each row it creates. */
  readonly ownerArn: string;
}

/** What a PUT launches with, parsed once. */
export interface PutRequest {
  readonly caller: Caller;
  readonly id: string;
  readonly ports: number[];
  readonly payload?: string;
  /** The body's `labels`; absent means the session keeps the labels it has. */
  readonly labels?: Labels;
}

