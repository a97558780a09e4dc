// cold-start baseline of the orchestrator: the SDK clients and commands its handler uses, created the same way
// at module load, and nothing else (no Powertools, no session logic). Bundled by bench/cold-start.ts with the
// handlers' esbuild settings. Since lifecycle events and checkpoints, that includes EventBridge, S3, the presigner and
// Lambda (the asynchronous Invoke of a requested save).
/* eslint-disable import/no-extraneous-dependencies */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  CreateMicrovmAuthTokenCommand,
  GetMicrovmCommand,
  LambdaMicrovmsClient,
  ResumeMicrovmCommand,
  RunMicrovmCommand,
  SuspendMicrovmCommand,
  TerminateMicrovmCommand,
} from '@aws-sdk/client-lambda-microvms';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

const microvms = new LambdaMicrovmsClient({});
const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const s3 = new S3Client({});
const events = new EventBridgeClient({});
const lambda = new LambdaClient({});
const commands = [
  CreateMicrovmAuthTokenCommand, GetMicrovmCommand, ResumeMicrovmCommand, RunMicrovmCommand, SuspendMicrovmCommand,
  TerminateMicrovmCommand, DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand,
  DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutEventsCommand, InvokeCommand,
];

const clients = [microvms, documentClient, s3, events, lambda, getSignedUrl];

export const handler = async (): Promise<number> => commands.length + clients.length;
