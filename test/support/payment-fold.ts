import { type Money, moneyFromMinor } from '../../lambdas/domain/money.js';
import { type Announcement, decide, type Payment } from '../../lambdas/domain/payment.js';
import type { EventKind, WebhookEvent } from '../../lambdas/domain/webhook-event.js';

export const FOLD_NOW = new Date('2026-11-24T10:00:00Z');

/** A normalised event for domain tests: a Stripe-like payment `pi_1` unless overridden. */
export function domainEvent(
  kind: EventKind,
  eventId: string,
  overrides: Partial<WebhookEvent> = {},
): WebhookEvent {
  return {
    gateway: 'stripe',
    eventId,
    eventType: kind,
    kind,
    gatewayPaymentId: 'pi_1',
    reference: 'ORDER-1',
    mode: 'live',
    receivedAt: FOLD_NOW.toISOString(),
    priority: 'normal',
    requestId: `req-${eventId}`,
    payload: '{}',
    ...overrides,
  };
}

export function usd(minor: number | bigint): Money {
  return moneyFromMinor(String(minor), 'USD');
}

export interface Folded {
  readonly payment: Payment | undefined;
  /** Every announcement made, in order, with the status the record had before it. */
  readonly announced: readonly Announcement[];
}

/** Applies events one after the other, as the consumers would (a missing record is created by the first). */
export function foldAll(events: readonly WebhookEvent[], start?: Payment): Folded {
  let payment = start;
  const announced: Announcement[] = [];
  for (const event of events) {
    const decision = decide(payment, event, FOLD_NOW);
    if (decision.next) payment = decision.next;
    announced.push(...decision.announcements);
  }
  return { payment, announced };
}

/** `type:id:state -> to` for each announcement: what a test compares. */
export function announcementKeys(announced: readonly Announcement[]): string[] {
  return announced.map((item) => `${item.fact.type}:${item.fact.id}:${item.fact.state} -> ${item.to}`);
}
