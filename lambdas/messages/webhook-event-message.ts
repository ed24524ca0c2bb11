import { isPriority, MESSAGE_ATTRIBUTES } from '../definitions.js';
import { InvalidAmountError, type MoneyJson, moneyFromJson, moneyToJson } from '../domain/money.js';
import { isSyntheticEventId } from '../domain/synthetic-ids.js';
import { isEventKind, isGatewayName, type WebhookEvent } from '../domain/webhook-event.js';
import {
  type CarriedOriginal,
  carriedOriginal,
  InvalidOriginalError,
  type OriginalWebhook,
  readCarriedOriginal,
} from './original-webhook.js';
import { sqsSafeJson } from './sqs-text.js';

/**
 * The queue message that carries one {@link WebhookEvent} from ingest (or the reconciler) to a consumer: its type,
 * its writer and its reader, in one place.
 *
 * Versions: 4 is version 3 with the webhook as the gateway sent it (`original`: its signature headers, and its bytes
 * where they are not the payload's), for `original` destinations; it is written only when the message carries one,
 * so a deployment without such destinations keeps writing version 3. 3 carries the payload as base64 of its exact
 * UTF-8 bytes (`payloadBase64`) and is written in printable ASCII (see `sqs-text.ts`), so every body a gateway can
 * sign queues and comes back byte-exact; 2 added `factId`, `refundedTotal` and `settlesClaims`; 1 is the first
 * release's. Versions 1 to 3 are still read: messages queued or dead-lettered before an upgrade are kept up to 14 days.
 */
export const WEBHOOK_EVENT_MESSAGE_VERSION = 4;

/** A version 3 or 4 message body, as JSON. Money is exact decimal text with its currency and exponent. */
export interface WebhookEventMessage extends Omit<WebhookEvent, 'money' | 'refundedTotal' | 'payload'> {
  readonly messageType: 'webhook-event';
  /** 4 with `original`, else 3 (what a consumer of the previous release reads). */
  readonly version: 3 | typeof WEBHOOK_EVENT_MESSAGE_VERSION;
  readonly payloadBase64: string;
  readonly money?: MoneyJson;
  readonly refundedTotal?: MoneyJson;
  readonly original?: CarriedOriginal;
}

/** What goes on the queue for one event: the body and the routing attributes (not yet made SQS-safe). */
export interface WrittenMessage {
  readonly body: string;
  readonly attributes: Readonly<Record<string, string>>;
}

/** The message for one event; `original`, the webhook as sent, for `original` destinations (version 4). */
export function writeWebhookEventMessage(event: WebhookEvent, original?: OriginalWebhook): WrittenMessage {
  const { money, refundedTotal, payload, ...rest } = event;
  const message: WebhookEventMessage = {
    messageType: 'webhook-event',
    version: original ? WEBHOOK_EVENT_MESSAGE_VERSION : 3,
    ...rest,
    payloadBase64: Buffer.from(payload, 'utf8').toString('base64'),
    ...(money && { money: moneyToJson(money) }),
    ...(refundedTotal && { refundedTotal: moneyToJson(refundedTotal) }),
    ...(original && { original: carriedOriginal(original, payload) }),
  };
  return {
    body: sqsSafeJson(message),
    attributes: {
      [MESSAGE_ATTRIBUTES.messageType]: 'webhook-event',
      [MESSAGE_ATTRIBUTES.gateway]: event.gateway,
      [MESSAGE_ATTRIBUTES.eventType]: event.eventType,
      [MESSAGE_ATTRIBUTES.eventId]: event.eventId,
      [MESSAGE_ATTRIBUTES.kind]: event.kind,
      [MESSAGE_ATTRIBUTES.priority]: event.priority,
      [MESSAGE_ATTRIBUTES.requestId]: event.requestId,
    },
  };
}

/** A message no consumer can use as it is: a permanent error, dead-lettered at once. */
export class InvalidMessageError extends Error {
  override readonly name = 'InvalidMessageError';
  constructor(
    message: string,
    /** The error class recorded on the dead-lettered copy. */
    readonly errorClass: 'invalid_message' | 'unknown_gateway' | 'unparseable_payload' = 'invalid_message',
  ) {
    super(message);
  }
}

