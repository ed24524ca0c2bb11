import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../../cli/program.js';
import { DEFAULT_SAMPLES, devSecret, listSamples, readSample } from '../../../events/index.js';
import type { GatewaySecret } from '../../../lambdas/domain/gateway-secret.js';
import { paymentKeyOf } from '../../../lambdas/domain/payment.js';
import { GATEWAYS, type GatewayName, type WebhookEvent } from '../../../lambdas/domain/webhook-event.js';
import { ADAPTERS } from '../../../lambdas/gateways/registry.js';
import { DEFAULT_GATEWAY_SETTINGS } from '../../../lambdas/gateways/settings.js';
import { webhookRequest } from '../../support/requests.js';
import {
  capturingIo,
  deadUrl,
  emptyDataDir,
  type FakeStack,
  type ReceivedWebhook,
  startFakeStack,
  writeStackInfo,
} from './fake-stack.js';

/** The payment key of each default sample, as `payments show` takes it. */
const DEFAULT_KEYS: Readonly<Record<GatewayName, string>> = {
  paystack: 'ORDER-1001',
  flutterwave: 'ORDER-2001',
  razorpay: 'order_Q8mMz5hJ3kW9pB',
  oxapay: 'ORDER-2101',
  stripe: 'pi_3QpHyk2eZvKYlo2C1qW8tRzD',
  standard: 'ORDER-2001',
  adyen: 'ORDER-2001',
};

function devSecrets(gateway: GatewayName): GatewaySecret {
  return gateway === 'oxapay'
    ? { secrets: [devSecret('oxapay')], payoutSecrets: [devSecret('oxapay', 'payoutSecrets')] }
    : { secrets: [devSecret(gateway)] };
}

/** What payhook's own adapter makes of a received request, after checking its signature as ingest would. */
function verifiedEvents(gateway: GatewayName, received: ReceivedWebhook): readonly WebhookEvent[] {
  expect(received.gateway).toBe(gateway);
  const request = webhookRequest(received.body, received.headers);
  expect(ADAPTERS[gateway].verify(request, devSecrets(gateway), DEFAULT_GATEWAY_SETTINGS)).toEqual({
    ok: true,
  });
  return ADAPTERS[gateway].normalise(request, DEFAULT_GATEWAY_SETTINGS).events;
}

