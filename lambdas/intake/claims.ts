import { CLAIM_SOURCE, syntheticEventId } from '../domain/synthetic-ids.js';
import type { WebhookEvent } from '../domain/webhook-event.js';
import { bodyDigestId } from '../gateways/normalise.js';

/**
 * What a body that nothing binds to the secret (Flutterwave `verif-hash` alone: anyone who saw one delivery can send
 * any body) may do: claim that money arrived, and nothing else. Such an event
 * - is a claim of money (`payment.authorized` awaiting confirmation) if it says money arrived, else history only
 *   (`other`): a claim never marks a payment failed, pending or expired;
 * - takes an id in the synthetic namespace made of the digest of its exact body (`payhook:claim:sha256:<hex>`): not
 *   the id the adapter read from the unsigned body (`<event>:<data.id>:<status>`), which a sender could aim at the id
 *   of a genuine delivery (itself a claim, where only `verif-hash` is sent) to have it skipped or dead-lettered; only
 *   byte-identical bodies (a retry) collapse;
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
    eventId: syntheticEventId(CLAIM_SOURCE, bodyDigestId(event.payload)),
    kind: claimsMoney ? 'payment.authorized' : 'other',
    ...(claimsMoney && { needsConfirmation: true as const }),
  };
}
