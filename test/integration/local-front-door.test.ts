import { createHash, createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_SECRETS_FILE, devSecret, readSample } from '../../events/index.js';
import { ADAPTERS } from '../../lambdas/gateways/registry.js';
import { parseGatewaySettings } from '../../lambdas/gateways/settings.js';
import { createIngestHandler } from '../../lambdas/intake/api-gateway.js';
import { FileSecretStore } from '../../lambdas/secrets/gateway-secrets.js';
import { createLocalServer, encodeBody } from '../../local/http-server.js';
import { recordingLog } from '../support/api-gateway.js';
import { RecordingQueue } from '../support/fakes.js';

// Issue #15, point 9: the local front door hands the ingest handler the exact bytes it received, as API Gateway does.
// It used to decode text bodies with a TextDecoder, which drops a leading UTF-8 byte-order mark: a correctly signed
// body starting with EF BB BF was then verified over three bytes fewer, and refused locally while AWS accepted it.

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

const queue = new RecordingQueue();
const server = createLocalServer(
  {
    webhook: createIngestHandler(
      {
        adapters: ADAPTERS,
        settings: parseGatewaySettings(undefined),
        secrets: new FileSecretStore(DEV_SECRETS_FILE),
        queue,
        maxBodyBytes: 256 * 1024,
      },
      recordingLog(),
    ),
    local: async () => ({ status: 404, body: {} }),
    registration: async () => ({ status: 404, body: {} }),
    state: () => 'ready',
  },
  (error) => {
    throw error;
  },
);
let url: string;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Signatures over exact bytes, as each gateway computes them (the repo's signers take text, these take bytes). */
const SIGN: Record<'paystack' | 'stripe' | 'standard', (body: Buffer) => Record<string, string>> = {
  paystack: (body) => ({
    'x-paystack-signature': createHmac('sha512', devSecret('paystack')).update(body).digest('hex'),
  }),
  stripe: (body) => {
    const t = Math.floor(Date.now() / 1000);
    const signature = createHmac('sha256', devSecret('stripe'))
      .update(Buffer.concat([Buffer.from(`${t}.`), body]))
      .digest('hex');
    return { 'stripe-signature': `t=${t},v1=${signature}` };
  },
  standard: (body) => {
    const id = `msg_${createHash('sha256').update(body).digest('hex').slice(0, 24)}`;
    const seconds = String(Math.floor(Date.now() / 1000));
    const key = Buffer.from(devSecret('standard').slice('whsec_'.length), 'base64');
    const signature = createHmac('sha256', key)
      .update(Buffer.concat([Buffer.from(`${id}.${seconds}.`), body]))
      .digest('base64');
    return { 'webhook-id': id, 'webhook-timestamp': seconds, 'webhook-signature': `v1,${signature}` };
  },
};

const SAMPLE = {
  paystack: 'charge.success',
  stripe: 'payment_intent.succeeded',
  standard: 'payment.succeeded',
} as const;

async function post(gateway: keyof typeof SIGN, body: Buffer, contentType: string | undefined) {
  const response = await fetch(`${url}/webhooks/${gateway}`, {
    method: 'POST',
    headers: { ...(contentType !== undefined && { 'content-type': contentType }), ...SIGN[gateway](body) },
    body,
  });
  return { status: response.status, body: await response.text() };
}

/** What reached the queue for the last request: queued events' payloads, or a parked body's exact bytes. */
function taken(before: { events: number; parked: number }): { events: number; parkedBytes: Buffer[] } {
  const parked = queue.parked.slice(before.parked).map((webhook) => {
    const { payload, payloadEncoding } = webhook as unknown as { payload: string; payloadEncoding: string };
    return payloadEncoding === 'base64' ? Buffer.from(payload, 'base64') : Buffer.from(payload, 'utf8');
  });
  return { events: queue.events.length - before.events, parkedBytes: parked };
}

const snapshot = () => ({ events: queue.events.length, parked: queue.parked.length });

describe('The local front door passes every byte on', () => {
  describe.each(['paystack', 'stripe', 'standard'] as const)('%s', (gateway) => {
    const sample = Buffer.from(readSample(gateway, SAMPLE[gateway]), 'utf8');

    it.each([['application/json'], ['application/json; charset=utf-8'], ['text/plain'], [undefined]])(
      'verifies a correctly signed body that starts with a UTF-8 BOM (content-type %s)',
      async (contentType) => {
        const before = snapshot();
        const body = Buffer.concat([BOM, sample]);
        const response = await post(gateway, body, contentType);
        expect(response.status, response.body).not.toBe(401);
        expect(response.status, response.body).toBe(200);
        // Whether the BOM-prefixed JSON is queued or parked is the adapter's business; if parked, byte-exact.
        const result = taken(before);
        expect(result.events + result.parkedBytes.length).toBeGreaterThan(0);
        for (const bytes of result.parkedBytes) expect(bytes.equals(body)).toBe(true);
      },
    );

    it('verifies a correctly signed body that is not valid UTF-8 (0xFF) and parks its exact bytes', async () => {
      const before = snapshot();
      const body = Buffer.concat([sample.subarray(0, 20), Buffer.from([0xff, 0xfe]), sample.subarray(20)]);
      const response = await post(gateway, body, 'application/json');
      expect(response.status, response.body).toBe(200);
      const result = taken(before);
      expect(result.events).toBe(0);
      expect(result.parkedBytes).toHaveLength(1);
      expect(result.parkedBytes[0]?.equals(body)).toBe(true);
    });
  });

  it('verifies a body that is nothing but a BOM', async () => {
    const before = snapshot();
    const response = await post('paystack', BOM, 'application/json');
    expect(response.status, response.body).toBe(200);
    expect(taken(before).parkedBytes.map((bytes) => bytes.toString('hex'))).toEqual(['efbbbf']);
  });

  it.each([
    ['a BOM first', Buffer.concat([BOM, Buffer.from('{"a":1}')])],
    ['a BOM twice', Buffer.concat([BOM, BOM, Buffer.from('{}')])],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0x7d])],
    ['a lone surrogate, CESU-style', Buffer.from([0xed, 0xa0, 0x80])],
    ['a NUL and controls', Buffer.from([0x00, 0x01, 0x7f, 0x0d, 0x0a])],
    ['plain JSON', Buffer.from('{"a":"żółw 🐢"}')],
  ])('hands the handler the exact bytes of %s, as text or base64', (_name, bytes) => {
    for (const contentType of ['application/json', 'text/plain', 'application/octet-stream', undefined]) {
      const encoded = encodeBody(bytes, contentType);
      const decoded = encoded.isBase64Encoded
        ? Buffer.from(encoded.body, 'base64')
        : Buffer.from(encoded.body, 'utf8');
      expect(decoded.toString('hex'), String(contentType)).toBe(bytes.toString('hex'));
    }
  });
});
