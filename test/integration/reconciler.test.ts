import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../lambdas/common/aws-clients.js';
import { METRICS } from '../../lambdas/definitions.js';
import { moneyFromMajor } from '../../lambdas/domain/money.js';
import type { PaymentEvent, PaymentEventPublisher } from '../../lambdas/domain/payment-event.js';
import { parseRegistration } from '../../lambdas/domain/registration.js';
import type { GatewayName } from '../../lambdas/domain/webhook-event.js';
import {
  checkPayment,
  DEFAULT_RECONCILE_SETTINGS,
  type ReconcileDependencies,
  reconcile,
} from '../../lambdas/reconciliation/reconcile.js';
import { registerPayment } from '../../lambdas/reconciliation/register.js';
import {
  type GatewayVerifier,
  VerifyMalformedError,
  type VerifyResult,
  VerifyUnavailableError,
} from '../../lambdas/reconciliation/verify.js';
import { DynamoPaymentStore } from '../../lambdas/store/dynamodb-payment-store.js';
import { recordingLog } from '../support/api-gateway.js';
import { type DynamoEmulator, startDynamoEmulator } from '../support/dynamodb-emulator.js';
import { RecordingMetrics, RecordingQueue } from '../support/fakes.js';

let dynamo: DynamoEmulator;
let store: DynamoPaymentStore;
const HOUR = 3_600_000;

beforeAll(async () => {
  dynamo = await startDynamoEmulator();
});

// Each test reconciles its own table: the pending index is shared state, and a run looks at all of it.
beforeEach(async () => {
  const tables = await dynamo.createTables(`reconciler-${randomUUID().slice(0, 8)}`);
  store = new DynamoPaymentStore(createDocumentClient(dynamo.client), {
    tableName: tables.payments,
    historyRetentionDays: 30,
  });
});

afterAll(async () => {
  await dynamo?.stop();
});

/** A verifier whose answers the test scripts per reference, counting calls. */
function scriptedVerifier(gateway: GatewayName, answer: (reference: string) => VerifyResult | Error) {
  const calls: string[] = [];
  const verifier: GatewayVerifier = {
    gateway,
    defaultBaseUrl: 'https://example.invalid',
    async verify(target) {
      const key = target.reference ?? target.gatewayPaymentId ?? '';
      calls.push(key);
      const result = answer(key);
      if (result instanceof Error) throw result;
      return result;
    },
  };
  return { verifier, calls };
}

/** What registrations announced: nothing, for a payment whose money has not arrived. */
const registrationEvents: PaymentEvent[] = [];
const registrationPublisher: PaymentEventPublisher = {
  async publish(event) {
    registrationEvents.push(event);
  },
};

async function registered(gateway: GatewayName, at: Date, extra: Record<string, unknown> = {}) {
  const reference = `ORDER-${randomUUID().slice(0, 8)}`;
  await registerPayment(
    store,
    registrationPublisher,
    parseRegistration({ gateway, reference, amount: '2500.00', currency: 'NGN', ...extra }),
    at,
  );
  expect(registrationEvents).toEqual([]);
  return reference;
}

function deps(
  overrides: Partial<ReconcileDependencies>,
  now: Date,
): ReconcileDependencies & { queue: RecordingQueue } {
  return {
    store,
    verifiers: {},
    credentials: async () => ({ apiKey: 'sk_test_x' }),
    baseUrls: {},
    queue: new RecordingQueue(),
    settings: DEFAULT_RECONCILE_SETTINGS,
    now: () => now,
    log: recordingLog(),
    ...overrides,
  } as ReconcileDependencies & { queue: RecordingQueue };
}

