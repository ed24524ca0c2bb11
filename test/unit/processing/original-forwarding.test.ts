import { describe, expect, it } from 'vitest';
import type { StructuredLog } from '../../../lambdas/common/log.js';
import { moneyFromMinor } from '../../../lambdas/domain/money.js';
import type { OriginalWebhook, WebhookEvent } from '../../../lambdas/domain/webhook-event.js';
import { readOriginalDelivery } from '../../../lambdas/messages/original-webhook.js';
import type { ClaimOriginals, KeptClaimOriginal, OriginalQueue } from '../../../lambdas/ports/deliveries.js';
import {
  type OriginalDestination,
  OriginalForwarding,
} from '../../../lambdas/processing/original-forwarding.js';

class RecordingOriginalQueue implements OriginalQueue {
  readonly sent: { queueUrl: string; body: string; attributes: Readonly<Record<string, string>> }[] = [];
  async send(queueUrl: string, body: string, attributes: Readonly<Record<string, string>>) {
    this.sent.push({ queueUrl, body, attributes });
  }
}

class InMemoryClaims implements ClaimOriginals {
  readonly kept = new Map<string, KeptClaimOriginal>();
  async keep(original: KeptClaimOriginal) {
    this.kept.set(`${original.gateway}#${original.eventId}`, original);
  }
  async get(gateway: string, eventId: string) {
    return this.kept.get(`${gateway}#${eventId}`);
  }
}

const warnings: string[] = [];
const log: StructuredLog = {
  info: () => undefined,
  warn: (message: string) => warnings.push(message),
  error: () => undefined,
} as unknown as StructuredLog;

const ORIGINAL: OriginalWebhook = {
  body: Buffer.from('{"event":"charge.completed","data":{"tx_ref":"ORDER-1"}}'),
  headers: { 'content-type': 'application/json', 'verif-hash': 'hash' },
};

function event(overrides: Partial<WebhookEvent>): WebhookEvent {
  return {
    gateway: 'flutterwave',
    eventId: 'evt-1',
    eventType: 'charge.completed',
    kind: 'payment.succeeded',
    mode: 'test',
    receivedAt: '2026-11-30T10:00:00.000Z',
    priority: 'high',
    requestId: 'req-1',
    reference: 'ORDER-1',
    payload: ORIGINAL.body.toString('utf8'),
    money: moneyFromMinor('750050', 'NGN'),
    ...overrides,
  };
}

const CLAIM = event({
  eventId: 'payhook:claim:sha256:abc',
  kind: 'payment.authorized',
  needsConfirmation: true,
});

function forwarding(
  destinations: readonly OriginalDestination[] = [{ name: 'legacy', queueUrl: 'q-legacy' }],
) {
  const queue = new RecordingOriginalQueue();
  const claims = new InMemoryClaims();
  return { queue, claims, forwarding: new OriginalForwarding({ destinations, queue, claims, log }) };
}

