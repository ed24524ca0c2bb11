import { describe, expect, it } from 'vitest';
import { devSecret, SIGNERS } from '../../../events/index.js';
import { emptyPayment } from '../../../lambdas/domain/payment.js';
import {
  isSyntheticEventId,
  SYNTHETIC_EVENT_ID_PREFIX,
  syntheticEventId,
} from '../../../lambdas/domain/synthetic-ids.js';
import type { GatewayName } from '../../../lambdas/domain/webhook-event.js';
import { bodyDigestId, buildEvent, row, webhookEventId } from '../../../lambdas/gateways/normalise.js';
import { ADAPTERS } from '../../../lambdas/gateways/registry.js';
import { DEFAULT_GATEWAY_SETTINGS } from '../../../lambdas/gateways/settings.js';
import { reconcilerEvent } from '../../../lambdas/reconciliation/reconcile.js';
import { webhookRequest } from '../../support/requests.js';

const settings = DEFAULT_GATEWAY_SETTINGS;
const NOW = new Date('2030-01-01T10:00:00Z');
/** The id the reconciler gives its answer for Paystack payment ORDER-1001. */
const RECONCILER_ID = syntheticEventId('reconciler', 'ORDER-1001', 'payment.succeeded');

function normalise(gateway: GatewayName, body: string, eventId?: string) {
  const signed = SIGNERS[gateway](body, {
    secret: devSecret(gateway),
    timestamp: NOW,
    ...(eventId !== undefined && { eventId }),
  });
  return ADAPTERS[gateway].normalise(webhookRequest(signed.body, signed.headers, NOW), settings).events;
}

function draft(eventId: string, payload = '{"a":1}') {
  return { eventId, eventType: 'x', classification: row('other'), mode: 'unknown' as const, payload };
}

describe('Synthetic event ids: a namespace no webhook can produce', () => {
  it('puts the reconciler ids in the synthetic namespace', () => {
    const payment = { ...emptyPayment('paystack', 'ORDER-1001', NOW.toISOString()), reference: 'ORDER-1001' };
    const event = reconcilerEvent(payment, 'payment.succeeded', { gatewayStatus: 'success' }, NOW, 'run-1');
    expect(event.eventId).toBe('payhook:reconciler:ORDER-1001:payment.succeeded');
    expect(event.eventId).toBe(RECONCILER_ID);
    expect(event.eventId.startsWith(SYNTHETIC_EVENT_ID_PREFIX)).toBe(true);
    expect(isSyntheticEventId(event.eventId)).toBe(true);
  });

  it('leaves an adapter id outside the namespace untouched', () => {
    const body = '{"a":1}';
    for (const id of [
      'evt_1',
      'charge.success:302961',
      'reconciler:ORDER-1001:payment.succeeded',
      'PAYHOOK:x',
    ]) {
      expect(buildEvent('paystack', webhookRequest(body), settings, draft(id)).eventId).toBe(id);
    }
  });

  it('replaces an adapter id inside the namespace with a digest of that id and the body', () => {
    const request = webhookRequest('{"a":1}');
    const event = buildEvent('paystack', request, settings, draft(RECONCILER_ID));
    expect(isSyntheticEventId(event.eventId)).toBe(false);
    expect(event.eventId).toMatch(/^sha256:[0-9a-f]{64}$/);
    // Deterministic, so a gateway's retry (the same bytes) still collapses into one.
    expect(buildEvent('paystack', request, settings, draft(RECONCILER_ID)).eventId).toBe(event.eventId);
    // Apart from the body's own digest, from other bodies, and from other items of one batch (other ids).
    expect(event.eventId).not.toBe(bodyDigestId('{"a":1}'));
    expect(
      buildEvent('paystack', webhookRequest('{"a":2}'), settings, draft(RECONCILER_ID)).eventId,
    ).not.toBe(event.eventId);
    expect(buildEvent('paystack', request, settings, draft(`${RECONCILER_ID}x`)).eventId).not.toBe(
      event.eventId,
    );
    expect(webhookEventId(RECONCILER_ID, request.body)).toBe(event.eventId);
  });

  it.each([
    [
      'paystack, whose event id is <event>:<data.id>',
      'paystack' as const,
      JSON.stringify({
        event: 'payhook:reconciler:ORDER-1001',
        data: { id: 'payment.succeeded', reference: 'ORDER-1001', amount: 100, currency: 'NGN' },
      }),
      undefined,
    ],
    [
      "stripe, whose event id is the body's id",
      'stripe' as const,
      JSON.stringify({
        id: RECONCILER_ID,
        object: 'event',
        type: 'payment_intent.succeeded',
        data: { object: { id: 'pi_1', object: 'payment_intent', amount: 100, currency: 'usd' } },
      }),
      undefined,
    ],
    [
      'standard, whose event id is the signed webhook-id header',
      'standard' as const,
      JSON.stringify({ type: 'payment.succeeded', data: { reference: 'ORDER-1001' } }),
      RECONCILER_ID,
    ],
    [
      'razorpay, with the id as its unsigned header and its event name',
      'razorpay' as const,
      JSON.stringify({ event: 'payhook:reconciler:ORDER-1001:payment.succeeded', payload: {} }),
      RECONCILER_ID,
    ],
  ])('never gives a signed webhook a synthetic id: %s', (_name, gateway, body, headerId) => {
    const [event] = normalise(gateway, body, headerId);
    expect(event).toBeDefined();
    expect(isSyntheticEventId(event?.eventId ?? SYNTHETIC_EVENT_ID_PREFIX)).toBe(false);
  });
});
