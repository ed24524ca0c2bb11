import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SAMPLES, DEV_SECRETS_FILE, devSecret, readSample, SIGNERS } from '../../events/index.js';
import type { GatewayName } from '../../lambdas/domain/webhook-event.js';
import type { PaymentView, QueuesView } from '../../local/contract.js';
import { readStackInfo } from '../../local/contract.js';
import { type LocalStack, startLocalStack } from '../../local/stack.js';

// The local stack started in-process on free ports, and talked to over HTTP only, as a developer would.
const dataDir = mkdtempSync(join(tmpdir(), 'payhook-e2e-'));
let stack: LocalStack;

const start = () =>
  startLocalStack({
    dataDir,
    port: 0,
    secretsFile: DEV_SECRETS_FILE,
    workersPerQueue: 1,
    pollWaitSeconds: 1,
  });

beforeAll(async () => {
  stack = await start();
});

afterAll(async () => {
  await stack?.stop({ drainTimeoutMs: 5000 });
});

async function post(gateway: string, body: string, headers: Readonly<Record<string, string>>) {
  const response = await fetch(`${stack.url}/webhooks/${gateway}`, { method: 'POST', headers, body });
  return { status: response.status, body: await response.text() };
}

async function payment(gateway: string, identifier: string): Promise<{ status: number; view?: PaymentView }> {
  const response = await fetch(`${stack.url}/local/payments/${gateway}/${encodeURIComponent(identifier)}`);
  return response.ok
    ? { status: 200, view: (await response.json()) as PaymentView }
    : { status: response.status };
}

/** Polls until the payment reaches `status` (the consumers run asynchronously, as on AWS). */
async function eventually(
  gateway: string,
  identifier: string,
  status: string,
  timeoutMs = 15_000,
): Promise<PaymentView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await payment(gateway, identifier);
    // The history item is written just after the payment: a status an event set waits for its entry too.
    const view = found.view;
    if (view?.status === status && (status === 'pending' || view.history.length > 0)) return view;
    if (Date.now() > deadline)
      throw new Error(`${gateway} ${identifier}: ${found.view?.status ?? found.status}, not ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function queues(): Promise<QueuesView> {
  return (await (await fetch(`${stack.url}/local/queues`)).json()) as QueuesView;
}

/** The main success sample of each gateway, the identifier `payments show` takes, and what must arrive. */
const MAIN_EVENTS: readonly [GatewayName, string, string, string][] = [
  ['paystack', 'ORDER-1001', '2500.00', 'NGN'],
  ['flutterwave', 'ORDER-2001', '7500.50', 'NGN'],
  ['razorpay', 'order_Q8mMz5hJ3kW9pB', '499.00', 'INR'],
  ['oxapay', 'ORDER-2101', '10.500000', 'USDT'],
  ['stripe', 'ORDER-2001', '49.99', 'USD'],
  ['standard', 'ORDER-2001', '49.99', 'USD'],
  ['adyen', 'ORDER-2001', '100.00', 'EUR'],
];

describe('Local stack, end to end over HTTP', () => {
  it('answers /health once ready and records itself for the CLI', async () => {
    expect((await fetch(`${stack.url}/health`)).status).toBe(200);
    expect(readStackInfo(dataDir)?.url).toBe(stack.url);
  });

  it.each(MAIN_EVENTS)(
    'turns the main %s success event into a succeeded payment (%s: %s %s)',
    async (gateway, identifier, amount, currency) => {
      const signed = SIGNERS[gateway](readSample(gateway, DEFAULT_SAMPLES[gateway]), {
        secret: devSecret(gateway),
      });
      const response = await post(gateway, signed.body, signed.headers);
      expect(response.status).toBe(200);
      const view = await eventually(gateway, identifier, 'succeeded');
      expect([view.amount, view.currency]).toEqual([amount, currency]);
      expect(view.history).toHaveLength(1);
      expect(view.history[0]?.transition).toEqual({ from: null, to: 'succeeded' });
    },
  );

  it('changes nothing on a duplicate delivery', async () => {
    const signed = SIGNERS.paystack(readSample('paystack', 'charge.success'), {
      secret: devSecret('paystack'),
    });
    const before = await eventually('paystack', 'ORDER-1001', 'succeeded');
    const eventsBefore = (await (await fetch(`${stack.url}/local/events?limit=1000`)).json()) as {
      events: unknown[];
    };
    expect((await post('paystack', signed.body, signed.headers)).status).toBe(200);
    // Wait until the duplicate has been consumed, then compare.
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const counts = (await queues()).queues.find((queue) => queue.priority === 'high')?.queue;
      if (counts && counts.visible + counts.inFlight === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const after = await payment('paystack', 'ORDER-1001');
    expect(after.view).toEqual(before);
    const eventsAfter = (await (await fetch(`${stack.url}/local/events?limit=1000`)).json()) as {
      events: unknown[];
    };
    expect(eventsAfter.events).toHaveLength(eventsBefore.events.length);
  });

  it('answers 401 to an invalid signature and stores nothing', async () => {
    const body = readSample('paystack', 'charge.success').replace('ORDER-1001', 'ORDER-FORGED-1');
    const response = await post('paystack', body, {
      'content-type': 'application/json',
      'x-paystack-signature': 'ab'.repeat(64),
    });
    expect(response.status).toBe(401);
    expect(JSON.parse(response.body).error).toBe('invalid_signature');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await payment('paystack', 'ORDER-FORGED-1')).status).toBe(404);
  });

  it('ends a poison message (same event id, another amount) in the high-priority DLQ', async () => {
    const poisonDir = fileURLToPath(new URL('../../events/poison/', import.meta.url));
    for (const file of [
      'paystack-amount-changed.1-original.json',
      'paystack-amount-changed.2-replayed.json',
    ]) {
      const signed = SIGNERS.paystack(readFileSync(join(poisonDir, file), 'utf8'), {
        secret: devSecret('paystack'),
      });
      expect((await post('paystack', signed.body, signed.headers)).status).toBe(200);
    }
    const deadline = Date.now() + 15_000;
    let deadLettered = 0;
    while (Date.now() < deadline && deadLettered === 0) {
      deadLettered =
        (await queues()).queues.find((queue) => queue.priority === 'high')?.deadLetter.visible ?? 0;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(deadLettered).toBe(1);
    expect((await eventually('paystack', 'ORDER-POISON-1', 'succeeded')).amount).toBe('2500.00');
  });

  it('keeps the payments across a restart with the same data dir', async () => {
    const { leftInQueues } = await stack.stop({ drainTimeoutMs: 5000 });
    expect(leftInQueues).toBe(0);
    expect(readStackInfo(dataDir)).toBeUndefined();
    stack = await start();
    const view = await payment('paystack', 'ORDER-1001');
    expect([view.view?.status, view.view?.amount]).toEqual(['succeeded', '2500.00']);
    expect((await payment('adyen', 'ORDER-2001')).view?.status).toBe('succeeded');
  });
});
