import { isPriority } from '../definitions.js';
import { InvalidAmountError, type MoneyJson } from '../domain/money.js';
import { isSyntheticEventId } from '../domain/synthetic-ids.js';
import {
  isEventKind,
  isGatewayName,
  type WebhookEvent,
  type WebhookEventJson,
  webhookEventFromJson,
} from '../domain/webhook-event.js';
import { withFactFieldsFromPayload } from './previous-message.js';

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

function readMoney(raw: Raw, field: 'money' | 'refundedTotal' = 'money'): MoneyJson | undefined {
  const money = raw[field];
  if (money === undefined) return undefined;
  if (typeof money !== 'object' || money === null)
    throw new InvalidMessageError(`field "${field}" must be an object`);
  const { amountMinor, currency, exponent } = money as Raw;
  if (typeof amountMinor !== 'string' || typeof currency !== 'string' || !Number.isInteger(exponent)) {
    throw new InvalidMessageError(`field "${field}" must hold amountMinor (string), currency and exponent`);
  }
  return { amountMinor, currency, exponent: exponent as number };
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

/**
 * Reads the body of a queue message written by ingest. Everything is checked, because a message can also arrive by
 * redrive or by hand, and a bad one must be put aside with its reason rather than retried for days.
 */
export function parseQueueMessage(body: string): WebhookEvent {
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
  // Version 1 is what the previous release queued: still read (messages in flight or dead-lettered at an upgrade).
  if (fields.messageType !== 'webhook-event' || (fields.version !== 1 && fields.version !== 2)) {
    throw new InvalidMessageError('message is not a version 1 or 2 webhook-event');
  }
  const version = fields.version;
  if (!isGatewayName(fields.gateway)) {
    throw new InvalidMessageError(`unknown gateway ${JSON.stringify(fields.gateway)}`, 'unknown_gateway');
  }
  if (!isEventKind(fields.kind)) throw new InvalidMessageError(`unknown kind ${JSON.stringify(fields.kind)}`);
  if (!isPriority(fields.priority))
    throw new InvalidMessageError(`unknown priority ${JSON.stringify(fields.priority)}`);
  if (fields.mode !== 'live' && fields.mode !== 'test' && fields.mode !== 'unknown') {
    throw new InvalidMessageError(`unknown mode ${JSON.stringify(fields.mode)}`);
  }
  if (typeof fields.payload !== 'string') throw new InvalidMessageError('field "payload" must be a string');
  const money = readMoney(fields);
  // Fields version 2 added; a version 1 message has neither.
  const refundedTotal = version === 2 ? readMoney(fields, 'refundedTotal') : undefined;
  const factId = version === 2 ? optionalString(fields, 'factId') : undefined;
  const settlesClaims = version === 2 ? readSettlesClaims(fields) : undefined;
  const reference = optionalString(fields, 'reference');
  const gatewayPaymentId = optionalString(fields, 'gatewayPaymentId');
  const occurredAt = fields.occurredAt === undefined ? undefined : requireTime(fields, 'occurredAt');
  const json: WebhookEventJson = {
    messageType: 'webhook-event',
    version,
    gateway: fields.gateway,
    eventId: requireString(fields, 'eventId', 512),
    eventType: requireString(fields, 'eventType', 256),
    kind: fields.kind,
    mode: fields.mode,
    receivedAt: requireTime(fields, 'receivedAt'),
    priority: fields.priority,
    requestId: requireString(fields, 'requestId', 256),
    payload: fields.payload,
    ...(reference !== undefined && { reference }),
    ...(gatewayPaymentId !== undefined && { gatewayPaymentId }),
    ...(occurredAt !== undefined && { occurredAt }),
    ...(money && { money }),
    ...(refundedTotal && { refundedTotal }),
    ...(factId !== undefined && { factId }),
    ...(settlesClaims !== undefined && { settlesClaims }),
    ...(fields.needsConfirmation === true && { needsConfirmation: true as const }),
  };
  let event: WebhookEvent;
  try {
    event = webhookEventFromJson(json);
  } catch (error) {
    if (error instanceof InvalidAmountError) throw new InvalidMessageError(`money field: ${error.message}`);
    throw error;
  }
  return version === 1 ? withFactFieldsFromPayload(event) : event;
}