type Raw = Record<string, unknown>;

function requireString(raw: Raw, field: string, maxLength = 2048): string {
  const value = raw[field];
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) {
    throw new InvalidMessageError(
      `field "${field}" must be a non-empty string of at most ${maxLength} characters`,
    );
  }
  return value;
}

function optionalString(raw: Raw, field: string): string | undefined {
  return raw[field] === undefined ? undefined : requireString(raw, field);
}

function requireTime(raw: Raw, field: string): string {
  const value = requireString(raw, field, 64);
  if (Number.isNaN(Date.parse(value))) throw new InvalidMessageError(`field "${field}" is not a time`);
  return value;
}

function readMoney(raw: Raw, field: 'money' | 'refundedTotal') {
  const money = raw[field];
  if (money === undefined) return undefined;
  if (typeof money !== 'object' || money === null)
    throw new InvalidMessageError(`field "${field}" must be an object`);
  const { amountMinor, currency, exponent } = money as Raw;
  if (typeof amountMinor !== 'string' || typeof currency !== 'string' || !Number.isInteger(exponent)) {
    throw new InvalidMessageError(`field "${field}" must hold amountMinor (string), currency and exponent`);
  }
  try {
    return moneyFromJson({ amountMinor, currency, exponent: exponent as number });
  } catch (error) {
    if (error instanceof InvalidAmountError)
      throw new InvalidMessageError(`field "${field}": ${error.message}`);
    throw error;
  }
}

/**
 * The claims a reconciler's answer settles: a list of ids, read only on a synthetic event (a webhook's message can
 * never settle a claim, whatever it carries).
 */
