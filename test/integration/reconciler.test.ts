import { randomUUID } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../lambdas/common/aws-clients.js';
import { METRICS } from '../../lambdas/definitions.js';
import { moneyFromMajor } from '../../lambdas/domain/money.js';
import type { PaymentEvent } from '../../lambdas/domain/payment-event.js';
import { parseRegistration } from '../../lambdas/domain/registration.js';
import type { GatewayName } from '../../lambdas/domain/webhook-event.js';
import type { PaymentEventPublisher } from '../../lambdas/ports/payment-event-publisher.js';
import { registerPayment } from '../../lambdas/processing/register.js';
import {
  checkPayment,
  DEFAULT_RECONCILE_SETTINGS,
  type ReconcileDependencies,
  reconcile,
} from '../../lambdas/reconciliation/reconcile.js';
import { VERIFIERS } from '../../lambdas/reconciliation/verifiers/index.js';
import {
  type GatewayVerifier,
  VerifyMalformedError,
  type VerifyResult,
  VerifyUnavailableError,
} from '../../lambdas/reconciliation/verify.js';
import { DynamoPaymentStore } from '../../lambdas/store/dynamodb-payment-store.js';
import { startGatewaySandbox } from '../../local/gateway-sandbox.js';
import { recordingLog } from '../support/api-gateway.js';
import { type DynamoEmulator, startDynamoEmulator } from '../support/dynamodb-emulator.js';
import { RecordingMetrics, RecordingQueue } from '../support/fakes.js';

let dynamo: DynamoEmulator;
let store: DynamoPaymentStore;
let tableName: string;
const HOUR = 3_600_000;

beforeAll(async () => {
  dynamo = await startDynamoEmulator();
});

