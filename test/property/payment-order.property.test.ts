import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Announcement, decide, factKey, factsOf, type Payment } from '../../lambdas/domain/payment.js';
import { applyRegistration, type Registration } from '../../lambdas/domain/registration.js';
import type { WebhookEvent } from '../../lambdas/domain/webhook-event.js';
import { domainEvent, FOLD_NOW, usd } from '../support/payment-fold.js';

/**
 * Order never matters: a payment's whole lifecycle (pending, failed attempts, money in, partial refunds told by one to
 * three event types with running totals, reversals, disputes opened then won or lost, chargebacks after refunds, an
 * expectation registered at any point) folded in a random order with duplicates gives the same record, and the same
 * announcements, as the in-order fold. Two kinds of announcement are order-dependent by design and checked apart:
 * an authorisation, failure or expiry is announced only while no money had arrived, and a running refunded total
 * only while it exceeded the refunds known.
 */
const RUNS = Number(process.env.PAYHOOK_FUZZ_RUNS ?? 300);

type Step = { readonly event: WebhookEvent } | { readonly registration: Registration };

/** A refund: its amount, which events tell it (its own created/updated, a running total, a pending first), reversed or not. */
const refundPlan = fc.record({
  amount: fc.integer({ min: 1, max: 4000 }),
  tellers: fc.subarray(['created', 'updated', 'pending', 'running_total'] as const, { minLength: 1 }),
  reversed: fc.boolean(),
});

const lifecycle = fc.record({
  pending: fc.boolean(),
  failedAttempts: fc.integer({ min: 0, max: 2 }),
  deposits: fc.array(fc.integer({ min: 1000, max: 20_000 }), { minLength: 0, maxLength: 3 }),
  /** Each deposit told by one or two events (Razorpay's payment.captured and order.paid). */
  doubleTold: fc.boolean(),
  refunds: fc.array(refundPlan, { maxLength: 3 }),
  disputes: fc.array(fc.constantFrom('opened', 'won', 'lost'), { maxLength: 2 }),
  expectation: fc.option(fc.integer({ min: 1000, max: 40_000 }), { nil: undefined }),
});

type Lifecycle = typeof lifecycle extends fc.Arbitrary<infer T> ? T : never;

function stepsOf(plan: Lifecycle): Step[] {
  const steps: Step[] = [];
  const event = (...args: Parameters<typeof domainEvent>) => steps.push({ event: domainEvent(...args) });
  if (plan.pending) event('payment.pending', 'evt_pending');
  for (let index = 0; index < plan.failedAttempts; index += 1) {
    event('payment.failed', `evt_failed_${index}`, { factId: `att_${index}` });
  }
  plan.deposits.forEach((amount, index) => {
    const told = { money: usd(amount), factId: `ch_${index}`, priority: 'high' as const };
    event('payment.succeeded', `evt_paid_${index}`, told);
    if (plan.doubleTold) event('payment.succeeded', `evt_paid_again_${index}`, told);
  });
  let runningTotal = 0;
  plan.refunds.forEach((refund, index) => {
    const id = `re_${index}`;
    runningTotal += refund.amount;
    for (const teller of refund.tellers) {
      if (teller === 'running_total') {
        // Stripe's charge.refunded: the charge's amount_refunded so far, no refund id.
        event('refund.succeeded', `evt_charge_refunded_${index}`, {
          money: usd(runningTotal),
          refundedTotal: usd(runningTotal),
        });
      } else {
        const kind = teller === 'pending' ? 'refund.pending' : 'refund.succeeded';
        event(kind, `evt_refund_${teller}_${index}`, { money: usd(refund.amount), factId: id });
      }
    }
    if (refund.reversed)
      event('refund.failed', `evt_refund_failed_${index}`, { money: usd(refund.amount), factId: id });
  });
  plan.disputes.forEach((outcome, index) => {
    const id = `dp_${index}`;
    event('dispute.opened', `evt_dispute_opened_${index}`, { factId: id, priority: 'high' });
    if (outcome !== 'opened')
      event(`dispute.${outcome}`, `evt_dispute_${outcome}_${index}`, { factId: id, priority: 'high' });
  });
  if (plan.expectation !== undefined) {
    steps.push({
      registration: {
        gateway: 'stripe',
        reference: 'ORDER-1',
        gatewayPaymentId: 'pi_1',
        expected: usd(plan.expectation),
      },
    });
  }
  return steps;
}

