/**
 * A stand-in for the local stack: a real `node:http` server on 127.0.0.1 that implements the routes of
 * `local/contract.ts` the CLI calls, records every webhook it receives, and writes `stack.json` into a temporary data
 * dir the way the real stack does, so the CLI finds it exactly as it would find the real one.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliIo } from '../../../cli/io.js';
import { type PaymentView, type StackInfo, stackInfoPath } from '../../../local/contract.js';

export interface ReceivedWebhook {
  readonly gateway: string;
  /** Header names lower-cased, as node gives them. */
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface FakeStack {
  readonly url: string;
  readonly dataDir: string;
  readonly received: ReceivedWebhook[];
  /** Payments by `<gateway>/<identifier>`, for either identifier. */
  readonly payments: Map<string, PaymentView>;
  /** Status answered to webhooks. @default 200 */
  webhookStatus: number;
  /** Status answered to `GET /health`. @default 200 */
  healthStatus: number;
  /** Delay before answering a webhook, to keep requests in flight. @default 0 */
  webhookDelayMs: number;
  /** Most webhook requests in flight at once so far. */
  readonly maxInFlight: () => number;
  close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function headersOf(request: IncomingMessage): Record<string, string> {
  return Object.fromEntries(
    Object.entries(request.headers).flatMap(([name, value]) =>
      value === undefined ? [] : [[name, Array.isArray(value) ? value.join(',') : value]],
    ),
  );
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    );
  });
}

/** A temporary data dir holding nothing; removed by the returned function. */
export function emptyDataDir(): { dataDir: string; remove: () => void } {
  const dataDir = mkdtempSync(join(tmpdir(), 'payhook-cli-'));
  return { dataDir, remove: () => rmSync(dataDir, { recursive: true, force: true }) };
}

/** Writes `stack.json` naming `url`, as the real stack does once ready. */
export function writeStackInfo(dataDir: string, url: string): void {
  const info: StackInfo = {
    url,
    pid: process.pid,
    startedAt: new Date().toISOString(),
    dataDir,
    eventsFile: join(dataDir, 'events.jsonl'),
  };
  writeFileSync(stackInfoPath(dataDir), JSON.stringify(info));
}

export async function startFakeStack(): Promise<FakeStack> {
  const { dataDir, remove } = emptyDataDir();
  let inFlight = 0;
  let maxInFlight = 0;
  const stack = {
    received: [] as ReceivedWebhook[],
    payments: new Map<string, PaymentView>(),
    webhookStatus: 200,
    healthStatus: 200,
    webhookDelayMs: 0,
  };
  const server = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://fake');
    const json = (status: number, value: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(value));
    };
    const webhook = /^\/webhooks\/([^/]+)$/.exec(url.pathname);
    const payment = /^\/local\/payments\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (request.method === 'GET' && url.pathname === '/health') {
      json(stack.healthStatus, { ready: stack.healthStatus === 200 });
    } else if (request.method === 'POST' && webhook?.[1] !== undefined) {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const body = await readBody(request);
      stack.received.push({ gateway: webhook[1], headers: headersOf(request), body });
      await new Promise((resolve) => setTimeout(resolve, stack.webhookDelayMs));
      inFlight -= 1;
      if (stack.webhookStatus === 200) json(200, { received: true });
      else json(stack.webhookStatus, { error: 'invalid_signature', message: 'refused by the fake stack' });
    } else if (request.method === 'GET' && payment?.[1] !== undefined && payment[2] !== undefined) {
      const key = `${decodeURIComponent(payment[1])}/${decodeURIComponent(payment[2])}`;
      const found = stack.payments.get(key);
      if (found === undefined) json(404, { error: 'payment_not_found', message: `no payment ${key}` });
      else json(200, found);
    } else {
      json(404, { error: 'not_found', message: `no route ${request.method} ${url.pathname}` });
    }
  });
  const url = await listen(server);
  writeStackInfo(dataDir, url);
  return Object.assign(stack, {
    url,
    dataDir,
    maxInFlight: () => maxInFlight,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      remove();
    },
  });
}

/** An address nothing listens on: a server's port, once that server has closed. */
export async function deadUrl(): Promise<string> {
  const server = createServer();
  const url = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return url;
}

/** I/O that records what the CLI writes, with `PAYHOOK_DATA_DIR` set to `dataDir`. */
export function capturingIo(dataDir: string): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: (text) => {
      out += text;
    },
    stderr: (text) => {
      err += text;
    },
    env: { PAYHOOK_DATA_DIR: dataDir },
    out: () => out,
    err: () => err,
  };
}
