/**
 * One dead-lettered message in full, as `payhook dlq show` prints it, masked: the raw webhook inside it holds
 * customer data, and nothing secret may reach a terminal.
 */
import type { Message } from '@aws-sdk/client-sqs';
import { MESSAGE_ATTRIBUTES } from '../../lambdas/definitions.js';
import { PAYMENT_EVENT_SOURCE } from '../../lambdas/domain/payment-event.js';
import {
  FAILURE_ATTRIBUTES,
  type HeldMessage,
  stringAttributes,
  unpackOriginalAttributes,
} from './dlq-reader.js';
import { isSecretKey, maskJson, maskPayload, maskText, parseLossless, REDACTED } from './masking.js';
import type { DeadLetter } from './types.js';

/** A dead letter with its whole message, masked. */
export interface DeadLetterDetail extends DeadLetter {
  /**
   * The message body: its JSON value where it is JSON, with the raw webhook `payload` (and parked `headers`) masked
   * and secret-looking keys redacted; else the text, masked.
   */
  readonly body: unknown;
  /**
   * The attributes the message had before it failed (`originalAttributes` unpacked, over the top-level ones), without
   * the failure attributes, which are the fields above. Where `originalAttributes` does not unpack (cut short), its
   * text is kept under that name so nothing is hidden.
   */
  readonly attributes: Readonly<Record<string, string>>;
  /** When it landed on the dead-letter queue, where SQS says. */
  readonly deadLetteredAt?: string;
}

/** Message types whose envelope payhook itself wrote: their identifiers are shown as they are, for searching. */
const ENVELOPES = new Set(['webhook-event', 'unparseable-webhook', 'original-webhook']);

/**
 * A webhook as the gateway sent it (a version 4 webhook-event's `original`, an `original-webhook` on its way to a
 * destination): its header names with only the content type shown (the others are signatures), and its size. Never
 * its bytes: they are the raw webhook, customer data and all; `payload` shows the event's own, masked.
 */
function maskedOriginal(headers: unknown, bodyBase64: unknown): Record<string, unknown> {
  const names = isRecord(headers) ? headers : {};
  return {
    headers: Object.fromEntries(
      Object.entries(names).map(([name, value]) => [
        name,
        name === 'content-type' ? maskText(String(value)) : REDACTED,
      ]),
    ),
    body:
      typeof bodyBase64 === 'string'
        ? `${Buffer.from(bodyBase64, 'base64').length} bytes, not shown (the raw webhook)`
        : 'the payload bytes',
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The body, masked. payhook's own envelopes (a webhook event, a parked webhook, a payment event awaiting delivery)
 * keep their identifiers readable (references and Adyen's all-digit pspReference are what on-call searches by); the
 * raw webhook inside one, its headers and any error text are masked in full, and secret-looking keys are redacted
 * everywhere. A body of any other shape is masked in full.
 */
export function maskBody(text: string): unknown {
  const parsed = parseLossless(text);
  if (parsed === undefined) return maskText(text);
  // A payment event on its way to a destination: all payhook's own fields (ids, amounts, statuses), no raw webhook.
  if (isRecord(parsed) && parsed.source === PAYMENT_EVENT_SOURCE && isRecord(parsed.detail)) {
    return maskJson(parsed, { maskStrings: false });
  }
  if (!isRecord(parsed) || !ENVELOPES.has(String(parsed.messageType))) return maskJson(parsed);
  if (parsed.messageType === 'original-webhook') {
    const { headers, bodyBase64, ...envelope } = parsed;
    return {
      ...(maskJson(envelope, { maskStrings: false }) as Record<string, unknown>),
      original: maskedOriginal(headers, bodyBase64),
    };
  }
  const { payload: payloadText, payloadBase64, headers, errorMessage, original, ...envelope } = parsed;
  // A version 3 webhook-event carries its payload as base64 of UTF-8 text: shown (masked) as that text.
  const payload =
    typeof payloadBase64 === 'string' ? Buffer.from(payloadBase64, 'base64').toString('utf8') : payloadText;
  const base64 = envelope.payloadEncoding === 'base64';
  return {
    ...(maskJson(envelope, { maskStrings: false }) as Record<string, unknown>),
    ...(base64 && { payloadEncoding: 'base64, shown decoded as latin1' }),
    ...(errorMessage !== undefined && { errorMessage: maskJson(errorMessage) }),
    ...(headers !== undefined && { headers: maskJson(headers) }),
    ...(isRecord(original) && { original: maskedOriginal(original.headers, original.bodyBase64) }),
    ...(payload !== undefined && {
      payload:
        typeof payload === 'string' ? maskPayload(payload, base64 ? 'base64' : 'utf8') : maskJson(payload),
    }),
  };
}

/**
 * The attributes `show` lists under "attributes": the original ones, secret-looking names redacted, without the
 * failure attributes (shown as fields of their own) and without `shownElsewhere`.
 */
export function visibleAttributes(
  message: Message,
  shownElsewhere: ReadonlySet<string> = new Set(),
): Record<string, string> {
  const top = stringAttributes(message);
  const original = unpackOriginalAttributes(message);
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(top)) {
    if (!FAILURE_ATTRIBUTES.has(name) && !shownElsewhere.has(name)) result[name] = value;
  }
  Object.assign(result, original);
  const packed = top[MESSAGE_ATTRIBUTES.originalAttributes];
  if (original === undefined && packed !== undefined) result[MESSAGE_ATTRIBUTES.originalAttributes] = packed;
  // Ingest never writes signature headers into attributes; this holds even for a message someone sent by hand.
  return Object.fromEntries(
    Object.entries(result).map(([name, value]) => [name, isSecretKey(name) ? REDACTED : value]),
  );
}

/** The full, masked view of a held dead letter. */
export function toDetail(held: HeldMessage): DeadLetterDetail {
  return {
    ...held.letter,
    body: maskBody(held.message.Body ?? ''),
    attributes: visibleAttributes(held.message),
    ...(held.sentAt !== undefined && { deadLetteredAt: new Date(held.sentAt).toISOString() }),
  };
}
