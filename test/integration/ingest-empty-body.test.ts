import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEV_SECRETS_FILE, devSecret, type SignedWebhook } from '../../events/index.js';
import { MESSAGE_ATTRIBUTES, METRICS } from '../../lambdas/definitions.js';
import type { GatewayName } from '../../lambdas/domain/webhook-event.js';
import { ADAPTERS } from '../../lambdas/gateways/registry.js';
import { parseGatewaySettings } from '../../lambdas/gateways/settings.js';
import { createIngestHandler } from '../../lambdas/intake/api-gateway.js';
import type { IntakeDependencies } from '../../lambdas/intake/receive-webhook.js';
import { SqsEventQueue } from '../../lambdas/intake/sqs-event-queue.js';
import { FileSecretStore } from '../../lambdas/secrets/gateway-secrets.js';
import { apiGatewayEvent, recordingLog } from '../support/api-gateway.js';
import { RecordingMetrics } from '../support/fakes.js';
import { GATEWAY_CASES, signerOf } from '../support/gateway-cases.js';
import {
  attribute,
  createPipelineQueues,
  drainAll,
  type PipelineQueues,
  type SqsEmulator,
  startSqsEmulator,
} from '../support/sqs-emulator.js';

// Issue #15, point 4: an empty body is checked like any other. Validly signed, it is answered 200 and parked (the
// Standard Webhooks reference libraries accept one, and every whole-body HMAC can sign one); unverified, it stays
// 400 `empty_body`.

let sqs: SqsEmulator;
let pipeline: PipelineQueues;

beforeAll(async () => {
  sqs = await startSqsEmulator();
  pipeline = await createPipelineQueues(sqs.client, 'ingest-empty-body');
});

afterAll(async () => {
  await sqs.stop();
});

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

function errorOf(response: APIGatewayProxyStructuredResultV2): string {
  return (JSON.parse(String(response.body)) as { error: string }).error;
}

async function queueCounts(): Promise<Record<string, number>> {
  const contents = await drainAll(sqs.client, pipeline);
  return Object.fromEntries(Object.entries(contents).map(([queue, messages]) => [queue, messages.length]));
}

const NOTHING_QUEUED = { high: 0, normal: 0, low: 0, 'high-dlq': 0, 'normal-dlq': 0, 'low-dlq': 0 };

/** The parked payload's exact bytes, whatever encoding the parking message chose for them. */
function parkedBytes(body: { payload?: unknown; payloadEncoding?: unknown }): Buffer {
  const payload = String(body.payload ?? '');
  return body.payloadEncoding === 'base64' ? Buffer.from(payload, 'base64') : Buffer.from(payload, 'utf8');
}

/** The gateways whose scheme signs the whole body, so an empty one can carry a valid signature. */
const BODY_SIGNING_CASES = GATEWAY_CASES.filter((gatewayCase) => gatewayCase.gateway !== 'adyen');

/** An empty body signed as the gateway would; for Flutterwave, the body-binding `flutterwave-signature` alone. */
function signedEmpty(gateway: GatewayName, secret = devSecret(gateway)): SignedWebhook {
  const signed = signerOf(gateway)('', { secret });
  if (gateway !== 'flutterwave') return signed;
  const { 'verif-hash': _verifHash, ...headers } = signed.headers;
  return { body: signed.body, headers };
}

describe('A validly signed empty body (fauxqs)', () => {
  it.each(BODY_SIGNING_CASES.map((gatewayCase) => [gatewayCase.gateway, gatewayCase.acceptedBody] as const))(
    '%s: answers 200 as the gateway expects and parks it raw on the low-priority DLQ',
    async (gateway, accepted) => {
      const metrics = new RecordingMetrics();
      const log = recordingLog();
      const signed = signedEmpty(gateway);
      expect(signed.body).toBe('');
      const response = await createIngestHandler(
        dependencies({ metrics }),
        log,
      )(apiGatewayEvent(gateway, signed.body, { ...signed.headers, 'user-agent': 'gateway' }));

      expect(response.statusCode).toBe(200);
      expect(response.body).toBe(accepted);
      const contents = await drainAll(sqs.client, pipeline);
      expect([contents.high, contents.normal, contents.low].map((messages) => messages?.length)).toEqual([
        0, 0, 0,
      ]);
      expect(contents['low-dlq']).toHaveLength(1);
      const parked = contents['low-dlq']?.[0];
      if (!parked) throw new Error('nothing parked');
      expect(attribute(parked, MESSAGE_ATTRIBUTES.errorClass)).toBe('unparseable_payload');
      expect(attribute(parked, MESSAGE_ATTRIBUTES.gateway)).toBe(gateway);
      const parkedBody = JSON.parse(String(parked.Body)) as Record<string, unknown>;
      expect(parkedBody).toMatchObject({
        messageType: 'unparseable-webhook',
        gateway,
        errorClass: 'unparseable_payload',
        headers: { 'user-agent': 'gateway' },
      });
      expect(parkedBody.errorMessage).toMatch(/empty/);
      expect(parkedBytes(parkedBody).length).toBe(0);
      expect(metrics.total(METRICS.webhookRequests, 'accepted')).toBe(1);
      // The request's one line is its metrics line: nothing queued, one parked, no body.
      expect(log.lines).toEqual([]);
      expect(metrics.annotated).toEqual([
        expect.objectContaining({ message: 'webhook accepted', parked: 1, bodyBytes: 0, eventIds: [] }),
      ]);
    },
  );

  it('also when API Gateway leaves the body out altogether, rather than sending an empty string', async () => {
    const signed = signedEmpty('stripe');
    const response = await createIngestHandler(
      dependencies(),
      recordingLog(),
    )(apiGatewayEvent('stripe', undefined, { ...signed.headers }));
    expect(response.statusCode).toBe(200);
    expect(await queueCounts()).toEqual({ ...NOTHING_QUEUED, 'low-dlq': 1 });
  });

  it('Flutterwave: a correct flutterwave-signature decides, whatever verif-hash says beside it', async () => {
    const signed = signerOf('flutterwave')('', { secret: devSecret('flutterwave') });
    const response = await createIngestHandler(
      dependencies(),
      recordingLog(),
    )(apiGatewayEvent('flutterwave', '', { ...signed.headers, 'verif-hash': 'not-the-secret-hash' }));
    expect(response.statusCode).toBe(200);
    expect(await queueCounts()).toEqual({ ...NOTHING_QUEUED, 'low-dlq': 1 });
  });
});

