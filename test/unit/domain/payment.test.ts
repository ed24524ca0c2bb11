import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { moneyFromMinor } from '../../../lambdas/domain/money.js';
import {
  awaitingConfirmation,
  decide,
  deriveStatus,
  EVENT_IDS_KEPT,
  factsOf,
  ImpossibleEventError,
  paidTotal,
  paymentKeyOf,
  RECENT_EVENTS_KEPT,
  refundedTotalMinor,
} from '../../../lambdas/domain/payment.js';
import { applyRegistration } from '../../../lambdas/domain/registration.js';
import { GATEWAYS } from '../../../lambdas/domain/webhook-event.js';
import { announcementKeys, domainEvent, FOLD_NOW, foldAll, usd } from '../../support/payment-fold.js';

const paid = (eventId = 'evt_paid', amount = 10_000) =>
  domainEvent('payment.succeeded', eventId, { money: usd(amount), factId: 'pi_1', priority: 'high' });
const chargeRefunded = (eventId: string, total: number) =>
  domainEvent('refund.succeeded', eventId, { money: usd(total), refundedTotal: usd(total) });
const refund = (
  kind: 'refund.pending' | 'refund.succeeded' | 'refund.failed',
  eventId: string,
  id: string,
  amount: number,
) => domainEvent(kind, eventId, { money: usd(amount), factId: id });

describe('The payment record of facts: Stripe refunds', () => {
  it('counts three partial refunds told only by charge.refunded running totals as the last total, not their sum', () => {
    const { payment, announced } = foldAll([
      paid(),
      chargeRefunded('evt_r1', 2000),
      chargeRefunded('evt_r2', 5000),
      chargeRefunded('evt_r3', 7000),
    ]);
    expect(payment?.status).toBe('partially_refunded');
    expect(payment && refundedTotalMinor(payment)).toBe(7000n);
    expect(announcementKeys(announced)).toEqual([
      'money_in:pi_1:received -> succeeded',
      'refund_total:2000:succeeded -> partially_refunded',
      'refund_total:5000:succeeded -> partially_refunded',
      'refund_total:7000:succeeded -> partially_refunded',
    ]);
  });

  it('counts one refund announced by refund.created, charge.refunded and refund.updated once, and announces it once', () => {
    const { payment, announced } = foldAll([
      paid(),
      refund('refund.succeeded', 'evt_created', 're_1', 2500),
      chargeRefunded('evt_charge_refunded', 2500),
      refund('refund.succeeded', 'evt_updated', 're_1', 2500),
    ]);
    expect(payment?.status).toBe('partially_refunded');
    expect(payment && refundedTotalMinor(payment)).toBe(2500n);
    expect(payment?.refunds).toEqual([
      { id: 're_1', money: usd(2500), states: ['succeeded'], eventIds: ['evt_created', 'evt_updated'] },
    ]);
    expect(announcementKeys(announced)).toEqual([
      'money_in:pi_1:received -> succeeded',
      'refund:re_1:succeeded -> partially_refunded',
    ]);
  });

  it('lets a later state of one refund replace its state: pending, then succeeded, then failed is a reversal', () => {
    const pendingOnly = foldAll([paid(), refund('refund.pending', 'e1', 're_1', 4000)]).payment;
    expect(pendingOnly?.status).toBe('succeeded');
    const { payment, announced } = foldAll([
      paid(),
      refund('refund.pending', 'e1', 're_1', 4000),
      refund('refund.succeeded', 'e2', 're_1', 4000),
      refund('refund.failed', 'e3', 're_1', 4000),
    ]);
    // The money came back: nothing is refunded any more.
    expect(payment?.status).toBe('succeeded');
    expect(announcementKeys(announced)).toEqual([
      'money_in:pi_1:received -> succeeded',
      'refund:re_1:succeeded -> partially_refunded',
      'refund:re_1:reversed -> partially_refunded',
    ]);
  });

  it('never lets the refunded total exceed the money in', () => {
    const { payment } = foldAll([
      paid('evt_paid', 10_000),
      refund('refund.succeeded', 'e1', 're_1', 6000),
      refund('refund.succeeded', 'e2', 're_2', 6000),
    ]);
    expect(payment && refundedTotalMinor(payment)).toBe(10_000n);
    expect(payment?.status).toBe('refunded');
  });

  it('announces refunds that reach the money in as payment.refunded, with the totals', () => {
    const { announced } = foldAll([
      paid(),
      refund('refund.succeeded', 'e1', 're_1', 4000),
      refund('refund.succeeded', 'e2', 're_2', 6000),
    ]);
    expect(announcementKeys(announced).at(-1)).toBe('refund:re_2:succeeded -> refunded');
  });

  it.each([
    ['money in of zero', 'payment.succeeded', moneyFromMinor('0', 'USD'), 'stripe'],
    ['money in below zero', 'payment.succeeded', moneyFromMinor('-100', 'USD'), 'stripe'],
    ['a pending refund below zero', 'refund.pending', moneyFromMinor('-1', 'USD'), 'stripe'],
    [
      'a fiat gateway paid in a non-ISO currency',
      'payment.succeeded',
      moneyFromMinor('100', 'USDT'),
      'paystack',
    ],
    [
      'a fiat gateway refunding in a non-ISO currency',
      'refund.succeeded',
      moneyFromMinor('100', 'ABC'),
      'razorpay',
    ],
  ] as const)('refuses %s as impossible, whatever the record holds', (_what, kind, money, gateway) => {
    const event = domainEvent(kind, 'e_bad', {
      gateway,
      money,
      factId: 'x',
      reference: 'R',
      gatewayPaymentId: 'G',
    });
    expect(() => decide(undefined, event, FOLD_NOW)).toThrow(ImpossibleEventError);
  });

  it('lets a crypto gateway, and a Standard Webhooks sender, use currencies outside ISO 4217', () => {
    const usdt = moneyFromMinor('1500000', 'USDT');
    for (const gateway of ['oxapay', 'standard'] as const) {
      const event = domainEvent('payment.succeeded', 'e_crypto', { gateway, money: usdt, reference: 'R' });
      expect(decide(undefined, event, FOLD_NOW).next?.status).toBe('succeeded');
    }
  });

  it('refuses a refund of zero and a refund in another currency as impossible', () => {
    const start = foldAll([paid()]).payment;
    expect(() => decide(start, refund('refund.succeeded', 'e1', 're_1', 0), FOLD_NOW)).toThrow(
      ImpossibleEventError,
    );
    const ngn = domainEvent('refund.succeeded', 'e2', {
      money: moneyFromMinor('100', 'NGN'),
      factId: 're_2',
    });
    expect(() => decide(start, ngn, FOLD_NOW)).toThrow(/NGN/);
  });
});

