import { createHash, createHmac } from 'node:crypto';
import type { WebhookSigner } from '../signing.js';

/**
 * Razorpay signs the raw body with HMAC-SHA256 keyed by the webhook secret, hex, in `x-razorpay-signature`, and
 * sends the event id in `x-razorpay-event-id`. Without `eventId` the id is derived from the body, so re-sending a
 * sample is a retry of the same event (and is deduplicated) rather than a new one.
 */
export const signRazorpay: WebhookSigner = (payload, { secret, eventId }) => ({
  body: payload,
  headers: {
    'content-type': 'application/json',
    'x-razorpay-event-id':
      eventId ?? `evt_${createHash('sha256').update(payload).digest('hex').slice(0, 14)}`,
    'x-razorpay-signature': createHmac('sha256', secret).update(payload).digest('hex'),
  },
});
