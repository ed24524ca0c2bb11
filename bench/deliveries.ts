/**
 * Deliveries to merchant endpoints (#19 point 5): deliveries per second against a destination's `rateLimitPerSecond`,
 * what an unlimited destination takes on this machine, and what the delivery function costs per million deliveries.
 *
 * The local stack runs in this process (DynamoDB in memory) with two destinations on one local receiver that answers
 * 200 and records each delivery's `webhook-id` and arrival time (and checks its Standard Webhooks signature):
 * `limited` with the rate limit, `unlimited` without, both wanting only `payment.succeeded`. Signed webhooks go in
 * through the HTTP front door, each a fresh payment, so every delivery takes the real path: ingest, the consumer, the
 * publish, the local stand-in for the delivery rules, the destination queue, the real delivery function (admission by
 * breaker and token bucket, signing, the POST). Then, for the delivery function alone, the unlimited destination's
 * queue is filled directly with copies of one event (fresh ids) and drained.
 *
 * AWS calls are counted by SDK middleware on the same clients (`bench/aws-usage.ts`): the delivery function's own
 * (client role `delivery`), split by the destination whose queue or `DESTINATION#<name>` item they touch, and the
 * stack's pipeline client for the destination queues (the rule's SendMessage and the event source mapping's receives
 * and deletes). The stack has no hook around the delivery handler, so an invocation is read off the pipeline client:
 * it starts when the receive that completed its batch returns and ends when the batch's DeleteMessageBatch is sent
 * (matched by receipt handle; a batch is at most 10 records, so one delete per invocation).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type Message, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Webhook } from 'standardwebhooks';
import { DEV_SECRETS_FILE } from '../events/index.js';
import type { AwsClient } from '../lambdas/composition/clients.js';
import { capacityMilliTokens, MILLI_TOKENS_PER_TOKEN, refill } from '../lambdas/domain/token-bucket.js';
import { GATEWAYS } from '../lambdas/domain/webhook-event.js';
import { readPublishedEvents } from '../lambdas/publishing/file-publisher.js';
import { DESTINATION_STATE_PREFIX } from '../lambdas/store/dynamodb-destination-states.js';
import { eventBridgeEnvelope } from '../local/delivery-fan-out.js';
import { developmentSigningSecret } from '../local/development-secret.js';
import { queueCounts } from '../local/queues.js';
import type { LocalStack, LocalStackHooks } from '../local/stack.js';
import { type AwsUsage, countCalls, emptyUsage, mergeUsage, type UsageRouter } from './aws-usage.js';
import {
  type DeliveryCostModel,
  deliveryCostPerMillion,
  lacksLambdaContext,
  lambdaContextLogBytes,
} from './cost.js';
import {
  accountDeliveries,
  type BucketCheck,
  type BucketWrite,
  checkAgainstBucket,
  type DeliveryAccounting,
  grantsFromBucketWrites,
  type RateStatistics,
  rateStatistics,
} from './delivery-rates.js';
import {
  drive,
  type Percentiles,
  percentiles,
  prepare,
  startBenchStack,
  waitUntilApplied,
} from './throughput.js';

export interface DeliveriesOptions {
  /** Webhooks sent (each a fresh payment, so one `payment.succeeded` delivery per destination). */
  readonly deliveries: number;
  /** The limited destination's `rateLimitPerSecond`. */
  readonly ratePerSecond: number;
  /** Concurrency of the client sending the webhooks. */
  readonly concurrency: number;
  /** Pollers per queue (the destinations' `maxConcurrency` is 2, so at most 2 per destination queue). */
  readonly workersPerQueue: number;
  /** Events put straight on the unlimited destination's queue for the delivery-function-alone run; 0: skipped. */
  readonly prefilled: number;
}

const LAMBDA_CONTEXT_BYTES = lambdaContextLogBytes();

/** The item kinds the delivery function keeps per destination in the payments table (`DESTINATION#<name>`). */
const ITEM_KINDS = ['STATE', 'BREAKER', 'RATE'] as const;
type ItemKind = (typeof ITEM_KINDS)[number];

