import { ScanCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { EVENT_RECORD_ATTRIBUTES } from '../../lambdas/store/dynamodb-event-records.js';
import type { FunctionProcess } from '../function-process.js';
import { sqsEvent } from '../lambda-events.js';
import type { Stage, StagedFunction } from '../stage.js';
import { referencedId, resourcesOfType } from '../template.js';

/**
 * Each consumer on what its event source mapping would hand it: the messages ingest really queued on its queue, in
 * batches of the mapping's size, deleted afterwards unless reported as failures. The mapping polls with the
 * function's role, so its receives, deletes and attribute reads go through the proxy with the function's credentials
 * and are checked like the function's own calls. Then a message in the previous queue-message version, an event held
 * in progress elsewhere, and a message no consumer can read (dead-lettered by the function itself).
 */

interface Mapping {
  readonly queueLogicalId: string;
  readonly batchSize: number;
  /** The queue's redrive `maxReceiveCount`: SQS dead-letters a message received more often. */
  readonly maxReceiveCount: number;
}

/** One consumer being rehearsed: its process, its mapping and the mapping's client. */
interface Consumer {
  readonly stage: Stage;
  readonly fn: StagedFunction;
  readonly instance: FunctionProcess;
  readonly mapping: Mapping;
  readonly poller: SQSClient;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly dlqUrl: string;
  /** Where the events' idempotency records are (on the history items). */
  readonly paymentsTable: string;
}

export function eventSourceOf(stage: Stage, fn: StagedFunction): Mapping {
  for (const [, mapping] of resourcesOfType(stage.output.template, 'AWS::Lambda::EventSourceMapping')) {
    if (referencedId(mapping.Properties?.FunctionName) !== fn.logicalId) continue;
    const queueLogicalId = referencedId(mapping.Properties?.EventSourceArn);
    if (queueLogicalId === undefined) break;
    const queue = stage.output.template.Resources[queueLogicalId]?.Properties;
    const redrive = queue?.RedrivePolicy as { maxReceiveCount?: number } | undefined;
    return {
      queueLogicalId,
      batchSize: Number(mapping.Properties?.BatchSize ?? 10),
      maxReceiveCount: Number(redrive?.maxReceiveCount ?? 0),
    };
  }
  throw new Error(`${fn.name} has no SQS event source mapping`);
}

/** The mapping's poll: the queue's attributes, then every message there. */
async function poll(consumer: Consumer): Promise<Message[]> {
  await consumer.poller.send(
    new GetQueueAttributesCommand({
      QueueUrl: consumer.queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages'],
    }),
  );
  const all: Message[] = [];
  for (;;) {
    const { Messages = [] } = await consumer.poller.send(
      new ReceiveMessageCommand({
        QueueUrl: consumer.queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 60,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) return all;
    all.push(...Messages);
  }
}

/** Messages waiting, delayed ones included (a requeued copy is delayed); read by the rehearsal, not recorded. */
async function depth(stage: Stage, queueUrl: string): Promise<number> {
  const { Attributes } = await stage.account.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  return (
    Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes?.ApproximateNumberOfMessagesDelayed ?? 0)
  );
}

export async function paymentsByStatus(
  stage: Stage,
  tableLogicalId: string,
): Promise<Record<string, number>> {
  const { Items = [] } = await stage.account.dynamodb.send(
    new ScanCommand({ TableName: stage.ref(tableLogicalId) }),
  );
  const counts: Record<string, number> = {};
  for (const item of Items) {
    if (item.sk?.S !== 'PAYMENT') continue;
    const status = item.status?.S ?? '?';
    counts[status] = (counts[status] ?? 0) + 1;
  }
  return counts;
}

/** The events' idempotency records: the payments table's items with a record status (history items, mostly). */
async function idempotencyIds(consumer: Consumer): Promise<Set<string>> {
  const { Items = [] } = await consumer.stage.account.dynamodb.send(
    new ScanCommand({ TableName: consumer.paymentsTable }),
  );
  return new Set(
    Items.filter((item) => item[EVENT_RECORD_ATTRIBUTES.status] !== undefined).map((item) =>
      JSON.stringify([item.pk?.S, item.sk?.S]),
    ),
  );
}

/** One invocation with these records; the ids it reported as failed. */
async function invoke(consumer: Consumer, messages: readonly Message[]): Promise<string[]> {
  const result = await consumer.instance.invoke(sqsEvent(messages, consumer.queueArn));
  if (!result.ok)
    throw new Error(`the function failed: ${result.error.errorType}: ${result.error.errorMessage}`);
  const answer = result.value as { batchItemFailures?: Array<{ itemIdentifier: string }> } | null;
  return (answer?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier);
}

/** Invokes the consumer as the mapping would, batch by batch, and deletes what it did not report as failed. */
async function consume(
  consumer: Consumer,
  messages: readonly Message[],
  batchSize: number,
): Promise<string[]> {
  const failed: string[] = [];
  for (let start = 0; start < messages.length; start += batchSize) {
    const batch = messages.slice(start, start + batchSize);
    const failures = await invoke(consumer, batch);
    failed.push(...failures);
    const done = batch.filter((message) => !failures.includes(message.MessageId ?? ''));
    if (done.length === 0) continue;
    await consumer.poller.send(
      new DeleteMessageBatchCommand({
        QueueUrl: consumer.queueUrl,
        Entries: done.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
      }),
    );
  }
  return failed;
}

/**
 * The message as a different event (its id suffixed): whatever event it was, it has not been processed yet, so it
 * gets an idempotency record of its own, and applying it is seen.
 */
function withOwnEventId(message: Message, suffix: string): Message {
  const body = JSON.parse(message.Body ?? '{}') as Record<string, unknown>;
  const eventId = `${String(body.eventId)}:${suffix}`;
  const attributes = { ...message.MessageAttributes };
  if (attributes.eventId) attributes.eventId = { ...attributes.eventId, StringValue: eventId };
  return { ...message, Body: JSON.stringify({ ...body, eventId }), MessageAttributes: attributes };
}

/** A version 3 message rewritten as version 2 wrote it: the payload as text, no `payloadBase64`. */
function asVersion2(message: Message): Message {
  const { payloadBase64, ...rest } = JSON.parse(message.Body ?? '{}') as Record<string, unknown>;
  const payload = Buffer.from(String(payloadBase64), 'base64').toString('utf8');
  return { ...message, Body: JSON.stringify({ ...rest, version: 2, payload }) };
}

/**
 * Applied, not dead-lettered: a consumer dead-letters what it cannot read itself and reports success, so "no
 * failure" alone would pass a broken reader. The DLQ must not grow and the event must be recorded as processed.
 */
async function applyAll(
  consumer: Consumer,
  messages: readonly Message[],
  batchSize: number,
): Promise<number> {
  const dead = await depth(consumer.stage, consumer.dlqUrl);
  const before = (await idempotencyIds(consumer)).size;
  const failed = await consume(consumer, messages, batchSize);
  if (failed.length > 0) throw new Error(`${failed.length} of ${messages.length} reported as failed`);
  const deadAfter = await depth(consumer.stage, consumer.dlqUrl);
  if (deadAfter !== dead) throw new Error(`${deadAfter - dead} dead-lettered instead of applied`);
  const recorded = (await idempotencyIds(consumer)).size - before;
  if (recorded === 0) throw new Error('no event was recorded as processed');
  return recorded;
}

async function queuedMessages(consumer: Consumer) {
  const { stage, fn } = consumer;
  const held: { previousVersion?: Message; inProgress?: Message } = {};
  await stage.scenario(fn, 'what ingest queued, in batches of the mapping', async () => {
    const messages = await poll(consumer);
    if (messages.length < 3) throw new Error(`ingest queued only ${messages.length} message(s) here`);
    // Two are kept back: one to apply as the previous release queued it, one to find held in progress.
    held.previousVersion = messages.pop();
    held.inProgress = messages.pop();
    // Retries and the base64 copies of the samples are duplicates: fewer records than messages is right.
    const recorded = await applyAll(consumer, messages, consumer.mapping.batchSize);
    const table = referencedId(fn.environment.PAYHOOK_PAYMENTS_TABLE) ?? '';
    const payments = await paymentsByStatus(stage, table);
    return `${messages.length} applied (${recorded} new events); payments ${JSON.stringify(payments)}`;
  });
  await stage.scenario(fn, 'a message in the previous version (2): applied', async () => {
    if (held.previousVersion === undefined) throw new Error('no message was kept back');
    await applyAll(consumer, [asVersion2(withOwnEventId(held.previousVersion, 'rehearsal-v2'))], 1);
    return 'applied, recorded, not dead-lettered';
  });
  await stage.scenario(
    fn,
    'held in progress elsewhere: backed off, then requeued on its last receive',
    async () => {
      if (held.inProgress === undefined) throw new Error('no message was kept back');
      return requeuedWhenHeld(consumer, withOwnEventId(held.inProgress, 'rehearsal-held'));
    },
  );
}

/** Sets an event's idempotency record back to in progress, as a concurrent invocation would have left it. */
async function holdElsewhere(consumer: Consumer, key: string): Promise<void> {
  const [pk, sk] = JSON.parse(key) as [string, string];
  await consumer.stage.account.dynamodb.send(
    new UpdateItemCommand({
      TableName: consumer.paymentsTable,
      Key: { pk: { S: pk }, sk: { S: sk } },
      UpdateExpression: 'SET #status = :inProgress, #until = :until',
      ExpressionAttributeNames: {
        '#status': EVENT_RECORD_ATTRIBUTES.status,
        '#until': EVENT_RECORD_ATTRIBUTES.inProgressUntil,
      },
      ExpressionAttributeValues: {
        ':inProgress': { S: 'INPROGRESS' },
        ':until': { N: String(Date.now() + 600_000) },
      },
    }),
  );
}

/**
 * Another invocation holding an event: on its first receive the consumer fails it with a back-off (its visibility
 * changed); on the last receive before SQS would dead-letter it (with no reason), it sends a copy back to its own
 * queue with fresh receives and counts the record as done.
 */
async function requeuedWhenHeld(consumer: Consumer, message: Message): Promise<string> {
  const { stage, fn, mapping } = consumer;
  const before = await idempotencyIds(consumer);
  if ((await consume(consumer, [message], 1)).length > 0) throw new Error('not applied');
  const [key, ...others] = [...(await idempotencyIds(consumer))].filter((id) => !before.has(id));
  if (key === undefined || others.length > 0) {
    throw new Error(`expected one new idempotency record, saw ${key === undefined ? 0 : others.length + 1}`);
  }
  await holdElsewhere(consumer, key);
  const atReceive = (count: number) =>
    invoke(consumer, [
      { ...message, Attributes: { ...message.Attributes, ApproximateReceiveCount: String(count) } },
    ]);
  const visibilityChanges = () =>
    stage.callsOf(fn.name).filter((call) => call.operation === 'ChangeMessageVisibility').length;
  const changesBefore = visibilityChanges();
  if ((await atReceive(1)).length !== 1) throw new Error('on its first receive it was not left to retry');
  if (visibilityChanges() !== changesBefore + 1) throw new Error('no back-off was set on its first receive');
  const lastReceive = mapping.maxReceiveCount - 1;
  const queued = await depth(stage, consumer.queueUrl);
  if ((await atReceive(lastReceive)).length > 0) {
    throw new Error('reported as failed on its last receive: SQS would dead-letter it without a reason');
  }
  const after = await depth(stage, consumer.queueUrl);
  if (after !== queued + 1) throw new Error(`no copy was sent back to the queue (${queued} -> ${after})`);
  return `receive 1: back-off; receive ${lastReceive} of ${mapping.maxReceiveCount}: copy requeued`;
}

async function poison(consumer: Consumer) {
  const { stage, fn } = consumer;
  await stage.scenario(fn, 'an unreadable message: dead-lettered by the function', async () => {
    await stage.account.sqs.send(
      new SendMessageCommand({ QueueUrl: consumer.queueUrl, MessageBody: '{"not":"a webhook event"}' }),
    );
    const messages = await poll(consumer);
    const before = await depth(stage, consumer.dlqUrl);
    const failed = await consume(consumer, messages, 10);
    if (failed.length > 0) throw new Error('reported as failed (would be retried) instead of dead-lettered');
    const after = await depth(stage, consumer.dlqUrl);
    if (after !== before + 1) throw new Error(`the dead-letter queue went from ${before} to ${after}`);
    return 'dead-lettered at once';
  });
}

export async function rehearseConsumers(stage: Stage): Promise<void> {
  for (const fn of stage.functions.filter((candidate) => /-consumer$/.test(candidate.name))) {
    const mapping = eventSourceOf(stage, fn);
    const instance = await stage.start(fn);
    const poller = stage.eventSourceClient(fn);
    const environment = stage.environmentOf(fn);
    const consumer: Consumer = {
      stage,
      fn,
      instance,
      mapping,
      poller,
      queueUrl: stage.ref(mapping.queueLogicalId),
      queueArn: stage.ref(mapping.queueLogicalId, 'Arn'),
      dlqUrl: environment.PAYHOOK_DLQ_URL ?? '',
      paymentsTable: environment.PAYHOOK_PAYMENTS_TABLE ?? '',
    };
    try {
      await queuedMessages(consumer);
      await poison(consumer);
    } finally {
      poller.destroy();
      await instance.stop();
    }
  }
}