describe('Reconciler against DynamoDB (dynalite)', () => {
  it('queues a succeeded event for a payment the gateway says is paid, with a deterministic id', async () => {
    const start = new Date('2030-01-01T10:00:00Z');
    const reference = await registered('paystack', start);
    const { verifier, calls } = scriptedVerifier('paystack', () => ({
      status: 'succeeded',
      gatewayStatus: 'success',
      money: moneyFromMajor('2500.00', 'NGN'),
      gatewayPaymentId: '302961',
      factId: '302961',
    }));
    const run = deps({ verifiers: { paystack: verifier } }, new Date(start.getTime() + HOUR));
    const report = await reconcile(run, 'run-1');
    expect(calls).toContain(reference);
    const event = run.queue.events.find((queued) => queued.reference === reference);
    expect(event).toMatchObject({
      gateway: 'paystack',
      eventId: `reconciler:${reference}:payment.succeeded`,
      kind: 'payment.succeeded',
      priority: 'high',
      eventType: 'reconciler.success',
      requestId: 'run-1',
    });
    expect(event?.money?.amountMinor).toBe(250000n);
    // The money is named as the gateway's webhook names it, so a webhook and this answer are one money-in fact.
    expect(event?.factId).toBe('302961');
    expect(report.queued['payment.succeeded']).toBeGreaterThanOrEqual(1);
  });

  it('counts payments checked, moved (by status), still pending and gateway API errors per gateway', async () => {
    const start = new Date('2039-01-01T10:00:00Z');
    const paid = await registered('paystack', start);
    const waiting = await registered('paystack', start);
    const unreachable = await registered('flutterwave', start);
    const paystack = scriptedVerifier('paystack', (reference) =>
      reference === paid
        ? { status: 'succeeded', gatewayStatus: 'success', money: moneyFromMajor('2500.00', 'NGN') }
        : { status: 'pending', gatewayStatus: 'ongoing' },
    );
    const flutterwave = scriptedVerifier('flutterwave', () => new VerifyUnavailableError('HTTP 503'));
    const metrics = new RecordingMetrics();
    const run = deps(
      { verifiers: { paystack: paystack.verifier, flutterwave: flutterwave.verifier }, metrics },
      new Date(start.getTime() + HOUR),
    );
    for (const [gateway, reference] of [
      ['paystack', paid],
      ['paystack', waiting],
      ['flutterwave', unreachable],
    ] as const) {
      const payment = await store.find(gateway, reference);
      if (!payment) throw new Error(`no payment ${reference}`);
      await checkPayment(run, payment, { runId: 'run-metrics', now: run.now() });
    }
    const byGateway = (name: string) =>
      metrics.added
        .filter((entry) => entry.name === name)
        .map(({ gateway, detail, value }) => [gateway, detail ?? null, value]);
    expect(byGateway(METRICS.paymentsChecked.name)).toEqual([
      ['paystack', null, 1],
      ['paystack', null, 1],
      ['flutterwave', null, 1],
    ]);
    expect(byGateway(METRICS.paymentsMoved.name)).toEqual([['paystack', 'succeeded', 1]]);
    expect(byGateway(METRICS.paymentsSettled.name)).toEqual([['paystack', null, 1]]);
    expect(byGateway(METRICS.paymentsStillPending.name)).toEqual([
      ['paystack', null, 1],
      ['flutterwave', null, 1],
    ]);
    expect(byGateway(METRICS.gatewayApiErrors.name)).toEqual([['flutterwave', 'unavailable', 1]]);
    await reconcile(run, 'run-metrics-flush');
    expect(metrics.flushes).toBe(1);
  });

  it('leaves payments inside the grace period alone', async () => {
    const start = new Date('2031-01-01T10:00:00Z');
    const reference = await registered('paystack', start);
    const { verifier, calls } = scriptedVerifier('paystack', () => ({
      status: 'succeeded',
      gatewayStatus: 'success',
    }));
    await reconcile(
      deps({ verifiers: { paystack: verifier } }, new Date(start.getTime() + 5 * 60_000)),
      'run-early',
    );
    expect(calls).not.toContain(reference);
  });

  it.each([
    ['unavailable (429/5xx/timeout)', new VerifyUnavailableError('HTTP 503'), 'unavailable'],
    ['a malformed answer', new VerifyMalformedError('not JSON'), 'malformed'],
  ])('leaves a payment pending, unapplied, when the gateway is %s', async (_name, failure, kind) => {
    const start = new Date('2032-01-01T10:00:00Z');
    const reference = await registered('flutterwave', start);
    const { verifier } = scriptedVerifier('flutterwave', () => failure);
    const run = deps({ verifiers: { flutterwave: verifier } }, new Date(start.getTime() + HOUR));
    const report = await reconcile(run, 'run-fail');
    expect(run.queue.events.filter((event) => event.reference === reference)).toEqual([]);
    expect(report.errors.flutterwave?.[kind]).toBeGreaterThanOrEqual(1);
    expect((await store.get('flutterwave', reference))?.status).toBe('pending');
  });

  it('expires a payment past its registered expiry, and one without a verify API after the default', async () => {
    const start = new Date('2033-01-01T10:00:00Z');
    const withExpiry = await registered('paystack', start, {
      expiresAt: new Date(start.getTime() + 2 * HOUR).toISOString(),
    });
    const adyen = await registered('adyen', start);
    const { verifier } = scriptedVerifier('paystack', () => ({
      status: 'pending',
      gatewayStatus: 'ongoing',
    }));
    const early = deps({ verifiers: { paystack: verifier } }, new Date(start.getTime() + HOUR));
    await reconcile(early, 'run-early');
    expect(early.queue.events.filter((event) => [withExpiry, adyen].includes(event.reference ?? ''))).toEqual(
      [],
    );
    const late = deps({ verifiers: { paystack: verifier } }, new Date(start.getTime() + 25 * HOUR));
    await reconcile(late, 'run-late');
    const expired = late.queue.events.filter((event) => [withExpiry, adyen].includes(event.reference ?? ''));
    expect(expired.map((event) => [event.reference, event.kind]).sort()).toEqual(
      [
        [withExpiry, 'payment.expired'],
        [adyen, 'payment.expired'],
      ].sort(),
    );
  });

  it('asks about the oldest first and stops at the run budget', async () => {
    const start = new Date('2034-01-01T10:00:00Z');
    const older = await registered('oxapay', start, {
      gatewayPaymentId: `track-${randomUUID().slice(0, 6)}`,
    });
    const newer = await registered('oxapay', new Date(start.getTime() + 60_000), {
      gatewayPaymentId: `track-${randomUUID().slice(0, 6)}`,
    });
    const { verifier, calls } = scriptedVerifier('oxapay', () => ({
      status: 'pending',
      gatewayStatus: 'waiting',
    }));
    const run = deps(
      {
        verifiers: { oxapay: verifier },
        settings: { ...DEFAULT_RECONCILE_SETTINGS, budget: 1, concurrencyPerGateway: 1 },
      },
      new Date(start.getTime() + HOUR),
    );
    const report = await reconcile(run, 'run-budget');
    expect(report.checked).toBe(1);
    expect(calls).toHaveLength(1);
    // The scripted verifier records the reference it was asked about: the older payment's, not the newer's.
    expect(calls).toEqual([older]);
    expect(calls).not.toContain(newer);
  });
});
