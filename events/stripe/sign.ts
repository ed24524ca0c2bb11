import { createHmac } from 'node:crypto';
import type { WebhookSigner } from '../signing.js';

/**
 * Stripe signs `<unix seconds>.<raw body>` with HMAC-SHA256 keyed by the endpoint secret as-is (`whsec_...`
 * included), hex, in `stripe-signature: t=<seconds>,v1=<hex>`.
 */
export const signStripe: WebhookSigner = (payload, { secret, timestamp = new Date() }) => {
  const t = Math.floor(timestamp.getTime() / 1000);
  const signature = createHmac('sha256', secret).update(`${t}.${payload}`, 'utf8').digest('hex');
  return {
    body: payload,
    headers: { 'content-type': 'application/json', 'stripe-signature': `t=${t},v1=${signature}` },
  };
};
