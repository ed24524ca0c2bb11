/**
 * Deliveries in the local stack: the destinations' queues (as the stack creates them on AWS) and the pollers that play each destination queue's event source mapping into the real delivery function.
 * The payment events reach the queues through `delivery-fan-out.ts`, the local stand-in for the delivery rules.
 */
import { CreateQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { EmfMetrics } from '../lambdas/common/metrics.js';
import type { DeliveryTargetLocation } from '../lambdas/composition/delivery.js';
import {
  DELIVERIES_ENV,
  DELIVERY_BATCH_SIZE,
  DELIVERY_MAX_RECEIVE_COUNT,
  DELIVERY_QUEUE_VISIBILITY_SECONDS,
  DELIVERY_TIMEOUT_SECONDS,
  QUEUE_MAX_MESSAGE_BYTES,
} from '../lambdas/definitions.js';
import { createDeliverer, type DelivererDependencies } from '../lambdas/delivery/deliverer.js';
import {
  type DestinationSettings,
  originalGatewaysOf,
  parseDestinationsJson,
} from '../lambdas/delivery/destinations.js';
import { lambdaContext } from './lambda-context.js';
import { pollOnce, queueArnOf } from './sqs-event-source.js';

/** Destinations as `startLocalStack` takes them: the JSON text of `PAYHOOK_DESTINATIONS`, or the object it holds. */
export type DestinationsOption = string | Readonly<Record<string, unknown>>;

/** The destinations' JSON text and settings; throws `InvalidDestinationError` naming the field at fault. */
export function localDestinations(option: DestinationsOption | undefined): {
  readonly json: string | undefined;
  readonly settings: Readonly<Record<string, DestinationSettings>>;
} {
  const json = typeof option === 'string' || option === undefined ? option : JSON.stringify(option);
  // Locally an endpoint may be plain http on loopback: the merchant's test server, `payhook listen`.
  const settings = parseDestinationsJson(json, DELIVERIES_ENV.destinations, { allowHttp: true });
  return { json, settings };
}

/** `deliveries-<name>` and `deliveries-<name>-dlq`. */
export function deliveryQueueName(destination: string, kind: 'main' | 'deadLetter' = 'main'): string {
  return kind === 'main' ? `deliveries-${destination}` : `deliveries-${destination}-dlq`;
}

export type DeliveryQueueUrls = Required<Omit<DeliveryTargetLocation, 'secretId'>>;

/** A destination of the local stack: its settings and its queues. */
export interface LocalDestination extends DeliveryQueueUrls {
  readonly settings: DestinationSettings;
}

const FOURTEEN_DAYS = String(14 * 24 * 3600);

/**
 * A queue and a dead-letter queue per destination, as the stack creates them (`lib/deliveries.ts`): kept 14 days (the
 * longest retry period is just under that), the visibility timeout and the redrive safety net of `definitions.ts`.
 * The delivery function dead-letters a record itself, with its reason; SQS's redrive only catches one it keeps
 * crashing on, or one held for days while its destination is stopped.
 */
export async function createDeliveryQueues(
  client: SQSClient,
  destinations: Readonly<Record<string, DestinationSettings>>,
): Promise<Record<string, LocalDestination>> {
  const created: Record<string, LocalDestination> = {};
  for (const [destination, settings] of Object.entries(destinations)) {
    const dlq = await client.send(
      new CreateQueueCommand({
        QueueName: deliveryQueueName(destination, 'deadLetter'),
        Attributes: {
          MessageRetentionPeriod: FOURTEEN_DAYS,
          MaximumMessageSize: String(QUEUE_MAX_MESSAGE_BYTES),
        },
      }),
    );
    if (!dlq.QueueUrl) throw new Error(`CreateQueue returned no URL for ${destination}'s dead-letter queue`);
    const main = await client.send(
      new CreateQueueCommand({
        QueueName: deliveryQueueName(destination),
        Attributes: {
          MessageRetentionPeriod: FOURTEEN_DAYS,
          MaximumMessageSize: String(QUEUE_MAX_MESSAGE_BYTES),
          VisibilityTimeout: String(DELIVERY_QUEUE_VISIBILITY_SECONDS),
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: queueArnOf(dlq.QueueUrl),
            maxReceiveCount: DELIVERY_MAX_RECEIVE_COUNT,
          }),
        },
      }),
    );
    if (!main.QueueUrl) throw new Error(`CreateQueue returned no URL for ${destination}'s queue`);
    created[destination] = { queueUrl: main.QueueUrl, deadLetterQueueUrl: dlq.QueueUrl, settings };
  }
  return created;
}