export interface DestinationFigures {
  readonly destination: string;
  /** What fed the queue: the real path (webhooks in through the front door), or the queue filled directly. */
  readonly fedBy: 'pipeline' | 'prefilled queue';
  readonly rateLimitPerSecond: number | null;
  readonly accounting: DeliveryAccounting;
  /** Arrivals whose Standard Webhooks signature did not verify with the destination's secret. */
  readonly badSignatures: number;
  readonly rates: RateStatistics;
  /** Only for a rate-limited destination: the arrivals against its bucket. */
  readonly bucket: BucketCheck | null;
  /**
   * Only for a rate-limited destination: the tokens its bucket granted during the run, read back from the bucket's
   * successful writes (grant time = the write's `updatedAtMs`), their per-second figures and the same check. Unlike
   * arrivals, grants carry no POST latency: over the allowance here is a leak, not jitter.
   */
  readonly grants: {
    readonly tokens: number;
    /** Of those, reserved ahead for a delayed copy (`takeOrReserve`); absent in results written before reservations. */
    readonly reserved?: number;
    /** Writes whose predecessor was not seen, so whose grant could not be read: should be 0. */
    readonly unread: number;
    readonly rates: RateStatistics;
    readonly check: BucketCheck;
  } | null;
  /** From the first webhook sent (or the first event queued) to the last delivery, seconds. */
  readonly firstSentToLastDeliveredSeconds: number;
  /** Deliveries per second over that span. */
  readonly endToEndPerSecond: number;
  /** From the event's publish (the local events file's `publishedAt`) to its arrival, milliseconds. */
  readonly publishedToDeliveredMs: Percentiles | null;
  /** The most messages on the destination's queue (visible, delayed and in flight), sampled twice a second. */
  readonly peakQueueDepth: number;
  readonly invocations: number;
  /** Invocations that attempted at least one delivery; the others only held their records (rate reached). */
  readonly attemptingInvocations: number;
  readonly recordsPerInvocation: number;
  readonly billedMsPerInvocation: number;
  /** Records received but never deleted (a held copy that could not be sent, a failed attempt): should be 0. */
  readonly recordsNotDeleted: number;
  /** Copies the delivery function sent back to the queue, delayed (rate reached). */
  readonly heldCopies: number;
  /** The delivery function's DynamoDB calls per delivery, by item (`STATE`, `BREAKER`, `RATE`) and operation. */
  readonly itemCallsPerDelivery: Readonly<Record<ItemKind, Readonly<Record<string, number>>>>;
  readonly refusedConditionalWrites: number;
  readonly logBytesPerDelivery: number;
  readonly usage: { readonly pipeline: AwsUsage; readonly delivery: AwsUsage };
  readonly cost: DeliveryCostModel;
}

export interface DeliveriesResults {
  readonly options: DeliveriesOptions;
  readonly sent: number;
  readonly answered200: number;
  /** The token bucket's burst for the configured rate, in deliveries (`capacityMilliTokens`). */
  readonly burst: number;
  readonly limited: DestinationFigures;
  readonly unlimited: DestinationFigures;
  /** The unlimited destination drained from a full queue: the delivery function alone. */
  readonly prefilled: DestinationFigures | null;
}

const LIMITED = 'limited';
const UNLIMITED = 'unlimited';
const DESTINATIONS = [LIMITED, UNLIMITED] as const;
type Destination = (typeof DESTINATIONS)[number];
type Phase = 'pipeline' | 'prefilled';

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Arrival {
  readonly id: string;
  readonly at: number;
}

interface Receiver {
  readonly url: string;
  readonly arrivals: Record<Destination, Arrival[]>;
  badSignatures: Record<Destination, number>;
  close(): Promise<void>;
}

