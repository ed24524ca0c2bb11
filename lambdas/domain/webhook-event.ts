import type { Money } from './money.js';
import type { Priority } from './priority.js';

/** Gateways payhook has an adapter for; each is also its route: `POST /webhooks/<gateway>`. */
export const GATEWAYS = [
  'paystack',
  'flutterwave',
  'razorpay',
  'oxapay',
  'stripe',
  'standard',
  'adyen',
] as const;
export type GatewayName = (typeof GATEWAYS)[number];

export function isGatewayName(value: unknown): value is GatewayName {
  return typeof value === 'string' && (GATEWAYS as readonly string[]).includes(value);
}

/**
 * What an event means for a payment, whatever the gateway called it.
 * `payment.expired` covers every "this payment can no longer complete" (expired checkout, cancelled intent).
 */
export const EVENT_KINDS = [
  'payment.pending',
  'payment.authorized',
  'payment.succeeded',
  'payment.failed',
  'payment.expired',
  'refund.pending',
  'refund.succeeded',
  'refund.failed',
  'dispute.opened',
  'dispute.updated',
  'dispute.won',
  'dispute.lost',
  'other',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export function isEventKind(value: unknown): value is EventKind {
  return typeof value === 'string' && (EVENT_KINDS as readonly string[]).includes(value);
}

/** The default priority of a kind: money arrived and disputes first, the rest of the lifecycle next, then the rest. */
export function defaultPriority(kind: EventKind): Priority {
  if (kind === 'payment.succeeded' || kind.startsWith('dispute.')) return 'high';
  if (kind.startsWith('payment.') || kind.startsWith('refund.')) return 'normal';
  return 'low';
}

/** `unknown` where the gateway does not say (Razorpay, OXA Pay, Flutterwave, Standard Webhooks). */
export type EventMode = 'live' | 'test' | 'unknown';

/** One gateway event, normalised. One webhook request yields one of these, or several for Adyen batches. */
export interface WebhookEvent {
  readonly gateway: GatewayName;
  /**
   * The dedupe key, unique per gateway: the gateway's own event id, or the derivation documented on each adapter
   * where the gateway sends none.
   */
  readonly eventId: string;
  /** The gateway's own name for the event, e.g. `charge.success`, `AUTHORISATION`, `invoice.paid`. */
  readonly eventType: string;
  readonly kind: EventKind;
  /** The merchant's reference for the payment (order id, tx_ref, merchantReference), where the payload has it. */
  readonly reference?: string;
  /** The gateway's id for the payment (PaymentIntent, order or payment id, pspReference), where the payload has it. */
  readonly gatewayPaymentId?: string;
  readonly money?: Money;
  readonly mode: EventMode;
  /** When the gateway says the event happened (ISO 8601), where it says. */
  readonly occurredAt?: string;
  /** When payhook received the request (ISO 8601). */
  readonly receivedAt: string;
  readonly priority: Priority;
  /** The API Gateway request id, so one search finds the request, the queue message and the payment history. */
  readonly requestId: string;
  /**
   * The event exactly as received: the whole body, or for a batch (Adyen) this item's JSON text. Consumers re-read
   * it losslessly; it is never logged.
   */
  readonly payload: string;
  /**
   * A claim of money arrived through a scheme that does not bind the body (Flutterwave `verif-hash`): queued as
   * `payment.authorized`, and confirmed through the gateway's verify API before the payment counts as succeeded.
   */
  readonly needsConfirmation?: true;
  /**
   * The gateway's own id of the thing the event is about, signed with the body: the capture, charge or deposit
   * (money in), the refund, the dispute, or the payment attempt. The payment record keeps one fact per id, so the
   * same refund announced by three event types is counted once. Absent where the payload names none; the record then
   * falls back to the payment's id (money in, attempts, disputes) or the event's (refunds).
   */
  readonly factId?: string;
  /**
   * A running total of money refunded on the payment, as the gateway reports it (Stripe `charge.refunded`
   * `amount_refunded`, Razorpay's payment `amount_refunded`): a floor on the refunded total, never added to it.
   */
  readonly refundedTotal?: Money;
  /**
   * The unverified claims (their fact ids) this event settles: set only on the reconciler's own events, which carry
   * the gateway's verified answer about a payment awaiting confirmation. Read only from synthetic events.
   */
  readonly settlesClaims?: readonly string[];
}

/**
 * A webhook as the gateway sent it, for an existing handler that verifies the gateway's own signature (destinations
 * of format `original`): the exact bytes and the headers that handler needs, nothing else.
 */
export interface OriginalWebhook {
  readonly body: Buffer;
  /** Lower-case names: the content type and the gateway's signature and id headers. */
  readonly headers: Readonly<Record<string, string>>;
}
