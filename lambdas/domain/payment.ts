import type { Money } from './money.js';
import type { EventKind, EventMode, GatewayName, WebhookEvent } from './webhook-event.js';

export const PAYMENT_STATUSES = [
  'pending',
  'authorized',
  'succeeded',
  'failed',
  'expired',
  'amount_mismatch',
  'partially_refunded',
  'refunded',
  'disputed',
  'dispute_won',
  'dispute_lost',
] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/**
 * The only moves a payment may make. Anything else (a `payment.pending` after `succeeded`, a second `failed`)
 * changes nothing but the history, so events arriving late or twice cannot undo a later fact.
 *
 * One addition to the table in the design issue: `authorized` may move to `amount_mismatch`, so a capture of the
 * wrong amount is flagged rather than recorded as a plain success.
 */
export const TRANSITIONS: Readonly<Record<PaymentStatus, readonly PaymentStatus[]>> = {
  pending: ['authorized', 'succeeded', 'failed', 'expired', 'amount_mismatch'],
  authorized: ['succeeded', 'failed', 'expired', 'amount_mismatch'],
  // Money that arrives late is never ignored (Razorpay documents a capture after a failure).
  failed: ['succeeded', 'amount_mismatch'],
  expired: ['succeeded', 'amount_mismatch'],
  succeeded: ['partially_refunded', 'refunded', 'disputed'],
  // partially_refunded -> partially_refunded: each further partial refund grows the refunded total.
  partially_refunded: ['partially_refunded', 'refunded', 'disputed'],
  disputed: ['dispute_won', 'dispute_lost'],
  amount_mismatch: ['succeeded', 'refunded'],
  refunded: [],
  dispute_won: [],
  dispute_lost: [],
};

