import { ScanCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import type { FunctionProcess } from '../function-process.js';
import { sqsEvent } from '../lambda-events.js';
import type { Stage, StagedFunction } from '../stage.js';
import { referencedId, resourcesOfType } from '../template.js';

/**
 * Each consumer on what its event source mapping would hand it: the messages ingest really queued on its queue, in
 * batches of the mapping's size, deleted afterwards unless reported as failures (the mapping's job, not the
 * function's, so not recorded). Then one message in the previous queue-message version, and one no consumer can
 * read (dead-lettered by the function itself).
 */

interface Mapping {
  readonly queueLogicalId: string;
  readonly batchSize: number;
  /** The queue's redrive `maxReceiveCount`: SQS dead-letters a message received more often. */
  readonly maxReceiveCount: number;
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

async function receiveAll(stage: Stage, queueUrl: string): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const { Messages = [] } = await stage.account.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
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

/** Messages waiting, delayed ones included (a requeued copy is delayed). */
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

/** Invokes the consumer as the mapping would, batch by batch; returns the ids it reported as failed. */
async function consume(
  stage: Stage,
  instance: FunctionProcess,
  queueArn: string,
  queueUrl: string,
  messages: readonly Message[],
  batchSize: number,
): Promise<string[]> {
  const failed: string[] = [];
  for (let start = 0; start < messages.length; start += batchSize) {
    const batch = messages.slice(start, start + batchSize);
    const result = await instance.invoke(sqsEvent(batch, queueArn));
    if (!result.ok)
      throw new Error(`the function failed: ${result.error.errorType}: ${result.error.errorMessage}`);
    const answer = result.value as { batchItemFailures?: Array<{ itemIdentifier: string }> } | undefined;
    const failures = (answer?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier);
    failed.push(...failures);
    const done = batch.filter((message) => !failures.includes(message.MessageId ?? ''));
    if (done.length > 0) {
      await stage.account.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: done.map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.ReceiptHandle,
          })),
        }),
      );
    }
  }
  return failed;
}

/**
 * The message as a different event (its id suffixed): whatever event it was, it has not been processed yet, so it
 * gets an idempotency record of its own for the in-progress scenario to take hold of.
 */
function withOwnEventId(message: Message): Message {
  const body = JSON.parse(message.Body ?? '{}') as Record<string, unknown>;
  const eventId = `${String(body.eventId)}:rehearsal-held`;
  const attributes = { ...message.MessageAttributes };
  if (attributes.eventId) attributes.eventId = { ...attributes.eventId, StringValue: eventId };
  return { ...message, Body: JSON.stringify({ ...body, eventId }), MessageAttributes: attributes };
}

/** A version 3 message rewritten as version 2 wrote it: the payload as text, no `payloadBase64`. */
function asVersion2(body: string): string {
  const { payloadBase64, ...rest } = JSON.parse(body) as Record<string, unknown>;
  return JSON.stringify({
    ...rest,
    version: 2,
    payload: Buffer.from(String(payloadBase64), 'base64').toString('utf8'),
  });
}

function paymentsTableOf(fn: StagedFunction): string {
  const id = referencedId(fn.environment.PAYHOOK_PAYMENTS_TABLE);
  if (id === undefined) throw new Error(`${fn.name} names no payments table`);
  return id;
}

interface HeldBack {
  previousVersion?: Message;
  inProgress?: Message;
}

async function queuedMessages(stage: Stage, fn: StagedFunction, instance: FunctionProcess, mapping: Mapping) {
  const queueUrl = stage.ref(mapping.queueLogicalId);
  const queueArn = stage.ref(mapping.queueLogicalId, 'Arn');
  const held: HeldBack = {};
  await stage.scenario(fn, 'what ingest queued, in batches of the mapping', async () => {
    const messages = await receiveAll(stage, queueUrl);
    if (messages.length < 3) throw new Error(`ingest queued only ${messages.length} message(s) here`);
    // Two are kept back: one to apply as the previous release queued it, one to find held in progress.
    held.previousVersion = messages.pop();
    held.inProgress = messages.pop();
    const idempotencyTable = stage.ref(referencedId(fn.environment.PAYHOOK_IDEMPOTENCY_TABLE) ?? '');
    const before = (await idempotencyIds(stage, idempotencyTable)).size;
    const failed = await consume(stage, instance, queueArn, queueUrl, messages, mapping.batchSize);
    if (failed.length > 0) throw new Error(`${failed.length} of ${messages.length} reported as failed`);
    // Retries and the base64 copies of the samples are duplicates: fewer records than messages is right.
    const recorded = (await idempotencyIds(stage, idempotencyTable)).size - before;
    if (recorded === 0) throw new Error('no event was recorded as processed');
    const payments = await paymentsByStatus(stage, paymentsTableOf(fn));
    return `${messages.length} applied (${recorded} new events); payments ${JSON.stringify(payments)}`;
  });
  await stage.scenario(fn, 'a message in the previous version (2)', async () => {
    const message = held.previousVersion;
    if (message?.Body === undefined) throw new Error('no message was kept back');
    const failed = await consume(
      stage,
      instance,
      queueArn,
      queueUrl,
      [{ ...message, Body: asVersion2(message.Body) }],
      1,
    );
    if (failed.length > 0) throw new Error('the version 2 message was reported as failed');
    return 'applied';
  });
  await stage.scenario(
    fn,
    'held in progress elsewhere: backed off, then requeued on its last receive',
    async () => {
      const message = held.inProgress;
      if (message?.Body === undefined) throw new Error('no message was kept back');
      return requeuedWhenHeld(stage, fn, instance, mapping, withOwnEventId(message));
    },
  );
}

