import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { MESSAGE_ATTRIBUTES } from '../../../lambdas/definitions.js';
import {
  deadLetterAttributes,
  requeueAttributes,
  SqsRedelivery,
} from '../../../lambdas/processing/sqs-redelivery.js';
import { recordingLog } from '../../support/api-gateway.js';

const QUEUE = 'http://sqs.local/000000000000/payhook-high';
const DLQ = 'http://sqs.local/000000000000/payhook-high-dlq';
const FIRST_RECEIVED = Date.parse('2026-11-20T12:00:00.000Z');

function record(messageAttributes: SQSRecord['messageAttributes'] = {}): SQSRecord {
  return {
    messageId: 'm-1',
    receiptHandle: 'receipt-1',
    body: '{"version":3}',
    attributes: {
      ApproximateReceiveCount: '3',
      SentTimestamp: String(FIRST_RECEIVED - 1000),
      SenderId: 'sender',
      ApproximateFirstReceiveTimestamp: String(FIRST_RECEIVED),
    },
    messageAttributes,
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:000000000000:payhook-high',
    awsRegion: 'eu-west-1',
  };
}

const text = (stringValue: string) => ({ stringValue, dataType: 'String' });

/** The attributes ingest puts on a queued event (a binary one too, which payhook never sets and never copies). */
const queued = record({
  messageType: text('webhook-event'),
  gateway: text('paystack'),
  eventType: text('charge.success'),
  eventId: text('evt_1'),
  requestId: text('req-1'),
  inProgressRequeues: { stringValue: '1', dataType: 'Number' },
  blob: { binaryValue: 'AAEC', dataType: 'Binary' },
});

function redelivery(send: (command: unknown) => Promise<unknown> = async () => ({})) {
  const sqs = new SQSClient({ region: 'eu-west-1' });
  const sent = vi.spyOn(sqs, 'send').mockImplementation(send as never);
  const log = recordingLog();
  return { adapter: new SqsRedelivery({ sqs, queueUrl: QUEUE, deadLetterQueueUrl: DLQ, log }), sent, log };
}

describe('SqsRedelivery', () => {
  it('retries by hiding the record on its own queue for the back-off', async () => {
    const { adapter, sent } = redelivery();
    await adapter.retry(queued, { action: 'retry', afterSeconds: 40 });
    expect(sent).toHaveBeenCalledTimes(1);
    const [command] = sent.mock.calls[0] ?? [];
    expect(command).toBeInstanceOf(ChangeMessageVisibilityCommand);
    expect((command as ChangeMessageVisibilityCommand).input).toEqual({
      QueueUrl: QUEUE,
      ReceiptHandle: 'receipt-1',
      VisibilityTimeout: 40,
    });
  });

  it('only logs a back-off SQS refused: the visibility timeout still brings the record back', async () => {
    const { adapter, log } = redelivery(async () => {
      throw Object.assign(new Error('gone'), { name: 'ReceiptHandleIsInvalid' });
    });
    await expect(adapter.retry(queued, { action: 'retry', afterSeconds: 40 })).resolves.toBeUndefined();
    expect(log.lines).toEqual([
      {
        level: 'warn',
        message: 'could not delay the retry',
        fields: { messageId: 'm-1', error: 'ReceiptHandleIsInvalid' },
      },
    ]);
  });

  it('requeues a delayed copy to its own queue, with its attributes and the new requeue count', async () => {
    const { adapter, sent } = redelivery();
    await adapter.requeue(queued, { action: 'requeue', afterSeconds: 35, requeues: 2 });
    const [command] = sent.mock.calls[0] ?? [];
    expect(command).toBeInstanceOf(SendMessageCommand);
    expect((command as SendMessageCommand).input).toEqual({
      QueueUrl: QUEUE,
      MessageBody: '{"version":3}',
      DelaySeconds: 35,
      MessageAttributes: requeueAttributes(queued, 2),
    });
  });

  it('keeps a requeue delay within what SQS takes (0 to 900 s)', async () => {
    const { adapter, sent } = redelivery();
    await adapter.requeue(queued, { action: 'requeue', afterSeconds: 3600, requeues: 1 });
    await adapter.requeue(queued, { action: 'requeue', afterSeconds: -5, requeues: 1 });
    expect(sent.mock.calls.map(([command]) => (command as SendMessageCommand).input.DelaySeconds)).toEqual([
      900, 0,
    ]);
  });

  it('dead-letters the body to the DLQ with its class, reason and receive count, and throws if SQS refuses', async () => {
    const { adapter, sent } = redelivery();
    const letter = {
      action: 'dead-letter',
      errorClass: 'impossible_event',
      reason: 'refund in another currency',
      failingSince: 'this-receive',
    } as const;
    const before = Date.now();
    await adapter.deadLetter(queued, letter, 3);
    const [command] = sent.mock.calls[0] ?? [];
    expect(command).toBeInstanceOf(SendMessageCommand);
    const { input } = command as SendMessageCommand;
    expect(input).toMatchObject({ QueueUrl: DLQ, MessageBody: '{"version":3}' });
    expect(input.DelaySeconds).toBeUndefined();
    const attributes = input.MessageAttributes ?? {};
    expect(attributes[MESSAGE_ATTRIBUTES.errorClass]?.StringValue).toBe('impossible_event');
    expect(attributes[MESSAGE_ATTRIBUTES.receiveCount]).toEqual({ DataType: 'Number', StringValue: '3' });
    expect(
      Date.parse(attributes[MESSAGE_ATTRIBUTES.firstFailedAt]?.StringValue ?? ''),
    ).toBeGreaterThanOrEqual(before - 1);

    const refusing = redelivery(async () => {
      throw new Error('DLQ unavailable');
    });
    await expect(refusing.adapter.deadLetter(queued, letter, 3)).rejects.toThrow('DLQ unavailable');
  });
});

