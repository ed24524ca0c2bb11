import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEV_SECRETS_FILE, devSecret, readSample } from '../../events/index.js';
import { MESSAGE_ATTRIBUTES, METRICS, PRIORITIES } from '../../lambdas/definitions.js';
import { ADAPTERS } from '../../lambdas/gateways/registry.js';
import { parseGatewaySettings } from '../../lambdas/gateways/settings.js';
import { createIngestHandler } from '../../lambdas/intake/api-gateway.js';
import type { IntakeDependencies } from '../../lambdas/intake/receive-webhook.js';
import { SqsEventQueue } from '../../lambdas/intake/sqs-event-queue.js';
import { readWebhookEventMessage } from '../../lambdas/messages/webhook-event-message.js';
import { FileSecretStore } from '../../lambdas/secrets/gateway-secrets.js';
import { apiGatewayEvent, recordingLog } from '../support/api-gateway.js';
import { RecordingMetrics } from '../support/fakes.js';
import { GATEWAY_CASES, signedSample, signerOf } from '../support/gateway-cases.js';
import {
  attribute,
  createPipelineQueues,
  drainAll,
  type PipelineQueues,
  type SqsEmulator,
  startSqsEmulator,
} from '../support/sqs-emulator.js';

let sqs: SqsEmulator;
let pipeline: PipelineQueues;
const scratch = mkdtempSync(join(tmpdir(), 'payhook-ingest-'));

beforeAll(async () => {
  sqs = await startSqsEmulator();
  pipeline = await createPipelineQueues(sqs.client, 'ingest-test');
});

afterAll(async () => {
  await sqs.stop();
});

// Every test starts with empty queues, and what a test left behind is checked by the test itself.
afterEach(async () => {
  await drainAll(sqs.client, pipeline);
});

function dependencies(overrides: Partial<IntakeDependencies> = {}): IntakeDependencies {
  return {
    adapters: ADAPTERS,
    settings: parseGatewaySettings(undefined),
    secrets: new FileSecretStore(DEV_SECRETS_FILE),
    queue: new SqsEventQueue(sqs.client, { queues: pipeline.queues, parking: pipeline.deadLetterQueues.low }),
    maxBodyBytes: 256 * 1024,
    ...overrides,
  };
}

function secretsFileWith(gateway: string, secrets: string[]): string {
  const all = JSON.parse(readFileSync(DEV_SECRETS_FILE, 'utf8')) as Record<string, unknown>;
  const path = join(
    scratch,
    `secrets-${gateway}-${secrets.length}-${Math.random().toString(36).slice(2)}.json`,
  );
  writeFileSync(path, JSON.stringify({ ...all, [gateway]: { secrets } }));
  return path;
}

function errorOf(response: APIGatewayProxyStructuredResultV2): string {
  return (JSON.parse(String(response.body)) as { error: string }).error;
}

async function expectNothingQueued(): Promise<void> {
  const contents = await drainAll(sqs.client, pipeline);
  const counts = Object.fromEntries(
    Object.entries(contents).map(([queue, messages]) => [queue, messages.length]),
  );
  expect(counts).toEqual(
    Object.fromEntries(
      PRIORITIES.flatMap((priority) => [
        [priority, 0],
        [`${priority}-dlq`, 0],
      ]),
    ),
  );
}