describe('An empty body that does not verify stays 400 empty_body, and nothing is queued (fauxqs)', () => {
  const cases: [string, GatewayName, () => SignedWebhook][] = [
    ...BODY_SIGNING_CASES.flatMap((gatewayCase): [string, GatewayName, () => SignedWebhook][] => [
      [
        `${gatewayCase.gateway}: signed with another secret`,
        gatewayCase.gateway,
        () => signedEmpty(gatewayCase.gateway, gatewayCase.otherSecret()),
      ],
      [
        `${gatewayCase.gateway}: no signature at all`,
        gatewayCase.gateway,
        () =>
          gatewayCase.unsign(signerOf(gatewayCase.gateway)('', { secret: devSecret(gatewayCase.gateway) })),
      ],
      [
        `${gatewayCase.gateway}: a malformed signature`,
        gatewayCase.gateway,
        () => ({
          body: '',
          headers: Object.fromEntries(
            Object.entries(signedEmpty(gatewayCase.gateway).headers).map(([name, value]) => [
              name,
              name === 'content-type' || name.endsWith('-id') || name.endsWith('-timestamp') ? value : 'x',
            ]),
          ),
        }),
      ],
    ]),
    [
      'flutterwave: the correct verif-hash alone (it binds no body)',
      'flutterwave',
      () => ({ body: '', headers: { 'verif-hash': devSecret('flutterwave') } }),
    ],
    [
      'flutterwave: the correct verif-hash beside a wrong flutterwave-signature',
      'flutterwave',
      () => ({
        body: '',
        headers: {
          'verif-hash': devSecret('flutterwave'),
          'flutterwave-signature': signedEmpty('flutterwave', 'another-secret-hash').headers[
            'flutterwave-signature'
          ] as string,
        },
      }),
    ],
    [
      'stripe: a correct signature from an hour ago',
      'stripe',
      () =>
        signerOf('stripe')('', { secret: devSecret('stripe'), timestamp: new Date(Date.now() - 3_600_000) }),
    ],
    // Adyen signs inside each notification item: an empty body can never carry a signature.
    [
      'adyen: no body, whatever the headers',
      'adyen',
      () => ({ body: '', headers: { 'content-type': 'application/json' } }),
    ],
  ];

  it.each(cases)('%s', async (_name, gateway, build) => {
    const signed = build();
    expect(signed.body).toBe('');
    const metrics = new RecordingMetrics();
    const response = await createIngestHandler(
      dependencies({ metrics }),
      recordingLog(),
    )(apiGatewayEvent(gateway, signed.body, { ...signed.headers }));
    expect([response.statusCode, errorOf(response)]).toEqual([400, 'empty_body']);
    expect(metrics.total(METRICS.webhookRequests, 'empty_body')).toBe(1);
    expect(await queueCounts()).toEqual(NOTHING_QUEUED);
  });

  it('Flutterwave with verif-hash as its only accepted scheme: the correct verif-hash alone is still 400', async () => {
    const response = await createIngestHandler(
      dependencies({ settings: parseGatewaySettings('{"flutterwave":{"schemes":["verif-hash"]}}') }),
      recordingLog(),
    )(apiGatewayEvent('flutterwave', '', { 'verif-hash': devSecret('flutterwave') }));
    expect([response.statusCode, errorOf(response)]).toEqual([400, 'empty_body']);
    expect(await queueCounts()).toEqual(NOTHING_QUEUED);
  });
});