async function idempotencyIds(stage: Stage, table: string): Promise<Set<string>> {
  const { Items = [] } = await stage.account.dynamodb.send(new ScanCommand({ TableName: table }));
  return new Set(Items.map((item) => item.id?.S ?? ''));
}

/**
 * Another invocation holding an event past the queue's receives: the consumer sends it back to its own queue with
 * fresh receives (rather than let SQS dead-letter it with no reason). The hold is made by applying the message once
 * and setting its idempotency record back to in progress, as a concurrent invocation would have left it.
 */
async function requeuedWhenHeld(
  stage: Stage,
  fn: StagedFunction,
  instance: FunctionProcess,
  mapping: Mapping,
  message: Message,
): Promise<string> {
  const queueUrl = stage.ref(mapping.queueLogicalId);
  const queueArn = stage.ref(mapping.queueLogicalId, 'Arn');
  const table = stage.ref(referencedId(fn.environment.PAYHOOK_IDEMPOTENCY_TABLE) ?? '');
  const before = await idempotencyIds(stage, table);
  if ((await consume(stage, instance, queueArn, queueUrl, [message], 1)).length > 0)
    throw new Error('not applied');
  const [key, ...others] = [...(await idempotencyIds(stage, table))].filter((id) => !before.has(id));
  if (key === undefined || others.length > 0)
    throw new Error(`expected one new idempotency record, saw ${others.length + 1}`);
  await stage.account.dynamodb.send(
    new UpdateItemCommand({
      TableName: table,
      Key: { id: { S: key } },
      UpdateExpression: 'SET #status = :inProgress, in_progress_expiration = :until',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':inProgress': { S: 'INPROGRESS' },
        ':until': { N: String(Date.now() + 600_000) },
      },
    }),
  );
  const atReceive = async (count: number) => {
    const event = sqsEvent(
      [{ ...message, Attributes: { ...message.Attributes, ApproximateReceiveCount: String(count) } }],
      queueArn,
    );
    const result = await instance.invoke(event);
    if (!result.ok) {
      throw new Error(`the function failed: ${result.error.errorType}: ${result.error.errorMessage}`);
    }
    return (result.value as { batchItemFailures?: unknown[] } | undefined)?.batchItemFailures ?? [];
  };
  // First receive: failed, to come back after a back-off (its visibility changed on its own queue).
  const visibilityChanges = () =>
    stage.callsOf(fn.name).filter((call) => call.operation === 'ChangeMessageVisibility').length;
  const changesBefore = visibilityChanges();
  if ((await atReceive(1)).length !== 1) throw new Error('on its first receive it was not left to retry');
  if (visibilityChanges() !== changesBefore + 1) throw new Error('no back-off was set on its first receive');
  // Last receive before SQS would dead-letter it: a copy goes back with fresh receives, the record counts as done.
  const lastReceive = mapping.maxReceiveCount - 1;
  const queued = await depth(stage, queueUrl);
  if ((await atReceive(lastReceive)).length > 0) {
    throw new Error('reported as failed on its last receive: SQS would dead-letter it without a reason');
  }
  const after = await depth(stage, queueUrl);
  if (after !== queued + 1) throw new Error(`no copy was sent back to the queue (${queued} -> ${after})`);
  return `receive 1: back-off; receive ${lastReceive} of ${mapping.maxReceiveCount}: copy requeued`;
}

async function poison(stage: Stage, fn: StagedFunction, instance: FunctionProcess, mapping: Mapping) {
  const queueUrl = stage.ref(mapping.queueLogicalId);
  const dlqUrl = String(stage.environmentOf(fn).PAYHOOK_DLQ_URL ?? '');
  await stage.scenario(fn, 'an unreadable message: dead-lettered by the function', async () => {
    await stage.account.sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"not":"a webhook event"}' }),
    );
    const messages = await receiveAll(stage, queueUrl);
    const before = await depth(stage, dlqUrl);
    const failed = await consume(
      stage,
      instance,
      stage.ref(mapping.queueLogicalId, 'Arn'),
      queueUrl,
      messages,
      10,
    );
    if (failed.length > 0) throw new Error('reported as failed (would be retried) instead of dead-lettered');
    const after = await depth(stage, dlqUrl);
    if (after !== before + 1) throw new Error(`the dead-letter queue went from ${before} to ${after}`);
    return 'dead-lettered at once';
  });
}

export async function rehearseConsumers(stage: Stage): Promise<void> {
  const consumers = stage.functions.filter((fn) => /-consumer$/.test(fn.name));
  for (const fn of consumers) {
    const mapping = eventSourceOf(stage, fn);
    const instance = await stage.start(fn);
    try {
      await queuedMessages(stage, fn, instance, mapping);
      await poison(stage, fn, instance, mapping);
    } finally {
      await instance.stop();
    }
  }
}
