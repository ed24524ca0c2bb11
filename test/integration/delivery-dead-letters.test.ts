import { randomUUID } from 'node:crypto';
import {
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  readDeliveryLetters,
  redriveDeliveries,
  showDeliveryLetter,
} from '../../cli/oncall/delivery-letters.js';
import type { DestinationQueues } from '../../cli/oncall/types.js';
import { DELIVERY_MAX_RECEIVE_COUNT } from '../../lambdas/definitions.js';
import { type DestinationSettings, parseDestinations } from '../../lambdas/delivery/destinations.js';
import { SqsDeliveryQueue } from '../../lambdas/delivery/sqs-delivery-queue.js';
import type { PaymentEvent } from '../../lambdas/domain/payment-event.js';
import { createDeliveryQueues } from '../../local/deliveries.js';
import { DeliveryFanOut } from '../../local/delivery-fan-out.js';
import { queueArnOf, toLambdaRecord } from '../../local/sqs-event-source.js';
import { drain, type SqsEmulator, startSqsEmulator } from '../support/sqs-emulator.js';

// `payhook deliveries list|show|redrive` on dead letters written by the delivery function's own SQS adapter, against
// fauxqs: what the CLI reads must be what the function writes, and a redrive must give the delivery a fresh start
// without ever losing it.

let sqs: SqsEmulator;

beforeAll(async () => {
  sqs = await startSqsEmulator();
});

afterAll(async () => {
  await sqs?.stop();
});

type Destination = DestinationQueues & { readonly settings: DestinationSettings };

/** A destination of its own per test, with its queues made as the local stack makes them. */
async function destination(): Promise<Destination> {
  const name = `shop-${randomUUID().slice(0, 8)}`;
  const settings = parseDestinations({ [name]: { url: 'https://shop.example/hooks' } }, 'test', {
    allowHttp: false,
  });
  const created = await createDeliveryQueues(sqs.client, settings);
  const queues = created[name];
  if (!queues) throw new Error('no queues were created');
  return { destination: name, ...queues };
}

function paymentEvent(reference: string): PaymentEvent {
  return {
    version: 1,
    id: randomUUID(),
    gateway: 'stripe',
    reference,
    gatewayPaymentId: 'pi_1',
    from: 'pending',
    to: 'succeeded',
    amount: '4999',
    currency: 'USD',
    exponent: 2,
    status: 'succeeded',
    paid: '4999',
    refunded: '0',
    fact: { type: 'money_in', id: 'ch_1', state: 'received' },
    occurredAt: '2026-11-30T10:00:00.000Z',
    sourceEventId: 'evt_1',
  };
}

/**
 * Queues the event for the destination as the delivery rule does, receives it as the event source mapping does, and
 * dead-letters it with the delivery function's own adapter after a refusal quoting an API key.
 */
async function deadLettered(target: Destination, event: PaymentEvent): Promise<string> {
  const fanOut = new DeliveryFanOut(
    { publish: async () => undefined },
    sqs.client,
    [{ name: target.destination, ...target }],
    { region: 'us-east-1' },
  );
  await fanOut.publish(event);
  const { Messages = [] } = await sqs.client.send(
    new ReceiveMessageCommand({
      QueueUrl: target.queueUrl,
      MaxNumberOfMessages: 1,
      MessageSystemAttributeNames: ['All'],
      AttributeNames: ['All'],
    }),
  );
  const [message] = Messages;
  if (!message) throw new Error('the event was not queued');
  const record = toLambdaRecord(message, queueArnOf(target.queueUrl));
  await new SqsDeliveryQueue(sqs.client).deadLetter(
    target.deadLetterQueueUrl,
    target.destination,
    record,
    {
      action: 'dead-letter',
      errorClass: 'permanent_status',
      reason: 'HTTP 422',
      status: 422,
      answerStart: '{"error":"bad key sk_live_abcdefghijklmnop"}',
    },
    new Date(),
  );
  await sqs.client.send(
    new DeleteMessageCommand({ QueueUrl: target.queueUrl, ReceiptHandle: message.ReceiptHandle }),
  );
  return message.Body ?? '';
}

