import { syntheticEventId } from '../domain/synthetic-ids.js';
import type { WebhookEvent } from '../domain/webhook-event.js';

/**
 * What a body that nothing binds to the secret (Flutterwave `verif-hash` alone: anyone who saw one delivery can send
 * any body) may do: claim that money arrived, and nothing else. Such an event
 * - is a claim of money (`payment.authorized` awaiting confirmation) if it says money arrived, else history only
 *   (`other`): a claim never marks a payment failed, pending or expired;
 * - takes an id in the synthetic namespace (`payhook:claim:<its id>`), so it can never take the id the real, signed
 *   webhook will carry (which would then be skipped as a duplicate or dead-lettered as a `payload_mismatch`);
 * - names no fact and no gateway payment id: its `data.id` is the sender's to choose. Its reference (`tx_ref`) only
 *   says which payment to ask the gateway about; the gateway's answer is what counts.
 */
export function asUnverifiedClaim(event: WebhookEvent): WebhookEvent {
  const {
    factId: _factId,
    gatewayPaymentId: _gatewayPaymentId,
    refundedTotal: _refundedTotal,
    needsConfirmation: _needsConfirmation,
    ...rest
  } = event;
  const claimsMoney = event.kind === 'payment.succeeded';
  return {
    ...rest,
    eventId: syntheticEventId('claim', event.eventId),
    kind: claimsMoney ? 'payment.authorized' : 'other',
    ...(claimsMoney && { needsConfirmation: true as const }),
  };
}