/** The merchant's endpoint: answers 200, records each delivery's `webhook-id` and arrival, checks the signature. */
async function startReceiver(secret: string): Promise<Receiver> {
  const webhook = new Webhook(secret);
  const receiver: Omit<Receiver, 'url' | 'close'> = {
    arrivals: { limited: [], unlimited: [] },
    badSignatures: { limited: 0, unlimited: 0 },
  };
  const server: Server = createServer((request, response) => {
    const at = now();
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const destination = request.url?.slice(1) as Destination;
      const headers = Object.fromEntries(
        Object.entries(request.headers).map(([name, value]) => [name, String(value)]),
      );
      if (DESTINATIONS.includes(destination)) {
        receiver.arrivals[destination].push({ id: headers['webhook-id'] ?? '', at });
        try {
          webhook.verify(Buffer.concat(chunks).toString('utf8'), headers);
        } catch {
          receiver.badSignatures[destination] += 1;
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    ...receiver,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** What is counted per destination in one phase. */
interface Counters {
  readonly pipeline: AwsUsage;
  readonly sqs: AwsUsage;
  readonly items: Record<ItemKind, AwsUsage>;
  invocations: number;
  records: number;
  billedMs: number;
  logBytes: number;
}

const emptyCounters = (): Counters => ({
  pipeline: emptyUsage(),
  sqs: emptyUsage(),
  items: { STATE: emptyUsage(), BREAKER: emptyUsage(), RATE: emptyUsage() },
  invocations: 0,
  records: 0,
  billedMs: 0,
  logBytes: 0,
});

/** A key attribute as the document client passes it (plain) or the low-level client (`{ S: ... }`). */
function keyText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  const marshalled = (value as { S?: unknown } | undefined)?.S;
  return typeof marshalled === 'string' ? marshalled : undefined;
}

class Counting {
  phase: Phase | undefined;
  readonly counters: Record<Phase, Record<Destination, Counters>> = {
    pipeline: { limited: emptyCounters(), unlimited: emptyCounters() },
    prefilled: { limited: emptyCounters(), unlimited: emptyCounters() },
  };
  /** Queue URL (main and dead-letter) -> destination, once the stack has created them. */
  readonly queues = new Map<string, Destination>();
  /** Receipt handle -> when the receive that returned it completed, and from which destination's queue. */
  private readonly received = new Map<string, { readonly at: number; readonly destination: Destination }>();

  readonly isCounting = () => this.phase !== undefined;

  private current(destination: Destination | undefined): Counters | undefined {
    return this.phase === undefined || destination === undefined
      ? undefined
      : this.counters[this.phase][destination];
  }

  private queueOf(input: Readonly<Record<string, unknown>>): Destination | undefined {
    return this.queues.get(String(input.QueueUrl ?? ''));
  }

  /** The pipeline client: only calls on the destination queues, by queue. */
  readonly pipelineRouter: UsageRouter = (_operation, input) => this.current(this.queueOf(input))?.pipeline;

  /** The delivery function's clients: SQS by queue, DynamoDB by the `DESTINATION#<name>` item and its kind. */
  readonly deliveryRouter: UsageRouter = (_operation, input) => {
    if (input.QueueUrl !== undefined) return this.current(this.queueOf(input))?.sqs;
    const key = (input.Key ?? input.Item) as Record<string, unknown> | undefined;
    const pk = keyText(key?.pk);
    const sk = keyText(key?.sk) as ItemKind | undefined;
    if (pk === undefined || !pk.startsWith(DESTINATION_STATE_PREFIX)) return undefined;
    const destination = pk.slice(DESTINATION_STATE_PREFIX.length) as Destination;
    if (!DESTINATIONS.includes(destination) || sk === undefined || !ITEM_KINDS.includes(sk)) return undefined;
    return this.current(destination)?.items[sk];
  };

  /**
   * Delivery invocations, read off the pipeline client (the stand-in for the event source mapping): from the receive
   * that completed a batch to the batch's delete, matched by receipt handle.
   */
  watchInvocations(client: AwsClient): void {
    const stack = (client as SQSClient).middlewareStack;
    stack.add(
      (next, context) => async (args) => {
        const input = args.input as { QueueUrl?: string; Entries?: { ReceiptHandle?: string }[] };
        const destination = this.queues.get(String(input.QueueUrl ?? ''));
        if (destination === undefined) return next(args);
        if (context.commandName === 'ReceiveMessageCommand') {
          const result = await next(args);
          const at = performance.now();
          if (this.isCounting()) {
            for (const message of (result.output as { Messages?: Message[] }).Messages ?? []) {
              if (message.ReceiptHandle) this.received.set(message.ReceiptHandle, { at, destination });
            }
          }
          return result;
        }
        if (context.commandName === 'DeleteMessageBatchCommand') {
          const at = performance.now();
          const starts = (input.Entries ?? []).flatMap((entry) => {
            const start = entry.ReceiptHandle ? this.received.get(entry.ReceiptHandle)?.at : undefined;
            if (entry.ReceiptHandle) this.received.delete(entry.ReceiptHandle);
            return start === undefined ? [] : [start];
          });
          const counters = this.current(destination);
          if (counters && starts.length > 0) {
            counters.invocations += 1;
            counters.records += input.Entries?.length ?? 0;
            counters.billedMs += Math.ceil(at - Math.max(...starts));
          }
        }
        return next(args);
      },
      { step: 'initialize', name: 'payhookBenchDeliveryInvocations' },
    );
  }

  /** Every successful write of the limited destination's token bucket, warm-up included (to read its grants). */
  readonly bucketWrites: BucketWrite[] = [];

  /** Records the limited destination's bucket writes that succeeded (a refused conditional put throws). */
  watchBucket(client: AwsClient): void {
    const stack = (client as DynamoDBClient).middlewareStack;
    const number = (value: unknown) =>
      typeof value === 'number' ? value : Number((value as { N?: string } | undefined)?.N);
    stack.add(
      (next) => async (args) => {
        const item = (args.input as { Item?: Record<string, unknown> }).Item;
        if (keyText(item?.pk) !== `${DESTINATION_STATE_PREFIX}${LIMITED}` || keyText(item?.sk) !== 'RATE') {
          return next(args);
        }
        const result = await next(args);
        this.bucketWrites.push({
          version: number(item?.version),
          milliTokens: number(item?.milliTokens),
          updatedAtMs: number(item?.updatedAtMs),
        });
        return result;
      },
      { step: 'serialize', priority: 'low', name: 'payhookBenchBucketWrites' },
    );
  }

  /** Per destination, records received while counting and never deleted; cleared for the next phase. */
  takeUndeleted(): Record<Destination, number> {
    const left: Record<Destination, number> = { limited: 0, unlimited: 0 };
    for (const { destination } of this.received.values()) left[destination] += 1;
    this.received.clear();
    return left;
  }

  hooks(): LocalStackHooks {
    return {
      awsClient: (client, role) => {
        if (role === 'delivery') countCalls(this.deliveryRouter, client, this.isCounting, () => undefined);
        if (role === 'delivery' && client instanceof DynamoDBClient) this.watchBucket(client);
        if (role === 'pipeline' && client instanceof SQSClient) {
          countCalls(this.pipelineRouter, client, this.isCounting, () => undefined);
          this.watchInvocations(client);
        }
      },
    };
  }

  /** A line the delivery function wrote to stdout: its logs and EMF metrics, by the destination they name. */
  logLine(line: string): void {
    if (this.phase === undefined || !line.includes('payhook-deliver')) return;
    const named = /"destination":"([a-z0-9-]+)"/i.exec(line)?.[1] as Destination | undefined;
    const counters = this.current(named && DESTINATIONS.includes(named) ? named : undefined);
    // As AWS would ingest it: Lambda's context added to a handler line the local stack writes without it.
    if (counters) {
      counters.logBytes +=
        Buffer.byteLength(line) + 1 + (lacksLambdaContext(line) ? LAMBDA_CONTEXT_BYTES : 0);
    }
  }
}

/**
 * Runs `fn` with the handlers' log lines handed to `onLine` and dropped: every stdout line (structured logs, EMF
 * metrics) and the JSON lines on stderr (Powertools writes warnings and errors there); other stderr text, the bench's
 * progress, goes through.
 */
async function withLogLines<T>(onLine: (line: string) => void, fn: () => Promise<T>): Promise<T> {
  const intercept = (stream: NodeJS.WriteStream, keep: (line: string) => boolean) => {
    const original = stream.write.bind(stream);
    let pending = '';
    stream.write = ((chunk: string | Uint8Array) => {
      pending += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      let newline = pending.indexOf('\n');
      while (newline >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (keep(line)) onLine(line);
        else original(`${line}\n`);
        newline = pending.indexOf('\n');
      }
      return true;
    }) as typeof stream.write;
    return () => {
      stream.write = original as typeof stream.write;
    };
  };
  const restoreOut = intercept(process.stdout, () => true);
  const restoreErr = intercept(process.stderr, (line) => line.startsWith('{'));
  try {
    return await fn();
  } finally {
    restoreOut();
    restoreErr();
  }
}

/** Samples the most messages any of `queues` held (visible, delayed, in flight) until `stop` is called. */
function sampleDepth(sqs: SQSClient, queues: Readonly<Record<Destination, string>>) {
  const peaks: Record<Destination, number> = { limited: 0, unlimited: 0 };
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const destination of DESTINATIONS) {
        const counts = await queueCounts(sqs, queues[destination]);
        peaks[destination] = Math.max(peaks[destination], counts.visible + counts.delayed + counts.inFlight);
      }
      await sleep(500);
    }
  })();
  return async () => {
    running = false;
    await loop;
    return peaks;
  };
}