describe('The payment record of facts: order and races', () => {
  it('keeps a refund that arrives before a dispute on another queue, in either order', () => {
    const events = [
      paid(),
      refund('refund.succeeded', 'e1', 're_1', 3000),
      domainEvent('dispute.opened', 'd1', { factId: 'dp_1', money: usd(7000) }),
    ];
    const inOrder = foldAll(events).payment;
    const reordered = foldAll(
      [events[0], events[2], events[1]].filter((event) => event !== undefined),
    ).payment;
    expect(inOrder && factsOf(inOrder)).toEqual(reordered && factsOf(reordered));
    expect(reordered?.status).toBe('disputed');
    expect(reordered && refundedTotalMinor(reordered)).toBe(3000n);
  });

  it('announces a chargeback after a full refund', () => {
    const { payment, announced } = foldAll([
      paid(),
      refund('refund.succeeded', 'e1', 're_1', 10_000),
      domainEvent('dispute.opened', 'd1', { factId: 'dp_1' }),
      domainEvent('dispute.lost', 'd2', { factId: 'dp_1' }),
    ]);
    expect(payment?.status).toBe('dispute_lost');
    expect(announcementKeys(announced)).toEqual([
      'money_in:pi_1:received -> succeeded',
      'refund:re_1:succeeded -> refunded',
      'dispute:dp_1:opened -> disputed',
      'dispute:dp_1:lost -> dispute_lost',
    ]);
  });

  it('counts a refund seen before its payment once the payment arrives, and announces it then', () => {
    const early = foldAll([refund('refund.succeeded', 'e1', 're_1', 2500)]);
    expect(early.payment?.status).toBe('pending');
    expect(early.announced).toEqual([]);
    const { payment, announced } = foldAll([paid()], early.payment);
    expect(payment && paidTotal(payment)).toEqual(usd(10_000));
    expect(payment?.status).toBe('partially_refunded');
    expect(announcementKeys(announced)).toEqual([
      'money_in:pi_1:received -> succeeded',
      'refund:re_1:succeeded -> partially_refunded',
    ]);
  });

  it('lets money arrive after a failure, and announces the failure only while no money had arrived', () => {
    const failedFirst = foldAll([domainEvent('payment.failed', 'f1', { factId: 'pi_1' }), paid()]);
    expect(failedFirst.payment?.status).toBe('succeeded');
    expect(announcementKeys(failedFirst.announced)).toEqual([
      'attempt:pi_1:failed -> failed',
      'money_in:pi_1:received -> succeeded',
    ]);
    const paidFirst = foldAll([paid(), domainEvent('payment.failed', 'f1', { factId: 'pi_1' })]);
    expect(paidFirst.payment?.status).toBe('succeeded');
    expect(announcementKeys(paidFirst.announced)).toEqual(['money_in:pi_1:received -> succeeded']);
  });

  it('changes nothing and announces nothing when an event is applied again', () => {
    const once = foldAll([paid(), refund('refund.succeeded', 'e1', 're_1', 2500)]);
    const again = decide(once.payment, refund('refund.succeeded', 'e1', 're_1', 2500), FOLD_NOW);
    expect(again.next).toBeUndefined();
    expect(again.announcements).toEqual([]);
    expect(again.note).toContain('nothing new');
  });
});

