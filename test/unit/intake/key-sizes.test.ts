import { describe, expect, it } from 'vitest';
import { IDENTIFIER_MAX_BYTES } from '../../../lambdas/definitions.js';
import { syntheticEventId } from '../../../lambdas/domain/synthetic-ids.js';
import type { WebhookEvent } from '../../../lambdas/domain/webhook-event.js';
import { oversizeIdentifier, parkOversizeKeys } from '../../../lambdas/intake/key-sizes.js';

const EVENT: WebhookEvent = {
  gateway: 'paystack',
  eventId: 'charge.success:1',
  eventType: 'charge.success',
  kind: 'payment.succeeded',
  reference: 'ORDER-1',
  mode: 'live',
  receivedAt: '2026-11-30T00:00:00.000Z',
  priority: 'high',
  requestId: 'r1',
  payload: '{}',
};

describe('Identifier sizes at ingest', () => {
  it('counts bytes, not characters: a reference of 500 three-byte characters is too long', () => {
    expect(
      oversizeIdentifier({ ...EVENT, reference: 'x'.repeat(IDENTIFIER_MAX_BYTES.reference) }),
    ).toBeUndefined();
    expect(oversizeIdentifier({ ...EVENT, reference: '中'.repeat(500) })).toEqual({
      field: 'reference',
      bytes: 1500,
    });
    expect(oversizeIdentifier({ ...EVENT, eventId: 'e'.repeat(501) })).toEqual({
      field: 'eventId',
      bytes: 501,
    });
  });

  it('parks only the events with an oversize identifier, as key_too_large with their payload, and queues the rest', () => {
    const long = {
      ...EVENT,
      eventId: 'charge.success:2',
      reference: 'R'.repeat(3000),
      payload: '{"long":true}',
    };
    const batch = parkOversizeKeys({ events: [EVENT, long], unparseable: [] });
    expect(batch.events).toEqual([EVENT]);
    expect(batch.unparseable).toEqual([
      {
        reason: `reference is 3000 bytes; DynamoDB keys take at most ${IDENTIFIER_MAX_BYTES.reference}`,
        errorClass: 'key_too_large',
        payload: '{"long":true}',
      },
    ]);
  });

  it('keeps synthetic ids short: a long payment key becomes a digest, the same key always the same id', () => {
    const key = 'K'.repeat(IDENTIFIER_MAX_BYTES.reference);
    const id = syntheticEventId('reconciler', key, 'payment.succeeded');
    expect(Buffer.byteLength(id)).toBeLessThanOrEqual(IDENTIFIER_MAX_BYTES.eventId);
    expect(id).toMatch(/^payhook:reconciler:sha256:[0-9a-f]{64}:payment\.succeeded$/);
    expect(syntheticEventId('reconciler', key, 'payment.succeeded')).toBe(id);
    expect(syntheticEventId('reconciler', 'ORDER-1', 'payment.succeeded')).toBe(
      'payhook:reconciler:ORDER-1:payment.succeeded',
    );
  });
});