function readSettlesClaims(raw: Raw): readonly string[] | undefined {
  const value = raw.settlesClaims;
  if (value === undefined) return undefined;
  if (typeof raw.eventId !== 'string' || !isSyntheticEventId(raw.eventId)) return undefined;
  if (
    !Array.isArray(value) ||
    value.length > 100 ||
    !value.every((id) => typeof id === 'string' && id.length <= 512)
  ) {
    throw new InvalidMessageError('field "settlesClaims" must be a list of at most 100 ids');
  }
  return value as string[];
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

type Version = 1 | 2 | 3 | 4;

/** The payload: base64 of UTF-8 bytes since version 3, or the text versions 1 and 2 carried. */
function readPayload(raw: Raw, version: Version): string {
  if (version < 3) {
    if (typeof raw.payload !== 'string') throw new InvalidMessageError('field "payload" must be a string');
    return raw.payload;
  }
  const encoded = raw.payloadBase64;
  if (typeof encoded !== 'string' || !BASE64.test(encoded)) {
    throw new InvalidMessageError('field "payloadBase64" must be base64');
  }
  try {
    return strictUtf8.decode(Buffer.from(encoded, 'base64'));
  } catch {
    throw new InvalidMessageError('field "payloadBase64" is not base64 of UTF-8 text');
  }
}

/** A queued webhook: the event, and the webhook as the gateway sent it when the message carries it. */
export interface QueuedWebhook {
  readonly event: WebhookEvent;
  readonly original?: OriginalWebhook;
  /** Why a carried original could not be read (the event is still applied; its original is not delivered). */
  readonly unreadableOriginal?: string;
}

/**
 * Reads a queue message body as {@link readQueuedWebhook} does, the event alone, synchronously: for messages of
 * versions 2 to 4. A version 1 message (an earlier release's) is refused here, as its fact fields are read again by the
 * gateways' adapters, which `readQueuedWebhook` loads for such a message only.
 */
export function readWebhookEventMessage(body: string): WebhookEvent {
  const { version, queued } = parseQueuedWebhook(body);
  if (version === 1)
    throw new Error(
      'a version 1 message is read with readQueuedWebhook (its fact fields come from its payload)',
    );
  return queued.event;
}

/**
 * A version 1 message's fact fields, read again from its payload (`previous-message.ts`). The gateways' adapters that
 * read them are imported on the first such message only: otherwise the consumer's bundle would evaluate all seven at
 * every cold start, for messages only an earlier release wrote (issue #20: its init was 1.5x its SDK-only floor).
 */
async function withFactFieldsFromPayload(event: WebhookEvent): Promise<WebhookEvent> {
  const previous = await import('./previous-message.js');
  return previous.withFactFieldsFromPayload(event);
}

function readOriginal(fields: Raw, event: WebhookEvent): Omit<QueuedWebhook, 'event'> {
  if (fields.original === undefined) return {};
  try {
    return { original: readCarriedOriginal(fields.original, Buffer.from(event.payload, 'utf8')) };
  } catch (error) {
    if (error instanceof InvalidOriginalError) return { unreadableOriginal: error.message };
    throw error;
  }
}

/**
 * Reads a queue message body written by {@link writeWebhookEventMessage} (or by an earlier release). Everything is
 * checked, because a message can also arrive by redrive or by hand, and a bad one must be put aside with its reason
 * rather than retried for days.
 */
export async function readQueuedWebhook(body: string): Promise<QueuedWebhook> {
  const { version, queued } = parseQueuedWebhook(body);
  return version === 1 ? { event: await withFactFieldsFromPayload(queued.event) } : queued;
}

/** The message's fields checked and read, with its version: a version 1 event still lacks its fact fields. */
function parseQueuedWebhook(body: string): { readonly version: number; readonly queued: QueuedWebhook } {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    throw new InvalidMessageError('message body is not JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InvalidMessageError('message body is not a JSON object');
  }
  const fields = raw as Raw;
  if (fields.messageType === 'unparseable-webhook') {
    throw new InvalidMessageError(
      'a parked unparseable webhook was sent to a consumer; it needs a fix in its gateway adapter first',
      'unparseable_payload',
    );
  }
  if (fields.messageType !== 'webhook-event' || ![1, 2, 3, 4].includes(fields.version as number)) {
    throw new InvalidMessageError('message is not a version 1 to 4 webhook-event');
  }
  const version = fields.version as 1 | 2 | 3 | 4;
  if (!isGatewayName(fields.gateway)) {
    throw new InvalidMessageError(`unknown gateway ${JSON.stringify(fields.gateway)}`, 'unknown_gateway');
  }
  if (!isEventKind(fields.kind)) throw new InvalidMessageError(`unknown kind ${JSON.stringify(fields.kind)}`);
  if (!isPriority(fields.priority))
    throw new InvalidMessageError(`unknown priority ${JSON.stringify(fields.priority)}`);
  if (fields.mode !== 'live' && fields.mode !== 'test' && fields.mode !== 'unknown') {
    throw new InvalidMessageError(`unknown mode ${JSON.stringify(fields.mode)}`);
  }
  const payload = readPayload(fields, version as Version);
  const money = readMoney(fields, 'money');
  // Fields version 2 added; a version 1 message has none of them.
  const refundedTotal = version === 1 ? undefined : readMoney(fields, 'refundedTotal');
  const factId = version === 1 ? undefined : optionalString(fields, 'factId');
  const settlesClaims = version === 1 ? undefined : readSettlesClaims(fields);
  const reference = optionalString(fields, 'reference');
  const gatewayPaymentId = optionalString(fields, 'gatewayPaymentId');
  const occurredAt = fields.occurredAt === undefined ? undefined : requireTime(fields, 'occurredAt');
  const event: WebhookEvent = {
    gateway: fields.gateway,
    eventId: requireString(fields, 'eventId', 512),
    eventType: requireString(fields, 'eventType', 256),
    kind: fields.kind,
    mode: fields.mode,
    receivedAt: requireTime(fields, 'receivedAt'),
    priority: fields.priority,
    requestId: requireString(fields, 'requestId', 256),
    payload,
    ...(reference !== undefined && { reference }),
    ...(gatewayPaymentId !== undefined && { gatewayPaymentId }),
    ...(occurredAt !== undefined && { occurredAt }),
    ...(money && { money }),
    ...(refundedTotal && { refundedTotal }),
    ...(factId !== undefined && { factId }),
    ...(settlesClaims !== undefined && { settlesClaims }),
    ...(fields.needsConfirmation === true && { needsConfirmation: true as const }),
  };
  return { version, queued: { event, ...(version === 4 && readOriginal(fields, event)) } };
}
