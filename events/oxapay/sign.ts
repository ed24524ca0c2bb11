import { createHmac } from 'node:crypto';
import type { WebhookSigner } from '../signing.js';

/**
 * OXA Pay signs the raw body with HMAC-SHA512, lowercase hex, in the `HMAC` header. Pass the merchant API key for
 * payment callbacks and the payout API key for payout callbacks (the receiver picks the key by the body's `type`).
 */
export const signOxapay: WebhookSigner = (payload, { secret }) => ({
  body: payload,
  headers: {
    'content-type': 'application/json',
    HMAC: createHmac('sha512', secret).update(payload).digest('hex'),
  },
});
