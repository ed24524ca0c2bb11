import { randomUUID } from 'node:crypto';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../lambdas/common/aws-clients.js';
import { credentialsFrom } from '../../lambdas/composition/reconciliation.js';
import { METRICS } from '../../lambdas/definitions.js';
import { moneyFromMajor } from '../../lambdas/domain/money.js';
import { awaitingConfirmation, decide } from '../../lambdas/domain/payment.js';
import { applyRegistration, parseRegistration } from '../../lambdas/domain/registration.js';
import type { GatewayName } from '../../lambdas/domain/webhook-event.js';
import {
  DEFAULT_RECONCILE_SETTINGS,
  type ReconcileDependencies,
  reconcile,
} from '../../lambdas/reconciliation/reconcile.js';
import { VERIFIERS } from '../../lambdas/reconciliation/verifiers/index.js';
import { SecretsManagerStore } from '../../lambdas/secrets/secrets-manager-store.js';
import { DynamoPaymentStore } from '../../lambdas/store/dynamodb-payment-store.js';
import { type GatewaySandbox, startGatewaySandbox } from '../../local/gateway-sandbox.js';
import { recordingLog } from '../support/api-gateway.js';
import { type DynamoEmulator, startDynamoEmulator } from '../support/dynamodb-emulator.js';
import { RecordingMetrics, RecordingQueue } from '../support/fakes.js';

// Issue #17, first bullet: the stack creates every gateway's secret as `{"secrets":[]}`. One gateway with a verify API
// left so (or filled in the wrong shape, or its secret unreachable) made every reconciler run fail, and no gateway was
// reconciled. Now the run leaves that gateway alone (its payments wait: neither asked about nor expired), reconciles
// the others, reports, logs and counts the skip once per run.

const HOUR = 3_600_000;
const start = new Date('2030-01-01T00:00:00Z');
const now = new Date(start.getTime() + 30 * HOUR);

const STRIPE_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/stripe-AbCdEf';
const FLUTTERWAVE_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/flutterwave-AbCdEf';
const STRIPE_SECRET = JSON.stringify({
  secrets: ['whsec_MfKQ9r8GKYqrTAjpPBMu4Z7kXvQ2wN8a'],
  apiKey: 'sk_test_51HxQzL2eZvKYlo2C9dWmTq7rB4nPjU',
});
/** In a wrong shape (`secret`, not `secrets`), holding a key that must appear in no log line or metric. */
const FLUTTERWAVE_KEY = 'FLWSECK_TEST-9fQz7LmW2pX4rT8vK1bN';

let dynamo: DynamoEmulator;
let sandbox: GatewaySandbox;
let store: DynamoPaymentStore;
const secretsManager = mockClient(SecretsManagerClient);

beforeAll(async () => {
  dynamo = await startDynamoEmulator();
  sandbox = await startGatewaySandbox();
});

beforeEach(async () => {
  const tables = await dynamo.createTables(`skipped-${randomUUID().slice(0, 8)}`);
  store = new DynamoPaymentStore(createDocumentClient(dynamo.client), {
    tableName: tables.payments,
    historyRetentionDays: 30,
  });
  sandbox.reset();
  secretsManager.reset();
});

afterAll(async () => {
  secretsManager.restore();
  await sandbox?.stop();
  await dynamo?.stop();
});

async function registered(gateway: GatewayName, extra: Record<string, unknown> = {}): Promise<string> {
  const reference = `ORDER-${randomUUID().slice(0, 8)}`;
  const registration = parseRegistration({
    gateway,
    reference,
    amount: '2500.00',
    currency: 'NGN',
    ...extra,
  });
  const { next } = applyRegistration(undefined, registration, start);
  if (!next) throw new Error('no registration');
  await store.save(next);
  return reference;
}

/** A Flutterwave claim awaiting confirmation (a `verif-hash` body), as the consumer records it. */
async function claimed(): Promise<string> {
  const reference = `CLAIM-${randomUUID().slice(0, 8)}`;
  const { next } = decide(
    undefined,
    {
      gateway: 'flutterwave',
      eventId: `payhook:claim:sha256:${reference}`,
      eventType: 'charge.completed',
      kind: 'payment.authorized',
      needsConfirmation: true,
      reference,
      gatewayPaymentId: '9123',
      money: moneyFromMajor('2500.00', 'NGN'),
      mode: 'unknown',
      receivedAt: new Date(now.getTime() - 1000).toISOString(),
      priority: 'high',
      requestId: `request-${reference}`,
      payload: '{}',
    },
    new Date(now.getTime() - 1000),
  );
  if (!next) throw new Error('the claim changed nothing');
  await store.save(next);
  return reference;
}

/** The reconciler as composed for AWS: credentials from Secrets Manager (its client mocked at the boundary). */
function reconciler(flutterwave: { readonly SecretString: string } | Error) {
  secretsManager
    .on(GetSecretValueCommand, { SecretId: STRIPE_ARN })
    .resolves({ SecretString: STRIPE_SECRET });
  const answer = secretsManager.on(GetSecretValueCommand, { SecretId: FLUTTERWAVE_ARN });
  if (flutterwave instanceof Error) answer.rejects(flutterwave);
  else answer.resolves(flutterwave);
  const secrets = new SecretsManagerStore(
    { stripe: STRIPE_ARN, flutterwave: FLUTTERWAVE_ARN },
    { client: new SecretsManagerClient({ region: 'eu-west-1' }) },
  );
  const log = recordingLog();
  const metrics = new RecordingMetrics();
  const queue = new RecordingQueue();
  const deps: ReconcileDependencies = {
    store,
    verifiers: VERIFIERS,
    credentials: credentialsFrom(secrets),
    baseUrls: { stripe: sandbox.url('stripe'), flutterwave: sandbox.url('flutterwave') },
    queue,
    settings: DEFAULT_RECONCILE_SETTINGS,
    now: () => now,
    log,
    metrics,
  };
  return { deps, log, metrics, queue };
}

