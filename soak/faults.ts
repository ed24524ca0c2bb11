import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ChangeMessageVisibilityBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import dynalite from 'dynalite';
import { startFauxqs } from 'fauxqs';
import type { Priority } from '../lambdas/definitions.js';
import type { LocalStackHooks } from '../local/stack.js';
import type { Random } from './prng.js';

/**
 * Fault injection without touching shared code: the soak starts the emulators itself (dynalite for DynamoDB, fauxqs
 * for SQS) behind one HTTP proxy, and hands the proxy to `startLocalStack` as its `externalEndpoint`. Every AWS call
 * the stack makes (ingest's SendMessage, the pollers, the consumers' DynamoDB and SQS calls) goes through the proxy,
 * which routes by `x-amz-target` and injects, per the profile:
 *
 * - **outages** of SQS SendMessage to the main queues (ingest cannot queue: it answers 503 and the generator, playing
 *   the gateway, resends the same bytes);
 * - **lost responses** on SendMessage (the message is queued but the caller sees a 500: ingest or its SDK retries,
 *   so the queue holds the same event twice);
 * - **DynamoDB throttling** before a write reaches the table, and **lost responses** after a write was applied (the SDK
 *   retries a conditional write that already happened), on the payments table and optionally the idempotency table.
 *
 * The AWS SDK retries throttling and 5xx itself (ingest twice, the consumers three times), so most single faults are
 * absorbed there; the outages are what reach the gateway as 5xx.
 *
 * Two more faults go through the local stack's hooks rather than the proxy (see `faultHooks`): **EventBridge publish
 * failures** (the publisher throws, as `PutEvents` does when EventBridge is unavailable) and **consumer crashes
 * mid-batch** (an invocation applies the first records of its batch, then dies without answering).
 */
export interface FaultProfile {
  /** Probability that a SendMessage to a main queue is applied but answered 500. */
  readonly sqsSendLostResponse: number;
  /** Probability that a DynamoDB write is throttled (ProvisionedThroughputExceededException) before it is applied. */
  readonly dynamoWriteFailure: number;
  /** Probability that a DynamoDB write is applied but answered 500. */
  readonly dynamoWriteLostResponse: number;
  /** Chance, per delivery the generator sends, that it first starts an ingest outage; and how long one lasts. */
  readonly outageChance: number;
  readonly outageMs: number;
  /** Probability that publishing a domain event fails (EventBridge unavailable). */
  readonly publishFailure: number;
  /** Probability that a consumer invocation crashes part-way through its batch. */
  readonly consumerCrash: number;
}

export const FAULT_PROFILES = {
  none: {
    sqsSendLostResponse: 0,
    dynamoWriteFailure: 0,
    dynamoWriteLostResponse: 0,
    outageChance: 0,
    outageMs: 0,
    publishFailure: 0,
    consumerCrash: 0,
  },
  // For CI: faults whose recovery is quick. Lost DynamoDB responses are left out: recovering from one can take the
  // consumer's 10 s, 20 s, ... back-off, which does not fit a one-minute test.
  ci: {
    sqsSendLostResponse: 0.02,
    dynamoWriteFailure: 0.02,
    dynamoWriteLostResponse: 0,
    outageChance: 0.02,
    outageMs: 150,
    // Higher than in "full": a short run publishes only about 180 announcements (each fact once), and at 2% one run in
    // 35 saw no failed publish at all, which the CI soak counts as a run that proved nothing.
    publishFailure: 0.05,
    // Higher than in "full": a short run has few invocations, and every CI run should see some crashes.
    consumerCrash: 0.1,
  },
  full: {
    sqsSendLostResponse: 0.02,
    dynamoWriteFailure: 0.02,
    dynamoWriteLostResponse: 0.01,
    outageChance: 0.01,
    outageMs: 300,
    publishFailure: 0.02,
    consumerCrash: 0.02,
  },
} as const satisfies Record<string, FaultProfile>;
export type FaultProfileName = keyof typeof FAULT_PROFILES;