describe('payhook send', () => {
  let stack: FakeStack;
  let io: ReturnType<typeof capturingIo>;
  const send = (...args: string[]) => runCli(['node', 'payhook', 'send', ...args], io);

  beforeEach(async () => {
    stack = await startFakeStack();
    io = capturingIo(stack.dataDir);
  });
  afterEach(() => stack.close());

  it.each(GATEWAYS)(
    '%s: signs the default sample so that the adapter verifies it, and says what came back',
    async (gateway) => {
      expect(await send(gateway)).toBe(0);

      expect(stack.received).toHaveLength(1);
      const [received] = stack.received;
      if (received === undefined) throw new Error('nothing received');
      const events = verifiedEvents(gateway, received);
      expect(events.map(paymentKeyOf)).toEqual([DEFAULT_KEYS[gateway]]);
      const lines = io.out().trimEnd().split('\n');
      expect(lines).toEqual([
        `POST ${stack.url}/webhooks/${gateway}: ${DEFAULT_SAMPLES[gateway]} x 1, the sample as it is`,
        `[1/1] 200  payment ${DEFAULT_KEYS[gateway]}  event ${events[0]?.eventId}  -> {"received":true}`,
        'sent 1: 200 x 1',
      ]);
      expect(io.err()).toBe('');
    },
  );

  it('sends a non-Adyen sample byte for byte', async () => {
    expect(await send('paystack', 'refund.processed')).toBe(0);
    expect(stack.received[0]?.body).toBe(readSample('paystack', 'refund.processed'));
  });

  it('signs an OXA Pay payout with the payout key, which the adapter picks for payouts', async () => {
    expect(await send('oxapay', 'payout.confirmed')).toBe(0);
    const [received] = stack.received;
    if (received === undefined) throw new Error('nothing received');
    verifiedEvents('oxapay', received);
    // Payouts name no payment: the line says so rather than printing a key that `payments show` cannot find.
    expect(io.out()).toContain('[1/1] 200  payment -  event payout:259671232:confirmed');
  });

  it.each(GATEWAYS)('%s --count 3: three new events about three new payments', async (gateway) => {
    expect(await send(gateway, '--count', '3')).toBe(0);

    expect(stack.received).toHaveLength(3);
    const events = stack.received.flatMap((received) => verifiedEvents(gateway, received));
    const eventIds = new Set(events.map((event) => event.eventId));
    const keys = new Set(events.map(paymentKeyOf));
    expect(eventIds.size).toBe(3);
    expect(keys.size).toBe(3);
    expect(keys.has(DEFAULT_KEYS[gateway])).toBe(false);
    for (const key of keys) expect(io.out()).toContain(`payment ${key}  event `);
    expect(io.out()).toMatch(/, each with fresh ids \(concurrency 3\)\n/);
    expect(io.out().trimEnd().split('\n').at(-1)).toBe('sent 3: 200 x 3');
  });

  it.each(['stripe', 'razorpay', 'standard'] as const)(
    '%s --duplicate --count 2: the very same signed request twice',
    async (gateway) => {
      expect(await send(gateway, '--duplicate', '--count', '2')).toBe(0);

      const [first, second] = stack.received;
      if (first === undefined || second === undefined) throw new Error('expected two requests');
      expect(second.body).toBe(first.body);
      expect(second.headers).toEqual(first.headers);
      expect(verifiedEvents(gateway, second)[0]?.eventId).toBe(verifiedEvents(gateway, first)[0]?.eventId);
      expect(io.out()).toContain('the same signed webhook each time');
      expect(io.out()).toContain('sent 2: 200 x 2\n');
    },
  );

  it('--fresh gives a single webhook new ids', async () => {
    expect(await send('paystack', '--fresh')).toBe(0);
    const [received] = stack.received;
    if (received === undefined) throw new Error('nothing received');
    const [event] = verifiedEvents('paystack', received);
    expect(event?.reference).toMatch(/^ORDER-1001-[0-9A-Z]{8}$/);
    expect(io.out()).toContain(`payment ${event?.reference}  event ${event?.eventId}`);
  });

  it('keeps at most --concurrency requests in flight', async () => {
    stack.webhookDelayMs = 30;
    expect(await send('paystack', '--count', '6', '--concurrency', '2')).toBe(0);
    expect(stack.received).toHaveLength(6);
    expect(stack.maxInFlight()).toBe(2);
  });

  it('exits non-zero when the webhooks are refused, after printing each answer', async () => {
    stack.webhookStatus = 401;
    expect(await send('stripe', '--count', '2')).toBe(1);
    expect(io.out()).toContain('401  payment pi_');
    expect(io.out()).toContain('-> {"error":"invalid_signature","message":"refused by the fake stack"}');
    expect(io.out()).toContain('sent 2: 401 x 2\n');
    expect(io.err()).toBe('error: 2 of 2 webhooks were not accepted (non-2xx or no answer)\n');
  });

  it('--url sends to that URL without needing a running local stack', async () => {
    const { dataDir, remove } = emptyDataDir();
    try {
      const elsewhere = capturingIo(dataDir);
      expect(await runCli(['node', 'payhook', 'send', 'standard', '--url', `${stack.url}/`], elsewhere)).toBe(
        0,
      );
      expect(stack.received).toHaveLength(1);
      expect(elsewhere.out()).toContain(`POST ${stack.url}/webhooks/standard:`);
    } finally {
      remove();
    }
  });

  it('--url may already be the full webhook URL', async () => {
    expect(await send('adyen', '--url', `${stack.url}/webhooks/adyen`)).toBe(0);
    expect(stack.received.map((received) => received.gateway)).toEqual(['adyen']);
  });

  it.each([
    [
      ['nope'],
      'error: unknown gateway "nope": expected one of paystack, flutterwave, razorpay, oxapay, stripe, standard, adyen\n',
    ],
    [
      ['paystack', 'charge.nope'],
      `error: unknown paystack sample "charge.nope": expected one of ${listSamples('paystack').join(', ')}\n`,
    ],
  ])('refuses %j, listing the valid names', async (args, message) => {
    expect(await send(...args)).toBe(1);
    expect(io.err()).toBe(message);
    expect(stack.received).toEqual([]);
  });

  it.each([
    [
      ['paystack', '--count', '0'],
      "option '-n, --count <n>' argument '0' is invalid. expected a whole number",
    ],
    [['paystack', '--concurrency', 'x'], "argument 'x' is invalid. expected a whole number from 1 to 256"],
    [['paystack', '--fresh', '--duplicate'], "option '--duplicate' cannot be used with option '--fresh'"],
    [[], "missing required argument 'gateway'"],
    [['paystack', '--url', 'localhost:3000'], 'expected an http or https URL, not localhost:'],
    [['paystack', '--url', 'nowhere'], 'expected an absolute URL such as http://127.0.0.1:3000'],
  ])('refuses the usage %j', async (args, message) => {
    expect(await send(...args)).toBe(1);
    expect(io.err()).toContain(message);
    expect(stack.received).toEqual([]);
  });
});

describe('payhook send without a running stack', () => {
  it('says so when the data dir has no stack.json', async () => {
    const { dataDir, remove } = emptyDataDir();
    try {
      const io = capturingIo(dataDir);
      expect(await runCli(['node', 'payhook', 'send', 'paystack'], io)).toBe(1);
      expect(io.err()).toBe(
        `error: no local payhook stack is running for data dir ${dataDir}: start it with \`npm start\`\n`,
      );
      expect(io.out()).toBe('');
    } finally {
      remove();
    }
  });

  it('says so when stack.json names a stack that no longer answers', async () => {
    const { dataDir, remove } = emptyDataDir();
    try {
      const url = await deadUrl();
      writeStackInfo(dataDir, url);
      const io = capturingIo(dataDir);
      expect(await runCli(['node', 'payhook', 'send', 'paystack'], io)).toBe(1);
      expect(io.err()).toBe(
        `error: no local payhook stack is running for data dir ${dataDir}: start it with \`npm start\`` +
          ` (its stack.json names ${url}: connection refused)\n`,
      );
    } finally {
      remove();
    }
  });

  it('says to wait while the stack is still starting', async () => {
    const stack = await startFakeStack();
    try {
      stack.healthStatus = 503;
      const io = capturingIo(stack.dataDir);
      expect(await runCli(['node', 'payhook', 'send', 'paystack'], io)).toBe(1);
      expect(io.err()).toContain('is still starting (GET /health answered 503)');
      expect(stack.received).toEqual([]);
    } finally {
      await stack.close();
    }
  });
});
