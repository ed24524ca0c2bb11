import { createHash } from 'node:crypto';
import type { Priority } from '../definitions.js';
import type { Money } from '../domain/money.js';
import { isSyntheticEventId } from '../domain/synthetic-ids.js';
import {
  defaultPriority,
  type EventKind,
  type EventMode,
  type GatewayName,
  type WebhookEvent,
} from '../domain/webhook-event.js';
import { isoFromMillis } from './payload.js';
import type { GatewaySettings } from './settings.js';
import type { Classification, WebhookRequest } from './types.js';

/** One row of an adapter's event table; the priority defaults to the kind's (see `defaultPriority`). */
export function row(kind: EventKind, priority: Priority = defaultPriority(kind)): Classification {
  return { kind, priority };
}

const OTHER: Classification = row('other');

/** Looks the keys up in order (e.g. `type/status`, then `type`); unlisted types are `other`, low priority. */
export function classify(table: Readonly<Record<string, Classification>>, ...keys: string[]): Classification {
  for (const key of keys) {
    // Own keys only: an event named `constructor` or `toString` must not find Object.prototype's members.
    if (Object.hasOwn(table, key)) return table[key] as Classification;
  }
  return OTHER;
}

/**
 * The dedupe key of last resort, for a payload that carries nothing identifying: a digest of the exact bytes.
 * A gateway's retry resends the same bytes, so retries still collapse into one.
 */
export function bodyDigestId(body: Buffer | string): string {
  return `sha256:${createHash('sha256').update(body).digest('hex')}`;
}

/**
 * An adapter's event id, kept out of the synthetic namespace (`SYNTHETIC_EVENT_ID_PREFIX`): an id that starts with
 * it is replaced by a digest of that id and the exact body, so a webhook can never take the id of an event payhook
 * makes up itself (the reconciler's). The id is part of the digest so the items of one batch stay apart.
 */
export function webhookEventId(eventId: string, body: Buffer | string): string {
  if (!isSyntheticEventId(eventId)) return eventId;
  return bodyDigestId(Buffer.concat([Buffer.from(`${eventId}\0`, 'utf8'), Buffer.from(body)]));
}

export interface EventDraft {
  readonly eventId: string;
  readonly eventType: string;
  readonly classification: Classification;
  readonly reference?: string | undefined;
  readonly gatewayPaymentId?: string | undefined;
  readonly money?: Money | undefined;
  /** The gateway's id of what the event is about (see `WebhookEvent.factId`). */
  readonly factId?: string | undefined;
  /** A running refunded total the gateway reports (see `WebhookEvent.refundedTotal`). */
  readonly refundedTotal?: Money | undefined;
  readonly mode: EventMode;
  readonly occurredAt?: string | undefined;
  readonly payload: string;
}

/**
 * Completes a draft with what every event carries, applying configured priority overrides (type, then kind). The
 * event id never lies in the synthetic namespace (see {@link webhookEventId}).
 */
export function buildEvent(
  gateway: GatewayName,
  request: WebhookRequest,
  settings: GatewaySettings,
  draft: EventDraft,
): WebhookEvent {
  const { classification, eventType } = draft;
  // Built field by field rather than with rest and conditional spreads: those copy the object once per optional
  // field, which showed as a sixth of a Paystack webhook's CPU. The field order (and so the message text) is the same.
  const event: { -readonly [K in keyof WebhookEvent]: WebhookEvent[K] } = {
    gateway,
    eventId: webhookEventId(draft.eventId, request.body),
    eventType,
    kind: classification.kind,
    mode: draft.mode,
    receivedAt: isoFromMillis(request.receivedAt.getTime()),
    priority: priorityOf(settings.priorityOverrides, eventType, classification),
    requestId: request.requestId,
    payload: draft.payload,
  };
  // Optional fields are left out rather than set to undefined, so queue messages stay small and comparable.
  if (draft.reference !== undefined) event.reference = draft.reference;
  if (draft.gatewayPaymentId !== undefined) event.gatewayPaymentId = draft.gatewayPaymentId;
  if (draft.money !== undefined) event.money = draft.money;
  if (draft.factId !== undefined) event.factId = draft.factId;
  if (draft.refundedTotal !== undefined) event.refundedTotal = draft.refundedTotal;
  if (draft.occurredAt !== undefined) event.occurredAt = draft.occurredAt;
  return event;
}

/** A configured override for the event type, else for the kind, else the table's priority. */
function priorityOf(
  overrides: GatewaySettings['priorityOverrides'],
  eventType: string,
  classification: Classification,
): Priority {
  return (
    (Object.hasOwn(overrides, eventType) ? overrides[eventType] : undefined) ??
    (Object.hasOwn(overrides, classification.kind) ? overrides[classification.kind] : undefined) ??
    classification.priority
  );
}

/** Maps a gateway's live/test flag to a mode. */
export function modeFromLive(live: boolean | undefined): EventMode {
  if (live === undefined) return 'unknown';
  return live ? 'live' : 'test';
}