describe('The payment record of facts: attempts, running totals and failed refunds', () => {
  it('ends an authorised attempt when it is cancelled or expires (a released hold), and settles an unverified claim', () => {
    const held = (kind: 'payment.expired' | 'payment.failed') =>
      foldAll([
        domainEvent('payment.authorized', 'a1', { factId: 'pi_1' }),
        domainEvent(kind, 'a2', { factId: 'pi_1' }),
      ]).payment;
    expect(held('payment.expired')?.status).toBe('expired');
    expect(held('payment.failed')?.status).toBe('failed');
    // An unverified claim (Flutterwave verif-hash) is a marker, not an attempt: it cannot undo a signed failure, and
    // it stays awaiting confirmation until the gateway's verified answer (the reconciler's event) settles it.
    const claimEvent = domainEvent('payment.authorized', 'payhook:claim:sha256:abc', {
      factId: 'tx_1',
      money: usd(500),
      needsConfirmation: true,
    });
    const failedThenClaimed = foldAll([
      domainEvent('payment.failed', 'f1', { factId: 'tx_1' }),
      claimEvent,
    ]).payment;
    expect(failedThenClaimed?.status).toBe('failed');
    expect(failedThenClaimed && awaitingConfirmation(failedThenClaimed)).toBe(true);
    const answered = foldAll(
      [
        domainEvent('payment.failed', 'payhook:reconciler:pi_1:payment.failed:x', {
          factId: 'tx_1',
          settlesClaims: ['payhook:claim:sha256:abc'],
        }),
        claimEvent,
      ],
      failedThenClaimed,
    ).payment;
    expect(answered?.status).toBe('failed');
    expect(answered && awaitingConfirmation(answered)).toBe(false);
    // Out of the reconciler's index once answered, even when the same claim is sent again.
    expect(answered?.pendingSince).toBeUndefined();
    const claimedOnly = foldAll([claimEvent]);
    expect(claimedOnly.payment?.status).toBe('authorized');
    expect(claimedOnly.announced).toEqual([]);
  });

  it('keeps an authorisation of one attempt over the failure of another (a retry after a declined card)', () => {
    const { payment } = foldAll([
      domainEvent('payment.authorized', 'a2', { factId: 'pay_2' }),
      domainEvent('payment.failed', 'f1', { factId: 'pay_1' }),
    ]);
    expect(payment?.status).toBe('authorized');
  });

  it('takes a refund that failed off a running total that counted it while it was under way', () => {
    const { payment } = foldAll([
      paid(),
      refund('refund.succeeded', 'e1', 're_1', 2000),
      refund('refund.pending', 'e2', 're_2', 3000),
      chargeRefunded('e3', 5000),
      refund('refund.failed', 'e4', 're_2', 3000),
    ]);
    expect(payment && refundedTotalMinor(payment)).toBe(2000n);
    expect(payment?.status).toBe('partially_refunded');
  });

  it('does not announce a running total that a refund still under way accounts for', () => {
    const { announced } = foldAll([
      paid(),
      refund('refund.pending', 'e1', 're_1', 2500),
      chargeRefunded('e2', 2500),
      refund('refund.succeeded', 'e3', 're_1', 2500),
    ]);
    expect(announcementKeys(announced)).toEqual([
      'money_in:pi_1:received -> succeeded',
      'refund:re_1:succeeded -> partially_refunded',
    ]);
  });
});

