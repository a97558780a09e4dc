// cold-start baseline of the sweeper: the SDK clients and commands its handler uses, created the same way at
// module load, and nothing else (no Powertools, no sweep logic). Bundled by bench/cold-start.ts with the
// handlers' esbuild settings.
/* eslint-disable import/no-extraneous-dependencies */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetMicrovmCommand, LambdaMicrovmsClient, ListMicrovmsCommand, TerminateMicrovmCommand } from '@aws-sdk/client-lambda-microvms';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';

const microvms = new LambdaMicrovmsClient({});
const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const commands = [
  GetMicrovmCommand, ListMicrovmsCommand, TerminateMicrovmCommand, DeleteCommand, PutCommand, ScanCommand, UpdateCommand,
];

export const handler = async (): Promise<number> => (microvms && documentClient ? commands.length : 0);