export function canMove(from: PaymentStatus, to: PaymentStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** How many recently applied event ids a payment remembers, to recognise its own transition after a crash. */
export const RECENT_EVENTS_KEPT = 25;

export interface AppliedEvent {
  readonly eventId: string;
  readonly from: PaymentStatus | null;
  readonly to: PaymentStatus;
}

/** One payment, as the consumers keep it. */
export interface Payment {
  readonly gateway: GatewayName;
  /** The key the record is found by within its gateway (see `paymentKeyOf`). */
  readonly paymentKey: string;
  readonly reference?: string;
  readonly gatewayPaymentId?: string;
  readonly status: PaymentStatus;
  /** Bumped by every write; writes are conditional on it, so two racing events cannot both win. */
  readonly version: number;
  readonly mode: EventMode;
  /** The amount the merchant registered as expected (reconciliation), if any. */
  readonly expected?: Money;
  /** The amount of the latest payment-lifecycle event that carried one. */
  readonly amount?: Money;
  /** The amount that arrived, from the event that made it succeed. */
  readonly paid?: Money;
  /** Sum of applied refunds, in the paid currency's minor units. */
  readonly refundedMinor: bigint;
  /** When the payment entered `pending`, while it is pending: the reconciler's index. */
  readonly pendingSince?: string;
  /** When a pending payment stops being payable (registered; else the reconciler's default applies). */
  readonly expiresAt?: string;
  /**
   * Set when an expectation registered after the money arrived does not match what was paid: the status cannot move
   * back from `succeeded`, so the disagreement is flagged for a human instead.
   */
  readonly expectationMismatch?: boolean;
  /** Authorised on an unverified claim of money (Flutterwave `verif-hash`); the reconciler confirms it. */
  readonly awaitingConfirmation?: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** The last {@link RECENT_EVENTS_KEPT} transitions, newest last. */
  readonly recentEvents: readonly AppliedEvent[];
}

/** Event data that cannot describe a real payment change: a permanent error, dead-lettered for a human. */
export class ImpossibleEventError extends Error {
  override readonly name = 'ImpossibleEventError';
}

/**
 * Which identifier a gateway's payment record is keyed by: the one every event about that payment carries.
 * Stripe and Razorpay events always carry the gateway's id (PaymentIntent; order else payment), while the merchant's
 * reference lives in optional metadata; the other gateways always carry the merchant's reference.
 */
const KEY_PREFERENCE: Readonly<Record<GatewayName, 'reference' | 'gatewayPaymentId'>> = {
  paystack: 'reference',
  flutterwave: 'reference',
  oxapay: 'reference',
  adyen: 'reference',
  standard: 'reference',
  stripe: 'gatewayPaymentId',
  razorpay: 'gatewayPaymentId',
};

export function paymentKeyOf(
  event: Pick<WebhookEvent, 'gateway' | 'reference' | 'gatewayPaymentId'>,
): string | undefined {
  return KEY_PREFERENCE[event.gateway] === 'reference'
    ? (event.reference ?? event.gatewayPaymentId)
    : (event.gatewayPaymentId ?? event.reference);
}

/** Kinds that say nothing about a payment's status; they are kept in the history only. */
const HISTORY_ONLY: ReadonlySet<EventKind> = new Set([
  'refund.pending',
  'refund.failed',
  'dispute.updated',
  'other',
]);

export function affectsStatus(kind: EventKind): boolean {
  return !HISTORY_ONLY.has(kind);
}

export function sameMoney(a: Money, b: Money): boolean {
  return (
    a.currency === b.currency &&
    a.amountMinor * 10n ** BigInt(b.exponent) === b.amountMinor * 10n ** BigInt(a.exponent)
  );
}

export interface Decision {
  /** The payment as it should be stored, or `undefined` when nothing about it changes. */
  readonly next?: Payment;
  /** The status change this event causes, if any: exactly what is announced. */
  readonly transition?: AppliedEvent;
  /** Why nothing moved, for the history and the logs. */
  readonly note?: string;
  /** Nothing moved because the payment is already past the status this event describes (it arrived late). */
  readonly outOfOrder?: boolean;
}

function targetOf(event: WebhookEvent, payment: Payment | undefined): PaymentStatus | undefined {
  switch (event.kind) {
    case 'payment.pending':
      return 'pending';
    case 'payment.authorized':
      return 'authorized';
    case 'payment.failed':
      return 'failed';
    case 'payment.expired':
      return 'expired';
    case 'payment.succeeded': {
      const expected = payment?.expected;
      return expected && event.money && !sameMoney(expected, event.money) ? 'amount_mismatch' : 'succeeded';
    }
    case 'refund.succeeded': {
      const paid = payment?.paid;
      if (!paid || !event.money) return 'partially_refunded';
      return payment.refundedMinor + event.money.amountMinor >= paid.amountMinor
        ? 'refunded'
        : 'partially_refunded';
    }
    case 'dispute.opened':
      return 'disputed';
    case 'dispute.won':
      return 'dispute_won';
    case 'dispute.lost':
      return 'dispute_lost';
    default:
      return undefined;
  }
}

function checkRefund(event: WebhookEvent, payment: Payment | undefined): void {
  if (event.kind !== 'refund.succeeded' || !event.money) return;
  if (event.money.amountMinor <= 0n) {
    throw new ImpossibleEventError(
      `refund ${event.eventId} has a non-positive amount ${event.money.amountMinor}`,
    );
  }
  const paid = payment?.paid;
  if (paid && (paid.currency !== event.money.currency || paid.exponent !== event.money.exponent)) {
    throw new ImpossibleEventError(
      `refund ${event.eventId} is in ${event.money.currency} but the payment was paid in ${paid.currency}`,
    );
  }
}

/**
 * What an event does to a payment: the pure heart of processing. `payment` is the stored record (or `undefined` when
 * this is the first event seen for it); the result is the record to store and the transition to announce.
 */
export function decide(payment: Payment | undefined, event: WebhookEvent, now: Date): Decision {
  const paymentKey = paymentKeyOf(event);
  if (paymentKey === undefined) {
    throw new ImpossibleEventError(
      `${event.kind} event ${event.eventId} names no payment (no reference, no payment id)`,
    );
  }
  checkRefund(event, payment);
  const at = now.toISOString();
  const target = targetOf(event, payment);
  if (target === undefined) return { note: `${event.kind} does not change a payment's status` };

  const from = payment?.status ?? null;
  if (from !== null && !canMove(from, target)) {
    return {
      note: `${from} does not move to ${target}; kept in the history only`,
      ...(from !== target && { outOfOrder: true }),
    };
  }
  const transition: AppliedEvent = { eventId: event.eventId, from, to: target };
  const isPaymentKind = event.kind.startsWith('payment.');
  const base: Payment = payment ?? {
    gateway: event.gateway,
    paymentKey,
    status: target,
    version: 0,
    mode: event.mode,
    refundedMinor: 0n,
    createdAt: at,
    updatedAt: at,
    recentEvents: [],
  };
  const paid = target === 'succeeded' || target === 'amount_mismatch' ? event.money : base.paid;
  const refundedMinor =
    event.kind === 'refund.succeeded' && event.money
      ? base.refundedMinor + event.money.amountMinor
      : base.refundedMinor;
  const {
    pendingSince: _previousPendingSince,
    awaitingConfirmation: _previouslyAwaiting,
    ...withoutPending
  } = base;
  const next: Payment = {
    ...withoutPending,
    reference: base.reference ?? event.reference,
    gatewayPaymentId: base.gatewayPaymentId ?? event.gatewayPaymentId,
    status: target,
    version: base.version + 1,
    mode: base.mode === 'unknown' ? event.mode : base.mode,
    ...(isPaymentKind && event.money ? { amount: event.money } : base.amount ? { amount: base.amount } : {}),
    ...(paid ? { paid } : {}),
    refundedMinor,
    // The pending index also holds payments awaiting confirmation, so the reconciler keeps asking until it knows.
    ...(target === 'pending' || (target === 'authorized' && event.needsConfirmation)
      ? { pendingSince: base.status === target ? (base.pendingSince ?? at) : at }
      : {}),
    ...(target === 'authorized' && event.needsConfirmation ? { awaitingConfirmation: true } : {}),
    updatedAt: at,
    recentEvents: [...base.recentEvents, transition].slice(-RECENT_EVENTS_KEPT),
  };
  return { next, transition };
}