export interface FaultCounts {
  sqsOutageRefusals: number;
  sqsLostResponses: number;
  dynamoFailures: number;
  dynamoLostResponses: number;
  outages: number;
  publishFailures: number;
  consumerCrashes: number;
}

export interface FaultyBackend {
  /** What to give `startLocalStack` as `externalEndpoint`. */
  readonly endpoint: string;
  /** The emulators themselves, unproxied (for the soak's own reads at the end). */
  readonly direct: { readonly sqs: string; readonly dynamodb: string };
  readonly counts: Readonly<FaultCounts>;
  /** The main queue URLs, once the stack has created them: only sends to these are faulted. */
  setMainQueues(urls: Readonly<Record<Priority, string>>): void;
  /** The payments table and the idempotency table names. */
  setTables(tables: { readonly payments: string; readonly idempotency: string }): void;
  /** Every SendMessage to a main queue is refused for `ms`. */
  outage(ms: number): void;
  /** Turn faults on or off (off while setting up and while checking). */
  enable(on: boolean): void;
  /** Publish failures and consumer crashes, for `startLocalStack`'s hooks. */
  readonly hooks: LocalStackHooks;
  stop(): Promise<void>;
}

const DYNAMO_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem']);
const SQS_SENDS = new Set(['SendMessage', 'SendMessageBatch']);

function readBody(incoming: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => resolve(Buffer.concat(chunks)));
    incoming.on('error', reject);
  });
}

