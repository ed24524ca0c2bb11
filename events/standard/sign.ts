import { createHash, createHmac } from 'node:crypto';
import type { WebhookSigner } from '../signing.js';

/**
 * Standard Webhooks: `webhook-signature` is `v1,` + base64 HMAC-SHA256 over `${id}.${timestamp}.${body}`, keyed with
 * the base64-decoded secret (`whsec_` prefix stripped). Without `eventId` the message id is derived from the body, so
 * re-sending a sample is a retry of the same message (and is deduplicated) rather than a new one.
 */
export const signStandard: WebhookSigner = (payload, { secret, timestamp = new Date(), eventId }) => {
  const id = eventId ?? `msg_${createHash('sha256').update(payload).digest('hex').slice(0, 24)}`;
  const seconds = String(Math.floor(timestamp.getTime() / 1000));
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${seconds}.${payload}`).digest('base64');
  return {
    body: payload,
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': seconds,
      'webhook-signature': `v1,${signature}`,
    },
  };
};
