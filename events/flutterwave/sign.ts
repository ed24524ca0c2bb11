import { createHmac } from 'node:crypto';
import type { WebhookSigner } from '../signing.js';

/**
 * Flutterwave sends both headers: `verif-hash` is the dashboard secret hash itself (v3), `flutterwave-signature` the
 * base64 HMAC-SHA256 of the raw body keyed with that same secret hash (UNCONFIRMED algorithm, see the adapter).
 */
export const signFlutterwave: WebhookSigner = (payload, { secret }) => ({
  body: payload,
  headers: {
    'content-type': 'application/json',
    'verif-hash': secret,
    'flutterwave-signature': createHmac('sha256', secret).update(payload).digest('base64'),
  },
});
