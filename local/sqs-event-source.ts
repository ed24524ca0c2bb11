import { randomUUID } from 'node:crypto';
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

/** The queue's ARN as Lambda reports it in `eventSourceARN`, from a queue URL (`.../<account>/<name>`). */
export function queueArnOf(queueUrl: string, region = 'us-east-1'): string {
  // Read from the text, not with URL(): emulators build hosts such as `sqs.us-east-1.127.0.0.1`, which URL rejects.
  const [name = '', account = '000000000000'] = queueUrl
    .replace(/[?#].*$/, '')
    .split('/')
    .filter(Boolean)
    .reverse();
  return `arn:aws:sqs:${region}:${account}:${name}`;
}

/** An SQS message as Lambda's event source mapping hands it to a function. */
export function toLambdaRecord(message: Message, eventSourceARN: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        {
          dataType: value.DataType ?? 'String',
          ...(value.StringValue !== undefined && { stringValue: value.StringValue }),
        },
      ]),
    ),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN,
    awsRegion: eventSourceARN.split(':')[3] ?? 'us-east-1',
  };
}

async function receiveUpTo(
  sqs: SQSClient,
  queueUrl: string,
  count: number,
  waitSeconds: number,
): Promise<Message[]> {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: Math.min(count, 10),
      WaitTimeSeconds: waitSeconds,
      MessageSystemAttributeNames: ['All'],
      // The older name of the same parameter, for emulators that predate the rename.
      AttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    }),
  );
  return Messages;
}

/**
 * Collects a batch as the event source mapping does: up to `batchSize` messages (SQS hands out at most 10 per call),
 * waiting up to the batching window for more once the first has arrived.
 */
async function receiveBatch(
  sqs: SQSClient,
  queueUrl: string,
  options: {
    readonly batchSize: number;
    readonly waitSeconds?: number;
    readonly batchingWindowSeconds?: number;
  },
): Promise<Message[]> {
  const batch = await receiveUpTo(sqs, queueUrl, options.batchSize, options.waitSeconds ?? 0);
  if (batch.length === 0) return batch;
  const windowEnds = Date.now() + (options.batchingWindowSeconds ?? 0) * 1000;
  while (batch.length < options.batchSize) {
    const remainingSeconds = Math.floor((windowEnds - Date.now()) / 1000);
    const more = await receiveUpTo(
      sqs,
      queueUrl,
      options.batchSize - batch.length,
      Math.max(0, Math.min(remainingSeconds, 20)),
    );
    batch.push(...more);
    if (more.length === 0 && Date.now() >= windowEnds) break;
  }
  return batch;
}

export interface PollResult {
  readonly received: number;
  readonly failed: number;
  /** The handler outlived `timeoutMs`: the whole batch failed, as a Lambda timeout fails it. */
  readonly timedOut?: boolean;
}

class InvocationTimeout extends Error {}

/** SQS's limit on the entries of one batch call. */
const MAX_BATCH_ENTRIES = 10;

/**
 * One turn of Lambda's SQS event source mapping: receive up to `batchSize` messages, invoke the handler with them,
 * then delete every message except those the handler reported as failed (partial batch response). A handler that
 * throws fails the whole batch, which comes back after its visibility timeout, as on AWS.
 */
export async function pollOnce(
  sqs: SQSClient,
  queueUrl: string,
  handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>,
  options: {
    readonly batchSize: number;
    /** Long-poll wait for the first message. @default 0 */
    readonly waitSeconds?: number;
    /** Once a message is in hand, how long to keep collecting towards `batchSize`. @default 0 */
    readonly batchingWindowSeconds?: number;
    readonly context: (requestId: string) => Context;
    /**
     * The function's timeout: a handler still running after it fails its whole batch, which comes back after the
     * queue's visibility timeout (the handler itself cannot be stopped in-process, and finishes in the background).
     * @default no limit
     */
    readonly timeoutMs?: number;
  },
): Promise<PollResult> {
  const Messages = await receiveBatch(sqs, queueUrl, options);
  if (Messages.length === 0) return { received: 0, failed: 0 };
  const arn = queueArnOf(queueUrl);
  const records = Messages.map((message) => toLambdaRecord(message, arn));
  let failedIds: Set<string>;
  let timer: NodeJS.Timeout | undefined;
  try {
    const invocation = handler({ Records: records }, options.context(randomUUID()));
    const response =
      options.timeoutMs === undefined
        ? await invocation
        : await Promise.race([
            invocation,
            new Promise<never>((_, reject) => {
              timer = setTimeout(() => reject(new InvocationTimeout()), options.timeoutMs);
            }),
          ]);
    failedIds = new Set((response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
  } catch (error) {
    const timedOut = error instanceof InvocationTimeout;
    return { received: records.length, failed: records.length, ...(timedOut && { timedOut }) };
  } finally {
    clearTimeout(timer);
  }
  const done = records.filter((record) => !failedIds.has(record.messageId));
  // DeleteMessageBatch takes at most 10 entries, whatever the batch size (the low queue's is 50).
  for (let start = 0; start < done.length; start += MAX_BATCH_ENTRIES) {
    const answer = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: done
          .slice(start, start + MAX_BATCH_ENTRIES)
          .map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle })),
      }),
    );
    // A batch call answers 200 even when entries fail: those messages would come back and be processed again.
    const failed = answer.Failed ?? [];
    if (failed.length > 0) {
      throw new Error(
        `could not delete ${failed.length} processed message(s) from ${queueUrl}: ${failed
          .map((entry) => `${entry.Code ?? 'error'} ${entry.Message ?? ''}`.trim())
          .join('; ')}`,
      );
    }
  }
  return { received: records.length, failed: failedIds.size };
}

/**
 * The `Enabled` flag of each event source mapping (`aws lambda update-event-source-mapping --no-enabled`): a disabled
 * mapping stops receiving, its queue keeps what arrives, and a batch already handed to a function finishes.
 */
export class EventSourceSwitches<Name extends string> {
  private readonly disabled = new Map<
    Name,
    { readonly enabled: Promise<void>; readonly enable: () => void }
  >();

  /** Set by {@link enableForGood} (the stack stopping): a disable then would leave pollers waiting forever. */
  private final = false;

  disable(name: Name): void {
    if (this.final || this.disabled.has(name)) return;
    let enable: () => void = () => undefined;
    const enabled = new Promise<void>((resolve) => {
      enable = resolve;
    });
    this.disabled.set(name, { enabled, enable });
  }

  enable(name: Name): void {
    this.disabled.get(name)?.enable();
    this.disabled.delete(name);
  }

  enableAll(): void {
    for (const name of [...this.disabled.keys()]) this.enable(name);
  }

  /** Enables every mapping and ignores any later `disable`: the stack is stopping and its pollers must drain. */
  enableForGood(): void {
    this.final = true;
    this.enableAll();
  }

  /** Resolves at once for an enabled mapping, else when it is enabled again. */
  async whenEnabled(name: Name): Promise<void> {
    await this.disabled.get(name)?.enabled;
  }
}
