import { paymentEventId } from '../lambdas/domain/payment-event.js';
import type { GatewayEvent, SoakPayment } from './gateways.js';

/**
 * The soak's own copy of the payment status machine (`lambdas/domain/payment.ts`, TRANSITIONS), kept separate on
 * purpose: the model must not share the code it checks. Statuses the soak never reaches are listed for completeness.
 */
type Status =
  | 'pending'
  | 'authorized'
  | 'succeeded'
  | 'failed'
  | 'expired'
  | 'amount_mismatch'
  | 'partially_refunded'
  | 'refunded'
  | 'disputed'
  | 'dispute_won'
  | 'dispute_lost';

const MOVES: Readonly<Record<Status, readonly Status[]>> = {
  pending: ['authorized', 'succeeded', 'failed', 'expired', 'amount_mismatch'],
  authorized: ['succeeded', 'failed', 'expired', 'amount_mismatch'],
  failed: ['succeeded', 'amount_mismatch'],
  expired: ['succeeded', 'amount_mismatch'],
  succeeded: ['partially_refunded', 'refunded', 'disputed'],
  partially_refunded: ['partially_refunded', 'refunded', 'disputed'],
  disputed: ['dispute_won', 'dispute_lost'],
  amount_mismatch: ['succeeded', 'refunded'],
  refunded: [],
  dispute_won: [],
  dispute_lost: [],
};

export interface ModelTransition {
  readonly sourceEventId: string;
  readonly from: string | null;
  readonly to: string;
  /** The domain-event id payhook must publish for it (deterministic: gateway, source event id, target). */
  readonly domainEventId: string;
}

export interface PaymentModel {
  status: string | null;
  refundedMinor: number;
  readonly transitions: ModelTransition[];
  /** Valid events that must be applied or recorded (in the history), transition or not. */
  readonly historyEventIds: Set<string>;
}

export function emptyModel(): PaymentModel {
  return { status: null, refundedMinor: 0, transitions: [], historyEventIds: new Set() };
}

/**
 * Applies one valid event, in the order the plan guarantees the stack applies it (one event per payment per phase,
 * and phases drained in between). Events that do not move the status are kept in the history only.
 */
export function applyToModel(
  model: PaymentModel,
  payment: SoakPayment,
  event: GatewayEvent,
  refundMinor: number,
): void {
  model.historyEventIds.add(event.sourceEventId);
  let target: Status;
  if (event.step === 'pending') target = payment.gateway === 'razorpay' ? 'authorized' : 'pending';
  else if (event.step === 'succeeded') target = 'succeeded';
  else target = model.refundedMinor + refundMinor >= payment.amountMinor ? 'refunded' : 'partially_refunded';
  const from = model.status as Status | null;
  if (from !== null && !MOVES[from].includes(target)) return;
  if (event.step === 'refund') model.refundedMinor += refundMinor;
  model.status = target;
  model.transitions.push({
    sourceEventId: event.sourceEventId,
    from,
    to: target,
    domainEventId: paymentEventId(payment.gateway, event.sourceEventId, target),
  });
}
