import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../cli/io.js';
import { type Listener, startListener } from '../../cli/listen.js';
import { readStackInfo } from '../../local/contract.js';
import { developmentSigningSecret } from '../../local/development-secret.js';
import type { LocalStack } from '../../local/stack.js';
import { runPayhook } from '../support/cli.js';
import { startTestStack, stopTestStack } from '../support/local-stack.js';

// Deliveries end to end: the local stack started with two destinations, a merchant's endpoint written with the
// official Standard Webhooks library and `payhook listen`, then a webhook sent with `payhook send`, as a developer
// would. Nothing here signs or queues a delivery itself: the consumer publishes, the stand-in for the delivery rules
// queues, the delivery function signs and POSTs.

const dataDir = mkdtempSync(join(tmpdir(), 'payhook-deliveries-e2e-'));
const DEV_SECRET = developmentSigningSecret().secret;

interface Delivery {
  readonly headers: Record<string, string>;
  readonly body: string;
}

let stack: LocalStack;
let merchant: Server;
const delivered: Delivery[] = [];
let listener: Listener;
let listened = '';
/** What `payhook listen` prints, as its user would read it. */
const listenIo: CliIo & { out: () => string } = {
  stdout: (text) => {
    listened += text;
  },
  stderr: (text) => {
    listened += text;
  },
  env: {},
  out: () => listened,
};

/** A merchant's endpoint: verifies with the library, 200 when it verifies, 401 otherwise, as its docs say to. */
async function startMerchant(): Promise<string> {
  merchant = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const headers = Object.fromEntries(
        Object.entries(request.headers).map(([name, value]) => [name, String(value)]),
      );
      const body = Buffer.concat(chunks).toString('utf8');
      delivered.push({ headers, body });
      try {
        new Webhook(DEV_SECRET).verify(body, headers);
        response.writeHead(200).end();
      } catch {
        response.writeHead(401).end();
      }
    });
  });
  await new Promise<void>((resolve) => merchant.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(merchant.address() as AddressInfo).port}/payhook`;
}

async function eventually<T>(find: () => T | undefined, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  const merchantUrl = await startMerchant();
  listener = await startListener(listenIo, { port: 0, path: '/hooks' });
  stack = await startTestStack(dataDir, {
    destinations: {
      shop: { url: merchantUrl, detailTypes: ['payment.succeeded'] },
      dev: { url: listener.url },
    },
  });
});

afterAll(async () => {
  await stopTestStack(stack);
  await listener?.close();
  merchant?.closeAllConnections();
  await new Promise((resolve) => merchant?.close(resolve));
});

describe('deliveries from the local stack', () => {
  it('records each destination with its queues in stack.json, for the CLI', () => {
    const info = readStackInfo(dataDir);
    expect(Object.keys(info?.destinations ?? {}).sort()).toEqual(['dev', 'shop']);
    expect(info?.destinations?.shop).toEqual({
      queueUrl: expect.stringMatching(/\/deliveries-shop$/),
      deadLetterQueueUrl: expect.stringMatching(/\/deliveries-shop-dlq$/),
      settings: expect.objectContaining({ url: expect.stringMatching(/\/payhook$/), retryHours: 24 }),
    });
  });

  it('delivers `payhook send stripe` to the merchant as payment.succeeded, signed with the development secret so the library verifies it', async () => {
    const sent = await runPayhook(dataDir, 'send', 'stripe');
    expect(sent.code, sent.stderr).toBe(0);

    const delivery = await eventually(
      () => delivered.find((each) => each.body.includes('"gateway":"stripe"')),
      'delivery of the Stripe payment',
    );
    const verified = new Webhook(DEV_SECRET).verify(delivery.body, delivery.headers) as {
      type: string;
      data: Record<string, unknown>;
    };
    expect(verified).toMatchObject({
      type: 'payment.succeeded',
      data: { gateway: 'stripe', reference: 'ORDER-2001', to: 'succeeded', amount: '4999', currency: 'USD' },
    });
    expect(delivery.headers['webhook-id']).toBe(verified.data.id);
  });

  it('`payhook listen` receives the same event, verifies it with the development secret by default and prints it', async () => {
    const line = await eventually(
      () =>
        listenIo
          .out()
          .split('\n')
          .find((each) => each.includes('payment.succeeded  stripe ORDER-2001')),
      'line from payhook listen',
    );
    expect(line).toMatch(
      /^\d{4}-\d{2}-\d{2}T\S+Z {2}[0-9a-f-]{36} {2}payment\.succeeded {2}stripe ORDER-2001 {2}succeeded {2}verified -> 200$/,
    );
    expect(listenIo.out()).toContain('verifying with the FAKE development secret');
  });
});

describe('payhook listen', () => {
  const body = (reference: string) =>
    JSON.stringify({
      type: 'payment.succeeded',
      timestamp: '2026-11-30T10:00:00Z',
      data: { id: 'evt-listen-1', gateway: 'paystack', reference, status: 'succeeded' },
    });

  async function post(payload: string, secret: string, id = 'evt-listen-1') {
    const now = new Date();
    const signature = new Webhook(secret).sign(id, now, payload);
    const response = await fetch(listener.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': signature,
      },
      body: payload,
    });
    return response.status;
  }

  it('answers 401 and says why when a delivery is signed with another secret, so a wrong secret is visible', async () => {
    const other = `whsec_${Buffer.from('a secret payhook does not hold!!').toString('base64')}`;
    expect(await post(body('ORDER-401'), other)).toBe(401);
    expect(listenIo.out()).toMatch(
      /evt-listen-1 {2}payment\.succeeded {2}paystack ORDER-401 {2}succeeded {2}NOT verified: No matching signature found -> 401\n/,
    );
  });

  it('prints a reference carrying terminal escapes escaped, never raw, and marks a repeated webhook-id', async () => {
    expect(await post(body('ORDER-\u001b[31mRED\u202e'), DEV_SECRET, 'evt-listen-2')).toBe(200);
    expect(await post(body('ORDER-\u001b[31mRED\u202e'), DEV_SECRET, 'evt-listen-2')).toBe(200);
    const out = listenIo.out();
    expect(out).not.toContain('\u001b');
    expect(out).not.toContain('\u202e');
    expect(out).toContain('paystack ORDER-\\u001b[31mRED\\u202e  succeeded  verified -> 200\n');
    expect(out).toContain('verified -> 200 (seen 2 times)\n');
  });

  it('refuses a --secret the library cannot use before listening, and documents its options', async () => {
    const refused = await runPayhook(dataDir, 'listen', '--port', '0', '--secret', 'not-base64!!');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe('error: --secret must be whsec_<base64>, as the secrets file holds it\n');
    const help = await runPayhook(dataDir, 'listen', '--help');
    expect(help.code).toBe(0);
    for (const option of ['--port <port>', '--secret <whsec>', '--path <path>', '--host <host>']) {
      expect(help.stdout).toContain(option);
    }
  });
});
