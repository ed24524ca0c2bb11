import { createHmac } from 'node:crypto';
import { isLosslessNumber, parse, stringify } from 'lossless-json';
import type { WebhookSigner } from '../signing.js';

/**
 * Adyen signs inside the body: each `notificationItems[i].NotificationRequestItem.additionalData.hmacSignature` is
 * the base64 HMAC-SHA256, keyed with the hex-decoded HMAC key, of
 * `pspReference:originalReference:merchantAccountCode:merchantReference:amount.value:amount.currency:eventCode:success`.
 * The sample is re-serialised with lossless-json (a runtime dependency already) so amount texts stay exactly as
 * written; the body sent therefore differs from the sample file in whitespace. Any hmacSignature present is replaced.
 */
type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !isLosslessNumber(value);
}

function field(value: unknown): string {
  if (typeof value === 'string') return value;
  if (isLosslessNumber(value)) return value.value;
  if (typeof value === 'boolean') return String(value);
  return '';
}

function dataToSign(item: Json): string {
  const amount = isRecord(item.amount) ? item.amount : {};
  return [
    item.pspReference,
    item.originalReference,
    item.merchantAccountCode,
    item.merchantReference,
    amount.value,
    amount.currency,
    item.eventCode,
    item.success,
  ]
    .map(field)
    .join(':');
}

export const signAdyen: WebhookSigner = (payload, { secret }) => {
  const notification = parse(payload);
  const items = isRecord(notification) ? notification.notificationItems : undefined;
  if (!Array.isArray(items))
    throw new Error('an Adyen sample must be a notification with a notificationItems list');
  const key = Buffer.from(secret, 'hex');
  for (const entry of items) {
    const item = isRecord(entry) ? entry.NotificationRequestItem : undefined;
    if (!isRecord(item))
      throw new Error('every notification item must hold a NotificationRequestItem object');
    const additionalData = isRecord(item.additionalData) ? item.additionalData : {};
    additionalData.hmacSignature = createHmac('sha256', key)
      .update(dataToSign(item), 'utf8')
      .digest('base64');
    item.additionalData = additionalData;
  }
  return { body: stringify(notification) ?? '', headers: { 'content-type': 'application/json' } };
};