function forward(
  upstream: URL,
  incoming: IncomingMessage,
  body: Buffer,
): Promise<{ status: number; headers: Record<string, string | string[]>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: incoming.method,
        path: incoming.url,
        headers: incoming.headers,
      },
      (response) => {
        readBody(response).then(
          (responseBody) =>
            resolve({
              status: response.statusCode ?? 502,
              headers: response.headers as Record<string, string | string[]>,
              body: responseBody,
            }),
          reject,
        );
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

function injected(response: ServerResponse): void {
  response.writeHead(500, {
    'content-type': 'application/x-amz-json-1.0',
    'x-amzn-requestid': 'soak-injected',
  });
  response.end(JSON.stringify({ __type: 'InternalFailure', message: 'injected by the soak' }));
}

function throttled(response: ServerResponse): void {
  response.writeHead(400, {
    'content-type': 'application/x-amz-json-1.0',
    'x-amzn-requestid': 'soak-injected',
  });
  response.end(
    JSON.stringify({
      __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
      message: 'injected by the soak: rate of requests exceeds the allowed throughput',
    }),
  );
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

export async function startFaultyBackend(profile: FaultProfile, random: Random): Promise<FaultyBackend> {
  const database = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const databasePort = await listen(database);
  const queueServer = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false });
  const direct = {
    sqs: `http://127.0.0.1:${queueServer.port}`,
    dynamodb: `http://127.0.0.1:${databasePort}`,
  };
  const sqsUrl = new URL(direct.sqs);
  const dynamoUrl = new URL(direct.dynamodb);
  const counts: FaultCounts = {
    sqsOutageRefusals: 0,
    sqsLostResponses: 0,
    dynamoFailures: 0,
    dynamoLostResponses: 0,
    outages: 0,
    publishFailures: 0,
    consumerCrashes: 0,
  };
  let enabled = false;
  let mainQueues = new Set<string>();
  let faultedTables = new Set<string>();
  let outageUntil = 0;

  const proxy = createServer((incoming, response) => {
    void (async () => {
      const body = await readBody(incoming);
      const target = String(incoming.headers['x-amz-target'] ?? '');
      const isDynamo = target.startsWith('DynamoDB');
      const operation = target.slice(target.indexOf('.') + 1);
      let lose = false;
      if (enabled && body.length > 0) {
        const parsed = JSON.parse(body.toString('utf8')) as { QueueUrl?: string; TableName?: string };
        if (!isDynamo && SQS_SENDS.has(operation) && mainQueues.has(parsed.QueueUrl ?? '')) {
          if (Date.now() < outageUntil) {
            counts.sqsOutageRefusals += 1;
            return injected(response);
          }
          lose = random.chance(profile.sqsSendLostResponse);
          if (lose) counts.sqsLostResponses += 1;
        } else if (isDynamo && DYNAMO_WRITES.has(operation) && faultedTables.has(parsed.TableName ?? '')) {
          if (random.chance(profile.dynamoWriteFailure)) {
            counts.dynamoFailures += 1;
            return throttled(response);
          }
          lose = random.chance(profile.dynamoWriteLostResponse);
          if (lose) counts.dynamoLostResponses += 1;
        }
      }
      const answer = await forward(isDynamo ? dynamoUrl : sqsUrl, incoming, body);
      if (lose) return injected(response);
      response.writeHead(answer.status, answer.headers);
      response.end(answer.body);
    })().catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(502);
      response.end(String(error));
    });
  });
  const proxyPort = await listen(proxy);

  const sqs = new SQSClient({
    endpoint: direct.sqs,
    region: 'us-east-1',
    useQueueUrlAsEndpoint: false,
    credentials: { accessKeyId: 'soak', secretAccessKey: 'soak' },
  });
  let queueUrls: Partial<Record<Priority, string>> = {};
  /** Lambda waits out the visibility timeout after a crash (minutes here); the soak stands in for that wait. */
  const visibleAgainSoon = async (priority: Priority, records: readonly SQSRecord[]) => {
    const queueUrl = queueUrls[priority];
    for (let start = 0; queueUrl && start < records.length; start += 10) {
      await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: records.slice(start, start + 10).map((record, index) => ({
            Id: String(index),
            ReceiptHandle: record.receiptHandle,
            VisibilityTimeout: 1,
          })),
        }),
      );
    }
  };
  const hooks: LocalStackHooks = {
    publisher: (inner) => ({
      async publish(event) {
        if (enabled && random.chance(profile.publishFailure)) {
          counts.publishFailures += 1;
          throw Object.assign(new Error('injected by the soak: EventBridge unavailable'), {
            name: 'InternalException',
          });
        }
        await inner.publish(event);
      },
    }),
    consumer: (priority, handler) => async (event, context) => {
      if (!enabled || event.Records.length === 0 || !random.chance(profile.consumerCrash)) {
        return handler(event, context);
      }
      counts.consumerCrashes += 1;
      // The first records are applied (and stay applied); then the invocation dies without a response, so the
      // whole batch comes back, finished records included, and the consumers must absorb them as duplicates.
      const finished = event.Records.slice(0, random.int(0, event.Records.length - 1));
      let backedOff = new Set<string>();
      if (finished.length > 0) {
        try {
          const response = await handler({ Records: finished }, context);
          backedOff = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
        } catch {
          backedOff = new Set(finished.map((record) => record.messageId));
        }
      }
      // Records the handler itself delayed keep their back-off, as they would on AWS.
      await visibleAgainSoon(
        priority,
        event.Records.filter((record) => !backedOff.has(record.messageId)),
      );
      throw new Error('injected by the soak: consumer crashed mid-batch');
    },
  };

  return {
    endpoint: `http://127.0.0.1:${proxyPort}`,
    direct,
    counts,
    hooks,
    setMainQueues(urls) {
      mainQueues = new Set(Object.values(urls));
      queueUrls = { ...urls };
    },
    setTables(tables) {
      // The payments table holds the events' idempotency records too (issue #20), so its faults hit them as well: a
      // lost response on an in-progress record leaves it until the consumer's timeout, which is why the CI profile
      // loses no DynamoDB responses. The previous release's idempotency table is only read.
      faultedTables = new Set([tables.payments]);
    },
    outage(ms) {
      if (!enabled || ms <= 0) return;
      counts.outages += 1;
      outageUntil = Math.max(outageUntil, Date.now() + ms);
    },
    enable(on) {
      enabled = on;
    },
    async stop() {
      enabled = false;
      sqs.destroy();
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await queueServer.stop();
      await new Promise<void>((resolve) => database.close(() => resolve()));
    },
  };
}
