import { createHash } from 'node:crypto';
import type { Money } from './money.js';
import type { PaymentStatus } from './payment.js';
import type { GatewayName } from './webhook-event.js';

/**
 * What payhook announces to the merchant's other services when a payment changes status: one event per transition,
 * as the `detail` of an EventBridge event whose detail-type is `payment.<to>` (`payment.succeeded`, ...).
 */
export interface PaymentEvent {
  readonly version: 1;
  /**
   * Ours and deterministic (EventBridge's own envelope id differs on every publish): derived from the gateway, the
   * source event id and the target status, so a re-publish after a crash carries the same id and two partial
   * refunds carry different ones. Consumers dedupe on it.
   */
  readonly id: string;
  readonly gateway: GatewayName;
  readonly reference?: string;
  readonly gatewayPaymentId?: string;
  /** `null` when the payment was first seen through this event. */
  readonly from: PaymentStatus | null;
  readonly to: PaymentStatus;
  /** Integer minor units as a decimal string (exact), with the currency and its exponent. */
  readonly amount?: string;
  readonly currency?: string;
  readonly exponent?: number;
  readonly occurredAt: string;
  /** The gateway event that caused the transition (`WebhookEvent.eventId`). */
  readonly sourceEventId: string;
}

/** EventBridge `source` of every payhook event. */
export const PAYMENT_EVENT_SOURCE = 'payhook';

export function paymentEventDetailType(event: Pick<PaymentEvent, 'to'>): string {
  return `payment.${event.to}`;
}

/** The deterministic id of the event announcing `to`, caused by `sourceEventId` at `gateway`. */
export function paymentEventId(gateway: GatewayName, sourceEventId: string, to: PaymentStatus): string {
  const digest = createHash('sha256').update(`${gateway}\n${sourceEventId}\n${to}`).digest('hex');
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

/** Where payment events go: an EventBridge bus on AWS, a file the developer can read locally. */
export interface PaymentEventPublisher {
  /** Resolves once the event is accepted by the destination; throws otherwise (the caller retries the record). */
  publish(event: PaymentEvent): Promise<void>;
}
