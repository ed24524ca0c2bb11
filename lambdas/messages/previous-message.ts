import type { WebhookEvent } from '../domain/webhook-event.js';
import { ADAPTERS } from '../gateways/registry.js';
import { DEFAULT_GATEWAY_SETTINGS } from '../gateways/settings.js';

/**
 * A version 1 queue message (queued or dead-lettered by the previous release, kept up to 14 days) has no `factId` or
 * `refundedTotal`. Without them a Razorpay `payment.captured` would fall back to the order's id while a version 2
 * `order.paid` names the payment, and a Stripe `charge.refunded` would count its running total as a refund: money
 * counted twice. So they are read again from the message's payload (the signed body, or an Adyen item) through the
 * gateway's own adapter, which is pure, exactly as ingest would read them now. Anything that cannot be read leaves
 * the event as it was (the payment's and the event's ids then stand in).
 *
 * Remove once no deployment can hold version 1 messages (14 days after every stack runs version 2).
 */
export function withFactFieldsFromPayload(event: WebhookEvent): WebhookEvent {
  try {
    // An Adyen event's payload is one item (with the batch's live flag): a batch of one again.
    const body = event.gateway === 'adyen' ? `{"notificationItems":[${event.payload}]}` : event.payload;
    const { events } = ADAPTERS[event.gateway].normalise(
      {
        // The headers are not kept; the ids that come from them (Razorpay's, Standard Webhooks') are the event id's,
        // which the message keeps, not the fact's.
        headers: {},
        body: Buffer.from(body, 'utf8'),
        receivedAt: new Date(event.receivedAt),
        requestId: event.requestId,
      },
      DEFAULT_GATEWAY_SETTINGS,
    );
    const [read] = events.length === 1 ? events : events.filter((found) => found.eventId === event.eventId);
    if (read === undefined) return event;
    return {
      ...event,
      ...(read.factId !== undefined && { factId: read.factId }),
      ...(read.refundedTotal !== undefined && { refundedTotal: read.refundedTotal }),
    };
  } catch {
    return event;
  }
}
