import { describe, expect, it } from 'vitest';
import { decide, type Payment, paymentKeyOf } from '../../../lambdas/domain/payment.js';
import { type PaymentEvent, paymentEventId } from '../../../lambdas/domain/payment-event.js';
import type { GatewayName, WebhookEvent } from '../../../lambdas/domain/webhook-event.js';
import type { PaymentEventPublisher } from '../../../lambdas/ports/payment-event-publisher.js';
import {
  type HistoryEntry,
  type PaymentStore,
  type PendingPayments,
  StaleWriteError,
} from '../../../lambdas/ports/payment-store.js';
import type { UnmatchedEvent, UnmatchedEventRecorder } from '../../../lambdas/ports/unmatched-events.js';
import { type ApplyDependencies, applyEvent } from '../../../lambdas/processing/apply-event.js';
import { domainEvent, FOLD_NOW, usd } from '../../support/payment-fold.js';

/** Every write and publish, in order, across the fakes: what a test asserts the order of. */
type Step = `save ${number}` | `publish ${string}` | `unmatched ${string}`;

/**
 * The `PaymentStore` port in memory, with its conditional write: `save` stores `next` only over version
 * `next.version - 1`. `beforeSave` runs before each save is checked, so a test can land a racing writer's save first.
 */
class InMemoryPaymentStore implements PaymentStore {
  readonly payments = new Map<string, Payment>();
  saves = 0;
  beforeSave: (store: InMemoryPaymentStore) => void = () => {};

  constructor(private readonly steps: Step[]) {}

  private static key(gateway: GatewayName, paymentKey: string): string {
    return `${gateway}#${paymentKey}`;
  }

  /** Stores a payment as it stands, as an earlier invocation or another writer left it. */
  put(payment: Payment): void {
    this.payments.set(InMemoryPaymentStore.key(payment.gateway, payment.paymentKey), payment);
  }

  async get(gateway: GatewayName, paymentKey: string): Promise<Payment | undefined> {
    return this.payments.get(InMemoryPaymentStore.key(gateway, paymentKey));
  }

  async save(next: Payment): Promise<void> {
    this.saves += 1;
    this.beforeSave(this);
    const stored = await this.get(next.gateway, next.paymentKey);
    if ((stored?.version ?? 0) !== next.version - 1)
      throw new StaleWriteError(`version ${next.version} is stale`);
    this.put(next);
    this.steps.push(`save ${next.version}`);
  }

  async find(gateway: GatewayName, identifier: string): Promise<Payment | undefined> {
    return [...this.payments.values()].find(
      (payment) =>
        payment.gateway === gateway &&
        [payment.paymentKey, payment.reference, payment.gatewayPaymentId].includes(identifier),
    );
  }

  async history(): Promise<HistoryEntry[]> {
    throw new Error('applyEvent never reads a history');
  }

  async pendingPayments(): Promise<PendingPayments> {
    throw new Error('applyEvent never lists pending payments');
  }

  async confirmationsDue(): Promise<PendingPayments> {
    throw new Error('applyEvent never lists confirmations due');
  }
}

function fakes(options: { keepPayload?: boolean } = {}) {
  const steps: Step[] = [];
  const store = new InMemoryPaymentStore(steps);
  const published: PaymentEvent[] = [];
  const unmatched: UnmatchedEvent[] = [];
  const publisher: PaymentEventPublisher = {
    async publish(event) {
      published.push(event);
      steps.push(`publish ${event.id}`);
    },
  };
  const recorder: UnmatchedEventRecorder = {
    async record(event) {
      unmatched.push(event);
      steps.push(`unmatched ${event.eventId}`);
    },
  };
  const deps: ApplyDependencies = {
    store,
    unmatched: recorder,
    publisher,
    now: () => FOLD_NOW,
    keepPayload: options.keepPayload ?? false,
  };
  return { deps, store, steps, published, unmatched };
}

const paid = (eventId = 'evt_paid') =>
  domainEvent('payment.succeeded', eventId, { money: usd(10_000), factId: 'ch_1', priority: 'high' });
