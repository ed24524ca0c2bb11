import type { GatewayName, WebhookEvent } from '../domain/webhook-event.js';
import type { UnparseableItem, WebhookRequest } from '../gateways/types.js';
import { sqsSafeJson } from '../messages/sqs-text.js';

/** Where accepted webhooks go. On AWS: the SQS queues of `lambdas/definitions.ts`. */
export interface EventQueue {
  /** Queues every event on its priority's queue; resolves only once all are durably stored, else throws. */
  enqueue(events: readonly WebhookEvent[]): Promise<void>;
  /** Puts a validly signed item that could not be normalised on the low-priority dead-letter queue for a human. */
  park(webhook: UnparseableWebhook): Promise<void>;
}

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

/** A parked webhook, as the message body on the dead-letter queue. */
export interface UnparseableWebhook {
  readonly messageType: 'unparseable-webhook';
  readonly version: 1;
  readonly gateway: GatewayName;
  /**
   * `batch_too_large`: the items of an Adyen batch past the first 100 distinct ones (see `gateways/adyen.ts`);
   * `key_too_large`: an event whose identifier is longer than DynamoDB keys take (see `IDENTIFIER_MAX_BYTES`).
   */
  readonly errorClass: 'unparseable_payload' | 'batch_too_large' | 'key_too_large';
  readonly errorMessage: string;
  /** The payload as text where it is UTF-8 and stays compact as a JSON string, else base64 of the exact bytes. */
  readonly payload: string;
  readonly payloadEncoding: 'utf8' | 'base64';
  readonly headers: Readonly<Record<string, string>>;
  readonly receivedAt: string;
  readonly requestId: string;
}

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
