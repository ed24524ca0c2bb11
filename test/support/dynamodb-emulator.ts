import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { createTables, type TableNames, tableNames } from '../../local/tables.js';

export interface DynamoEmulator {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  createTables(prefix: string): Promise<TableNames>;
  stop(): Promise<void>;
}

/** dynalite, in this process, in memory, on a free loopback port, with a DynamoDB client pointed at it. */
export async function startDynamoEmulator(): Promise<DynamoEmulator> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({ endpoint });
  return {
    endpoint,
    client,
    async createTables(prefix: string) {
      const names = tableNames(prefix);
      await createTables(client, names);
      return names;
    },
    async stop() {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