describe('The payment record of facts: money in', () => {
  it('counts Razorpay payment.captured and order.paid for one payment as one money-in fact, announced once', () => {
    const razorpay = {
      gateway: 'razorpay' as const,
      gatewayPaymentId: 'order_1',
      factId: 'pay_1',
      money: moneyFromMinor('50000', 'INR'),
    };
    const { payment, announced } = foldAll([
      domainEvent('payment.succeeded', 'evt_captured', razorpay),
      domainEvent('payment.succeeded', 'evt_order_paid', razorpay),
    ]);
    expect(payment?.moneyIn).toHaveLength(1);
    expect(payment && paidTotal(payment)).toEqual(moneyFromMinor('50000', 'INR'));
    expect(announcementKeys(announced)).toEqual(['money_in:pay_1:received -> succeeded']);
  });

  it('announces each deposit to an OXA Pay static address as its own money in', () => {
    const deposit = (hash: string, amount: string) =>
      domainEvent('payment.succeeded', `track:paid:${hash}`, {
        gateway: 'oxapay',
        reference: 'STATIC-1',
        gatewayPaymentId: 'track',
        factId: hash,
        money: moneyFromMinor(amount, 'USDT'),
      });
    const { payment, announced } = foldAll([deposit('0xaaa', '1000000'), deposit('0xbbb', '2500000')]);
    expect(payment?.status).toBe('succeeded');
    expect(payment && paidTotal(payment)).toEqual(moneyFromMinor('3500000', 'USDT'));
    expect(announcementKeys(announced)).toEqual([
      'money_in:0xaaa:received -> succeeded',
      'money_in:0xbbb:received -> succeeded',
    ]);
    expect(announced.map((item) => item.money?.amountMinor)).toEqual([1_000_000n, 2_500_000n]);
  });

  it('gives amount_mismatch when money in differs from the expectation, whichever came first, announced alike', () => {
    const registration = {
      gateway: 'stripe' as const,
      reference: 'ORDER-1',
      gatewayPaymentId: 'pi_1',
      expected: usd(25_000),
    };
    const expectationFirst = applyRegistration(undefined, registration, FOLD_NOW).next;
    const first = foldAll([paid()], expectationFirst);
    const paidFirst = foldAll([paid()]);
    const later = applyRegistration(paidFirst.payment, registration, FOLD_NOW);
    expect(first.payment?.status).toBe('amount_mismatch');
    expect(later.next?.status).toBe('amount_mismatch');
    const expected = [
      'money_in:pi_1:received -> succeeded',
      'expectation:25000:USD:2:mismatch -> amount_mismatch',
    ];
    expect(announcementKeys(first.announced)).toEqual(expected);
    expect(announcementKeys([...paidFirst.announced, ...later.announcements])).toEqual(expected);
  });

  it('compares the expectation with the total of several deposits, not each deposit', () => {
    const deposit = (id: string, amount: number) =>
      domainEvent('payment.succeeded', `evt_${id}`, { factId: id, money: usd(amount) });
    const registered = applyRegistration(
      undefined,
      { gateway: 'stripe', reference: 'ORDER-1', gatewayPaymentId: 'pi_1', expected: usd(10_000) },
      FOLD_NOW,
    ).next;
    expect(foldAll([deposit('tx_a', 6000), deposit('tx_b', 4000)], registered).payment?.status).toBe(
      'succeeded',
    );
    expect(foldAll([deposit('tx_a', 10_000), deposit('tx_b', 10_000)], registered).payment?.status).toBe(
      'amount_mismatch',
    );
  });

  it('derives authorized, failed, expired and pending from attempts while no money has arrived', () => {
    const status = (...kinds: ('payment.authorized' | 'payment.failed' | 'payment.expired')[]) =>
      foldAll(kinds.map((kind, index) => domainEvent(kind, `a${index}`, { factId: `att_${index}` }))).payment
        ?.status;
    expect(status('payment.authorized', 'payment.failed')).toBe('authorized');
    expect(status('payment.failed', 'payment.expired')).toBe('failed');
    expect(status('payment.expired')).toBe('expired');
    expect(foldAll([domainEvent('payment.pending', 'p1')]).payment?.status).toBe('pending');
  });

  it('ranks the derived status as the README table says, first match wins', () => {
    const money = [{ id: 'm', money: usd(100), eventIds: [] }];
    const base = { moneyIn: money, refunds: [], disputes: [], attempts: [] };
    const dispute = (states: ('opened' | 'won' | 'lost')[]) => ({ id: 'd', states, eventIds: [] });
    const refunded = (amount: number) => [
      { id: 'r', money: usd(amount), states: ['succeeded' as const], eventIds: [] },
    ];
    expect(deriveStatus({ ...base, disputes: [dispute(['opened']), dispute(['lost'])] })).toBe('disputed');
    expect(deriveStatus({ ...base, disputes: [dispute(['lost'])], refunds: refunded(100) })).toBe(
      'dispute_lost',
    );
    expect(deriveStatus({ ...base, disputes: [dispute(['won'])], refunds: refunded(100) })).toBe('refunded');
    expect(deriveStatus({ ...base, disputes: [dispute(['won'])], refunds: refunded(40) })).toBe(
      'partially_refunded',
    );
    expect(deriveStatus({ ...base, disputes: [dispute(['opened', 'lost', 'won'])] })).toBe('dispute_won');
    expect(deriveStatus({ ...base, expected: usd(99) })).toBe('amount_mismatch');
    expect(deriveStatus(base)).toBe('succeeded');
  });
});