describe('OriginalForwarding', () => {
  it('sends a verified webhook to each original destination that wants its gateway, and to no other', async () => {
    const { queue, forwarding: forward } = forwarding([
      { name: 'all', queueUrl: 'q-all' },
      { name: 'flw', queueUrl: 'q-flw', gateways: ['flutterwave'] },
      { name: 'stripe-only', queueUrl: 'q-stripe', gateways: ['stripe'] },
    ]);
    await forward.afterApply(event({}), ORIGINAL);
    expect(queue.sent.map((sent) => sent.queueUrl).sort()).toEqual(['q-all', 'q-flw']);
    const delivered = readOriginalDelivery(queue.sent[0]?.body ?? '');
    expect(delivered).toEqual({
      gateway: 'flutterwave',
      eventId: 'evt-1',
      receivedAt: '2026-11-30T10:00:00.000Z',
      original: ORIGINAL,
    });
    expect(queue.sent[0]?.attributes).toMatchObject({ messageType: 'original-webhook', eventId: 'evt-1' });
  });

  it('sends nothing for an event whose message carried no original', async () => {
    const { queue, forwarding: forward } = forwarding();
    await forward.afterApply(event({}), undefined);
    expect(queue.sent).toEqual([]);
  });

  it('keeps an unverified claim before it is applied and forwards nothing for it then', async () => {
    const { queue, claims, forwarding: forward } = forwarding();
    await forward.beforeApply(CLAIM, ORIGINAL);
    await forward.afterApply(CLAIM, ORIGINAL);
    expect(queue.sent).toEqual([]);
    expect(claims.kept.get(`flutterwave#${CLAIM.eventId}`)).toMatchObject({
      money: { amountMinor: '750050', currency: 'NGN' },
      headers: ORIGINAL.headers,
    });
  });

  it('never forwards a history-only claim (an unverified body that claimed no money)', async () => {
    const { queue, claims, forwarding: forward } = forwarding();
    const historyOnly = event({
      eventId: 'payhook:claim:sha256:def',
      kind: 'other',
      needsConfirmation: undefined,
    });
    await forward.beforeApply(historyOnly, ORIGINAL);
    await forward.afterApply(historyOnly, ORIGINAL);
    expect(queue.sent).toEqual([]);
    expect(claims.kept.size).toBe(0);
  });

  it("forwards a kept claim's original when the gateway's answer confirms it with the same money", async () => {
    const { queue, forwarding: forward } = forwarding();
    await forward.beforeApply(CLAIM, ORIGINAL);
    const answer = event({
      eventId: 'payhook:reconciler:ORDER-1:payment.succeeded',
      settlesClaims: [CLAIM.eventId],
      payload: '{"source":"reconciler"}',
    });
    await forward.afterApply(answer, undefined);
    expect(queue.sent).toHaveLength(1);
    expect(readOriginalDelivery(queue.sent[0]?.body ?? '')).toEqual({
      gateway: 'flutterwave',
      eventId: CLAIM.eventId,
      receivedAt: CLAIM.receivedAt,
      original: ORIGINAL,
    });
  });

  it('does not forward a claim the gateway answered with other money, nor one it said failed', async () => {
    const { queue, forwarding: forward } = forwarding();
    await forward.beforeApply(CLAIM, ORIGINAL);
    await forward.afterApply(
      event({
        eventId: 'payhook:reconciler:ORDER-1:payment.succeeded',
        settlesClaims: [CLAIM.eventId],
        money: moneyFromMinor('7505', 'NGN'),
      }),
      undefined,
    );
    await forward.afterApply(
      event({
        eventId: 'payhook:reconciler:ORDER-1:payment.failed',
        kind: 'payment.failed',
        settlesClaims: [CLAIM.eventId],
      }),
      undefined,
    );
    expect(queue.sent).toEqual([]);
    expect(warnings).toContain('claim not confirmed: its original is not delivered');
  });

  it('keeps no claim when no original destination wants its gateway', async () => {
    const { claims, forwarding: forward } = forwarding([
      { name: 'stripe', queueUrl: 'q', gateways: ['stripe'] },
    ]);
    await forward.beforeApply(CLAIM, ORIGINAL);
    expect(claims.kept.size).toBe(0);
  });

  it('goes on when a destination queue cannot take the original for good, and fails (to retry) when it is transient', async () => {
    const errors: string[] = [];
    const failing = (error: Error): OriginalQueue => ({
      send: async () => {
        throw error;
      },
    });
    const permanent = Object.assign(new Error('no queue'), {
      name: 'QueueDoesNotExist',
      $fault: 'client',
    });
    const forward = new OriginalForwarding({
      destinations: [{ name: 'legacy', queueUrl: 'q' }],
      queue: failing(permanent),
      claims: new InMemoryClaims(),
      log: { ...log, error: (message: string) => errors.push(message) } as unknown as StructuredLog,
    });
    await expect(forward.afterApply(event({}), ORIGINAL)).resolves.toBeUndefined();
    expect(errors).toEqual(['original webhook not queued: its destination cannot take it']);

    for (const transient of [
      Object.assign(new Error('slow down'), { name: 'RequestThrottled', $fault: 'client' }),
      Object.assign(new Error('boom'), { name: 'InternalError', $fault: 'server' }),
      new Error('socket hang up'),
    ]) {
      const retried = new OriginalForwarding({
        destinations: [{ name: 'legacy', queueUrl: 'q' }],
        queue: failing(transient),
        claims: new InMemoryClaims(),
        log,
      });
      await expect(retried.afterApply(event({}), ORIGINAL)).rejects.toBe(transient);
    }
  });

  it('forwards no claim that named no money, whatever the answer', async () => {
    const { queue, forwarding: forward } = forwarding();
    const noMoney = { ...CLAIM, money: undefined };
    await forward.beforeApply(noMoney, ORIGINAL);
    await forward.afterApply(
      event({ eventId: 'payhook:reconciler:ORDER-1:payment.succeeded', settlesClaims: [CLAIM.eventId] }),
      undefined,
    );
    expect(queue.sent).toEqual([]);
  });
});