const disputed = (eventId = 'evt_dispute') =>
  domainEvent('dispute.opened', eventId, { money: usd(10_000), factId: 'dp_1', priority: 'high' });
const paymentKey = (event: WebhookEvent) => paymentKeyOf(event) ?? '';
const moneyInId = paymentEventId('stripe', 'pi_1', { type: 'money_in', id: 'ch_1', state: 'received' });
const disputeId = paymentEventId('stripe', 'pi_1', { type: 'dispute', id: 'dp_1', state: 'opened' });

/** The payment as applying `events` one after the other leaves it. */
function applied(...events: WebhookEvent[]): Payment {
  let payment: Payment | undefined;
  for (const event of events) payment = decide(payment, event, FOLD_NOW).next ?? payment;
  if (!payment) throw new Error('the events made no payment');
  return payment;
}

describe('applyEvent', () => {
  it('saves the payment, then publishes what it announced, and returns the history entry for the completion to write', async () => {
    const { deps, store, steps, published } = fakes();
    const event = paid();
    const result = await applyEvent(event, deps);

    expect(paymentKey(event)).toBe('pi_1');
    // The history is written with the event's idempotency record when it completes, not here (issue #20).
    expect(steps).toEqual(['save 1', `publish ${moneyInId}`]);
    expect(await store.get('stripe', 'pi_1')).toMatchObject({ status: 'succeeded', version: 1 });
    const history = {
      gateway: 'stripe',
      eventId: event.eventId,
      eventType: 'payment.succeeded',
      kind: 'payment.succeeded',
      receivedAt: event.receivedAt,
      requestId: event.requestId,
      money: usd(10_000),
      paymentKey: 'pi_1',
      transition: { from: null, to: 'succeeded' },
      announced: [{ type: 'money_in', id: 'ch_1', state: 'received' }],
    };
    expect(published).toMatchObject([
      {
        id: moneyInId,
        from: null,
        to: 'succeeded',
        status: 'succeeded',
        amount: '10000',
        sourceEventId: event.eventId,
      },
    ]);
    expect(result).toEqual({
      outcome: 'applied',
      paymentKey: 'pi_1',
      transition: { from: null, to: 'succeeded' },
      announced: [{ id: moneyInId, detailType: 'payment.succeeded' }],
      history,
    });
  });

  it('re-reads and decides again after a stale write, and then succeeds on the record the racing writer left', async () => {
    const { deps, store, steps, published } = fakes();
    store.put(applied(paid()));
    // Another consumer applies a dispute between this one's read and its write.
    store.beforeSave = (self) => {
      self.beforeSave = () => {};
      self.put(applied(paid(), disputed()));
    };
    const refund = domainEvent('refund.succeeded', 'evt_refund', { money: usd(4_000), factId: 're_1' });
    const result = await applyEvent(refund, deps);

    expect(store.saves).toBe(2);
    const refundId = paymentEventId('stripe', 'pi_1', { type: 'refund', id: 're_1', state: 'succeeded' });
    expect(steps).toEqual(['save 3', `publish ${refundId}`]);
    const stored = await store.get('stripe', 'pi_1');
    expect(stored?.version).toBe(3);
    // Decided again on the record the racer left: its dispute is kept, and the refund moves on from it.
    expect(stored?.disputes.map((fact) => fact.id)).toEqual(['dp_1']);
    expect(stored?.refunds.map((fact) => fact.id)).toEqual(['re_1']);
    expect(result.transition?.from).toBe('disputed');
    expect(published.map((event) => event.from)).toEqual(['disputed']);
    expect(result.history?.transition).toEqual(result.transition);
  });

  it('gives up after five stale writes in a row, having recorded and published nothing', async () => {
    const { deps, store, steps } = fakes();
    store.put(applied(paid()));
    // A racer that always wins: every write meets a newer version.
    store.beforeSave = (self) => {
      const current = self.payments.get('stripe#pi_1');
      if (current) self.put({ ...current, version: current.version + 1 });
    };
    await expect(applyEvent(disputed(), deps)).rejects.toBeInstanceOf(StaleWriteError);
    expect(store.saves).toBe(5);
    expect(steps).toEqual([]);
  });

  it('finishes the publish and the history entry of an event already among the recent events, without saving again', async () => {
    // Applied before a crash: the payment was saved, the publish and the completion (with the history) were not.
    const { deps, store, steps, published } = fakes();
    const event = paid();
    store.put(applied(event));
    const result = await applyEvent(event, deps);

    expect(store.saves).toBe(0);
    expect(steps).toEqual([`publish ${moneyInId}`]);
    expect(result.history).toMatchObject({
      transition: { from: null, to: 'succeeded' },
      announced: [{ type: 'money_in', id: 'ch_1', state: 'received' }],
    });
    expect(published.map((item) => item.id)).toEqual([moneyInId]);
    expect(result).toMatchObject({
      outcome: 'applied',
      paymentKey: 'pi_1',
      transition: { from: null, to: 'succeeded' },
      announced: [{ id: moneyInId, detailType: 'payment.succeeded' }],
    });
  });

  it('publishes again what an earlier event announced, with the same ids, for a later event in the recent events', async () => {
    const { deps, store, steps } = fakes();
    store.put(applied(paid(), disputed()));
    await applyEvent(disputed(), deps);
    expect(steps).toEqual([`publish ${disputeId}`]);
  });

  it.each([
    [
      'an event kind that changes no payment',
      domainEvent('other', 'evt_other', { eventType: 'customer.updated' }),
      "other does not change a payment's facts",
    ],
    [
      // Past the dedupe window, and fallen out of the recent events: its facts are what recognise it.
      'an event applied long ago, whose facts are all recorded',
      paid(),
      'nothing new: every fact in it is already recorded',
    ],
  ])(
    'returns a history entry with a note, and neither saves nor publishes, for %s',
    async (_what, event, note) => {
      const { deps, store, steps, published } = fakes();
      store.put({ ...applied(paid()), recentEvents: [] });
      const result = await applyEvent(event, deps);

      expect(store.saves).toBe(0);
      expect(published).toEqual([]);
      expect(steps).toEqual([]);
      expect(result.history).toEqual(
        expect.objectContaining({ eventId: event.eventId, paymentKey: 'pi_1', note }),
      );
      expect(result.history).not.toHaveProperty('transition');
      expect(result).toEqual({ outcome: 'unchanged', paymentKey: 'pi_1', note, history: result.history });
    },
  );

  it('keeps an event that names no payment as unmatched, touching no payment', async () => {
    const { deps, store, steps, published, unmatched } = fakes({ keepPayload: true });
    const event = domainEvent('payment.failed', 'evt_orphan', {
      reference: undefined,
      gatewayPaymentId: undefined,
      occurredAt: '2026-11-24T09:59:00.000Z',
      payload: '{"invoice":"in_1"}',
    });
    const result = await applyEvent(event, deps);

    expect(steps).toEqual(['unmatched evt_orphan']);
    expect(unmatched).toEqual([
      {
        gateway: 'stripe',
        eventId: 'evt_orphan',
        eventType: 'payment.failed',
        kind: 'payment.failed',
        receivedAt: event.receivedAt,
        occurredAt: '2026-11-24T09:59:00.000Z',
        requestId: event.requestId,
        payload: '{"invoice":"in_1"}',
      },
    ]);
    expect(store.payments.size).toBe(0);
    expect(published).toEqual([]);
    expect(result).toEqual({
      outcome: 'unmatched',
      note: 'payment.failed names no payment (no reference, no payment id)',
    });
  });

  it('keeps raw payloads out of the history unless the deployment keeps them', async () => {
    for (const keepPayload of [false, true]) {
      const { deps } = fakes({ keepPayload });
      const result = await applyEvent(paid(), deps);
      expect(result.history?.payload).toBe(keepPayload ? '{}' : undefined);
    }
  });
});
