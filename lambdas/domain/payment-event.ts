import { createHash } from 'node:crypto';
import type { Money } from './money.js';
import type { FactRef, PaymentStatus } from './payment.js';
import type { GatewayName } from './webhook-event.js';

/**
 * What payhook announces to the merchant's other services: one event per fact the payment record learns, in each
 * state it reaches (money in, a refund, a dispute won, ...), as the `detail` of an EventBridge event whose
 * detail-type is `payment.<to>` (`payment.succeeded`, ...).
 */
export interface PaymentEvent {
  readonly version: 1;
  /**
   * Ours and deterministic (EventBridge's own envelope id differs on every publish): derived from the gateway, the
   * payment key and the fact (type, id, state), so a re-publish after a crash carries the same id, and one refund told
   * by three event types is announced once. Consumers dedupe on it.
   */
  readonly id: string;
  readonly gateway: GatewayName;
  readonly reference?: string;
  readonly gatewayPaymentId?: string;
  /** The record's status before this fact was applied; `null` when the payment was first seen through it. */
  readonly from: PaymentStatus | null;
  /** What this fact means: the detail-type is `payment.<to>`. */
  readonly to: PaymentStatus;
  /** The fact's own money (a refund's amount, a deposit's), minor units as a decimal string, with its currency. */
  readonly amount?: string;
  readonly currency?: string;
  readonly exponent?: number;
  /** The record's status once this fact was applied (derived from all its facts). */
  readonly status: PaymentStatus;
  /** Total money in and total refunded once this fact was applied, minor units as decimal strings (in `currency`). */
  readonly paid?: string;
  readonly refunded?: string;
  /** The fact announced: `money_in`, `refund`, `refund_total`, `dispute` or `attempt`, the gateway's id, its state. */
  readonly fact: FactRef;
  readonly occurredAt: string;
  /** The gateway event that told us (`WebhookEvent.eventId`). */
  readonly sourceEventId: string;
}

/** EventBridge `source` of every payhook event. */
export const PAYMENT_EVENT_SOURCE = 'payhook';

export function paymentEventDetailType(event: Pick<PaymentEvent, 'to'>): string {
  return `payment.${event.to}`;
}

/** The deterministic id of the event announcing `fact` of one payment at `gateway`. */
export function paymentEventId(gateway: GatewayName, paymentKey: string, fact: FactRef): string {
  const digest = createHash('sha256')
    .update(`${gateway}\n${paymentKey}\n${fact.type}\n${fact.id}\n${fact.state}`)
    .digest('hex');
  // UUID-shaped so downstream systems that expect one can store it as such.
  return `${digest.slice(0, 8)}-${digest.slice(8, 12)}-${digest.slice(12, 16)}-${digest.slice(16, 20)}-${digest.slice(20, 32)}`;
}

export function moneyFields(
  money: Money | undefined,
): Pick<PaymentEvent, 'amount' | 'currency' | 'exponent'> {
  return money
    ? { amount: money.amountMinor.toString(), currency: money.currency, exponent: money.exponent }
    : {};
}