// Each test reconciles its own table: the pending index is shared state, and a run looks at all of it.
beforeEach(async () => {
  const tables = await dynamo.createTables(`reconciler-${randomUUID().slice(0, 8)}`);
  tableName = tables.payments;
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
      eventId: `payhook:reconciler:${reference}:payment.succeeded`,
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
    // Asked about and still pending are fields of the "reconciler run" line, not metrics (issue #20); moved and
    // settled are written per run (the recorder is still told the gateway; EmfMetrics leaves it out).
    expect(new Set(metrics.added.map((entry) => entry.name))).toEqual(
      new Set([METRICS.paymentsMoved.name, METRICS.paymentsSettled.name, METRICS.gatewayApiErrors.name]),
    );
    expect(byGateway(METRICS.paymentsMoved.name)).toEqual([['paystack', 'succeeded', 1]]);
    expect(byGateway(METRICS.paymentsSettled.name)).toEqual([['paystack', null, 1]]);
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

describe('A fair reconciler (dynalite)', () => {
  const MINUTE = 60_000;
  const GRACE_MS = DEFAULT_RECONCILE_SETTINGS.graceSeconds * 1000;

  /** `count` payments of one gateway registered (pending, no webhook), the i-th at `at(i)`, in parallel batches. */
  async function seed(
    gateway: GatewayName,
    count: number,
    at: (index: number) => Date,
    extra: (reference: string) => Record<string, unknown> = () => ({}),
  ): Promise<string[]> {
    const tag = randomUUID().slice(0, 6);
    const references = Array.from(
      { length: count },
      (_, index) => `${gateway}-${tag}-${String(index).padStart(5, '0')}`,
    );
    for (let from = 0; from < count; from += 50) {
      await Promise.all(
        references.slice(from, from + 50).map((reference, offset) =>
          registerPayment(
            store,
            registrationPublisher,
            parseRegistration({
              gateway,
              reference,
              amount: '2500.00',
              currency: 'NGN',
              ...extra(reference),
            }),
            at(from + offset),
          ),
        ),
      );
    }
    return references;
  }

  const pendingAnswer = (): VerifyResult => ({ status: 'pending', gatewayStatus: 'abandoned' });
  const paidAnswer = (): VerifyResult => ({
    status: 'succeeded',
    gatewayStatus: 'success',
    money: moneyFromMajor('2500.00', 'NGN'),
  });

  /** How many times each reference was asked about. */
  function tallyOf(calls: readonly string[]): Map<string, number> {
    const counts = new Map<string, number>();
    for (const call of calls) counts.set(call, (counts.get(call) ?? 0) + 1);
    return counts;
  }

  it('settles a newly pending Stripe payment the sandbox reports paid within two runs, behind 1,050 abandoned Paystack payments', async () => {
    const sandbox = await startGatewaySandbox();
    try {
      const start = new Date('2041-01-01T00:00:00Z');
      // Abandoned checkouts over an hour: Paystack says `abandoned` (pending) for each, run after run.
      const abandoned = await seed('paystack', 1050, (index) => new Date(start.getTime() + index * 3000));
      for (const reference of abandoned) {
        sandbox.setPayment('paystack', { status: 'abandoned', amount: '250000', currency: 'NGN', reference });
      }
      const baseUrls = { paystack: sandbox.url('paystack'), stripe: sandbox.url('stripe') };
      let clock = start.getTime() + 2 * 60 * MINUTE;
      const run = async (id: string) => {
        const reconciler = deps({ verifiers: VERIFIERS, baseUrls }, new Date(clock));
        const report = await reconcile(reconciler, id);
        expect(report.checked).toBeLessThanOrEqual(DEFAULT_RECONCILE_SETTINGS.budget);
        return { reconciler, report };
      };
      // The reconciler has been running every 5 minutes, asking about the abandoned ones.
      for (let index = 0; index < 3; index += 1) {
        await run(`before-${index}`);
        clock += 5 * MINUTE;
      }
      // A new Stripe payment: the customer pays, the webhook is lost.
      const pendingSince = clock;
      const intent = `pi_${randomUUID().replaceAll('-', '').slice(0, 20)}`;
      const [paid = ''] = await seed(
        'stripe',
        1,
        () => new Date(pendingSince),
        () => ({
          gatewayPaymentId: intent,
        }),
      );
      sandbox.setPayment('stripe', {
        status: 'succeeded',
        amount: '250000',
        currency: 'ngn',
        id: intent,
        reference: paid,
      });
      // Runs every 5 minutes; count those after the payment's grace period until its succeeded event is queued.
      let eligibleRuns = 0;
      let settledIn: number | undefined;
      for (let index = 0; index < 8 && settledIn === undefined; index += 1) {
        clock += 5 * MINUTE;
        const { reconciler, report } = await run(`after-${index}`);
        if (clock - GRACE_MS > pendingSince) eligibleRuns += 1;
        // Stripe takes its share (one payment); Paystack the rest of the budget, never all of it.
        expect(report.checkedByGateway.paystack).toBeLessThanOrEqual(DEFAULT_RECONCILE_SETTINGS.budget);
        const event = reconciler.queue.events.find((queued) => queued.reference === paid);
        if (event) {
          expect(event).toMatchObject({
            gateway: 'stripe',
            kind: 'payment.succeeded',
            gatewayPaymentId: intent,
          });
          expect(report.checkedByGateway).toMatchObject({
            stripe: 1,
            paystack: DEFAULT_RECONCILE_SETTINGS.budget - 1,
          });
          settledIn = eligibleRuns;
        }
      }
      expect(settledIn).toBeDefined();
      expect(settledIn).toBeLessThanOrEqual(2);
      // The first run after the grace period asked about it, though 1,050 older Paystack payments were pending.
      expect(settledIn).toBe(1);
    } finally {
      await sandbox.stop();
    }
  }, 60_000);

  it('puts a newly pending payment ahead of its own gateway’s abandoned ones, and still asks each abandoned one once a round', async () => {
    const start = new Date('2042-01-01T00:00:00Z');
    // 1,050 abandoned, three to a second (equal pendingSince values included).
    const abandoned = await seed(
      'paystack',
      1050,
      (index) => new Date(start.getTime() + Math.floor(index / 3) * 1000),
    );
    let late = '';
    const { verifier, calls } = scriptedVerifier('paystack', (reference) =>
      reference === late ? paidAnswer() : pendingAnswer(),
    );
    let clock = start.getTime() + 60 * MINUTE;
    const run = async (id: string) => {
      const reconciler = deps({ verifiers: { paystack: verifier } }, new Date(clock));
      const first = calls.length;
      const report = await reconcile(reconciler, id);
      clock += 5 * MINUTE;
      return { reconciler, report, asked: calls.slice(first) };
    };
    // A round: 1,050 at 200 a run. Every one is asked about, none twice before all were asked once.
    for (let index = 0; index < 6; index += 1) {
      const { report } = await run(`round-1-${index}`);
      expect(report.checked).toBe(200);
    }
    let counts = tallyOf(calls);
    expect(abandoned.every((reference) => (counts.get(reference) ?? 0) >= 1)).toBe(true);
    expect(Math.max(...counts.values())).toBe(2);
    // The first 1,050 asks covered every payment once: never asked ones come before asking any again.
    expect(new Set(calls.slice(0, 1050)).size).toBe(1050);

    // A newly pending Paystack payment the gateway reports paid: asked about first in the first run after its grace.
    const [fresh = ''] = await seed('paystack', 1, () => new Date(clock));
    late = fresh;
    clock += GRACE_MS + MINUTE;
    const { reconciler, asked } = await run('fresh');
    expect(asked[0]).toBe(fresh);
    expect(reconciler.queue.events.filter((event) => event.reference === fresh)).toMatchObject([
      { kind: 'payment.succeeded' },
    ]);

    // And the round-robin goes on over every abandoned one: after six more runs each was asked 2 or 3 times, fairly.
    for (let index = 0; index < 5; index += 1) await run(`round-2-${index}`);
    counts = tallyOf(calls);
    const asks = abandoned.map((reference) => counts.get(reference) ?? 0);
    expect(Math.min(...asks)).toBeGreaterThanOrEqual(2);
    expect(Math.max(...asks) - Math.min(...asks)).toBeLessThanOrEqual(1);
  }, 60_000);

  it('gives each gateway its share of the budget, the unused share to the others, and writes no payment', async () => {
    const start = new Date('2043-01-01T00:00:00Z');
    const at = (index: number) => new Date(start.getTime() + index * 1000);
    const paystack = await seed('paystack', 150, at);
    const flutterwave = await seed('flutterwave', 150, at);
    const oxapay = await seed('oxapay', 10, at, (reference) => ({ gatewayPaymentId: `track-${reference}` }));
    const versions = async () =>
      Promise.all(
        [
          ...paystack.map((reference) => ['paystack', reference] as const),
          ...flutterwave.map((reference) => ['flutterwave', reference] as const),
          ...oxapay.map((reference) => ['oxapay', reference] as const),
        ].map(async ([gateway, reference]) => (await store.find(gateway, reference))?.version),
      );
    const versionsBefore = await versions();
    const verifiers = {
      paystack: scriptedVerifier('paystack', pendingAnswer),
      flutterwave: scriptedVerifier('flutterwave', pendingAnswer),
      oxapay: scriptedVerifier('oxapay', pendingAnswer),
    };
    const askedPerRun: Record<string, string[]>[] = [];
    for (let index = 0; index < 2; index += 1) {
      const firsts = Object.fromEntries(
        Object.entries(verifiers).map(([gateway, { calls }]) => [gateway, calls.length]),
      );
      const report = await reconcile(
        deps(
          {
            verifiers: {
              paystack: verifiers.paystack.verifier,
              flutterwave: verifiers.flutterwave.verifier,
              oxapay: verifiers.oxapay.verifier,
            },
            settings: { ...DEFAULT_RECONCILE_SETTINGS, budget: 60 },
          },
          new Date(start.getTime() + (60 + index * 5) * MINUTE),
        ),
        `share-${index}`,
      );
      // 60 over three gateways: OXA Pay needs only 10 of its 20; Paystack and Flutterwave split the other 50.
      expect(report.checked).toBe(60);
      expect(report.checkedByGateway).toEqual({ paystack: 25, flutterwave: 25, oxapay: 10 });
      askedPerRun.push(
        Object.fromEntries(
          Object.entries(verifiers).map(([gateway, { calls }]) => [gateway, calls.slice(firsts[gateway])]),
        ),
      );
    }
    const [first, second] = askedPerRun;
    // Oldest never-asked first within each gateway; the second run moves on to the next ones.
    expect(first?.paystack).toEqual(paystack.slice(0, 25));
    expect(second?.paystack).toEqual(paystack.slice(25, 50));
    expect(second?.flutterwave).toEqual(flutterwave.slice(25, 50));
    // All of OXA Pay's ten, both runs.
    expect(first?.oxapay?.slice().sort()).toEqual(oxapay.slice().sort());
    expect(second?.oxapay).toHaveLength(10);

    // The reconciler wrote no payment: only its own progress items, which no lookup or index returns.
    expect(await versions()).toEqual(versionsBefore);
    const documents = createDocumentClient(dynamo.client);
    const { Item } = await documents.send(
      new GetCommand({ TableName: tableName, Key: { pk: 'RECONCILER#paystack', sk: 'PROGRESS' } }),
    );
    expect(Object.keys(Item ?? {}).sort()).toEqual([
      'frontier',
      'gateway',
      'pk',
      'sk',
      'updatedAt',
      'version',
    ]);
    for (const identifier of ['RECONCILER#paystack', 'PROGRESS', 'paystack']) {
      expect(await store.find('paystack', identifier)).toBeUndefined();
    }
    const listed = await store.pendingPayments(
      'paystack',
      new Date(start.getTime() + 120 * MINUTE).toISOString(),
      1000,
    );
    expect(listed.map((payment) => payment.paymentKey).sort()).toEqual(paystack.slice().sort());
  });

  it('asks again first what a gateway outage or a failed run left unasked, and never skips one for an overlapping run', async () => {
    const start = new Date('2044-01-01T00:00:00Z');
    const references = await seed('paystack', 40, (index) => new Date(start.getTime() + index * 1000));
    let answer: (reference: string) => VerifyResult | Error = () => new VerifyUnavailableError('HTTP 503');
    const { verifier, calls } = scriptedVerifier('paystack', (reference) => answer(reference));
    let clock = start.getTime() + 60 * MINUTE;
    const run = async (id: string, queue = new RecordingQueue()) => {
      const first = calls.length;
      const reconciler = deps(
        {
          verifiers: { paystack: verifier },
          queue,
          settings: { ...DEFAULT_RECONCILE_SETTINGS, budget: 10, concurrencyPerGateway: 2 },
        },
        new Date(clock),
      );
      clock += 5 * MINUTE;
      await reconcile(reconciler, id);
      return { asked: calls.slice(first), queue };
    };
    // Paystack is down: nothing was asked, so the same ten come first again.
    expect((await run('outage')).asked).toEqual(references.slice(0, 10));
    answer = pendingAnswer;
    expect((await run('back')).asked).toEqual(references.slice(0, 10));
    // Two runs overlapping: both ask about the next ten; the run after them moves on, skipping none.
    const beforeOverlap = calls.length;
    await Promise.all([run('overlap-1'), run('overlap-2')]);
    const overlapped = tallyOf(calls.slice(beforeOverlap));
    expect([...overlapped.keys()].sort()).toEqual(references.slice(10, 20));
    expect([...overlapped.values()]).toEqual(Array(10).fill(2));
    // A run whose queue fails part-way (the answers it could not queue count as unanswered): those come first next.
    answer = paidAnswer;
    const failing = new RecordingQueue();
    let enqueued = 0;
    failing.enqueue = async (events) => {
      enqueued += 1;
      if (enqueued > 3) throw new Error('SQS unavailable');
      failing.events.push(...events);
    };
    const broken = deps(
      {
        verifiers: { paystack: verifier },
        queue: failing,
        settings: { ...DEFAULT_RECONCILE_SETTINGS, budget: 10, concurrencyPerGateway: 2 },
      },
      new Date(clock),
    );
    clock += 5 * MINUTE;
    const beforeBroken = calls.length;
    const report = await reconcile(broken, 'broken-queue');
    expect(report.errors.paystack).toEqual({ unexpected: 7 });
    expect(calls[beforeBroken]).toBe(references[20]);
    const queuedBefore = new Set(failing.events.map((event) => event.reference));
    expect(queuedBefore.size).toBe(3);
    const { asked, queue } = await run('after-failure');
    const notQueued = references.slice(20, 30).filter((reference) => !queuedBefore.has(reference));
    expect(asked.slice(0, notQueued.length).sort()).toEqual(notQueued.sort());
    expect(queue.events.map((event) => event.reference)).toEqual(expect.arrayContaining(notQueued));
  });
});
