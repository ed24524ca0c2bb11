import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SAMPLES, devSecret, readSample, SIGNERS, signWithDevSecret } from '../../events/index.js';
import type { GatewayName } from '../../lambdas/domain/webhook-event.js';
import type { LocalStack } from '../../local/stack.js';
import { startTestStack, stopTestStack } from '../support/local-stack.js';

// Deliveries of format `original` end to end: the local stack with a destination that wants every webhook as the
// gateway sent it, an existing handler behind it that verifies the gateway's own signature with the gateway's own
// library (Stripe's, Standard Webhooks'), and webhooks sent to the stack's front door. Nothing here queues or
// forwards anything itself: ingest carries the original, the consumer forwards it once applied, the delivery
// function POSTs it.

interface Received {
  readonly body: Buffer;
  readonly headers: Record<string, string>;
}

let stack: LocalStack;
let handler: Server;
const received: Received[] = [];

/** An existing webhook handler: keeps each request's exact bytes and headers, answers 200. */
async function startHandler(): Promise<string> {
  handler = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const headers = Object.fromEntries(
        Object.entries(request.headers).map(([name, value]) => [name, String(value)]),
      );
      received.push({ body: Buffer.concat(chunks), headers });
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => handler.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(handler.address() as AddressInfo).port}/webhooks`;
}

async function send(gateway: GatewayName, body: string, headers: Readonly<Record<string, string>>) {
  const response = await fetch(`${stack.url}/webhooks/${gateway}`, { method: 'POST', headers, body });
  expect(response.status, await response.text()).toBe(200);
}

async function eventually<T>(find: () => T | undefined, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Until every pipeline queue and the destination's queue is empty, nothing in flight, twice in a row. */
async function quiet(): Promise<void> {
  const sqs = new SQSClient({
    endpoint: stack.endpoints.sqs,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  const urls = [
    ...Object.values(stack.queues.queues),
    ...Object.values(stack.deliveries.destinations).map((destination) => destination.queueUrl),
  ];
  try {
    let calm = 0;
    const deadline = Date.now() + 20_000;
    while (calm < 2) {
      if (Date.now() > deadline) throw new Error('the queues did not empty within 20 s');
      const counts = await Promise.all(
        urls.map(async (QueueUrl) => {
          const { Attributes } = await sqs.send(
            new GetQueueAttributesCommand({
              QueueUrl,
              AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
            }),
          );
          return (
            Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
            Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
          );
        }),
      );
      calm = counts.every((count) => count === 0) ? calm + 1 : 0;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  } finally {
    sqs.destroy();
  }
}

function receivedWith(text: string): Received[] {
  return received.filter((each) => each.body.includes(text));
}

beforeAll(async () => {
  const url = await startHandler();
  stack = await startTestStack(mkdtempSync(join(tmpdir(), 'payhook-original-e2e-')), {
    destinations: { legacy: { url, format: 'original' } },
  });
});

afterAll(async () => {
  await stopTestStack(stack);
  handler?.closeAllConnections();
  await new Promise((resolve) => handler?.close(resolve));
});

describe('original deliveries from the local stack', () => {
  it('delivers a Stripe webhook byte-exact with its signature, so the official Stripe library verifies it behind payhook', async () => {
    const payload = readSample('stripe', DEFAULT_SAMPLES.stripe).replaceAll('evt_', 'evt_orig1_');
    const signed = signWithDevSecret('stripe', payload);
    await send('stripe', signed.body, signed.headers);
    const delivery = await eventually(
      () => receivedWith('evt_orig1_')[0],
      'the Stripe webhook at the existing handler',
    );
    expect(delivery.body.equals(Buffer.from(signed.body, 'utf8'))).toBe(true);
    expect(delivery.headers['stripe-signature']).toBe(signed.headers['stripe-signature']);
    expect(delivery.headers['content-type']).toBe(signed.headers['content-type']);
    // payhook's own signature is not added: the handler verifies the gateway's.
    expect(delivery.headers).not.toHaveProperty('webhook-signature');
    const stripe = new Stripe('sk_test_unused');
    const event = stripe.webhooks.constructEvent(
      delivery.body,
      delivery.headers['stripe-signature'] ?? '',
      devSecret('stripe'),
    );
    expect(event.id).toMatch(/^evt_orig1_/);
  });

  it('delivers a Standard Webhooks sender byte-exact, verified by the official library with the sender secret', async () => {
    const payload = readSample('standard', DEFAULT_SAMPLES.standard).replaceAll('ORDER', 'ORIG-STD');
    const signed = signWithDevSecret('standard', payload, 'msg_orig_std_1');
    await send('standard', signed.body, signed.headers);
    const delivery = await eventually(
      () => received.find((each) => each.headers['webhook-id'] === 'msg_orig_std_1'),
      'the Standard Webhooks webhook',
    );
    expect(delivery.body.equals(Buffer.from(signed.body, 'utf8'))).toBe(true);
    expect(() =>
      new Webhook(devSecret('standard')).verify(delivery.body.toString('utf8'), delivery.headers),
    ).not.toThrow();
  });

  it('delivers a gateway retry of the same webhook once: the duplicate is deduplicated before delivery', async () => {
    const payload = readSample('paystack', DEFAULT_SAMPLES.paystack).replaceAll('ORDER-', 'ORIG-DUP-');
    const signed = signWithDevSecret('paystack', payload);
    await send('paystack', signed.body, signed.headers);
    await eventually(() => receivedWith('ORIG-DUP-')[0], 'the first Paystack delivery');
    await send('paystack', signed.body, signed.headers);
    await quiet();
    const deliveries = receivedWith('ORIG-DUP-');
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]?.headers['x-paystack-signature']).toBe(signed.headers['x-paystack-signature']);
  });

  it('delivers an Adyen batch once, as the whole batch the gateway sent, though it holds two events', async () => {
    const sample = JSON.parse(readSample('adyen', DEFAULT_SAMPLES.adyen)) as {
      notificationItems: { NotificationRequestItem: Record<string, unknown> }[];
    };
    const [first] = sample.notificationItems;
    if (!first) throw new Error('the Adyen sample has no item');
    const item = (psp: string, reference: string) => ({
      NotificationRequestItem: {
        ...first.NotificationRequestItem,
        pspReference: psp,
        merchantReference: reference,
      },
    });
    const batch = JSON.stringify({
      ...sample,
      notificationItems: [item('ORIGBATCH00000001', 'ORIG-ADY-1'), item('ORIGBATCH00000002', 'ORIG-ADY-2')],
    });
    const signed = SIGNERS.adyen(batch, { secret: devSecret('adyen') });
    await send('adyen', signed.body, signed.headers);
    await eventually(() => receivedWith('ORIG-ADY-2')[0], 'the Adyen batch');
    await quiet();
    const deliveries = receivedWith('ORIG-ADY-');
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]?.body.equals(Buffer.from(signed.body, 'utf8'))).toBe(true);
  });

  it('holds a Flutterwave verif-hash claim until the gateway confirms it, then delivers it once with its verif-hash', async () => {
    const body = readSample('flutterwave', 'charge.completed')
      .replaceAll('ORDER-2001', 'ORIG-VERIF-1')
      .replace('4975361', '4975777');
    stack.sandbox.setPayment('flutterwave', {
      status: 'successful',
      amount: '7500.50',
      currency: 'NGN',
      reference: 'ORIG-VERIF-1',
      id: '4975777',
    });
    await send('flutterwave', body, {
      'content-type': 'application/json',
      'verif-hash': devSecret('flutterwave'),
    });
    await quiet();
    // A claim: applied, but nothing proves the body came from Flutterwave yet.
    expect(receivedWith('ORIG-VERIF-1')).toHaveLength(0);
    const run = await fetch(`${stack.url}/local/reconcile`, { method: 'POST' });
    expect(run.status).toBe(200);
    const delivery = await eventually(() => receivedWith('ORIG-VERIF-1')[0], 'the confirmed claim');
    expect(delivery.body.toString('utf8')).toBe(body);
    expect(delivery.headers['verif-hash']).toBe(devSecret('flutterwave'));
    await quiet();
    expect(receivedWith('ORIG-VERIF-1')).toHaveLength(1);
  });

  it('never delivers a verif-hash claim the gateway contradicts (it says the payment failed)', async () => {
    const body = readSample('flutterwave', 'charge.completed')
      .replaceAll('ORDER-2001', 'ORIG-VERIF-2')
      .replace('4975361', '4975778');
    stack.sandbox.setPayment('flutterwave', {
      status: 'failed',
      amount: '7500.50',
      currency: 'NGN',
      reference: 'ORIG-VERIF-2',
      id: '4975778',
    });
    await send('flutterwave', body, {
      'content-type': 'application/json',
      'verif-hash': devSecret('flutterwave'),
    });
    await quiet();
    await fetch(`${stack.url}/local/reconcile`, { method: 'POST' });
    await quiet();
    expect(receivedWith('ORIG-VERIF-2')).toHaveLength(0);
  });
});
