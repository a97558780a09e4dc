import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running in-memory DynamoDB (dynalite). */
export interface LocalDynamo {
  /** `http://127.0.0.1:<port>`: the DynamoDB client's `endpoint` (or `AWS_ENDPOINT_URL_DYNAMODB`). */
  readonly endpoint: string;
  stop(): Promise<void>;
}

/**
 * Starts dynalite in memory on 127.0.0.1 (a free port) with tables ACTIVE at once. dynalite is a development
 * dependency: install it (`npm i -D dynalite`) to use this helper; nothing else in the library loads it.
 * It lacks transactions, PartiQL and UpdateTimeToLive.
 */
export async function startDynalite(): Promise<LocalDynamo> {
  // loaded lazily so the library never depends on dynalite; only callers of this helper need it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports, import/no-extraneous-dependencies
  const dynalite = require('dynalite') as (options: Record<string, unknown>) => Server;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeAllConnections?.();
    }),
  };
}
