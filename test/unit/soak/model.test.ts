import { describe, expect, it } from 'vitest';
import { decide, type Payment } from '../../../lambdas/domain/payment.js';
import { paymentEventId } from '../../../lambdas/domain/payment-event.js';
import type { WebhookEvent } from '../../../lambdas/domain/webhook-event.js';
import { ADAPTERS } from '../../../lambdas/gateways/registry.js';
import { DEFAULT_GATEWAY_SETTINGS } from '../../../lambdas/gateways/settings.js';
import type { HistoryEntry } from '../../../lambdas/ports/payment-store.js';
import { paymentView } from '../../../local/views.js';
import { announcedTwice, compareRecord } from '../../../soak/checks.js';
import { buildEvent, type GatewayEvent, sign } from '../../../soak/gateways.js';
import { buildPlan, type PlannedPayment } from '../../../soak/generator.js';
import { mulberry32, type Random } from '../../../soak/prng.js';
import { webhookRequest } from '../../support/requests.js';

/**
 * The soak's model is written apart from the domain it checks. This runs the two against each other without the
 * stack: each planned payment's webhooks go through the real adapters and `decide`, in several random orders with
 * duplicates, and the record and announcements must be what the model says (the order-dependent exceptions apart).
 * A disagreement here is either a model bug or a domain bug; the full soak then adds queues, faults and retries.
 */
function normalise(planned: PlannedPayment, event: GatewayEvent): WebhookEvent {
  const { gateway } = planned.payment;
  const signed = sign(gateway, event);
  const [normalised] = ADAPTERS[gateway].normalise(
    webhookRequest(signed.body, signed.headers),
    DEFAULT_GATEWAY_SETTINGS,
  ).events;
  if (!normalised) throw new Error(`${gateway} ${event.step}: no event`);
  return normalised;
}

interface Folded {
  readonly payment: Payment | undefined;
  readonly history: Map<string, HistoryEntry>;
  /** Announcement ids, with how many times each was published. */
  readonly published: Map<string, number>;
}

function fold(events: readonly WebhookEvent[]): Folded {
  let payment: Payment | undefined;
  const history = new Map<string, HistoryEntry>();
  const published = new Map<string, number>();
  const now = new Date('2026-11-20T12:00:00.000Z');
  for (const event of events) {
    // What the consumer's idempotency does for a duplicate: the event was applied already, nothing to do.
    if (payment?.recentEvents.some((recent) => recent.eventId === event.eventId)) continue;
    const decision = decide(payment, event, now);
    if (decision.next) payment = decision.next;
    const key = payment?.paymentKey ?? '';
    history.set(event.eventId, {
      gateway: event.gateway,
      paymentKey: key,
      eventId: event.eventId,
      eventType: event.eventType,
      kind: event.kind,
      receivedAt: event.receivedAt,
      requestId: event.requestId,
      ...(decision.transition && { transition: decision.transition }),
      ...(decision.announcements.length > 0 && {
        announced: decision.announcements.map((item) => item.fact),
      }),
    });
    for (const announcement of decision.announcements) {
      const id = paymentEventId(event.gateway, key, announcement.fact);
      published.set(id, (published.get(id) ?? 0) + 1);
    }
  }
  return { payment, history, published };
}

/** A random order of the events, a few of them twice. */
function arrival(random: Random, events: readonly WebhookEvent[]): WebhookEvent[] {
  const sent = [...events, ...events.filter(() => random.chance(0.2))];
  for (let i = sent.length - 1; i > 0; i -= 1) {
    const j = random.int(0, i);
    [sent[i], sent[j]] = [sent[j] as WebhookEvent, sent[i] as WebhookEvent];
  }
  return sent;
}

function differences(planned: PlannedPayment, folded: Folded): string[] {
  const { model } = planned;
  if (!folded.payment) return [`${planned.payment.key}: no record`];
  const view = paymentView(folded.payment, [...folded.history.values()]);
  const problems = [...compareRecord(planned, view), ...announcedTwice(view)];
  const expected = new Set(model.announcements.map((item) => item.id));
  const possible = new Set(model.possibleExceptions.map((item) => item.id));
  for (const announcement of model.announcements) {
    const copies = folded.published.get(announcement.id) ?? 0;
    if (copies !== 1) {
      const { type, id, state } = announcement.fact;
      problems.push(`${planned.payment.key}: ${type} ${id} ${state} published ${copies} times`);
    }
  }
  for (const id of folded.published.keys()) {
    if (!expected.has(id) && !possible.has(id))
      problems.push(`${planned.payment.key}: ${id} is not in the model`);
  }
  return problems;
}

describe('soak model against the domain (adapters and decide, no stack)', () => {
  it.each([4242, 20261120, 7, 99])('agrees on every payment of seed %i, in any order', (seed) => {
    const plan = buildPlan({ webhooks: 1500, seed }, mulberry32(seed).fork());
    const random = mulberry32(seed + 1);
    const problems: string[] = [];
    // Webhooks alone: payments the plan also registers, claims or settles through the reconciler need the stack
    // (registration route, gateway sandbox) and are compared by the soak itself.
    const webhooksOnly = plan.payments.filter(
      (planned) =>
        planned.lifecycle !== 'registered-only' &&
        planned.claims.length === 0 &&
        planned.model.expected === null &&
        !planned.model.verifiedAnswer,
    );
    expect(webhooksOnly.length).toBeGreaterThan(plan.payments.length * 0.8);
    for (const planned of webhooksOnly) {
      const events = planned.events.map((event) => normalise(planned, event));
      for (let order = 0; order < 4; order += 1) {
        const sent = order === 0 ? events : order === 1 ? [...events].reverse() : arrival(random, events);
        const found = differences(planned, fold(sent));
        problems.push(...found.map((problem) => `order ${order}: ${problem}`));
      }
    }
    expect(problems.slice(0, 20)).toEqual([]);
  });

  it('plans whole lifecycles: refunds by several event types, disputes, deposits, refunds first, poison', () => {
    const plan = buildPlan({ webhooks: 1500, seed: 4242 }, mulberry32(4242).fork());
    const { figures } = plan;
    expect(figures.refunds).toBeGreaterThan(0);
    expect(figures.refundsByEventCount['3 types']).toBeGreaterThan(0);
    expect(figures.floorOnlyRefunds).toBeGreaterThan(0);
    expect(figures.disputesByOutcome.won).toBeGreaterThan(0);
    expect(figures.disputesByOutcome.lost).toBeGreaterThan(0);
    expect(figures.chargebacksAfterRefunds).toBeGreaterThan(0);
    expect(figures.refundsBeforePayment).toBeGreaterThan(0);
    expect(figures.multiDepositPayments).toBeGreaterThan(0);
    expect(Object.keys(figures.byPriority).sort()).toEqual(['high', 'low', 'normal']);
    expect(plan.poison.length).toBeGreaterThanOrEqual(2);
    // A poison replay has its original's event id and another amount.
    for (const { delivery } of plan.poison) {
      const planned = plan.payments.find((candidate) => candidate.payment === delivery.payment);
      const original = planned?.events.find((event) => event.sourceEventId === delivery.event.sourceEventId);
      expect(original?.payload).not.toBe(delivery.event.payload);
      expect(buildEvent(delivery.payment, delivery.event.spec).payload).toBe(original?.payload);
    }
  });
});