describe('a destination’s dead letters, as the delivery function writes them', () => {
  it('reads the status, the masked answer, the attempts and the payment event a dead letter carries', async () => {
    const target = await destination();
    const event = paymentEvent('ORDER-READ-1');
    await deadLettered(target, event);
    // SQS moved this one itself (no reason recorded): still listed, as exhausted_without_report, after its redrive's
    // maxReceiveCount of attempts.
    await sqs.client.send(
      new SendMessageCommand({ QueueUrl: target.deadLetterQueueUrl, MessageBody: 'not json' }),
    );
    // EventBridge could not put this one on the queue (the rule's target has the DLQ as its own).
    const text = (value: string) => ({ DataType: 'String', StringValue: value });
    await sqs.client.send(
      new SendMessageCommand({
        QueueUrl: target.deadLetterQueueUrl,
        MessageBody: '{"source":"payhook","detail-type":"payment.failed","detail":{"id":"evt-eb"}}',
        MessageAttributes: { ERROR_CODE: text('SQS.AccessDenied'), ERROR_MESSAGE: text('not authorized') },
      }),
    );

    // The two without a recorded failure time are ordered by when they were first received: by this read.
    const order = ['permanent_status', 'exhausted_without_report', 'eventbridge_undelivered'];
    const letters = (await readDeliveryLetters(sqs.client, target, {}, new Date())).sort(
      (a, b) => order.indexOf(a.errorClass) - order.indexOf(b.errorClass),
    );
    expect(letters).toEqual([
      expect.objectContaining({
        destination: target.destination,
        eventType: 'payment.succeeded',
        eventId: event.id,
        gateway: 'stripe',
        reference: 'ORDER-READ-1',
        errorClass: 'permanent_status',
        errorMessage: 'HTTP 422',
        status: 422,
        receiveCount: 1,
      }),
      expect.objectContaining({
        errorClass: 'exhausted_without_report',
        receiveCount: DELIVERY_MAX_RECEIVE_COUNT,
      }),
      expect.objectContaining({
        errorClass: 'eventbridge_undelivered',
        errorMessage: 'SQS.AccessDenied: not authorized',
        eventType: 'payment.failed',
        eventId: 'evt-eb',
      }),
    ]);
    // An endpoint's answer is the endpoint's: an API key it echoes never reaches a terminal.
    expect(letters[0]?.answerStart).toContain('bad key');
    expect(letters[0]?.answerStart).not.toContain('sk_live_abcdefghijklmnop');
    const [first] = letters;
    const detail = await showDeliveryLetter(sqs.client, target, first?.messageId ?? '', new Date());
    // The fields have their own lines: attributes holds only what is left (nothing, for a delivery).
    expect(detail?.attributes).toEqual({});
    expect(detail?.body).toMatchObject({
      source: 'payhook',
      detail: { id: event.id, reference: 'ORDER-READ-1' },
    });
    // Reading moved and hid nothing.
    expect(
      await readDeliveryLetters(sqs.client, target, { errorClass: 'permanent_status' }, new Date()),
    ).toHaveLength(1);
  });

  it('redrives the original body as a new message without the failure attributes, so its retry period starts again', async () => {
    const target = await destination();
    const body = await deadLettered(target, paymentEvent('ORDER-REDRIVE-1'));
    await sqs.client.send(
      new SendMessageCommand({ QueueUrl: target.deadLetterQueueUrl, MessageBody: 'not json' }),
    );
    const before = Date.now();

    const result = await redriveDeliveries(sqs.client, target, { errorClass: 'permanent_status' });
    expect(result).toMatchObject({ moved: 1, skipped: 1, failed: 0 });
    const queued: Message[] = await drain(sqs.client, target.queueUrl);
    expect(queued).toHaveLength(1);
    expect(queued[0]?.Body).toBe(body);
    // A stale `status` or `errorClass` would follow the delivery into its next failure's report.
    expect(queued[0]?.MessageAttributes ?? {}).toEqual({});
    // The delivery function measures the retry period from SentTimestamp: a new message starts it again.
    expect(Number(queued[0]?.Attributes?.SentTimestamp)).toBeGreaterThanOrEqual(before - 1000);
    const left = await readDeliveryLetters(sqs.client, target, {}, new Date());
    expect(left.map((letter) => letter.errorClass)).toEqual(['exhausted_without_report']);
  });

  it('never loses a delivery: a failed send leaves it in the dead-letter queue, a failed delete on both queues', async () => {
    const target = await destination();
    await deadLettered(target, paymentEvent('ORDER-SAFE-1'));
    const original = sqs.client.send.bind(sqs.client);
    let failing: 'send' | 'delete' = 'send';
    sqs.client.send = (async (command: unknown) => {
      if (failing === 'send' && command instanceof SendMessageCommand) throw new Error('throttled');
      if (failing === 'delete' && command instanceof DeleteMessageCommand) throw new Error('interrupted');
      return original(command as never);
    }) as typeof sqs.client.send;
    try {
      const notSent = await redriveDeliveries(sqs.client, target, {});
      expect(notSent).toMatchObject({ moved: 0, failed: 1 });
      expect(notSent.failures[0]?.reason).toMatch(
        /^not sent to shop-\S+'s delivery queue \(Error: throttled\)/,
      );
      expect(await readDeliveryLetters(sqs.client, target, {}, new Date())).toHaveLength(1);

      failing = 'delete';
      const notDeleted = await redriveDeliveries(sqs.client, target, {});
      expect(notDeleted.failures[0]?.reason).toMatch(/it is on both queues/);
    } finally {
      sqs.client.send = original;
    }
    expect(await drain(sqs.client, target.queueUrl)).toHaveLength(1);
    expect(await readDeliveryLetters(sqs.client, target, {}, new Date())).toHaveLength(1);
  });
});
