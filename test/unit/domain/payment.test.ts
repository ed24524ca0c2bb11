import { describe, expect, it } from 'vitest';
import { moneyFromMinor } from '../../../lambdas/domain/money.js';
import {
  canMove,
  decide,
  ImpossibleEventError,
  PAYMENT_STATUSES,
  type Payment,
  type PaymentStatus,
  paymentKeyOf,
  RECENT_EVENTS_KEPT,
  TRANSITIONS,
} from '../../../lambdas/domain/payment.js';
import type { EventKind, WebhookEvent } from '../../../lambdas/domain/webhook-event.js';

const NOW = new Date('2026-11-24T10:00:00Z');

function event(kind: EventKind, overrides: Partial<WebhookEvent> = {}): WebhookEvent {
  return {
    gateway: 'paystack',
    eventId: `${kind}:1`,
    eventType: kind,
    kind,
    reference: 'ORDER-1',
    money: moneyFromMinor('10000', 'NGN'),
    mode: 'live',
    receivedAt: NOW.toISOString(),
    priority: 'high',
    requestId: 'req-1',
    payload: '{}',
    ...overrides,
  };
}

function payment(status: PaymentStatus, overrides: Partial<Payment> = {}): Payment {
  return {
    gateway: 'paystack',
    paymentKey: 'ORDER-1',
    reference: 'ORDER-1',
    status,
    version: 3,
    mode: 'live',
    refundedMinor: 0n,
    createdAt: '2026-11-24T09:00:00.000Z',
    updatedAt: '2026-11-24T09:00:00.000Z',
    recentEvents: [],
    ...(status !== 'pending' && status !== 'authorized' ? { paid: moneyFromMinor('10000', 'NGN') } : {}),
    ...overrides,
  };
}

/** The kind whose event asks for each target status (refunds depend on amounts; see their own tests). */
const KIND_FOR: Partial<Record<PaymentStatus, EventKind>> = {
  pending: 'payment.pending',
  authorized: 'payment.authorized',
  succeeded: 'payment.succeeded',
  failed: 'payment.failed',
  expired: 'payment.expired',
  disputed: 'dispute.opened',
  dispute_won: 'dispute.won',
  dispute_lost: 'dispute.lost',
};