describe('The payment record: bookkeeping', () => {
  it('keys Stripe and Razorpay payments by the gateway id, the others by the reference, the other kind marked', () => {
    expect(paymentKeyOf({ gateway: 'stripe', reference: 'R', gatewayPaymentId: 'pi_1' })).toBe('pi_1');
    expect(paymentKeyOf({ gateway: 'paystack', reference: 'R', gatewayPaymentId: '1' })).toBe('R');
    expect(paymentKeyOf({ gateway: 'paystack', gatewayPaymentId: '1' })).toBe('@id:1');
    expect(paymentKeyOf({ gateway: 'stripe', reference: 'pi_1' })).toBe('@ref:pi_1');
    // A preferred identifier that starts with the mark is marked too, so it cannot pose as the other kind.
    expect(paymentKeyOf({ gateway: 'paystack', reference: '@id:1' })).toBe('@ref:@id:1');
  });

  it('never gives a merchant reference and a gateway id the same key, whatever their text', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...GATEWAYS),
        fc.oneof(fc.string(), fc.constantFrom('@', '@id:', '@ref:', '1')),
        fc.oneof(fc.string(), fc.constantFrom('@', '@id:', '@ref:', '1')),
        fc.boolean(),
        (gateway, a, b, withBoth) => {
          // By reference alone vs by gateway id alone; and, where both are given, vs each alone of the other kind.
          const byReference = paymentKeyOf({ gateway, reference: a });
          const byId = paymentKeyOf({ gateway, gatewayPaymentId: b });
          expect(byReference).not.toBe(byId);
          if (withBoth) {
            const both = paymentKeyOf({ gateway, reference: a, gatewayPaymentId: b });
            expect([byReference, byId]).toContain(both);
          }
        },
      ),
    );
  });

  it('refuses an event that names no payment', () => {
    expect(() =>
      decide(
        undefined,
        domainEvent('payment.succeeded', 'e', { gatewayPaymentId: undefined, reference: undefined }),
        FOLD_NOW,
      ),
    ).toThrow(ImpossibleEventError);
  });

  it('remembers the last recent events with what each announced, and at most a few event ids per fact', () => {
    const events = Array.from({ length: RECENT_EVENTS_KEPT + 5 }, (_, index) =>
      domainEvent('payment.succeeded', `evt_${String(index).padStart(3, '0')}`, {
        money: usd(100),
        factId: 'pi_1',
      }),
    );
    const { payment } = foldAll(events);
    expect(payment?.moneyIn[0]?.eventIds).toHaveLength(EVENT_IDS_KEPT);
    expect(payment?.moneyIn[0]?.eventIds[0]).toBe('evt_000');
    // Each event added an event id (a new fact detail), so each is remembered; only the newest are kept.
    expect(payment?.recentEvents.length).toBeLessThanOrEqual(RECENT_EVENTS_KEPT);
    expect(payment?.recentEvents[0]?.announced).toEqual([
      { fact: { type: 'money_in', id: 'pi_1', state: 'received' }, to: 'succeeded', money: usd(100) },
    ]);
  });

  it('keeps the payment in the pending index while pending, and out of it once money arrived', () => {
    const pending = foldAll([domainEvent('payment.pending', 'p1')]).payment;
    expect(pending?.pendingSince).toBe(FOLD_NOW.toISOString());
    expect(foldAll([paid()], pending).payment?.pendingSince).toBeUndefined();
  });

  it('keeps an unverified claim in the pending index until money is confirmed', () => {
    const claim = domainEvent('payment.authorized', 'c1', {
      factId: 'tx_1',
      money: usd(500),
      needsConfirmation: true,
    });
    const claimed = foldAll([claim]).payment;
    expect(claimed?.status).toBe('authorized');
    expect(claimed?.attempts[0]?.claim).toBe(true);
    expect(claimed?.pendingSince).toBe(FOLD_NOW.toISOString());
  });
});
