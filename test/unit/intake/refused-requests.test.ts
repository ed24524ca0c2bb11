import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { describeRefusal, RefusedRequestRecorder } from '../../../lambdas/intake/refused-requests.js';
import type { RefusedRequest, RefusedRequestStore } from '../../../lambdas/ports/refused-requests.js';
import { apiGatewayEvent, recordingLog } from '../../support/api-gateway.js';

class MemoryStore implements RefusedRequestStore {
  readonly items: RefusedRequest[] = [];
  failing = false;
  async put(refused: RefusedRequest): Promise<void> {
    if (this.failing)
      throw Object.assign(new Error('table unavailable'), { name: 'ResourceNotFoundException' });
    this.items.push(refused);
  }
}

const SIGNATURE = 't=1795500000,v1=5f0c0b7c1d2e3f4a5b6c7d8e9f00112233445566778899aabbccddeeff001122';
const BODY = '{"id":"evt_1","customer":{"email":"ada@example.com"},"card":"4242424242424242"}';

function refusal(gateway = 'stripe', at = new Date('2026-11-24T10:00:00Z')) {
  return describeRefusal(
    apiGatewayEvent(gateway, BODY, { 'Stripe-Signature': SIGNATURE, 'Content-Type': 'application/json' }),
    gateway,
    { reason: 'invalid_signature', status: 401 },
    at,
  );
}

describe('describeRefusal', () => {
  it('keeps who, why, when, the body hash and size and the header names, never a signature or the body', () => {
    const record = refusal();
    expect(record).toEqual({
      gateway: 'stripe',
      reason: 'invalid_signature',
      status: 401,
      at: '2026-11-24T10:00:00.000Z',
      requestId: expect.stringMatching(/^req-/),
      sourceIp: '203.0.113.10',
      bodySha256: createHash('sha256').update(BODY).digest('hex'),
      bodyBytes: Buffer.byteLength(BODY),
      headerNames: ['content-type', 'stripe-signature'],
    });
    const text = JSON.stringify(record);
    expect(text).not.toContain('v1=');
    expect(text).not.toContain('ada@example.com');
    expect(text).not.toContain('4242424242424242');
  });

  it('files a route that names no gateway under "unknown", keeping what it named (cut short)', () => {
    const record = refusal(`paypal${'x'.repeat(100)}`);
    expect(record.gateway).toBe('unknown');
    expect(record.requestedGateway).toHaveLength(40);
  });
});

describe('RefusedRequestRecorder', () => {
  it('records at most its cap per gateway per minute, then again the next minute, saying what it skipped', async () => {
    const store = new MemoryStore();
    const log = recordingLog();
    const recorder = new RefusedRequestRecorder(store, log, 3);
    const minute = Date.parse('2026-11-24T10:00:00Z');
    const results = [];
    for (let i = 0; i < 5; i += 1) results.push(await recorder.record(refusal(), minute + i * 1000));
    expect(results).toEqual([true, true, true, false, false]);
    // Another gateway has its own allowance.
    expect(await recorder.record(refusal('paystack'), minute + 6000)).toBe(true);
    expect(await recorder.record(refusal(), minute + 61_000)).toBe(true);
    expect(store.items).toHaveLength(5);
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: 'refused requests over the cap were not recorded',
        fields: expect.objectContaining({ gateway: 'stripe', skipped: 2 }),
      }),
    );
  });

  it('never throws when the table fails: the refusal is still answered, and the failure logged', async () => {
    const store = new MemoryStore();
    store.failing = true;
    const log = recordingLog();
    await expect(new RefusedRequestRecorder(store, log).record(refusal())).resolves.toBe(false);
    expect(log.lines.map((entry) => entry.message)).toContain('could not record a refused request');
  });
});