describe('Payment status machine', () => {
  const pairs = PAYMENT_STATUSES.flatMap((from) =>
    Object.entries(KIND_FOR).map(([to, kind]) => [from, to as PaymentStatus, kind as EventKind] as const),
  );

  it.each(pairs)('from %s, an event asking for %s moves only where the table allows', (from, to, kind) => {
    const decision = decide(payment(from), event(kind), NOW);
    if (canMove(from, to)) {
      expect(decision.transition).toEqual({ eventId: `${kind}:1`, from, to });
      expect(decision.next).toMatchObject({ status: to, version: 4 });
    } else {
      expect(decision.next).toBeUndefined();
      expect(decision.note).toContain('kept in the history only');
    }
  });

  it('lets terminal statuses move nowhere', () => {
    for (const status of ['refunded', 'dispute_won', 'dispute_lost'] as const)
      expect(TRANSITIONS[status]).toEqual([]);
  });

  it('lets late money in after a failure or an expiry', () => {
    expect(canMove('failed', 'succeeded')).toBe(true);
    expect(canMove('expired', 'succeeded')).toBe(true);
  });

  it.each(PAYMENT_STATUSES.map((status) => [status]))(
    'creates a payment first seen as %s in that state',
    (status) => {
      const kind = KIND_FOR[status];
      if (!kind) return;
      const decision = decide(undefined, event(kind), NOW);
      expect(decision.transition).toEqual({ eventId: `${kind}:1`, from: null, to: status });
      expect(decision.next).toMatchObject({
        status,
        version: 1,
        paymentKey: 'ORDER-1',
        createdAt: NOW.toISOString(),
      });
    },
  );

  describe('amounts', () => {
    it('marks amount_mismatch when the paid amount differs from the expected one', () => {
      const expected = moneyFromMinor('10000', 'NGN');
      const decision = decide(
        payment('pending', { expected }),
        event('payment.succeeded', { money: moneyFromMinor('9999', 'NGN') }),
        NOW,
      );
      expect(decision.next?.status).toBe('amount_mismatch');
    });

    it('marks amount_mismatch when the currency differs', () => {
      const expected = moneyFromMinor('10000', 'NGN');
      const decision = decide(
        payment('pending', { expected }),
        event('payment.succeeded', { money: moneyFromMinor('10000', 'GHS') }),
        NOW,
      );
      expect(decision.next?.status).toBe('amount_mismatch');
    });

    it('treats the same amount at another exponent as equal', () => {
      const expected = { amountMinor: 100n, currency: 'USD', exponent: 2 };
      const paid = { amountMinor: 1000n, currency: 'USD', exponent: 3 };
      expect(
        decide(payment('pending', { expected }), event('payment.succeeded', { money: paid }), NOW).next
          ?.status,
      ).toBe('succeeded');
    });

    it('moves to partially_refunded, then refunded once refunds reach the paid amount', () => {
      const first = decide(
        payment('succeeded'),
        event('refund.succeeded', { eventId: 'r1', money: moneyFromMinor('4000', 'NGN') }),
        NOW,
      );
      expect([first.next?.status, first.next?.refundedMinor]).toEqual(['partially_refunded', 4000n]);
      const second = decide(
        first.next,
        event('refund.succeeded', { eventId: 'r2', money: moneyFromMinor('6000', 'NGN') }),
        NOW,
      );
      expect([second.next?.status, second.next?.refundedMinor]).toEqual(['refunded', 10000n]);
    });

    it.each([
      ['a refund in another currency', event('refund.succeeded', { money: moneyFromMinor('100', 'USD') })],
      ['a zero refund', event('refund.succeeded', { money: moneyFromMinor('0', 'NGN') })],
    ])('refuses %s as impossible', (_name, refund) => {
      expect(() => decide(payment('succeeded'), refund, NOW)).toThrow(ImpossibleEventError);
    });
  });

  it('refuses a status-changing event that names no payment', () => {
    const { reference: _reference, ...anonymous } = event('payment.succeeded');
    expect(() => decide(undefined, anonymous, NOW)).toThrow(/names no payment/);
  });

  it.each(['refund.pending', 'refund.failed', 'dispute.updated', 'other'] as const)(
    'keeps %s in the history only',
    (kind) => {
      expect(decide(payment('succeeded'), event(kind), NOW)).toEqual({
        note: `${kind} does not change a payment's status`,
      });
    },
  );

  it('keeps the pending index key only while pending, from when it first became pending', () => {
    const pending = decide(undefined, event('payment.pending'), NOW).next;
    expect(pending?.pendingSince).toBe(NOW.toISOString());
    const succeeded = decide(pending, event('payment.succeeded'), new Date('2026-11-24T10:05:00Z')).next;
    expect(succeeded?.pendingSince).toBeUndefined();
  });

  it(`remembers only the last ${RECENT_EVENTS_KEPT} transitions`, () => {
    let current: Payment | undefined;
    for (let index = 0; index < RECENT_EVENTS_KEPT + 5; index += 1) {
      current =
        decide(
          current ?? payment('succeeded'),
          event('refund.succeeded', { eventId: `r${index}`, money: moneyFromMinor('1', 'NGN') }),
          NOW,
        ).next ?? current;
    }
    expect(current?.recentEvents).toHaveLength(RECENT_EVENTS_KEPT);
    expect(current?.recentEvents.at(-1)?.eventId).toBe(`r${RECENT_EVENTS_KEPT + 4}`);
  });

  describe('paymentKeyOf', () => {
    it.each([
      ['paystack', 'ORDER-1', '302961', 'ORDER-1'],
      ['adyen', 'ORDER-1', 'PSP1', 'ORDER-1'],
      ['oxapay', undefined, '184747701', '184747701'],
      ['stripe', 'ORDER-1', 'pi_1', 'pi_1'],
      ['razorpay', 'rcpt_1', 'order_1', 'order_1'],
      ['stripe', 'ORDER-1', undefined, 'ORDER-1'],
    ] as const)(
      '%s with reference %s and payment id %s is keyed by %s',
      (gateway, reference, gatewayPaymentId, key) => {
        expect(paymentKeyOf({ gateway, reference, gatewayPaymentId })).toBe(key);
      },
    );
  });
});