function fold(steps: readonly Step[]): { payment: Payment | undefined; announced: Announcement[] } {
  let payment: Payment | undefined;
  const announced: Announcement[] = [];
  for (const step of steps) {
    const decision =
      'event' in step
        ? decide(payment, step.event, FOLD_NOW)
        : applyRegistration(payment, step.registration, FOLD_NOW);
    if (decision.next) payment = decision.next;
    announced.push(...decision.announcements);
  }
  return { payment, announced };
}

/**
 * Announcements whose presence depends on order by design (see the file comment); with several deposits, a
 * mismatch seen on a partial total stays announced too.
 */
function orderDependent(item: Announcement, deposits = 1): boolean {
  return (
    item.fact.type === 'attempt' ||
    item.fact.type === 'refund_total' ||
    (item.fact.type === 'expectation' && deposits > 1)
  );
}

/** A random order of the steps, with some repeated (a gateway's retry, a queue's redelivery). */
const shuffled = (steps: readonly Step[]) =>
  fc
    .tuple(
      fc.array(fc.nat(), { minLength: steps.length, maxLength: steps.length }),
      fc.array(fc.nat({ max: Math.max(0, steps.length - 1) }), { maxLength: 4 }),
    )
    .map(([keys, repeats]) => {
      const order = steps
        .map((step, index) => ({ step, key: keys[index] ?? 0 }))
        .sort((a, b) => a.key - b.key);
      const result = order.map((entry) => entry.step);
      for (const at of repeats) {
        const step = steps[at];
        if (step !== undefined) result.splice(at % (result.length + 1), 0, step);
      }
      return result;
    });

describe('Order never matters (fast-check)', () => {
  it('folds a whole lifecycle in any order, with duplicates, to the same record and the same announcements', () => {
    fc.assert(
      fc.property(
        lifecycle.chain((plan) => {
          const steps = stepsOf(plan);
          return fc.tuple(fc.constant(steps), shuffled(steps));
        }),
        ([inOrder, permuted]) => {
          const expected = fold(inOrder);
          const actual = fold(permuted);
          const moneyIn = (expected.payment?.moneyIn ?? []).length;
          const early = (item: Announcement) => orderDependent(item, moneyIn);
          expect(actual.payment && factsOf(actual.payment)).toEqual(
            expected.payment && factsOf(expected.payment),
          );

          const keys = (items: Announcement[]) => items.map((item) => factKey(item.fact));
          const stable = (items: Announcement[]) => keys(items.filter((item) => !early(item))).sort();
          // Each fact announced exactly once, and the same set whatever the order.
          expect(new Set(keys(actual.announced)).size).toBe(actual.announced.length);
          expect(stable(actual.announced)).toEqual(stable(expected.announced));
          // The fact fields of an announcement (its money) depend only on the events, not on when it was applied.
          const money = (items: Announcement[]) =>
            Object.fromEntries(
              items
                .filter((item) => !early(item))
                .map((item) => [factKey(item.fact), item.money?.amountMinor]),
            );
          expect(money(actual.announced)).toEqual(money(expected.announced));

          // Order-dependent announcements name only facts the events told, and only those that could be early.
          const attempts = new Set(
            inOrder.flatMap((step) =>
              'event' in step && step.event.kind === 'payment.failed' ? [step.event.factId] : [],
            ),
          );
          const floors = new Set(
            inOrder.flatMap((step) =>
              'event' in step && step.event.refundedTotal
                ? [step.event.refundedTotal.amountMinor.toString()]
                : [],
            ),
          );
          for (const item of actual.announced.filter(early)) {
            if (item.fact.type === 'attempt') expect(attempts.has(item.fact.id)).toBe(true);
            else if (item.fact.type === 'refund_total') expect(floors.has(item.fact.id)).toBe(true);
            else expect(item.fact.type).toBe('expectation');
          }
          // With no money in, an attempt's failure is always announced.
          if (moneyIn === 0) {
            expect(keys(actual.announced.filter(early)).sort()).toEqual(
              keys(expected.announced.filter(early)).sort(),
            );
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('never counts more refunded than the money in, whatever the events say', () => {
    fc.assert(
      fc.property(lifecycle, (plan) => {
        const { payment } = fold(stepsOf(plan));
        if (!payment) return;
        const paidMinor = payment.moneyIn.reduce((sum, fact) => sum + (fact.money?.amountMinor ?? 0n), 0n);
        const status = payment.status;
        if (status === 'refunded') expect(paidMinor).toBeGreaterThan(0n);
        if (payment.moneyIn.length === 0)
          expect(['partially_refunded', 'refunded', 'succeeded']).not.toContain(status);
      }),
      { numRuns: RUNS },
    );
  });
});
