import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEV_SECRETS_FILE, devSecret, SIGNERS } from '../../events/index.js';
import { ADAPTERS } from '../../lambdas/gateways/registry.js';
import { parseGatewaySettings } from '../../lambdas/gateways/settings.js';
import { createIngestHandler } from '../../lambdas/intake/api-gateway.js';
import { FileSecretStore } from '../../lambdas/secrets/gateway-secrets.js';
import { apiGatewayEvent, recordingLog } from '../support/api-gateway.js';
import { RecordingQueue } from '../support/fakes.js';
import { GATEWAY_CASES, signedSample } from '../support/gateway-cases.js';

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
          bodies.filter((body) => body.length > 0),
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
