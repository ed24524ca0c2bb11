import { describe, expect, it } from 'vitest';
import { moneyFromMinor } from '../../../lambdas/domain/money.js';
import type { WebhookEvent } from '../../../lambdas/domain/webhook-event.js';
import { asUnverifiedClaim } from '../../../lambdas/intake/claims.js';

const event = (overrides: Partial<WebhookEvent> = {}): WebhookEvent => ({
  gateway: 'flutterwave',
  eventId: 'charge.completed:4975361:successful',
  eventType: 'charge.completed',
  kind: 'payment.succeeded',
  reference: 'ORDER-1',
  gatewayPaymentId: '4975361',
  factId: '4975361',
  money: moneyFromMinor('750050', 'NGN'),
  mode: 'unknown',
  receivedAt: '2026-11-30T10:00:00.000Z',
  priority: 'high',
  requestId: 'r1',
  payload: '{"event":"charge.completed","data":{"id":4975361,"amount":7500.50}}',
  ...overrides,
});

describe('Unverified claims (verif-hash alone)', () => {
  it('names a claim by the digest of its exact body, never by the id its unsigned body chose', () => {
    const genuine = asUnverifiedClaim(event());
    // Same data.id and status (so the same adapter id), another amount: another claim, not the genuine one's id.
    const aimed = asUnverifiedClaim(
      event({ payload: '{"event":"charge.completed","data":{"id":4975361,"amount":1}}' }),
    );
    expect(genuine.eventId).toMatch(/^payhook:claim:sha256:[0-9a-f]{64}$/);
    expect(aimed.eventId).not.toBe(genuine.eventId);
    expect(asUnverifiedClaim(event()).eventId).toBe(genuine.eventId);
  });

  it('turns a success into a claim awaiting confirmation and anything else into history, naming no fact or gateway id', () => {
    expect(asUnverifiedClaim(event())).toMatchObject({ kind: 'payment.authorized', needsConfirmation: true });
    for (const kind of [
      'payment.failed',
      'payment.pending',
      'payment.expired',
      'refund.succeeded',
    ] as const) {
      const claim = asUnverifiedClaim(event({ kind }));
      expect(claim.kind).toBe('other');
      expect(claim.needsConfirmation).toBeUndefined();
    }
    const claim = asUnverifiedClaim(event());
    expect(claim.factId).toBeUndefined();
    expect(claim.gatewayPaymentId).toBeUndefined();
    expect(claim.reference).toBe('ORDER-1');
  });
});
