import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_SECRETS_FILE, devSecret, readSample, SIGNERS } from '../../events/index.js';
import type { GatewayName } from '../../lambdas/domain/webhook-event.js';
import type { EventsView, PaymentView } from '../../local/contract.js';
import { type LocalStack, startLocalStack } from '../../local/stack.js';

// Whole lifecycles through the local stack over HTTP: real queues by priority, real consumers, the events file.
let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({
    dataDir: mkdtempSync(join(tmpdir(), 'payhook-lifecycle-')),
    inMemory: true,
    port: 0,
    secretsFile: DEV_SECRETS_FILE,
    workersPerQueue: 2,
    pollWaitSeconds: 1,
    reconcileIntervalSeconds: 0,
  });
});

afterAll(async () => {
  await stack?.stop({ drainTimeoutMs: 5000 });
});

async function send(gateway: GatewayName, body: string, eventId?: string): Promise<void> {
  const signed = SIGNERS[gateway](body, { secret: devSecret(gateway), ...(eventId && { eventId }) });
  const response = await fetch(`${stack.url}/webhooks/${gateway}`, {
    method: 'POST',
    headers: signed.headers,
    body: signed.body,
  });
  expect(response.status).toBe(200);
}

/** Polls until `done` holds for the payment (the consumers run asynchronously, as on AWS). */
async function eventually(
  gateway: string,
  key: string,
  done: (view: PaymentView) => boolean,
): Promise<PaymentView> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const response = await fetch(`${stack.url}/local/payments/${gateway}/${encodeURIComponent(key)}`);
    const view = response.ok ? ((await response.json()) as PaymentView) : undefined;
    if (view && done(view)) return view;
    if (Date.now() > deadline)
      throw new Error(`${gateway} ${key}: ${JSON.stringify(view ?? response.status)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function announcedFor(gateway: string, gatewayPaymentIdOrReference: string) {
  const { events } = (await (await fetch(`${stack.url}/local/events?limit=1000`)).json()) as EventsView;
  return events
    .filter(
      (event) =>
        event.detail.gateway === gateway &&
        (event.detail.gatewayPaymentId === gatewayPaymentIdOrReference ||
          event.detail.reference === gatewayPaymentIdOrReference),
    )
    .map((event) => ({ detailType: event.detailType, detail: event.detail }));
}

const stripeEvent = (id: string, type: string, object: Record<string, unknown>) =>
  JSON.stringify({ id, object: 'event', type, created: 1764000000, livemode: false, data: { object } });

describe('Payment lifecycles end to end (local stack)', () => {
  it('counts one Stripe refund told three ways once, keeps a dispute that overtook it, and announces each fact once', async () => {
    const pi = 'pi_lifecycle1';
    const refund = { id: 're_l1', object: 'refund', amount: 2500, currency: 'usd', payment_intent: pi };
    // Sent in the "wrong" order: the dispute (high queue) and the refunds before the payment itself.
    await send(
      'stripe',
      stripeEvent('evt_l_dispute', 'charge.dispute.created', {
        id: 'dp_l1',
        object: 'dispute',
        amount: 10_000,
        currency: 'usd',
        payment_intent: pi,
        status: 'needs_response',
      }),
    );
    await send(
      'stripe',
      stripeEvent('evt_l_refund_created', 'refund.created', { ...refund, status: 'succeeded' }),
    );
    await send(
      'stripe',
      stripeEvent('evt_l_charge_refunded', 'charge.refunded', {
        id: 'ch_l1',
        object: 'charge',
        amount: 10_000,
        amount_refunded: 2500,
        amount_captured: 10_000,
        captured: true,
        currency: 'usd',
        payment_intent: pi,
        status: 'succeeded',
      }),
    );
    await send(
      'stripe',
      stripeEvent('evt_l_paid', 'payment_intent.succeeded', {
        id: pi,
        object: 'payment_intent',
        amount: 10_000,
        amount_received: 10_000,
        currency: 'usd',
        status: 'succeeded',
      }),
    );
    await send(
      'stripe',
      stripeEvent('evt_l_refund_updated', 'refund.updated', { ...refund, status: 'succeeded' }),
    );
    // A retry of one of them.
    await send(
      'stripe',
      stripeEvent('evt_l_refund_created', 'refund.created', { ...refund, status: 'succeeded' }),
    );

    const view = await eventually('stripe', pi, (found) => found.history.length >= 5);
    expect(view.status).toBe('disputed');
    expect(view.amount).toBe('100.00');
    expect(view.refunded?.amount).toBe('25.00');
    expect(view.refunds).toEqual([
      {
        id: 're_l1',
        amount: { amount: '25.00', currency: 'USD', amountMinor: '2500', exponent: 2 },
        state: 'succeeded',
        eventIds: ['evt_l_refund_created', 'evt_l_refund_updated'],
      },
    ]);
    expect(view.disputes.map((fact) => [fact.id, fact.state])).toEqual([['dp_l1', 'opened']]);

    const announced = await announcedFor('stripe', pi);
    const facts = announced.map(({ detail }) => {
      const fact = detail.fact as { type: string; id: string; state: string };
      return `${fact.type}:${fact.id}:${fact.state}`;
    });
    expect(new Set(facts).size).toBe(facts.length);
    expect(facts).toEqual(
      expect.arrayContaining([
        'money_in:pi_lifecycle1:received',
        'refund:re_l1:succeeded',
        'dispute:dp_l1:opened',
      ]),
    );
    // A running total is announced only if, when it was applied, it exceeded the refunds known (the queues decide
    // that order): the only announcement allowed beyond the three facts.
    expect(facts.filter((fact) => !fact.startsWith('refund_total:'))).toHaveLength(3);
    expect(facts.filter((fact) => fact.startsWith('refund_total:'))).toEqual(
      facts.includes('refund_total:2500:succeeded') ? ['refund_total:2500:succeeded'] : [],
    );
    const refundDetail = announced.find(
      ({ detail }) => (detail.fact as { type: string }).type === 'refund',
    )?.detail;
    expect(refundDetail).toMatchObject({ amount: '2500', currency: 'USD', paid: '10000', refunded: '2500' });
  });

  it('announces each deposit to one OXA Pay static address as its own payment.succeeded', async () => {
    const deposit = (hash: string, amount: string) => {
      const body = JSON.parse(readSample('oxapay', 'static_address.paid')) as Record<string, unknown>;
      return JSON.stringify({
        ...body,
        order_id: 'STATIC-LIFECYCLE',
        amount,
        txs: [{ ...((body.txs as Record<string, unknown>[])[0] ?? {}), tx_hash: hash }],
      });
    };
    await send('oxapay', deposit('0xfeed01', '1.5'));
    await send('oxapay', deposit('0xfeed02', '2.25'));
    const view = await eventually('oxapay', 'STATIC-LIFECYCLE', (found) => found.moneyIn.length === 2);
    expect(view.status).toBe('succeeded');
    expect(view.moneyIn.map((fact) => [fact.id, fact.amount?.amount])).toEqual([
      ['0xfeed01', '1.50000000'],
      ['0xfeed02', '2.25000000'],
    ]);
    const succeeded = (await announcedFor('oxapay', 'STATIC-LIFECYCLE')).filter(
      (event) => event.detailType === 'payment.succeeded',
    );
    expect(succeeded.map(({ detail }) => detail.amount).sort()).toEqual(['150000000', '225000000']);
  });
});
