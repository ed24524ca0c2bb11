import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a merchant's endpoint received: header names lower-cased, as node gives them, and the raw body. */
export interface ReceivedDelivery {
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * A merchant's endpoint on 127.0.0.1 that records every request and answers `status` with `body`, whatever they are
 * at the time (a test fixes a refusing endpoint by setting them).
 */
export interface MerchantEndpoint {
  readonly url: string;
  readonly received: ReceivedDelivery[];
  status: number;
  body: string;
  close(): Promise<void>;
}

function headersOf(request: IncomingMessage): Record<string, string> {
  return Object.fromEntries(
    Object.entries(request.headers).flatMap(([name, value]) =>
      value === undefined ? [] : [[name, Array.isArray(value) ? value.join(', ') : value]],
    ),
  );
}

export async function startMerchantEndpoint(status: number, body = '{}'): Promise<MerchantEndpoint> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint: MerchantEndpoint = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    received: [],
    status,
    body,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      endpoint.received.push({ headers: headersOf(request), body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(endpoint.status, { 'content-type': 'application/json' }).end(endpoint.body);
    });
  });
  return endpoint;
}

/** Polls `check` until it gives a value, for at most 20 s. */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  what: string,
): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}