async function queuesEmpty(sqs: SQSClient, queueUrls: readonly string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    let left = 0;
    for (const queueUrl of queueUrls) {
      const counts = await queueCounts(sqs, queueUrl);
      left += counts.visible + counts.delayed + counts.inFlight;
    }
    if (left === 0) return;
    await sleep(100);
  }
}

/** Until every expected id has arrived at each destination, or the deadline. */
async function untilDelivered(
  receiver: Receiver,
  expected: Readonly<Partial<Record<Destination, ReadonlySet<string>>>>,
  timeoutMs: number,
): Promise<void> {
  const deadline = now() + timeoutMs;
  while (now() < deadline) {
    const done = Object.entries(expected).every(([destination, ids]) => {
      const arrived = new Set(receiver.arrivals[destination as Destination].map((arrival) => arrival.id));
      return [...(ids ?? [])].every((id) => arrived.has(id));
    });
    if (done) return;
    await sleep(200);
  }
}

function figures(
  destination: Destination,
  fedBy: DestinationFigures['fedBy'],
  rate: number | null,
  burst: number,
  parts: {
    readonly expected: ReadonlySet<string>;
    readonly arrivals: readonly Arrival[];
    readonly badSignatures: number;
    readonly startedAt: number;
    readonly publishedAt: ReadonlyMap<string, number>;
    readonly peakQueueDepth: number;
    readonly counters: Counters;
    readonly recordsNotDeleted: number;
    /** Grant times (epoch ms) of the destination's bucket during the run; only for a rate-limited one. */
    readonly grants?: {
      readonly times: readonly number[];
      readonly unread: number;
      readonly reserved: number;
    };
  },
): DestinationFigures {
  const { expected, counters } = parts;
  const mine = parts.arrivals.filter((arrival) => expected.has(arrival.id));
  const firstArrivals = new Map<string, number>();
  for (const arrival of mine) if (!firstArrivals.has(arrival.id)) firstArrivals.set(arrival.id, arrival.at);
  const times = [...firstArrivals.values()];
  const accounting = accountDeliveries(
    expected,
    parts.arrivals.map((arrival) => arrival.id),
  );
  const last = Math.max(...times);
  const span = (last - parts.startedAt) / 1000;
  const latencies = [...firstArrivals].flatMap(([id, at]) => {
    const published = parts.publishedAt.get(id);
    return published === undefined ? [] : [at - published];
  });
  const delivery = mergeUsage(counters.sqs, ...ITEM_KINDS.map((kind) => counters.items[kind]));
  const rateItem = counters.items.RATE;
  // Every acquire that granted a token ends in exactly one successful put of the bucket: those invocations attempted.
  const grantingPuts = (rateItem.dynamoCalls.PutItem ?? 0) - rateItem.dynamoFailedConditionalWrites;
  const attemptingInvocations = rate === null ? counters.invocations : grantingPuts;
  const delivered = accounting.delivered;
  const perDelivery = (count: number) => (delivered > 0 ? count / delivered : 0);
  const itemCallsPerDelivery = Object.fromEntries(
    ITEM_KINDS.map((kind) => [
      kind,
      Object.fromEntries(
        Object.entries(counters.items[kind].dynamoCalls).map(([operation, count]) => [
          operation,
          perDelivery(count),
        ]),
      ),
    ]),
  ) as Record<ItemKind, Record<string, number>>;
  return {
    destination,
    fedBy,
    rateLimitPerSecond: rate,
    accounting,
    badSignatures: parts.badSignatures,
    rates: rateStatistics(times),
    bucket: rate === null ? null : checkAgainstBucket(times, rate, burst),
    grants:
      rate === null || parts.grants === undefined
        ? null
        : {
            tokens: parts.grants.times.length,
            reserved: parts.grants.reserved,
            unread: parts.grants.unread,
            rates: rateStatistics(parts.grants.times),
            check: checkAgainstBucket(parts.grants.times, rate, burst),
          },
    firstSentToLastDeliveredSeconds: span,
    endToEndPerSecond: span > 0 ? times.length / span : 0,
    publishedToDeliveredMs: latencies.length > 0 ? percentiles(latencies) : null,
    peakQueueDepth: parts.peakQueueDepth,
    invocations: counters.invocations,
    attemptingInvocations,
    recordsPerInvocation: counters.invocations > 0 ? counters.records / counters.invocations : 0,
    billedMsPerInvocation: counters.invocations > 0 ? counters.billedMs / counters.invocations : 0,
    recordsNotDeleted: parts.recordsNotDeleted,
    heldCopies: counters.sqs.sqsRequests.SendMessage ?? 0,
    itemCallsPerDelivery,
    refusedConditionalWrites: delivery.dynamoFailedConditionalWrites,
    logBytesPerDelivery: perDelivery(counters.logBytes),
    usage: { pipeline: counters.pipeline, delivery },
    cost: deliveryCostPerMillion({
      deliveries: delivered,
      pipeline: counters.pipeline,
      delivery,
      invocations: counters.invocations,
      attemptingInvocations,
      billedMs: counters.billedMs,
      logBytes: counters.logBytes,
    }),
  };
}

