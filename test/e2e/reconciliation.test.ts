import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devSecret, readSample, SIGNERS } from '../../events/index.js';
import type { EventsView, PaymentView } from '../../local/contract.js';
import type { LocalStack } from '../../local/stack.js';
import { startTestStack, stopTestStack } from '../support/local-stack.js';

// The lost-webhook story on the local stack: registered, no webhook, the gateway (sandbox) says paid, one reconciler
// run later the payment has succeeded and exactly one payment.succeeded was announced.
let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack(mkdtempSync(join(tmpdir(), 'payhook-reconcile-e2e-')));
});

afterAll(async () => {
  await stopTestStack(stack);
});

async function post(path: string, body: unknown) {
  const response = await fetch(`${stack.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/**
 * Waits for the payment to reach `status` and, when given, for its view to satisfy `ready`: the history item is written
 * just after the payment itself, so a test that reads the history waits for the entry it needs.
 */
async function eventually(
  gateway: string,
  reference: string,
  status: string,
  ready: (view: PaymentView) => boolean = () => true,
): Promise<PaymentView> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const response = await fetch(`${stack.url}/local/payments/${gateway}/${reference}`);
    const view = response.ok ? ((await response.json()) as PaymentView) : undefined;
    if (view?.status === status && ready(view)) return view;
    if (Date.now() > deadline)
      throw new Error(`${gateway} ${reference}: ${view?.status ?? response.status}, not ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function announced(reference: string): Promise<string[]> {
  const { events } = (await (await fetch(`${stack.url}/local/events?limit=1000`)).json()) as EventsView;
  return events.filter((event) => event.detail.reference === reference).map((event) => event.detailType);
}

describe('Reconciliation on the local stack', () => {
  it('settles a registered payment whose webhook was lost, announcing payment.succeeded exactly once', async () => {
    const registered = await post('/payments', {
      gateway: 'paystack',
      reference: 'ORDER-LOST-1',
      amount: '2500.00',
      currency: 'ngn',
    });
    expect(registered).toMatchObject({
      status: 201,
      body: { status: 'pending', expected: { amount: '2500.00', currency: 'NGN' } },
    });
    expect(
      (
        await post('/payments', {
          gateway: 'paystack',
          reference: 'ORDER-LOST-1',
          amount: '2500.00',
          currency: 'NGN',
        })
      ).status,
    ).toBe(200);
    // The customer paid; the webhook never arrived.
    expect(
      (
        await post('/local/sandbox/paystack', {
          status: 'success',
          amount: '250000',
          currency: 'NGN',
          reference: 'ORDER-LOST-1',
          id: '777001',
        })
      ).status,
    ).toBe(200);

    const report = await post('/local/reconcile?grace=0', '');
    expect(report.body).toMatchObject({ queued: { 'payment.succeeded': 1 } });
    const view = await eventually('paystack', 'ORDER-LOST-1', 'succeeded', (seen) => seen.history.length > 0);
    expect([view.amount, view.currency, view.history.at(-1)?.eventType]).toEqual([
      '2500.00',
      'NGN',
      'reconciler.success',
    ]);

    await post('/local/reconcile?grace=0', '');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await announced('ORDER-LOST-1')).toEqual(['payment.succeeded']);
  });

  it('gives one transition when the webhook and the reconciler both report the payment at once', async () => {
    const reference = 'ORDER-2001';
    await post('/payments', { gateway: 'flutterwave', reference, amount: '7500.50', currency: 'NGN' });
    stack.sandbox.setPayment('flutterwave', {
      status: 'successful',
      amount: '7500.50',
      currency: 'NGN',
      reference,
      id: '4975361',
    });
    const signed = SIGNERS.flutterwave(readSample('flutterwave', 'charge.completed'), {
      secret: devSecret('flutterwave'),
    });
    const [webhook] = await Promise.all([
      fetch(`${stack.url}/webhooks/flutterwave`, {
        method: 'POST',
        headers: signed.headers,
        body: signed.body,
      }),
      post('/local/reconcile?grace=0', ''),
    ]);
    expect(webhook.status).toBe(200);
    await eventually('flutterwave', reference, 'succeeded');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await announced(reference)).toEqual(['payment.succeeded']);
    const settled = await eventually('flutterwave', reference, 'succeeded');
    // Whichever came first, the webhook and the reconciler's answer name the same transaction: one money-in fact.
    expect(settled.moneyIn.map((fact) => [fact.id, fact.amount?.amount])).toEqual([['4975361', '7500.50']]);
    // One event moved the status; another that arrives after it adds only its event id to the fact.
    const moved = settled.history.filter(
      (entry) => entry.transition !== null && entry.transition.from !== entry.transition.to,
    );
    expect(moved.map((entry) => entry.transition?.to)).toEqual(['succeeded']);
    expect(settled.history.flatMap((entry) => entry.announced)).toEqual([
      { type: 'money_in', id: '4975361', state: 'received' },
    ]);
  });

  it('leaves the payment pending through 5xx answers, and settles it on a later run despite 429s', async () => {
    await post('/payments', {
      gateway: 'stripe',
      reference: 'ORDER-FLAKY-1',
      gatewayPaymentId: 'pi_flaky_1',
      amount: '49.99',
      currency: 'USD',
    });
    stack.sandbox.setPayment('stripe', {
      status: 'succeeded',
      amount: '4999',
      currency: 'usd',
      id: 'pi_flaky_1',
      reference: 'ORDER-FLAKY-1',
    });
    stack.sandbox.behave('stripe', 'server-error', 3);
    const failed = await post('/local/reconcile?grace=0', '');
    expect(failed.body).toMatchObject({ errors: { stripe: { unavailable: 1 } } });
    expect((await eventually('stripe', 'pi_flaky_1', 'pending')).status).toBe('pending');
    stack.sandbox.behave('stripe', 'rate-limit', 2);
    await post('/local/reconcile?grace=0', '');
    expect((await eventually('stripe', 'pi_flaky_1', 'succeeded')).amount).toBe('49.99');
  });

  it('expires a registered payment past its expiry, with one payment.expired', async () => {
    const expiresAt = new Date(Date.now() - 1000).toISOString();
    await post('/payments', {
      gateway: 'adyen',
      reference: 'ORDER-EXPIRED-1',
      amount: '100.00',
      currency: 'EUR',
      expiresAt,
    });
    await post('/local/reconcile?grace=0', '');
    await eventually('adyen', 'ORDER-EXPIRED-1', 'expired');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await announced('ORDER-EXPIRED-1')).toEqual(['payment.expired']);
  });

  it('confirms a Flutterwave success that came with verif-hash only in the next reconciler run, not in the consumer', async () => {
    const body = readSample('flutterwave', 'charge.completed')
      .replaceAll('ORDER-2001', 'ORDER-VERIF-1')
      .replace('4975361', '4975999');
    stack.sandbox.setPayment('flutterwave', {
      status: 'successful',
      amount: '7500.50',
      currency: 'NGN',
      reference: 'ORDER-VERIF-1',
      id: '4975999',
    });
    const requestsBefore = stack.sandbox.requests('flutterwave').length;
    const response = await fetch(`${stack.url}/webhooks/flutterwave`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'verif-hash': devSecret('flutterwave') },
      body,
    });
    expect(response.status).toBe(200);
    // Recorded as a claim; the consumer asked the gateway nothing (a slow or rate-limiting API cannot hold it up).
    await eventually('flutterwave', 'ORDER-VERIF-1', 'authorized', (seen) => seen.history.length === 1);
    expect(stack.sandbox.requests('flutterwave')).toHaveLength(requestsBefore);
    // The next run asks about claims first and without a grace period (on AWS, a schedule every minute does).
    const run = await post('/local/reconcile', '');
    expect(run.body).toMatchObject({ confirmationsByGateway: { flutterwave: 1 } });
    const view = await eventually(
      'flutterwave',
      'ORDER-VERIF-1',
      'succeeded',
      (seen) => seen.history.length >= 2,
    );
    expect(view.history.map((entry) => [entry.eventType, entry.transition?.to])).toEqual([
      ['charge.completed', 'authorized'],
      ['reconciler.successful', 'succeeded'],
    ]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // The unverified claim announced nothing; the gateway's confirmation did.
    expect(await announced('ORDER-VERIF-1')).toEqual(['payment.succeeded']);
  });

  it('applies what the gateway reports, not what a verif-hash claim said (another amount)', async () => {
    const body = readSample('flutterwave', 'charge.completed')
      .replaceAll('ORDER-2001', 'ORDER-VERIF-2')
      .replace('4975361', '4975998');
    stack.sandbox.setPayment('flutterwave', {
      status: 'successful',
      amount: '75.05',
      currency: 'NGN',
      reference: 'ORDER-VERIF-2',
      id: '4975998',
    });
    await fetch(`${stack.url}/webhooks/flutterwave`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'verif-hash': devSecret('flutterwave') },
      body,
    });
    // Confirmed by the next run: the gateway's money is the fact, the claim's is not.
    await eventually('flutterwave', 'ORDER-VERIF-2', 'authorized');
    await post('/local/reconcile', '');
    const view = await eventually('flutterwave', 'ORDER-VERIF-2', 'succeeded', (seen) =>
      seen.history.some((entry) => entry.eventType === 'charge.completed'),
    );
    expect(view.amount).toBe('75.05');
    expect(view.moneyIn.map((fact) => [fact.id, fact.amount?.amount])).toEqual([['4975998', '75.05']]);
    expect(view.history.find((entry) => entry.eventType === 'charge.completed')?.eventId).toMatch(
      /^payhook:claim:/,
    );
  });

  it('keeps a verif-hash claim inert: it never fails a payment, nor takes the id the signed webhook carries', async () => {
    const reference = 'ORDER-VERIF-3';
    await post('/payments', { gateway: 'flutterwave', reference, amount: '7500.50', currency: 'NGN' });
    const failed = readSample('flutterwave', 'charge.completed.failed')
      .replaceAll('ORDER-2002', reference)
      .replace('4975388', '4975997');
    const claimed = await fetch(`${stack.url}/webhooks/flutterwave`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'verif-hash': devSecret('flutterwave') },
      body: failed,
    });
    expect(claimed.status).toBe(200);
    // The same body, signed: it is its own event (the claim did not take its id), and it fails the payment.
    const signed = SIGNERS.flutterwave(failed, { secret: devSecret('flutterwave') });
    const answer = await fetch(`${stack.url}/webhooks/flutterwave`, {
      method: 'POST',
      headers: signed.headers,
      body: signed.body,
    });
    expect(answer.status).toBe(200);
    const view = await eventually('flutterwave', reference, 'failed', (seen) => seen.history.length >= 2);
    const types = view.history.map((entry) => [entry.eventId.startsWith('payhook:claim:'), entry.kind]);
    expect(types).toEqual(
      expect.arrayContaining([
        [true, 'other'],
        [false, 'payment.failed'],
      ]),
    );
  });

  it('answers 400 naming the field for a bad registration', async () => {
    const answer = await post('/payments', {
      gateway: 'stripe',
      reference: 'ORDER-X',
      amount: '1.00',
      currency: 'USD',
    });
    expect(answer).toMatchObject({
      status: 400,
      body: { error: 'invalid_registration', field: 'gatewayPaymentId' },
    });
    expect(String(answer.body.message)).toMatch(/PaymentIntent/);
  });
});
