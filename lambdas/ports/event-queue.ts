import type { GatewayName, OriginalWebhook, WebhookEvent } from '../domain/webhook-event.js';

/** Where accepted webhooks go. On AWS: the SQS queues of `lambdas/definitions.ts`. */
export interface EventQueue {
  /**
   * Queues every event on its priority's queue; resolves only once all are durably stored, else throws. `original`,
   * the webhook as the gateway sent it, travels with the first event (for an Adyen batch, its first item's message),
   * for the `original` destinations.
   */
  enqueue(events: readonly WebhookEvent[], original?: OriginalWebhook): Promise<void>;
  /** Puts a validly signed item that could not be normalised on the low-priority dead-letter queue for a human. */
  park(webhook: UnparseableWebhook): Promise<void>;
}

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