export async function measureDeliveries(
  options: DeliveriesOptions,
  log: (line: string) => void = () => undefined,
): Promise<DeliveriesResults> {
  const rate = options.ratePerSecond;
  const burst = capacityMilliTokens(rate) / MILLI_TOKENS_PER_TOKEN;
  const secret = developmentSigningSecret(DEV_SECRETS_FILE).secret;
  const receiver = await startReceiver(secret);
  const counting = new Counting();
  const warmup = prepare(GATEWAYS.length * 2, `bench-deliveries-warmup-${Date.now()}`);
  const requests = prepare(options.deliveries, `bench-deliveries-${Date.now()}`);

  try {
    return await withLogLines(
      (line) => counting.logLine(line),
      async () => {
        const stack: LocalStack = await startBenchStack(
          'deliveries',
          options.workersPerQueue,
          counting.hooks(),
          {
            destinations: {
              [LIMITED]: {
                url: `${receiver.url}/${LIMITED}`,
                detailTypes: ['payment.succeeded'],
                rateLimitPerSecond: rate,
              },
              [UNLIMITED]: { url: `${receiver.url}/${UNLIMITED}`, detailTypes: ['payment.succeeded'] },
            },
          },
        );
        const sqs = new SQSClient({
          endpoint: stack.endpoints.sqs,
          region: process.env.AWS_REGION ?? 'us-east-1',
          useQueueUrlAsEndpoint: false,
          credentials: { accessKeyId: 'payhook-local', secretAccessKey: 'payhook-local' },
        });
        try {
          const queueUrls = {} as Record<Destination, string>;
          for (const destination of DESTINATIONS) {
            const { queueUrl, deadLetterQueueUrl } = stack.deliveries.destinations[destination] ?? {};
            if (!queueUrl || !deadLetterQueueUrl)
              throw new Error(`the stack made no queue for ${destination}`);
            queueUrls[destination] = queueUrl;
            counting.queues.set(queueUrl, destination);
            counting.queues.set(deadLetterQueueUrl, destination);
          }
          const webhookUrl = (p: { gateway: string }) => `${stack.url}/webhooks/${p.gateway}`;
          const eventsFile = stack.info.eventsFile;

          // Warm-up (not counted): every gateway's path, both destinations' first deliveries.
          await drive(webhookUrl, warmup, options.concurrency);
          const warmDeadline = now() + 30_000;
          while (
            now() < warmDeadline &&
            DESTINATIONS.some((destination) => receiver.arrivals[destination].length < warmup.length)
          ) {
            await sleep(200);
          }
          await queuesEmpty(sqs, Object.values(queueUrls), 10_000);
          // Let the bucket refill: the run starts with the burst a quiet destination has.
          await sleep(1500);
          const skip = {
            limited: receiver.arrivals.limited.length,
            unlimited: receiver.arrivals.unlimited.length,
          };

          // 1. The real path.
          log(
            `deliveries: ${options.deliveries} webhooks, limited destination at ${rate}/s (burst ${burst})`,
          );
          counting.phase = 'pipeline';
          const stopSampling = sampleDepth(sqs, queueUrls);
          const run = await drive(webhookUrl, requests, options.concurrency);
          const wanted = new Set(
            run.sent.filter((s) => s.status === 200).flatMap((s) => s.prepared.eventIds),
          );
          await waitUntilApplied(eventsFile, wanted, 120_000);
          const publishedAt = new Map<string, number>();
          for (const record of await readPublishedEvents(eventsFile)) {
            if (record.detail.to === 'succeeded' && wanted.has(record.detail.sourceEventId)) {
              publishedAt.set(record.detail.id, Date.parse(record.publishedAt));
            }
          }
          const expected = new Set(publishedAt.keys());
          await untilDelivered(
            receiver,
            { limited: expected, unlimited: expected },
            (options.deliveries / rate) * 2000 + 60_000,
          );
          // The last batches' deletes follow their POSTs: count them too.
          await queuesEmpty(sqs, Object.values(queueUrls), 15_000);
          const peaks = await stopSampling();
          counting.phase = undefined;
          const notDeleted = counting.takeUndeleted();
          const runStartedAtMs = run.startedAt;
          const allGrants = grantsFromBucketWrites(
            counting.bucketWrites,
            (previous, nowMs) => refill(previous, rate, nowMs).milliTokens,
            rate,
          );
          const grants = {
            times: allGrants.times.filter((time) => time >= runStartedAtMs),
            unread: allGrants.unread,
            reserved: allGrants.reserved,
          };
          const pipelineFigures = (destination: Destination) =>
            figures(destination, 'pipeline', destination === LIMITED ? rate : null, burst, {
              expected,
              arrivals: receiver.arrivals[destination].slice(skip[destination]),
              badSignatures: receiver.badSignatures[destination],
              startedAt: run.startedAt,
              publishedAt,
              peakQueueDepth: peaks[destination],
              counters: counting.counters.pipeline[destination],
              recordsNotDeleted: notDeleted[destination],
              ...(destination === LIMITED && { grants }),
            });
          const limited = pipelineFigures(LIMITED);
          const unlimited = pipelineFigures(UNLIMITED);
          log(
            `deliveries limited: ${limited.accounting.delivered}/${limited.accounting.expected}, steady ${limited.rates.steadyMeanPerSecond.toFixed(1)}/s ` +
              `(p95 ${limited.rates.steadyP95PerSecond}, max 1-s ${limited.rates.maxSlidingWindow}), ${limited.heldCopies} held copies; ` +
              `unlimited: ${unlimited.accounting.delivered}/${unlimited.accounting.expected}, ${unlimited.rates.meanPerSecond.toFixed(0)}/s`,
          );

          // 2. The delivery function alone: the unlimited destination's queue filled directly.
          let prefilled: DestinationFigures | null = null;
          const sample = [...(await readPublishedEvents(eventsFile))].find(
            (record) => record.detail.to === 'succeeded',
          );
          if (options.prefilled > 0 && sample) {
            const ids = Array.from({ length: options.prefilled }, () => `bench-prefilled-${randomUUID()}`);
            const before = receiver.arrivals.unlimited.length;
            const badBefore = receiver.badSignatures.unlimited;
            counting.phase = 'prefilled';
            const stopPrefillSampling = sampleDepth(sqs, queueUrls);
            const startedAt = now();
            for (let start = 0; start < ids.length; start += 10) {
              await sqs.send(
                new SendMessageBatchCommand({
                  QueueUrl: queueUrls.unlimited,
                  Entries: ids.slice(start, start + 10).map((id, index) => ({
                    Id: String(index),
                    MessageBody: JSON.stringify(
                      eventBridgeEnvelope({ ...sample.detail, id }, { now: new Date(), region: 'us-east-1' }),
                    ),
                  })),
                }),
              );
            }
            const prefilledIds = new Set(ids);
            await untilDelivered(receiver, { unlimited: prefilledIds }, 120_000);
            await queuesEmpty(sqs, [queueUrls.unlimited], 15_000);
            const prefillPeaks = await stopPrefillSampling();
            counting.phase = undefined;
            // EventBridge would write each event with its own SendMessage: counted as such (the bench batched them).
            const counters = counting.counters.prefilled.unlimited;
            counters.pipeline.sqsRequests.SendMessage = ids.length;
            counters.pipeline.sqsBilledRequests.SendMessage = ids.length;
            prefilled = figures(UNLIMITED, 'prefilled queue', null, burst, {
              expected: prefilledIds,
              arrivals: receiver.arrivals.unlimited.slice(before),
              badSignatures: receiver.badSignatures.unlimited - badBefore,
              startedAt,
              publishedAt: new Map(),
              peakQueueDepth: prefillPeaks.unlimited,
              counters,
              recordsNotDeleted: counting.takeUndeleted().unlimited,
            });
            log(
              `deliveries prefilled: ${prefilled.accounting.delivered}/${prefilled.accounting.expected} in ` +
                `${prefilled.firstSentToLastDeliveredSeconds.toFixed(1)} s, ${prefilled.endToEndPerSecond.toFixed(0)}/s`,
            );
          }
          return {
            options,
            sent: run.sent.length,
            answered200: run.sent.filter((s) => s.status === 200).length,
            burst,
            limited,
            unlimited,
            prefilled,
          };
        } finally {
          counting.phase = undefined;
          sqs.destroy();
          await stack.stop({ drainTimeoutMs: 5000 });
        }
      },
    );
  } finally {
    await receiver.close();
  }
}