/** A paid Stripe payment whose webhook was lost, and Flutterwave payments past their expiry, and a claim. */
async function seeded() {
  const intent = `pi_${randomUUID().replaceAll('-', '').slice(0, 20)}`;
  const stripe = await registered('stripe', { gatewayPaymentId: intent });
  sandbox.setPayment('stripe', {
    status: 'succeeded',
    amount: '250000',
    currency: 'ngn',
    id: intent,
    reference: stripe,
  });
  const expired = new Date(start.getTime() + HOUR).toISOString();
  const flutterwave = [
    await registered('flutterwave', { expiresAt: expired }),
    await registered('flutterwave'),
  ];
  return { stripe, flutterwave, claim: await claimed() };
}

const skipLines = (log: ReturnType<typeof recordingLog>) =>
  log.lines.filter(
    (line) => line.level === 'warn' && line.message.startsWith('reconciler skipped a gateway'),
  );

describe('A gateway whose secret is empty, invalid or unreachable is skipped by the reconciler, not the run', () => {
  it.each([
    ['empty, as the stack creates it', { SecretString: '{"secrets":[]}' }, 'no_credentials'],
    [
      'holding signing secrets but no apiKey',
      { SecretString: JSON.stringify({ secrets: [FLUTTERWAVE_KEY] }) },
      'no_credentials',
    ],
    [
      'of the wrong shape',
      { SecretString: JSON.stringify({ secret: FLUTTERWAVE_KEY, apiKey: FLUTTERWAVE_KEY }) },
      'invalid_secret',
    ],
    [
      'unreachable',
      Object.assign(new Error('throttled'), { name: 'ThrottlingException' }),
      'secrets_unavailable',
    ],
  ] as const)(
    'a Flutterwave secret %s: Stripe is settled, Flutterwave left pending, the skip reported once',
    async (_name, secret, reason) => {
      const seed = await seeded();
      for (const run of ['run-1', 'run-2']) {
        const { deps, log, metrics, queue } = reconciler(secret);
        const report = await reconcile(deps, run);
        // The configured gateway is reconciled as usual.
        expect(queue.events.find((event) => event.reference === seed.stripe)).toMatchObject({
          gateway: 'stripe',
          kind: 'payment.succeeded',
        });
        expect(report.checkedByGateway).toEqual({ stripe: 1 });
        // The unconfigured one is neither asked about (pending pass, confirmations pass) nor expired, though past expiry.
        expect(sandbox.requests('flutterwave')).toEqual([]);
        expect(queue.events.filter((event) => event.gateway === 'flutterwave')).toEqual([]);
        expect(report.confirmationsByGateway).toEqual({});
        for (const reference of seed.flutterwave)
          expect((await store.get('flutterwave', reference))?.status).toBe('pending');
        expect(report.skipped).toEqual({ flutterwave: reason });
        // Logged and counted once per run, though both passes had Flutterwave payments to ask about.
        expect(skipLines(log)).toEqual([
          {
            level: 'warn',
            message: expect.any(String),
            fields: expect.objectContaining({ runId: run, gateway: 'flutterwave', reason }),
          },
        ]);
        expect(metrics.added.filter((entry) => entry.name === METRICS.gatewaySkipped.name)).toEqual([
          // The reason is on the warning line, not a dimension: the alarm reads one metric per gateway.
          { name: 'ReconcilerGatewaySkipped', gateway: 'flutterwave', detail: undefined, value: 1 },
        ]);
        expect(metrics.flushes).toBe(1);
        // No part of a secret, nor where it is stored, in what the run logs, reports or counts.
        const out = JSON.stringify([log.lines, metrics.added, report]);
        for (const secretText of [
          FLUTTERWAVE_KEY,
          'whsec_MfKQ9r8G',
          'sk_test_51Hx',
          'AbCdEf',
          '123456789012',
        ])
          expect(out).not.toContain(secretText);
      }
    },
    30_000,
  );

  it('a confirmations-only run skips the gateway too, and says so', async () => {
    const seed = await seeded();
    const { deps, log, metrics } = reconciler({ SecretString: '{"secrets":[]}' });
    const report = await reconcile(deps, 'run-confirmations', 'confirmations');
    expect(report).toMatchObject({ skipped: { flutterwave: 'no_credentials' }, confirmationsByGateway: {} });
    expect(sandbox.requests('flutterwave')).toEqual([]);
    const claim = await store.get('flutterwave', seed.claim);
    expect(claim && awaitingConfirmation(claim)).toBe(true);
    expect(skipLines(log)).toHaveLength(1);
    expect(metrics.total(METRICS.gatewaySkipped)).toBe(1);
  });

  it('once the secret is filled, the same payments are asked about: the claim first', async () => {
    const seed = await seeded();
    await reconcile(reconciler({ SecretString: '{"secrets":[]}' }).deps, 'run-empty');
    const filled = reconciler({
      SecretString: JSON.stringify({ secrets: ['flw-hash-x'], apiKey: FLUTTERWAVE_KEY }),
    });
    const report = await reconcile(filled.deps, 'run-filled');
    expect(report.skipped).toEqual({});
    expect(report.confirmationsByGateway.flutterwave).toBe(1);
    expect(report.checkedByGateway).toMatchObject({ flutterwave: 2 });
    const asked = sandbox
      .requests('flutterwave')
      .map((request) => new URL(request.path, 'http://x').searchParams.get('tx_ref'));
    expect(asked).toEqual(expect.arrayContaining([seed.claim, ...seed.flutterwave]));
    expect(skipLines(filled.log)).toEqual([]);
  });
});
