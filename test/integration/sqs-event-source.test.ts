import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaContext } from '../../local/lambda-context.js';
import { pollOnce } from '../../local/sqs-event-source.js';
import { createPipelineQueues, type SqsEmulator, startSqsEmulator } from '../support/sqs-emulator.js';

let sqs: SqsEmulator;

beforeAll(async () => {
  sqs = await startSqsEmulator();
});

afterAll(async () => {
  await sqs?.stop();
});

async function counts(queueUrl: string) {
  const { Attributes = {} } = await sqs.client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible),
  };
}

describe('local SQS event source (pollOnce) against fauxqs', () => {
  it('fails the whole batch of a handler that outlives the function timeout, leaving its messages in flight', async () => {
    const { queues } = await createPipelineQueues(sqs.client, 'event-source-timeout');
    await sqs.client.send(new SendMessageCommand({ QueueUrl: queues.normal, MessageBody: '{}' }));
    let finished = false;
    const slow = async (): Promise<SQSBatchResponse> => {
      await new Promise((resolve) => setTimeout(resolve, 400));
      finished = true;
      return { batchItemFailures: [] };
    };
    const result = await pollOnce(sqs.client, queues.normal, slow, {
      batchSize: 10,
      context: (id) => lambdaContext('payhook-consumer-normal', 30, id),
      timeoutMs: 50,
    });
    expect(result).toEqual({ received: 1, failed: 1, timedOut: true });
    expect(finished).toBe(false);
    // Not deleted, even once the abandoned handler finishes: it comes back after the visibility timeout.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(finished).toBe(true);
    expect(await counts(queues.normal)).toEqual({ visible: 0, inFlight: 1 });
  });

  it('deletes what a handler within its timeout completed', async () => {
    const { queues } = await createPipelineQueues(sqs.client, 'event-source-in-time');
    await sqs.client.send(new SendMessageCommand({ QueueUrl: queues.normal, MessageBody: '{}' }));
    const result = await pollOnce(sqs.client, queues.normal, async () => ({ batchItemFailures: [] }), {
      batchSize: 10,
      context: (id) => lambdaContext('payhook-consumer-normal', 30, id),
      timeoutMs: 5_000,
    });
    expect(result).toEqual({ received: 1, failed: 0 });
    expect(await counts(queues.normal)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('deletes a batch larger than SQS allows in one delete call (the low queue takes 50), all of it', async () => {
    const { queues } = await createPipelineQueues(sqs.client, 'event-source-large');
    await Promise.all(
      Array.from({ length: 25 }, (_, index) =>
        sqs.client.send(new SendMessageCommand({ QueueUrl: queues.low, MessageBody: `{"n":${index}}` })),
      ),
    );
    let handed = 0;
    const result = await pollOnce(
      sqs.client,
      queues.low,
      async (event) => {
        handed = event.Records.length;
        return { batchItemFailures: [] };
      },
      {
        batchSize: 50,
        batchingWindowSeconds: 1,
        context: (id) => lambdaContext('payhook-consumer-low', 60, id),
      },
    );
    expect(handed).toBe(25);
    expect(result).toEqual({ received: 25, failed: 0 });
    expect(await counts(queues.low)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('fails loudly when a delete call leaves entries undeleted, rather than processing them again silently', async () => {
    const { queues } = await createPipelineQueues(sqs.client, 'event-source-delete-fails');
    await sqs.client.send(new SendMessageCommand({ QueueUrl: queues.normal, MessageBody: '{}' }));
    // SQS answers a batch delete with per-entry failures (an expired receipt handle) and no error.
    const partly: typeof sqs.client = Object.create(sqs.client);
    partly.send = (async (command: unknown) => {
      if (command instanceof DeleteMessageBatchCommand) {
        return { Successful: [], Failed: [{ Id: '0', Code: 'ReceiptHandleIsInvalid', SenderFault: true }] };
      }
      return sqs.client.send(command as never);
    }) as typeof sqs.client.send;
    await expect(
      pollOnce(partly, queues.normal, async () => ({ batchItemFailures: [] }), {
        batchSize: 10,
        context: (id) => lambdaContext('payhook-consumer-normal', 30, id),
      }),
    ).rejects.toThrow(/could not delete 1 processed message\(s\).*ReceiptHandleIsInvalid/);
  });
});