/** What makes the section fail: a delivery missing or unexpected, a bad signature, a second over the bucket's allowance. */
export function deliveriesFailures(results: DeliveriesResults): string[] {
  const failures: string[] = [];
  for (const run of [results.limited, results.unlimited, results.prefilled]) {
    if (run === null) continue;
    const what = run.fedBy === 'pipeline' ? run.destination : `${run.destination} (${run.fedBy})`;
    const { accounting } = run;
    if (accounting.missing > 0)
      failures.push(`${what}: ${accounting.missing} of ${accounting.expected} not delivered`);
    if (accounting.unexpected > 0) failures.push(`${what}: ${accounting.unexpected} unexpected deliveries`);
    if (run.badSignatures > 0)
      failures.push(`${what}: ${run.badSignatures} deliveries failed signature verification`);
    const grants = run.grants;
    if (grants && (grants.check.windowsOverAllowance > 0 || grants.check.slidingOverAllowance)) {
      failures.push(
        `${what}: the bucket granted more than ${grants.check.allowancePerSecond} tokens (rate + burst) within one second`,
      );
    }
    // A token reserved for a copy that then came back twice (or could not be sent) is not used: fewer deliveries than
    // tokens is waste, more would be deliveries the bucket never allowed.
    if (grants && grants.tokens < run.accounting.delivered) {
      failures.push(`${what}: ${grants.tokens} tokens taken for ${run.accounting.delivered} deliveries`);
    }
  }
  return failures;
}
