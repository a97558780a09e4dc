// cold-start baseline of the sweeper: the SDK clients and commands its handler uses, created the same way at
// module load, and nothing else (no Powertools, no sweep logic). Bundled by bench/cold-start.ts with the
// handlers' esbuild settings. Since lifecycle events and checkpoints, that includes EventBridge, S3 and the presigner.
/* eslint-disable import/no-extraneous-dependencies */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  CreateMicrovmAuthTokenCommand,
  DeleteMicrovmImageVersionCommand,
  GetMicrovmCommand,
  GetMicrovmImageCommand,
  LambdaMicrovmsClient,
  ListMicrovmImageVersionsCommand,
  ListMicrovmsCommand,
  ResumeMicrovmCommand,
  SuspendMicrovmCommand,
  TerminateMicrovmCommand,
} from '@aws-sdk/client-lambda-microvms';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

const microvms = new LambdaMicrovmsClient({});
const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const s3 = new S3Client({});
const events = new EventBridgeClient({});
const commands = [
  CreateMicrovmAuthTokenCommand, DeleteMicrovmImageVersionCommand, GetMicrovmCommand, GetMicrovmImageCommand,
  ListMicrovmImageVersionsCommand, ListMicrovmsCommand, ResumeMicrovmCommand, SuspendMicrovmCommand, TerminateMicrovmCommand,
  DeleteCommand, GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand,
  DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, PutEventsCommand,
];

const clients = [microvms, documentClient, s3, events, getSignedUrl];

export const handler = async (): Promise<number> => commands.length + clients.length;
