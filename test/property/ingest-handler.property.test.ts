import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_SECRETS_FILE, devSecret, readSample, SIGNERS } from '../../events/index.js';
import { ADAPTERS } from '../../lambdas/gateways/registry.js';
import { parseGatewaySettings } from '../../lambdas/gateways/settings.js';
import { createIngestHandler } from '../../lambdas/intake/api-gateway.js';
import { SqsEventQueue } from '../../lambdas/intake/sqs-event-queue.js';
import { readWebhookEventMessage } from '../../lambdas/messages/webhook-event-message.js';
import { FileSecretStore } from '../../lambdas/secrets/gateway-secrets.js';
import { apiGatewayEvent, recordingLog } from '../support/api-gateway.js';
import { RecordingQueue } from '../support/fakes.js';
import { GATEWAY_CASES, signedSample } from '../support/gateway-cases.js';
import {
  createPipelineQueues,
  drainAll,
  type PipelineQueues as PipelineQueueUrls,
  type SqsEmulator,
  startSqsEmulator,
} from '../support/sqs-emulator.js';

const secrets = new FileSecretStore(DEV_SECRETS_FILE);

/**
 * Cases per property: 150 in the test suite; `npm run bench` runs the same properties with 10,000
 * (PAYHOOK_FUZZ_RUNS), and so can anyone: `PAYHOOK_FUZZ_RUNS=100000 npx vitest run test/property`.
 */
const RUNS = Number(process.env.PAYHOOK_FUZZ_RUNS ?? 150);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error('PAYHOOK_FUZZ_RUNS must be a positive integer');

function handlerWith(queue: RecordingQueue, now?: Date) {
  return createIngestHandler(
    {
      adapters: ADAPTERS,
      settings: parseGatewaySettings(undefined),
      secrets,
      queue,
      maxBodyBytes: 262_144,
      ...(now && { now: () => now }),
    },
    recordingLog(),
  );
}

/** Bodies of every kind: JSON that looks right, JSON that does not, any text, any bytes. */
const bodies = fc.oneof(
  fc.json(),
  fc.string({ unit: 'grapheme', maxLength: 300 }),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
  fc.constantFrom('', '{}', '[]', 'null', '{"__proto__":{"x":1}}', '{"notificationItems":[{}]}'),
);

/** Header values that look like signatures of every scheme, and some that look like nothing. */
const signatureLike = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.stringMatching(/^[0-9a-f]{128}$/),
  fc.stringMatching(/^[0-9a-f]{64}$/),
  fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => Buffer.from(bytes).toString('base64')),
  fc
    .tuple(fc.integer({ min: 0, max: 4_000_000_000 }), fc.stringMatching(/^[0-9a-f]{64}$/))
    .map(([t, v]) => `t=${t},v1=${v}`),
  fc
    .uint8Array({ minLength: 32, maxLength: 32 })
    .map((bytes) => `v1,${Buffer.from(bytes).toString('base64')}`),
  fc.constant(String(Math.floor(Date.now() / 1000))),
);