describe('Ingest handler against SQS (fauxqs)', () => {
  describe.each(GATEWAY_CASES)('$gateway', (gatewayCase) => {
    const handler = () => createIngestHandler(dependencies(), recordingLog());
    const send = (signed: { body: string; headers: Readonly<Record<string, string>> }, base64 = false) =>
      handler()(apiGatewayEvent(gatewayCase.gateway, signed.body, { ...signed.headers }, { base64 }));

    it('queues a valid webhook on its priority queue with routing attributes, and answers as the gateway expects', async () => {
      const response = await send(signedSample(gatewayCase));
      expect(response.statusCode).toBe(200);
      expect(response.body).toBe(gatewayCase.acceptedBody);
      const contents = await drainAll(sqs.client, pipeline);
      const landed = contents[gatewayCase.priority] ?? [];
      expect(landed).toHaveLength(gatewayCase.events);
      const message = landed[0];
      if (!message) throw new Error('no message');
      const event = readWebhookEventMessage(String(message.Body));
      expect(event.gateway).toBe(gatewayCase.gateway);
      expect(attribute(message, MESSAGE_ATTRIBUTES.gateway)).toBe(gatewayCase.gateway);
      expect(attribute(message, MESSAGE_ATTRIBUTES.eventId)).toBe(event.eventId);
      expect(attribute(message, MESSAGE_ATTRIBUTES.eventType)).toBe(event.eventType);
      expect(attribute(message, MESSAGE_ATTRIBUTES.priority)).toBe(gatewayCase.priority);
      const elsewhere = Object.entries(contents).filter(
        ([queue, messages]) => queue !== gatewayCase.priority && messages.length > 0,
      );
      expect(elsewhere).toEqual([]);
    });

    it('verifies a base64-encoded body over its decoded bytes and queues the original text', async () => {
      const signed = signedSample(gatewayCase);
      const response = await send(signed, true);
      expect(response.statusCode).toBe(200);
      const landed = (await drainAll(sqs.client, pipeline))[gatewayCase.priority] ?? [];
      expect(landed).toHaveLength(gatewayCase.events);
      if (!gatewayCase.batched) {
        expect(readWebhookEventMessage(String(landed[0]?.Body)).payload).toBe(signed.body);
      }
    });

    it('matches signature headers whatever their case', async () => {
      const signed = signedSample(gatewayCase);
      const shouting = Object.fromEntries(
        Object.entries(signed.headers).map(([name, value]) => [name.toUpperCase(), value]),
      );
      const response = await send({ body: signed.body, headers: shouting });
      expect(response.statusCode).toBe(200);
    });

    it('accepts a webhook signed with the previous secret while a rotation is under way', async () => {
      const rotated = secretsFileWith(gatewayCase.gateway, [
        gatewayCase.otherSecret(),
        devSecret(gatewayCase.gateway),
      ]);
      const rotating = createIngestHandler(
        dependencies({ secrets: new FileSecretStore(rotated) }),
        recordingLog(),
      );
      const signed = signedSample(gatewayCase);
      const response = await rotating(
        apiGatewayEvent(gatewayCase.gateway, signed.body, { ...signed.headers }),
      );
      expect(response.statusCode).toBe(200);
    });

    it.each([
      [
        'a tampered body',
        () => {
          const signed = signedSample(gatewayCase);
          const tampered = gatewayCase.tamper(signed.body);
          expect(tampered).not.toBe(signed.body);
          // Flutterwave's verif-hash binds no body: beside it, a tampered body is an unverified claim (tested apart).
          const { 'verif-hash': _verifHash, ...headers } = signed.headers;
          return {
            body: tampered,
            headers: gatewayCase.gateway === 'flutterwave' ? headers : signed.headers,
          };
        },
        401,
        'invalid_signature',
      ],
      [
        'a signature made with another secret',
        () => signedSample(gatewayCase, { secret: gatewayCase.otherSecret() }),
        401,
        'invalid_signature',
      ],
      ['no signature', () => gatewayCase.unsign(signedSample(gatewayCase)), 401, 'missing_signature'],
      ['an empty body', () => ({ ...signedSample(gatewayCase), body: '' }), 400, 'empty_body'],
    ])('refuses %s and queues nothing', async (_name, build, status, reason) => {
      const response = await send(build());
      expect(response.statusCode).toBe(status);
      expect(errorOf(response)).toBe(reason);
      await expectNothingQueued();
    });
  });

  it('queues a tampered Flutterwave body beside a correct verif-hash only as an inert claim, under its own id', async () => {
    const flutterwaveCase = GATEWAY_CASES.find((gatewayCase) => gatewayCase.gateway === 'flutterwave');
    if (!flutterwaveCase) throw new Error('no flutterwave case');
    const signed = signedSample(flutterwaveCase);
    const body = flutterwaveCase.tamper(signed.body);
    const handler = createIngestHandler(dependencies(), recordingLog());
    const response = await handler(apiGatewayEvent('flutterwave', body, { ...signed.headers }));
    expect(response.statusCode).toBe(200);
    const contents = await drainAll(sqs.client, pipeline);
    const landed = Object.values(contents).flat();
    expect(landed).toHaveLength(1);
    const claim = readWebhookEventMessage(String(landed[0]?.Body));
    expect(claim).toMatchObject({ kind: 'payment.authorized', needsConfirmation: true });
    expect(claim.eventId).toMatch(/^payhook:claim:/);
    expect(claim.factId).toBeUndefined();
    expect(claim.gatewayPaymentId).toBeUndefined();
  });

  describe.each(GATEWAY_CASES.filter((gatewayCase) => gatewayCase.signsTimestamp))(
    '$gateway timestamps',
    (gatewayCase) => {
      it.each([
        ['stale', -301],
        ['future', 301],
      ])(
        'refuses a %s timestamp beyond the 300 s tolerance and queues nothing',
        async (_name, offsetSeconds) => {
          const signed = signedSample(gatewayCase, {
            timestamp: new Date(Date.now() + offsetSeconds * 1000),
          });
          const response = await createIngestHandler(
            dependencies(),
            recordingLog(),
          )(apiGatewayEvent(gatewayCase.gateway, signed.body, { ...signed.headers }));
          expect(response.statusCode).toBe(401);
          expect(errorOf(response)).toBe('timestamp_out_of_tolerance');
          await expectNothingQueued();
        },
      );

      it('accepts a timestamp just inside the tolerance', async () => {
        const signed = signedSample(gatewayCase, { timestamp: new Date(Date.now() - 290_000) });
        const response = await createIngestHandler(
          dependencies(),
          recordingLog(),
        )(apiGatewayEvent(gatewayCase.gateway, signed.body, { ...signed.headers }));
        expect(response.statusCode).toBe(200);
      });
    },
  );

  describe('adyen batches', () => {
    const sign = (payload: string) => signerOf('adyen')(payload, { secret: devSecret('adyen') });

    it('queues each item of a batch on its own priority queue', async () => {
      const signed = sign(readSample('adyen', 'batch'));
      const response = await createIngestHandler(
        dependencies(),
        recordingLog(),
      )(apiGatewayEvent('adyen', signed.body, { ...signed.headers }));
      expect([response.statusCode, response.body]).toEqual([200, '[accepted]']);
      const contents = await drainAll(sqs.client, pipeline);
      const types = (queue: string) =>
        (contents[queue] ?? []).map((message) => attribute(message, MESSAGE_ATTRIBUTES.eventType)).sort();
      expect(types('high')).toEqual(['AUTHORISATION', 'NOTIFICATION_OF_CHARGEBACK']);
      expect(types('normal')).toEqual(['REFUND']);
      expect(types('low')).toEqual([]);
    });

    it('refuses the whole batch, queueing nothing, when one item among good ones fails verification', async () => {
      const signed = sign(readSample('adyen', 'batch'));
      const notification = JSON.parse(signed.body) as {
        notificationItems: { NotificationRequestItem: { additionalData: { hmacSignature: string } } }[];
      };
      const [first, second] = notification.notificationItems;
      if (!first || !second) throw new Error('batch sample needs two items');
      // A genuine signature, but of another item.
      second.NotificationRequestItem.additionalData.hmacSignature =
        first.NotificationRequestItem.additionalData.hmacSignature;
      const response = await createIngestHandler(
        dependencies(),
        recordingLog(),
      )(apiGatewayEvent('adyen', JSON.stringify(notification), { ...signed.headers }));
      expect([response.statusCode, errorOf(response)]).toEqual([401, 'invalid_signature']);
      expect(String(response.body)).toContain('notificationItems[1]');
      await expectNothingQueued();
    });
  });

  describe('answers that do not depend on the gateway', () => {
    const paystack = GATEWAY_CASES.find((gatewayCase) => gatewayCase.gateway === 'paystack');
    if (!paystack) throw new Error('paystack case missing');

    it('answers 404 for an unknown gateway and for a disabled one', async () => {
      const signed = signedSample(paystack);
      const handler = createIngestHandler(
        dependencies({ settings: parseGatewaySettings('{"enabled":["stripe"]}') }),
        recordingLog(),
      );
      const unknown = await handler(apiGatewayEvent('paypal', signed.body, { ...signed.headers }));
      expect([unknown.statusCode, errorOf(unknown)]).toEqual([404, 'unknown_gateway']);
      const disabled = await handler(apiGatewayEvent('paystack', signed.body, { ...signed.headers }));
      expect([disabled.statusCode, errorOf(disabled)]).toEqual([404, 'gateway_disabled']);
      await expectNothingQueued();
    });

    it('counts every request by gateway and outcome (accepted, refusal or failure reason), with size and time to queue', async () => {
      const metrics = new RecordingMetrics();
      const signed = signedSample(paystack);
      const missing = `${pipeline.queues.high}-does-not-exist`;
      const handler = createIngestHandler(dependencies({ metrics }), recordingLog());
      await handler(apiGatewayEvent('paystack', signed.body, { ...signed.headers }));
      await handler(
        apiGatewayEvent('paystack', signed.body, {
          ...signed.headers,
          'x-paystack-signature': 'f'.repeat(128),
        }),
      );
      // No signature at all: a scanner, not a failing signature.
      const { 'x-paystack-signature': _signature, ...unsigned } = signed.headers;
      await handler(apiGatewayEvent('paystack', signed.body, unsigned));
      await handler(apiGatewayEvent('paypal', signed.body, { ...signed.headers }));
      await createIngestHandler(
        dependencies({
          metrics,
          queue: new SqsEventQueue(sqs.client, {
            queues: { high: missing, normal: missing, low: missing },
            parking: missing,
          }),
        }),
        recordingLog(),
      )(apiGatewayEvent('paystack', signed.body, { ...signed.headers }));
      expect(
        metrics.added
          .filter((entry) => entry.name === METRICS.webhookRequests.name)
          .map(({ gateway, detail, value }) => [gateway, detail, value]),
      ).toEqual([
        ['paystack', 'accepted', 1],
        ['paystack', 'invalid_signature', 1],
        ['paystack', 'missing_signature', 1],
        ['paypal', 'unknown_gateway', 1],
        ['paystack', 'queue_unavailable', 1],
      ]);
      // The failing signature, and only it, is counted once more as the one metric its alarm reads.
      expect(
        metrics.added
          .filter((entry) => entry.name === METRICS.signatureFailures.name)
          .map(({ gateway, detail, value }) => [gateway, detail, value]),
      ).toEqual([['paystack', undefined, 1]]);
      // Size and time to queue are log fields, not metrics (issue #20: each would be a metric billed monthly).
      expect(new Set(metrics.added.map((entry) => entry.name))).toEqual(
        new Set([METRICS.webhookRequests.name, METRICS.signatureFailures.name]),
      );
      expect(metrics.flushes).toBe(5);
    });

    it('answers 413 for a body over the limit, before and after base64 decoding, and queues nothing', async () => {
      const signed = signedSample(paystack);
      const handler = createIngestHandler(
        dependencies({ maxBodyBytes: signed.body.length - 1 }),
        recordingLog(),
      );
      for (const base64 of [false, true]) {
        const response = await handler(
          apiGatewayEvent('paystack', signed.body, { ...signed.headers }, { base64 }),
        );
        expect([response.statusCode, errorOf(response)]).toEqual([413, 'payload_too_large']);
      }
      await expectNothingQueued();
    });

    it('answers 405 to anything but POST', async () => {
      const signed = signedSample(paystack);
      const handler = createIngestHandler(dependencies(), recordingLog());
      const response = await handler(
        apiGatewayEvent('paystack', signed.body, { ...signed.headers }, { method: 'GET' }),
      );
      expect([response.statusCode, errorOf(response), response.headers?.allow]).toEqual([
        405,
        'method_not_allowed',
        'POST',
      ]);
    });

    it("logs Razorpay's unsigned x-razorpay-event-id as a log field only, beside the event id from the signed body", async () => {
      const razorpay = GATEWAY_CASES.find((gatewayCase) => gatewayCase.gateway === 'razorpay');
      if (!razorpay) throw new Error('no razorpay case');
      const signed = signedSample(razorpay);
      const log = recordingLog();
      const response = await createIngestHandler(
        dependencies(),
        log,
      )(
        apiGatewayEvent('razorpay', signed.body, {
          ...signed.headers,
          'x-razorpay-event-id': 'evt_delivery_42',
        }),
      );
      expect(response.statusCode).toBe(200);
      const accepted = log.lines.find((line) => line.message === 'webhook accepted');
      expect(accepted?.fields.unsignedDeliveryId).toBe('evt_delivery_42');
      expect(accepted?.fields.eventIds).not.toContain('evt_delivery_42');
      // What the WebhookBodyBytes and TimeToQueue metrics were, as fields of the line.
      expect(accepted?.fields.bodyBytes).toBe(Buffer.byteLength(signed.body));
      expect(accepted?.fields.timeToQueueMs).toEqual(expect.any(Number));
      expect(accepted?.fields.timeToQueueMs as number).toBeGreaterThanOrEqual(0);
    });

    it('answers 503 with retry-after when the queue is unavailable, so the gateway retries', async () => {
      const missing = `${pipeline.queues.high}-does-not-exist`;
      const broken = new SqsEventQueue(sqs.client, {
        queues: { high: missing, normal: missing, low: missing },
        parking: missing,
      });
      const log = recordingLog();
      const response = await createIngestHandler(
        dependencies({ queue: broken }),
        log,
      )(apiGatewayEvent('paystack', signedSample(paystack).body, { ...signedSample(paystack).headers }));
      expect([response.statusCode, errorOf(response), response.headers?.['retry-after']]).toEqual([
        503,
        'queue_unavailable',
        '30',
      ]);
      expect(log.lines).toMatchObject([
        { level: 'error', fields: { reason: 'queue_unavailable', status: 503 } },
      ]);
    });

    it('answers 503 in time, rather than hanging, when SQS accepts connections but never answers', async () => {
      const { createServer } = await import('node:net');
      const { createSqsClient } = await import('../../lambdas/composition/clients.js');
      const sockets: import('node:net').Socket[] = [];
      const blackhole = createServer((socket) => sockets.push(socket));
      await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
      const address = blackhole.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      const client = createSqsClient('ingest', { AWS_ENDPOINT_URL_SQS: `http://127.0.0.1:${port}` });
      const url = `http://127.0.0.1:${port}/000000000000/payhook-high`;
      const stuck = new SqsEventQueue(client, { queues: { high: url, normal: url, low: url }, parking: url });
      try {
        const signed = signedSample(paystack);
        const response = await createIngestHandler(
          dependencies({ queue: stuck }),
          recordingLog(),
        )(apiGatewayEvent('paystack', signed.body, { ...signed.headers }));
        expect([response.statusCode, errorOf(response)]).toEqual([503, 'queue_unavailable']);
      } finally {
        client.destroy();
        for (const socket of sockets) socket.destroy();
        blackhole.close();
      }
    });

    it('parks a validly signed but unparseable body, raw, on the low-priority DLQ and answers 200', async () => {
      const body = '{"event":"charge.success","data": not json';
      const signed = {
        body,
        headers: { 'x-paystack-signature': signedSample(paystack, {}).headers['x-paystack-signature'] ?? '' },
      };
      // Re-sign the broken body properly with the development secret.
      const { signPaystack } = await import('../../events/paystack/sign.js');
      const resigned = signPaystack(body, { secret: devSecret('paystack') });
      const response = await createIngestHandler(
        dependencies(),
        recordingLog(),
      )(apiGatewayEvent('paystack', resigned.body, { ...resigned.headers, 'user-agent': 'Paystack' }));
      expect(signed.headers['x-paystack-signature']).not.toBe(resigned.headers['x-paystack-signature']);
      expect(response.statusCode).toBe(200);
      const contents = await drainAll(sqs.client, pipeline);
      expect(contents['low-dlq']).toHaveLength(1);
      const parked = contents['low-dlq']?.[0];
      if (!parked) throw new Error('nothing parked');
      expect(attribute(parked, MESSAGE_ATTRIBUTES.errorClass)).toBe('unparseable_payload');
      expect(attribute(parked, MESSAGE_ATTRIBUTES.gateway)).toBe('paystack');
      const parkedBody = JSON.parse(String(parked.Body)) as Record<string, unknown>;
      expect(parkedBody).toMatchObject({
        messageType: 'unparseable-webhook',
        gateway: 'paystack',
        errorClass: 'unparseable_payload',
        payload: body,
        payloadEncoding: 'utf8',
        headers: { 'user-agent': 'Paystack' },
      });
      // The signature is never kept with a parked webhook.
      expect(JSON.stringify(parkedBody)).not.toContain(resigned.headers['x-paystack-signature']);
      expect([contents.high, contents.normal, contents.low].map((messages) => messages?.length)).toEqual([
        0, 0, 0,
      ]);
    });

    it('queues a Paystack event whose data is an array (subscription.expiring_cards) as an event naming no payment, not parked', async () => {
      const signed = signedSample(paystack, { sample: 'subscription.expiring_cards' });
      const response = await createIngestHandler(
        dependencies(),
        recordingLog(),
      )(apiGatewayEvent('paystack', signed.body, { ...signed.headers }));
      expect(response.statusCode).toBe(200);
      const contents = await drainAll(sqs.client, pipeline);
      expect(
        Object.fromEntries(Object.entries(contents).map(([queue, messages]) => [queue, messages.length])),
      ).toMatchObject({ low: 1, 'low-dlq': 0, high: 0, normal: 0 });
      const event = readWebhookEventMessage(String(contents.low?.[0]?.Body));
      expect(event).toMatchObject({
        gateway: 'paystack',
        eventType: 'subscription.expiring_cards',
        kind: 'other',
        mode: 'unknown',
        payload: signed.body,
      });
      // Nothing in it names a payment; its id is the digest of the exact body, so a retry collapses into it.
      expect(event.eventId).toBe(`sha256:${createHash('sha256').update(signed.body).digest('hex')}`);
      expect([event.reference, event.gatewayPaymentId, event.money]).toEqual([
        undefined,
        undefined,
        undefined,
      ]);
    });

    it('parks a validly signed body that is not UTF-8 as base64 of its exact bytes', async () => {
      const bytes = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
      const { createHmac } = await import('node:crypto');
      const signature = createHmac('sha512', devSecret('paystack')).update(bytes).digest('hex');
      const event = apiGatewayEvent('paystack', undefined, { 'x-paystack-signature': signature });
      const response = await createIngestHandler(
        dependencies(),
        recordingLog(),
      )({
        ...event,
        body: bytes.toString('base64'),
        isBase64Encoded: true,
      });
      expect(response.statusCode).toBe(200);
      const parked = (await drainAll(sqs.client, pipeline))['low-dlq']?.[0];
      const parkedBody = JSON.parse(String(parked?.Body)) as { payload: string; payloadEncoding: string };
      expect(parkedBody.payloadEncoding).toBe('base64');
      expect(Buffer.from(parkedBody.payload, 'base64').equals(bytes)).toBe(true);
    });

    it('refuses test-mode events with 403 when the deployment does not accept them, and queues nothing', async () => {
      const handler = createIngestHandler(
        dependencies({ settings: parseGatewaySettings('{"acceptTestMode":false}') }),
        recordingLog(),
      );
      const signed = signedSample(paystack);
      const response = await handler(apiGatewayEvent('paystack', signed.body, { ...signed.headers }));
      expect([response.statusCode, errorOf(response)]).toEqual([403, 'test_mode_not_accepted']);
      await expectNothingQueued();
    });

    it('logs one line per request with outcome and reason, and never the secret, the signature or the payload', async () => {
      const log = recordingLog();
      const handler = createIngestHandler(dependencies(), log);
      const good = signedSample(paystack);
      const bad = signedSample(paystack, { secret: paystack.otherSecret() });
      await handler(apiGatewayEvent('paystack', good.body, { ...good.headers }));
      await handler(apiGatewayEvent('paystack', bad.body, { ...bad.headers }));
      expect(log.lines).toMatchObject([
        {
          level: 'info',
          fields: {
            gateway: 'paystack',
            outcome: 'accepted',
            status: 200,
            eventIds: ['charge.success:302961'],
          },
        },
        {
          level: 'warn',
          fields: { gateway: 'paystack', outcome: 'refused', status: 401, reason: 'invalid_signature' },
        },
      ]);
      const written = JSON.stringify(log.lines);
      for (const secretText of [
        devSecret('paystack'),
        good.headers['x-paystack-signature'],
        bad.headers['x-paystack-signature'],
        'ada@example.com',
        '539999',
      ]) {
        expect(written).not.toContain(secretText);
      }
    });
  });
});
