// cold-start baseline of the orchestrator: the SDK clients and commands its handler uses, created the same way
// at module load, and nothing else (no Powertools, no session logic). Bundled by bench/cold-start.ts with the
// handlers' esbuild settings.
/* eslint-disable import/no-extraneous-dependencies */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateMicrovmAuthTokenCommand,
  GetMicrovmCommand,
  LambdaMicrovmsClient,
  ResumeMicrovmCommand,
  RunMicrovmCommand,
  SuspendMicrovmCommand,
  TerminateMicrovmCommand,
} from '@aws-sdk/client-lambda-microvms';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';

const microvms = new LambdaMicrovmsClient({});
const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const commands = [
  CreateMicrovmAuthTokenCommand, GetMicrovmCommand, ResumeMicrovmCommand, RunMicrovmCommand, SuspendMicrovmCommand,
  TerminateMicrovmCommand, DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand,
];

export const handler = async (): Promise<number> => (microvms && documentClient ? commands.length : 0);
