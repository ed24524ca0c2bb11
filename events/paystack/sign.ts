import { createHmac } from 'node:crypto';
import type { WebhookSigner } from '../signing.js';

/** Paystack signs the raw body with HMAC-SHA512 keyed by the secret API key, hex, in `x-paystack-signature`. */
export const signPaystack: WebhookSigner = (payload, { secret }) => ({
  body: payload,
  headers: {
    'content-type': 'application/json',
    'x-paystack-signature': createHmac('sha512', secret).update(payload).digest('hex'),
  },
});