/**
 * The environment of deliveries for these destinations and queues: the delivery function's
 * (`PAYHOOK_DELIVERY_TARGETS`, no ARNs), and, for `original` destinations, ingest's gateways to carry originals for
 * and the consumers' queues to send them to (as `lib/deliveries.ts` sets them on AWS).
 */
export function deliveryEnvironment(
  json: string | undefined,
  destinations: Readonly<Record<string, LocalDestination>>,
): Record<string, string | undefined> {
  const entries = Object.entries(destinations);
  const targets = Object.fromEntries(
    entries.map(([name, { queueUrl, deadLetterQueueUrl }]) => [name, { queueUrl, deadLetterQueueUrl }]),
  );
  const originals = entries.filter(([, { settings }]) => settings.format === 'original');
  const gateways = originalGatewaysOf(
    Object.fromEntries(originals.map(([name, { settings }]) => [name, settings])),
  );
  return {
    [DELIVERIES_ENV.destinations]: json,
    [DELIVERIES_ENV.targets]: JSON.stringify(targets),
    ...(originals.length > 0 && {
      [DELIVERIES_ENV.originalGateways]: gateways.join(','),
      [DELIVERIES_ENV.originalQueues]: JSON.stringify(
        Object.fromEntries(
          originals.map(([name, { queueUrl, settings }]) => [
            name,
            { queueUrl, ...(settings.gateways && { gateways: settings.gateways }) },
          ]),
        ),
      ),
    }),
  };
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

export interface DeliveryPollerOptions {
  readonly sqs: SQSClient;
  /** What `deliveryDependencies` built; each poller gets its own deliverer and metrics around them. */
  readonly dependencies: DelivererDependencies;
  readonly workersPerQueue: number;
  readonly pollWaitSeconds: number;
  readonly report: (line: string) => void;
  readonly polling: () => boolean;
}

/** One poller's loop over a destination's queue, until `polling()` turns false. */
async function pollDestination(
  options: DeliveryPollerOptions,
  queueUrl: string,
  label: string,
): Promise<void> {
  // One deliverer per poller, as Lambda gives each concurrent invocation its own execution environment.
  const fresh = () =>
    createDeliverer({ ...options.dependencies, metrics: new EmfMetrics('payhook-deliver') });
  let deliver = fresh();
  while (options.polling()) {
    try {
      // Failed records keep the visibility the function gave them (a back-off, Retry-After, a stopped destination).
      const result = await pollOnce(options.sqs, queueUrl, deliver, {
        batchSize: DELIVERY_BATCH_SIZE,
        waitSeconds: options.pollWaitSeconds,
        context: (id) => lambdaContext('payhook-deliver', DELIVERY_TIMEOUT_SECONDS, id),
        timeoutMs: DELIVERY_TIMEOUT_SECONDS * 1000,
      });
      if (result.timedOut) {
        deliver = fresh();
        options.report(
          `delivery ${label} timed out after ${DELIVERY_TIMEOUT_SECONDS} s with ${result.received} message(s); they come back after the queue's visibility timeout`,
        );
      }
    } catch (error) {
      if (!options.polling()) return;
      options.report(`poller ${label} failed: ${(error as Error).message}; retrying in 1 s`);
      await sleep(1000);
    }
  }
}

/**
 * Pollers that play each destination queue's event source mapping: batches of {@link DELIVERY_BATCH_SIZE}, within the
 * function's timeout, as many per queue as the destination's `maxConcurrency` allows (and `workersPerQueue`).
 */
export function startDeliveryPollers(options: DeliveryPollerOptions): Promise<void>[] {
  return options.dependencies.targets.flatMap((target) => {
    const workers = Math.max(1, Math.min(target.settings.maxConcurrency, options.workersPerQueue));
    return Array.from({ length: workers }, (_, worker) =>
      pollDestination(options, target.queueUrl, `${target.name}#${worker}`),
    );
  });
}
