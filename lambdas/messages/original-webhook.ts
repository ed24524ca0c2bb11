import { QUEUE_MAX_MESSAGE_BYTES } from '../definitions.js';
import { type GatewayName, isGatewayName, type OriginalWebhook } from '../domain/webhook-event.js';
import { sqsSafeJson } from './sqs-text.js';

/**
 * A webhook as the gateway sent it, for destinations of format `original` (`domain/webhook-event.ts`'s
 * {@link OriginalWebhook}). It travels twice: from ingest to a consumer inside the event's queue message (version 4,
 * see `webhook-event-message.ts`), then, once the consumer has applied the event for the first time, from the consumer
 * to each `original` destination's queue as an `original-webhook` message (below), which the delivery function POSTs.
 */
export type { OriginalWebhook };

/**
 * The headers an `original` delivery carries, per gateway: the content type and what the gateway signs with or names
 * its event by (an existing handler reads nothing else to verify). Never `authorization`: a basic-auth credential
 * someone put in a gateway dashboard is not forwarded (a handler that checks one must stop checking it behind
 * payhook; the signature is what proves the body). Adyen signs inside the body.
 */
export const ORIGINAL_HEADERS: Readonly<Record<GatewayName, readonly string[]>> = {
  paystack: ['content-type', 'x-paystack-signature'],
  flutterwave: ['content-type', 'verif-hash', 'flutterwave-signature'],
  razorpay: ['content-type', 'x-razorpay-signature', 'x-razorpay-event-id'],
  oxapay: ['content-type', 'hmac'],
  stripe: ['content-type', 'stripe-signature'],
  adyen: ['content-type'],
  standard: [
    'content-type',
    'webhook-id',
    'webhook-timestamp',
    'webhook-signature',
    'svix-id',
    'svix-timestamp',
    'svix-signature',
  ],
};

/**
 * Headers whose value is the gateway's secret itself, not a signature of one body: Flutterwave's `verif-hash` is the
 * secret hash typed into its dashboard. It is never written to a queue or a table: the original carries
 * {@link GATEWAY_SECRET_MARKER} in its place, and the delivery function puts the gateway's current secret back as it
 * sends.
 */
export const GATEWAY_SECRET_HEADERS: Readonly<Partial<Record<GatewayName, readonly string[]>>> = {
  flutterwave: ['verif-hash'],
};

/** What an original carries in place of a header of {@link GATEWAY_SECRET_HEADERS}. */
export const GATEWAY_SECRET_MARKER = 'payhook:gateway-secret';

/**
 * A request's original: its exact body and the gateway's headers of {@link ORIGINAL_HEADERS}, as received, but a
 * header that is the gateway's secret itself, which is marked instead (see {@link GATEWAY_SECRET_HEADERS}).
 */
export function originalOf(
  gateway: GatewayName,
  request: { readonly headers: Readonly<Record<string, string>>; readonly body: Buffer },
): OriginalWebhook {
  const secretHeaders = GATEWAY_SECRET_HEADERS[gateway] ?? [];
  const headers: Record<string, string> = {};
  for (const name of ORIGINAL_HEADERS[gateway]) {
    const value = request.headers[name];
    if (value !== undefined) headers[name] = secretHeaders.includes(name) ? GATEWAY_SECRET_MARKER : value;
  }
  return { body: request.body, headers };
}

/**
 * The largest `PAYHOOK_MAX_BODY_BYTES` when ingest carries originals: a message then holds the body twice at worst
 * (the event's payload, and the original when they differ: an Adyen batch of one large item), each as base64, beside
 * 64 KiB of the rest: (1 MiB - 64 KiB) x 3/8 = 360 KiB. The default (256 KiB) is well inside.
 */
export const MAX_BODY_BYTES_WITH_ORIGINALS = ((QUEUE_MAX_MESSAGE_BYTES - 64 * 1024) * 3) / 8;

