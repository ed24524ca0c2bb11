import type { GatewayName } from '../domain/webhook-event.js';
import type { UnparseableItem, WebhookRequest } from '../gateways/types.js';
import { sqsSafeJson } from '../messages/sqs-text.js';
import type { UnparseableWebhook } from '../ports/event-queue.js';

/**
 * Headers kept with a parked webhook: those that identify it (Standard Webhooks and Razorpay carry the event id in
 * a header) and help diagnose it. Signature headers are never kept.
 */
export const DIAGNOSTIC_HEADERS = [
  'content-type',
  'user-agent',
  'x-razorpay-event-id',
  'webhook-id',
  'webhook-timestamp',
  'svix-id',
  'svix-timestamp',
] as const;

// The byte-order mark is kept: the parked payload is the exact bytes.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function encodePayload(bytes: Buffer): Pick<UnparseableWebhook, 'payload' | 'payloadEncoding'> {
  try {
    const text = strictUtf8.decode(bytes);
    // Written as printable ASCII (see sqs-text.ts): control and non-ASCII characters escape to six bytes each; past
    // 2x growth, base64's fixed 4/3 is the safer size (and the parked message always fits, see MAX_BODY_BYTES_LIMIT).
    if (sqsSafeJson(text).length <= 2 * bytes.length + 2) return { payload: text, payloadEncoding: 'utf8' };
  } catch {
    // Not UTF-8: fall through to base64 so the exact bytes survive.
  }
  return { payload: bytes.toString('base64'), payloadEncoding: 'base64' };
}

export function unparseableWebhook(
  gateway: GatewayName,
  request: WebhookRequest,
  item: UnparseableItem,
): UnparseableWebhook {
  const headers: Record<string, string> = {};
  for (const name of DIAGNOSTIC_HEADERS) {
    const value = request.headers[name];
    if (value !== undefined) headers[name] = value;
  }
  const bytes = typeof item.payload === 'string' ? Buffer.from(item.payload, 'utf8') : item.payload;
  return {
    messageType: 'unparseable-webhook',
    version: 1,
    gateway,
    errorClass: item.errorClass ?? 'unparseable_payload',
    errorMessage: item.reason,
    ...encodePayload(bytes),
    headers,
    receivedAt: request.receivedAt.toISOString(),
    requestId: request.requestId,
  };
}
