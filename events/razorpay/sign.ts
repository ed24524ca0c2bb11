import { createHash, createHmac } from 'node:crypto';
import type { WebhookSigner } from '../signing.js';

/**
 * Razorpay signs the raw body with HMAC-SHA256 keyed by the webhook secret, hex, in `x-razorpay-signature`, and
 * sends its event id in `x-razorpay-event-id`. The signature does not cover that header, so payhook only logs it:
 * the dedupe key comes from the signed body, and re-sending a sample is a retry of the same event whatever the header
 * says. Without `eventId` the header is derived from the body, as a real retry would repeat it.
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