describe.each(GATEWAY_CASES)('Property: $gateway ingest', (gatewayCase) => {
  // The header names this gateway's signer uses, so forged values land where the adapter looks.
  const signatureHeaders = Object.keys(signedSample(gatewayCase).headers).filter(
    (name) => name !== 'content-type',
  );

  it('never throws and never queues anything for requests not signed with the secret', async () => {
    await fc.assert(
      fc.asyncProperty(
        bodies,
        fc.dictionary(fc.constantFrom(...signatureHeaders, 'x-other', 'Content-Type'), signatureLike, {
          maxKeys: 4,
        }),
        fc.boolean(),
        async (body, headers, base64) => {
          const queue = new RecordingQueue();
          const response = await handlerWith(queue)(
            apiGatewayEvent(gatewayCase.gateway, body, headers, { base64 }),
          );
          expect([400, 401]).toContain(response.statusCode);
          expect(queue.isEmpty).toBe(true);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe.each(GATEWAY_CASES.filter((gatewayCase) => !gatewayCase.batched))(
  'Property: $gateway signed bodies',
  (gatewayCase) => {
    it('answers 200 to any validly signed body and queues or parks it, never dropping it', async () => {
      await fc.assert(
        fc.asyncProperty(
          // The empty body included: validly signed, it is parked like any body that cannot be read.
          bodies,
          async (body) => {
            const signed = SIGNERS[gatewayCase.gateway](body, { secret: devSecret(gatewayCase.gateway) });
            const queue = new RecordingQueue();
            const response = await handlerWith(queue)(
              apiGatewayEvent(gatewayCase.gateway, signed.body, { ...signed.headers }),
            );
            expect(response.statusCode).toBe(200);
            expect(queue.events.length + queue.parked.length).toBeGreaterThan(0);
          },
        ),
        { numRuns: RUNS },
      );
    });
  },
);

describe('Property: adyen signed batches', () => {
  const text = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('', 'ORDER-1', 'QFQTPCQ8HXSKGK82'));
  const item = fc.record(
    {
      eventCode: fc.oneof(
        fc.constantFrom('AUTHORISATION', 'CAPTURE', 'REFUND', 'CHARGEBACK', 'CANCELLATION'),
        text,
      ),
      success: fc.constantFrom('true', 'false'),
      pspReference: text,
      originalReference: text,
      merchantAccountCode: text,
      merchantReference: text,
      amount: fc.record({
        value: fc.oneof(fc.integer(), fc.bigInt({ min: 0n, max: 10n ** 25n }).map(Number)),
        currency: fc.oneof(fc.constantFrom('EUR', 'JPY', 'KWD', 'usd'), text),
      }),
      eventDate: fc.oneof(
        fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
        text,
      ),
    },
    { requiredKeys: ['success'] },
  );

  it('answers 200 to any batch whose items are all validly signed, and accounts for every item', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(item, { minLength: 1, maxLength: 5 }),
        fc.constantFrom('true', 'false'),
        async (items, live) => {
          const notification = JSON.stringify({
            live,
            notificationItems: items.map((NotificationRequestItem) => ({ NotificationRequestItem })),
          });
          const signed = SIGNERS.adyen(notification, { secret: devSecret('adyen') });
          const queue = new RecordingQueue();
          const response = await handlerWith(queue)(
            apiGatewayEvent('adyen', signed.body, { ...signed.headers }),
          );
          expect(response.statusCode).toBe(200);
          expect(queue.events.length + queue.parked.length).toBe(items.length);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe.each(['stripe', 'standard'] as const)('Property: %s signature timestamps', (gateway) => {
  // The default tolerance (gateway settings): 300 s either way. The seconds right at the edge are left out.
  const tolerance = 300;
  const gatewayCase = GATEWAY_CASES.find((candidate) => candidate.gateway === gateway);
  if (!gatewayCase) throw new Error(`no gateway case for ${gateway}`);
  const body = signedSample(gatewayCase).body;

  it('accepts a valid signature made within the tolerance and refuses one made outside it, queueing nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.integer({ min: -(tolerance - 1), max: tolerance - 1 }),
          fc.integer({ min: tolerance + 1, max: 10 * 365 * 86_400 }),
          fc.integer({ min: -10 * 365 * 86_400, max: -(tolerance + 1) }),
        ),
        async (offsetSeconds) => {
          const now = new Date('2026-11-24T12:00:00Z');
          const signed = SIGNERS[gateway](body, {
            secret: devSecret(gateway),
            timestamp: new Date(now.getTime() + offsetSeconds * 1000),
          });
          const queue = new RecordingQueue();
          const response = await handlerWith(
            queue,
            now,
          )(apiGatewayEvent(gateway, signed.body, { ...signed.headers }));
          if (Math.abs(offsetSeconds) < tolerance) {
            expect(response.statusCode).toBe(200);
            expect(queue.events.length).toBeGreaterThan(0);
          } else {
            expect(response.statusCode).toBe(401);
            expect(queue.isEmpty).toBe(true);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('Property: every signed byte sequence queues or parks byte-exact on SQS (fauxqs)', () => {
  let sqs: SqsEmulator;
  let pipeline: PipelineQueueUrls;
  let transaction = 900_000;

  beforeAll(async () => {
    sqs = await startSqsEmulator();
    pipeline = await createPipelineQueues(sqs.client, 'property-bytes');
  });

  afterAll(async () => {
    await sqs?.stop();
  });

  /** Any text a payer can type, and what a JSON escape can smuggle in (lone surrogates, U+FFFE, U+FFFF). */
  const anyText = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.constantFrom('\ud800', '\udfff', '\uffff', '\ufffe', '😀', '\u0000', '\u2028', '\ufeff'),
  );

  const signedBodies = fc.oneof(
    // A Paystack payment whose reference and customer name are any text: it normalises and is queued.
    fc.tuple(anyText, anyText).map(([reference, name]) => {
      transaction += 1;
      const sample = JSON.parse(readSample('paystack', 'charge.success')) as {
        data: { id: number; reference: string; customer: { first_name: string } };
      };
      sample.data.id = transaction;
      sample.data.reference = `R${reference}`;
      sample.data.customer.first_name = name;
      return Buffer.from(JSON.stringify(sample), 'utf8');
    }),
    // Any bytes at all (invalid UTF-8 included), a byte-order mark in front or not: parked or queued, never lost.
    fc
      .tuple(fc.boolean(), fc.uint8Array({ minLength: 1, maxLength: 300 }))
      .map(([bom, bytes]) =>
        Buffer.concat([bom ? Buffer.from([0xef, 0xbb, 0xbf]) : Buffer.alloc(0), Buffer.from(bytes)]),
      ),
  );

  it('answers 200 and the exact bytes come back from a queue or the parking DLQ', async () => {
    const handler = createIngestHandler(
      {
        adapters: ADAPTERS,
        settings: parseGatewaySettings(undefined),
        secrets,
        queue: new SqsEventQueue(sqs.client, {
          queues: pipeline.queues,
          parking: pipeline.deadLetterQueues.low,
        }),
        maxBodyBytes: 262_144,
      },
      recordingLog(),
    );
    await fc.assert(
      fc.asyncProperty(signedBodies, async (body) => {
        const headers = {
          'content-type': 'application/json',
          'x-paystack-signature': createHmac('sha512', devSecret('paystack')).update(body).digest('hex'),
        };
        const response = await handler({
          ...apiGatewayEvent('paystack', body.toString('base64'), headers),
          isBase64Encoded: true,
        });
        expect(response.statusCode).toBe(200);
        const contents = await drainAll(sqs.client, pipeline);
        const queued = [...(contents.high ?? []), ...(contents.normal ?? []), ...(contents.low ?? [])].map(
          (message) => Buffer.from(readWebhookEventMessage(message.Body ?? '').payload, 'utf8'),
        );
        const parked = (contents['low-dlq'] ?? []).map((message) => {
          const { payload, payloadEncoding } = JSON.parse(message.Body ?? '{}') as {
            payload: string;
            payloadEncoding: string;
          };
          return Buffer.from(payload, payloadEncoding === 'base64' ? 'base64' : 'utf8');
        });
        expect([...queued, ...parked]).toEqual([body]);
      }),
      { numRuns: Math.min(RUNS, 100) },
    );
  }, 120_000);
});
