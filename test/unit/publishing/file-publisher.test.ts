import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { moneyFromMinor } from '../../../lambdas/domain/money.js';
import type { FactRef, PaymentStatus } from '../../../lambdas/domain/payment.js';
import { moneyFields, type PaymentEvent, paymentEventId } from '../../../lambdas/domain/payment-event.js';
import {
  FilePaymentEventPublisher,
  readPublishedEvents,
} from '../../../lambdas/publishing/file-publisher.js';

function paymentEvent(sourceEventId: string, to: PaymentStatus = 'succeeded'): PaymentEvent {
  const fact: FactRef =
    to === 'succeeded'
      ? { type: 'money_in', id: `pay_${sourceEventId}`, state: 'received' }
      : { type: 'refund', id: `rfnd_${sourceEventId}`, state: 'succeeded' };
  return {
    version: 1,
    id: paymentEventId('razorpay', 'order_Nx81', fact),
    gateway: 'razorpay',
    reference: `order-${sourceEventId}`,
    gatewayPaymentId: 'order_Nx81',
    from: 'authorized',
    to,
    ...moneyFields(moneyFromMinor('149900', 'INR')),
    status: to,
    paid: '149900',
    fact,
    occurredAt: '2026-11-24T10:00:00.000Z',
    sourceEventId,
  };
}

const PUBLISHED_AT = new Date('2026-11-24T10:00:05.000Z');

describe('FilePaymentEventPublisher', () => {
  let directory: string;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'payhook-events-'));
  });

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('appends one JSON line per event that readPublishedEvents reads back in order', async () => {
    const path = join(directory, 'events.jsonl');
    const publisher = new FilePaymentEventPublisher(path, () => PUBLISHED_AT);
    const first = paymentEvent('evt_1', 'succeeded');
    const second = paymentEvent('evt_2', 'partially_refunded');

    await publisher.publish(first);
    await publisher.publish(second);

    const lines = (await readFile(path, 'utf8')).split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    expect(await readPublishedEvents(path)).toEqual([
      {
        detailType: 'payment.succeeded',
        source: 'payhook',
        detail: first,
        publishedAt: PUBLISHED_AT.toISOString(),
      },
      {
        detailType: 'payment.partially_refunded',
        source: 'payhook',
        detail: second,
        publishedAt: PUBLISHED_AT.toISOString(),
      },
    ]);
  });

  it('keeps every line intact under 200 concurrent publishes', async () => {
    const path = join(directory, 'events.jsonl');
    const publisher = new FilePaymentEventPublisher(path);
    const events = Array.from({ length: 200 }, (_, index) => paymentEvent(`evt_${index}`));

    await Promise.all(events.map((event) => publisher.publish(event)));

    const lines = (await readFile(path, 'utf8')).split('\n').slice(0, -1);
    expect(lines).toHaveLength(200);
    // Each line must parse on its own: an interleaved write would break the JSON of at least one.
    const ids = lines.map((line) => (JSON.parse(line) as { detail: PaymentEvent }).detail.sourceEventId);
    expect(new Set(ids)).toEqual(new Set(events.map((event) => event.sourceEventId)));
  });

  it('creates the missing parent directories', async () => {
    const path = join(directory, 'local', 'stack', 'events.jsonl');
    const event = paymentEvent('evt_nested');
    await new FilePaymentEventPublisher(path).publish(event);
    expect((await readPublishedEvents(path)).map((record) => record.detail)).toEqual([event]);
  });
});

describe('readPublishedEvents', () => {
  let directory: string;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'payhook-events-'));
  });

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('answers an empty list when nothing was published yet', async () => {
    expect(await readPublishedEvents(join(directory, 'absent.jsonl'))).toEqual([]);
  });

  it('leaves out a last line whose write has not finished', async () => {
    const path = join(directory, 'events.jsonl');
    const event = paymentEvent('evt_done');
    await new FilePaymentEventPublisher(path, () => PUBLISHED_AT).publish(event);
    await writeFile(path, '{"detailType":"payment.succ', { flag: 'a' });
    expect((await readPublishedEvents(path)).map((record) => record.detail)).toEqual([event]);
  });
});