describe('requeueAttributes', () => {
  it('copies the string attributes with their types, drops binary ones and replaces the requeue count', () => {
    expect(requeueAttributes(queued, 2)).toEqual({
      messageType: { DataType: 'String', StringValue: 'webhook-event' },
      gateway: { DataType: 'String', StringValue: 'paystack' },
      eventType: { DataType: 'String', StringValue: 'charge.success' },
      eventId: { DataType: 'String', StringValue: 'evt_1' },
      requestId: { DataType: 'String', StringValue: 'req-1' },
      inProgressRequeues: { DataType: 'Number', StringValue: '2' },
    });
  });

  it('adds the requeue count to a record that had none', () => {
    expect(requeueAttributes(record(), 1)).toEqual({
      inProgressRequeues: { DataType: 'Number', StringValue: '1' },
    });
  });
});

describe('deadLetterAttributes', () => {
  const now = new Date('2026-11-20T12:05:00.000Z');
  const letter = (failingSince: 'first-receive' | 'this-receive') =>
    ({
      action: 'dead-letter',
      errorClass: 'retries_exhausted',
      reason: 'TimeoutError: late',
      failingSince,
    }) as const;

  it('writes the reason, the receive count, the original attributes whole and the filterable ones on top', () => {
    expect(deadLetterAttributes(queued, letter('first-receive'), 5, now)).toEqual({
      errorClass: { DataType: 'String', StringValue: 'retries_exhausted' },
      errorMessage: { DataType: 'String', StringValue: 'TimeoutError: late' },
      firstFailedAt: { DataType: 'String', StringValue: '2026-11-20T12:00:00.000Z' },
      receiveCount: { DataType: 'Number', StringValue: '5' },
      originalAttributes: {
        DataType: 'String',
        StringValue: JSON.stringify({
          messageType: 'webhook-event',
          gateway: 'paystack',
          eventType: 'charge.success',
          eventId: 'evt_1',
          requestId: 'req-1',
          inProgressRequeues: '1',
        }),
      },
      messageType: { DataType: 'String', StringValue: 'webhook-event' },
      gateway: { DataType: 'String', StringValue: 'paystack' },
      eventType: { DataType: 'String', StringValue: 'charge.success' },
      eventId: { DataType: 'String', StringValue: 'evt_1' },
    });
  });

  it('dates a failure from its first receive only when it failed since then; otherwise from now', () => {
    const firstFailedAt = (source: SQSRecord, failingSince: 'first-receive' | 'this-receive') =>
      deadLetterAttributes(source, letter(failingSince), 1, now)[MESSAGE_ATTRIBUTES.firstFailedAt]
        ?.StringValue;
    expect(firstFailedAt(queued, 'first-receive')).toBe('2026-11-20T12:00:00.000Z');
    expect(firstFailedAt(queued, 'this-receive')).toBe(now.toISOString());
    const unreadable = record();
    unreadable.attributes.ApproximateFirstReceiveTimestamp = 'unknown';
    expect(firstFailedAt(unreadable, 'first-receive')).toBe(now.toISOString());
  });

  it('writes only the reason attributes and an empty original for a record without attributes', () => {
    expect(Object.keys(deadLetterAttributes(record(), letter('this-receive'), 1, now)).sort()).toEqual([
      'errorClass',
      'errorMessage',
      'firstFailedAt',
      'originalAttributes',
      'receiveCount',
    ]);
  });
});
