import { errorClassOf, type StructuredLog } from '../common/log.js';
import { MESSAGE_ATTRIBUTES } from '../definitions.js';
import { isClaimEventId } from '../domain/synthetic-ids.js';
import type { GatewayName, WebhookEvent } from '../domain/webhook-event.js';
import {
  type OriginalDelivery,
  type OriginalWebhook,
  writeOriginalDelivery,
} from '../messages/original-webhook.js';
import type { ClaimOriginals, KeptClaimOriginal, OriginalQueue } from '../ports/deliveries.js';

/** One `original` destination as a consumer sees it: its queue, and the gateways it wants (all when none). */
export interface OriginalDestination {
  readonly name: string;
  readonly queueUrl: string;
  readonly gateways?: readonly GatewayName[];
}

export interface OriginalForwardingDependencies {
  readonly destinations: readonly OriginalDestination[];
  readonly queue: OriginalQueue;
  readonly claims: ClaimOriginals;
  readonly log: StructuredLog;
}

/**
 * The consumer's part in `original` deliveries: the webhook as the gateway sent it goes to each `original`
 * destination's queue once payhook has verified it and applied its event for the first time; both steps run inside
 * the idempotent application of the event, so a duplicate (which Powertools answers from its store) sends nothing,
 * and a send that fails fails the event, which is applied again (harmlessly) and sent on the retry: at least once.
 *
 * An unverified claim (Flutterwave `verif-hash` alone, which binds no body) is not forwarded when applied: its
 * original is kept ({@link ClaimOriginals}) and forwarded when the gateway's verified answer confirms it, a
 * `payment.succeeded` that settles the claim with the money it claimed. A claim the gateway contradicts, or one that
 * claimed nothing (history only), is never forwarded.
 */
export class OriginalForwarding {
  constructor(private readonly deps: OriginalForwardingDependencies) {}

  private destinationsFor(gateway: GatewayName): OriginalDestination[] {
    return this.deps.destinations.filter(
      (destination) => destination.gateways === undefined || destination.gateways.includes(gateway),
    );
  }

  /** Before the event is applied: a claim's original is kept first, so its confirmation can never come before it. */
  async beforeApply(event: WebhookEvent, original: OriginalWebhook | undefined): Promise<void> {
    if (original === undefined || event.needsConfirmation !== true) return;
    if (this.destinationsFor(event.gateway).length === 0) return;
    await this.deps.claims.keep({
      gateway: event.gateway,
      eventId: event.eventId,
      receivedAt: event.receivedAt,
      ...(event.money && {
        money: { amountMinor: event.money.amountMinor.toString(), currency: event.money.currency },
      }),
      body: original.body,
      headers: original.headers,
    });
  }

  /** After the event was applied for the first time: its original, and the originals of the claims it confirms. */
  async afterApply(event: WebhookEvent, original: OriginalWebhook | undefined): Promise<void> {
    if (original !== undefined && !isClaimEventId(event.eventId)) {
      await this.forward({
        gateway: event.gateway,
        eventId: event.eventId,
        receivedAt: event.receivedAt,
        original,
      });
    }
    if (event.kind === 'payment.succeeded' && event.settlesClaims && event.settlesClaims.length > 0) {
      for (const claimId of event.settlesClaims) await this.forwardConfirmed(event, claimId);
    }
  }

  private async forwardConfirmed(answer: WebhookEvent, claimId: string): Promise<void> {
    if (this.destinationsFor(answer.gateway).length === 0) return;
    const kept = await this.deps.claims.get(answer.gateway, claimId);
    if (kept === undefined) return;
    if (!confirms(answer, kept)) {
      this.deps.log.warn('claim not confirmed: its original is not delivered', {
        gateway: answer.gateway,
        eventId: claimId,
        answer: answer.eventId,
        reason: 'the gateway answered with other money than the claim said arrived',
      });
      return;
    }
    await this.forward({
      gateway: answer.gateway,
      eventId: kept.eventId,
      receivedAt: kept.receivedAt,
      original: { body: Buffer.from(kept.body), headers: kept.headers },
    });
  }

  private async forward(delivery: OriginalDelivery): Promise<void> {
    const destinations = this.destinationsFor(delivery.gateway);
    if (destinations.length === 0) return;
    const body = writeOriginalDelivery(delivery);
    const attributes = {
      [MESSAGE_ATTRIBUTES.messageType]: 'original-webhook',
      [MESSAGE_ATTRIBUTES.gateway]: delivery.gateway,
      [MESSAGE_ATTRIBUTES.eventId]: delivery.eventId,
    };
    await Promise.all(destinations.map((destination) => this.send(destination, body, attributes, delivery)));
    this.deps.log.info('original webhook queued for delivery', {
      gateway: delivery.gateway,
      eventId: delivery.eventId,
      destinations: destinations.map((destination) => destination.name),
    });
  }

  /**
   * One destination's send. A transient failure throws (the event is retried, and sent then); one that retrying
   * cannot mend (the queue gone, access denied: the deployment is wrong) is logged as an error, and the event goes
   * on: the original is a parcel for a courier, and the payment's record and events must not wait for it.
   */
  private async send(
    destination: OriginalDestination,
    body: string,
    attributes: Readonly<Record<string, string>>,
    delivery: OriginalDelivery,
  ): Promise<void> {
    try {
      await this.deps.queue.send(destination.queueUrl, body, attributes);
    } catch (error) {
      if (!isPermanent(error)) throw error;
      this.deps.log.error('original webhook not queued: its destination cannot take it', {
        destination: destination.name,
        gateway: delivery.gateway,
        eventId: delivery.eventId,
        errorClass: errorClassOf(error),
      });
    }
  }
}

/** An AWS error the caller caused and that a retry will not mend (not a throttle). */
function isPermanent(error: unknown): boolean {
  const { $fault, name } = (error ?? {}) as { $fault?: string; name?: string };
  return $fault === 'client' && !/throttl|limit|timeout/i.test(name ?? '');
}

/**
 * The gateway's answer confirms the claim: money arrived, the money the claim named. A claim that named no money, or
 * an answer that names none, confirms nothing about the body: it is not forwarded.
 */
function confirms(answer: WebhookEvent, kept: KeptClaimOriginal): boolean {
  if (kept.money === undefined || answer.money === undefined) return false;
  return (
    kept.money.currency === answer.money.currency &&
    kept.money.amountMinor === answer.money.amountMinor.toString()
  );
}