/** An original as the event's queue message carries it: the body only when it is not the payload's own bytes. */
export interface CarriedOriginal {
  readonly headers: Readonly<Record<string, string>>;
  /** Absent: the body is exactly the message's payload bytes (every gateway but Adyen). */
  readonly bodyBase64?: string;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** An original that cannot be read: the event is still applied (the original is a courier's parcel, not a fact). */
export class InvalidOriginalError extends Error {
  override readonly name = 'InvalidOriginalError';
}

function readHeaders(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOriginalError('the original\'s "headers" must be an object');
  }
  const headers: Record<string, string> = {};
  for (const [name, text] of Object.entries(value)) {
    if (typeof text !== 'string' || !/^[a-z0-9-]{1,64}$/.test(name) || text.length > 8192) {
      throw new InvalidOriginalError("the original's headers must be lower-case names with text values");
    }
    headers[name] = text;
  }
  return headers;
}

function readBase64(value: unknown, field: string): Buffer {
  if (typeof value !== 'string' || !BASE64.test(value)) {
    throw new InvalidOriginalError(`the original's "${field}" must be base64`);
  }
  return Buffer.from(value, 'base64');
}

/** The carried form of an original, given the payload the message already holds. */
export function carriedOriginal(original: OriginalWebhook, payload: string): CarriedOriginal {
  const samePayload = Buffer.from(payload, 'utf8').equals(original.body);
  return {
    headers: original.headers,
    ...(!samePayload && { bodyBase64: original.body.toString('base64') }),
  };
}

/** Reads a carried original back, given the payload's exact bytes. */
export function readCarriedOriginal(value: unknown, payloadBytes: Buffer): OriginalWebhook {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOriginalError('"original" must be an object');
  }
  const raw = value as Record<string, unknown>;
  return {
    headers: readHeaders(raw.headers),
    body: raw.bodyBase64 === undefined ? payloadBytes : readBase64(raw.bodyBase64, 'bodyBase64'),
  };
}

/** What a consumer queues for an `original` destination: one accepted webhook, for the delivery function. */
export interface OriginalDelivery {
  readonly gateway: GatewayName;
  /** The event it was applied as (a claim's synthetic id for a confirmed `verif-hash` claim): logs and dedupe. */
  readonly eventId: string;
  readonly receivedAt: string;
  readonly original: OriginalWebhook;
}

/** The `original-webhook` message's version; a new shape bumps it and keeps a reader for this one. */
export const ORIGINAL_DELIVERY_MESSAGE_VERSION = 1;

export function writeOriginalDelivery(delivery: OriginalDelivery): string {
  return sqsSafeJson({
    messageType: 'original-webhook',
    version: ORIGINAL_DELIVERY_MESSAGE_VERSION,
    gateway: delivery.gateway,
    eventId: delivery.eventId,
    receivedAt: delivery.receivedAt,
    headers: delivery.original.headers,
    bodyBase64: delivery.original.body.toString('base64'),
  });
}

/** Reads an `original-webhook` message; {@link InvalidOriginalError} names the fault and never quotes the body. */
export function readOriginalDelivery(body: string): OriginalDelivery {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    throw new InvalidOriginalError('the body is not JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InvalidOriginalError('the body is not a JSON object');
  }
  const fields = raw as Record<string, unknown>;
  if (fields.messageType !== 'original-webhook' || fields.version !== ORIGINAL_DELIVERY_MESSAGE_VERSION) {
    throw new InvalidOriginalError('not a version 1 original-webhook message');
  }
  if (!isGatewayName(fields.gateway)) throw new InvalidOriginalError('unknown gateway');
  if (typeof fields.eventId !== 'string' || fields.eventId === '') {
    throw new InvalidOriginalError('no event id');
  }
  if (typeof fields.receivedAt !== 'string' || Number.isNaN(Date.parse(fields.receivedAt))) {
    throw new InvalidOriginalError('no receive time');
  }
  return {
    gateway: fields.gateway,
    eventId: fields.eventId,
    receivedAt: fields.receivedAt,
    original: { headers: readHeaders(fields.headers), body: readBase64(fields.bodyBase64, 'bodyBase64') },
  };
}
