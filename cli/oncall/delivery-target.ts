/**
 * Where `payhook deliveries` finds a stack's destinations: the local stack's `stack.json` (`destinations`), or a
 * deployed stack's CloudFormation outputs (`DeliveryQueueUrl-<name>`, `DeliveryDlqUrl-<name>`); with the payments
 * table that holds their stop states (`DESTINATION#<name>`), on AWS CloudWatch for the age of the oldest message, and
 * where its published payment events can be read again (`deliveries replay`): the local events file, or the bus.
 */
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { deliveryOutputKeys } from '../../lambdas/definitions.js';
import type { DestinationSettings } from '../../lambdas/delivery/destinations.js';
import type { BreakerStates, DestinationState, DestinationStates } from '../../lambdas/ports/deliveries.js';
import { DynamoBreakerStates } from '../../lambdas/store/dynamodb-breaker-states.js';
import { DynamoDestinationStates } from '../../lambdas/store/dynamodb-destination-states.js';
import { dataDirFromEnv } from '../../local/contract.js';
import { CliError, type CliIo } from '../io.js';
import { deployedStackOf, type TargetOptions } from './options.js';
import {
  type DeployedStackOptions,
  deployedSqsClient,
  localClientConfig,
  localSqsClient,
  localTable,
  readStackOutputs,
  runningLocalStack,
  type StackOutputs,
  type TableSource,
  tableFromOutputs,
} from './target.js';
import type { DestinationQueues } from './types.js';

/** How old the oldest message on a destination's queue is, or why that is not known. */
export type OldestMessageAge = { readonly seconds: number } | { readonly unknown: string };

/**
 * Where a stack's published payment events can be read again (`deliveries replay`). Locally the bus is the events
 * file, and the destinations' settings (their filters, which the local fan-out applies) come from `stack.json`; on AWS
 * the bus (output `EventBusName`, absent from a stack deployed before it) keeps them in its archive.
 */
export type PublishedEventsSource =
  | {
      readonly kind: 'file';
      readonly path: string;
      readonly settings: Readonly<Record<string, DestinationSettings>>;
      /** The region the local stack's envelopes name (its emulators'). */
      readonly region: string;
    }
  | {
      readonly kind: 'bus';
      readonly stack: string;
      readonly busName: string | undefined;
      readonly config: StackOutputs['config'];
    };

/** A stack's destinations, and what the commands need to read and act on them. */
export interface DeliveriesTarget {
  readonly label: string;
  readonly sqs: SQSClient;
  /** By name. */
  readonly destinations: readonly DestinationQueues[];
  readonly states: DestinationStates;
  /** Each destination's circuit breaker (items beside the stop state). */
  readonly breakers: BreakerStates;
  /** The table the stop states are items of. */
  readonly tableName: string;
  /** The age of the oldest message on each destination's queue, by name. */
  oldestMessageAges(now: Date): Promise<ReadonlyMap<string, OldestMessageAge>>;
  readonly publishedEvents: PublishedEventsSource;
  close(): void;
}

/** What every destination's queue output key starts with (`deliveryOutputKeys`). */
const QUEUE_OUTPUT = deliveryOutputKeys('').queueUrl;
const DESTINATION_NAME = /^[a-z][a-z0-9-]{0,31}$/;
/** The output naming the stack's bus (`lib/payhook-stack.ts`). */
const EVENT_BUS_OUTPUT = 'EventBusName';

/** The last part of a queue URL: the queue's name. */
function queueNameOf(queueUrl: string): string {
  return (
    queueUrl
      .replace(/[?#].*$/, '')
      .split('/')
      .filter(Boolean)
      .pop() ?? ''
  );
}

/**
 * A destination's name, read back from its queue's name (`<prefix>-deliveries-<name>`, `deliveryQueueName`), since its
 * output key lost the dashes: the part after `deliveries-` whose letters and digits are `compact`; `compact` itself
 * when no part is. The stack refuses two names that differ only by dashes, so the letters and digits pick one.
 */
function destinationNameOf(queueUrl: string, compact: string): string {
  const queueName = queueNameOf(queueUrl);
  for (let at = queueName.indexOf('deliveries-'); at >= 0; at = queueName.indexOf('deliveries-', at + 1)) {
    const candidate = queueName.slice(at + 'deliveries-'.length);
    if (DESTINATION_NAME.test(candidate) && candidate.replace(/-/g, '') === compact) return candidate;
  }
  return compact;
}

/** The destinations a deployed stack's outputs name, by name. */
export function destinationsFromOutputs(
  stack: string,
  outputs: Readonly<Record<string, string>>,
): DestinationQueues[] {
  return Object.entries(outputs)
    .filter(([key]) => key.startsWith(QUEUE_OUTPUT))
    .map(([key, queueUrl]) => {
      const compact = key.slice(QUEUE_OUTPUT.length);
      const destination = destinationNameOf(queueUrl, compact);
      const deadLetterKey = deliveryOutputKeys(destination).deadLetterQueueUrl;
      const deadLetterQueueUrl = outputs[deadLetterKey];
      if (!deadLetterQueueUrl) throw new CliError(`stack ${stack} has ${key} but no ${deadLetterKey} output`);
      return { destination, queueUrl, deadLetterQueueUrl };
    })
    .sort((a, b) => a.destination.localeCompare(b.destination));
}

/** What is known without CloudWatch: nothing, for every destination. */
function unknownAges(destinations: readonly DestinationQueues[], why: string): Map<string, OldestMessageAge> {
  return new Map(destinations.map((each) => [each.destination, { unknown: why }]));
}

/**
 * The newest `ApproximateAgeOfOldestMessage` of each destination's queue in the last 15 minutes (SQS reports it every
 * minute), in one CloudWatch call. A failure (no `cloudwatch:GetMetricData`, say) leaves the ages unknown, with why:
 * the rest of the status is still worth printing.
 */
async function cloudWatchAges(
  config: StackOutputs['config'],
  destinations: readonly DestinationQueues[],
  now: Date,
): Promise<Map<string, OldestMessageAge>> {
  if (destinations.length === 0) return new Map();
  const cloudwatch = new CloudWatchClient(config);
  try {
    const { MetricDataResults = [] } = await cloudwatch.send(
      new GetMetricDataCommand({
        StartTime: new Date(now.getTime() - 15 * 60_000),
        EndTime: now,
        ScanBy: 'TimestampDescending',
        MetricDataQueries: destinations.map((each, index) => ({
          Id: `q${index}`,
          ReturnData: true,
          MetricStat: {
            Metric: {
              Namespace: 'AWS/SQS',
              MetricName: 'ApproximateAgeOfOldestMessage',
              Dimensions: [{ Name: 'QueueName', Value: queueNameOf(each.queueUrl) }],
            },
            Period: 60,
            Stat: 'Maximum',
          },
        })),
      }),
    );
    const ages = unknownAges(destinations, 'no CloudWatch datapoint in the last 15 minutes');
    for (const result of MetricDataResults) {
      const destination = destinations[Number(result.Id?.slice(1))]?.destination;
      const [newest] = result.Values ?? [];
      if (destination !== undefined && newest !== undefined) ages.set(destination, { seconds: newest });
    }
    return ages;
  } catch (error) {
    return unknownAges(destinations, `CloudWatch: ${(error as Error).name}`);
  } finally {
    cloudwatch.destroy();
  }
}

function targetOver(
  label: string,
  sqs: SQSClient,
  destinations: readonly DestinationQueues[],
  table: TableSource,
  oldestMessageAges: DeliveriesTarget['oldestMessageAges'],
  publishedEvents: PublishedEventsSource,
): DeliveriesTarget {
  return {
    label,
    sqs,
    destinations,
    states: new DynamoDestinationStates(table.documents, table.tableName),
    breakers: new DynamoBreakerStates(table.documents, table.tableName),
    tableName: table.tableName,
    oldestMessageAges,
    publishedEvents,
    close: () => {
      sqs.destroy();
      table.close();
    },
  };
}

/** The running local stack's destinations, as its `stack.json` records them. */
export function localDeliveries(dataDir: string): DeliveriesTarget {
  const info = runningLocalStack(dataDir);
  if (!info.sqs || info.destinations === undefined) {
    throw new CliError(
      "the local stack's stack.json records no delivery queues (an older payhook wrote it): restart it with `npm start`",
    );
  }
  const destinations = Object.entries(info.destinations)
    .map(([destination, { queueUrl, deadLetterQueueUrl }]) => ({ destination, queueUrl, deadLetterQueueUrl }))
    .sort((a, b) => a.destination.localeCompare(b.destination));
  const why = "not measured locally: it is CloudWatch's ApproximateAgeOfOldestMessage, on AWS only";
  // The table first: it is what can still be missing (a stack.json without a payments table), before any client.
  const table = localTable(dataDir, 'payments');
  const settings = Object.fromEntries(
    Object.entries(info.destinations).map(([name, destination]) => [name, destination.settings]),
  );
  return targetOver(
    `local stack at ${info.url}`,
    localSqsClient(info.sqs.endpoint),
    destinations,
    table,
    async () => unknownAges(destinations, why),
    { kind: 'file', path: info.eventsFile, settings, region: localClientConfig(info.sqs.endpoint).region },
  );
}

/** A deployed stack's destinations, from its outputs, reached with the operator's credentials. */
export async function deployedDeliveries(options: DeployedStackOptions): Promise<DeliveriesTarget> {
  const read = await readStackOutputs(options);
  const destinations = destinationsFromOutputs(options.stack, read.outputs);
  const table = tableFromOutputs(options, read, 'payments');
  return targetOver(
    `stack ${options.stack}${options.region ? ` (${options.region})` : ''}`,
    deployedSqsClient(read.config),
    destinations,
    table,
    (now) => cloudWatchAges(read.config, destinations, now),
    { kind: 'bus', stack: options.stack, busName: read.outputs[EVENT_BUS_OUTPUT], config: read.config },
  );
}

/** The local stack's destinations (found through PAYHOOK_DATA_DIR), or those of the stack --stack names. */
export async function deliveriesTargetOf(io: CliIo, options: TargetOptions): Promise<DeliveriesTarget> {
  if (options.stack) return deployedDeliveries(deployedStackOf(io, { ...options, stack: options.stack }));
  return localDeliveries(dataDirFromEnv(io.env ?? process.env));
}

/** The destination called `name`; a {@link CliError} naming the ones there are when there is none. */
export function destinationNamed(target: DeliveriesTarget, name: string): DestinationQueues {
  const found = target.destinations.find((each) => each.destination === name);
  if (found) return found;
  const known = target.destinations.map((each) => each.destination);
  throw new CliError(
    `no destination ${name} in ${target.label}: ${
      known.length === 0 ? 'it delivers to none' : `its destinations are ${known.join(', ')}`
    }`,
  );
}

/** Runs `work` on the target of `options`, then closes its clients whatever happened. */
export async function withDeliveriesTarget(
  io: CliIo,
  options: TargetOptions,
  work: (target: DeliveriesTarget) => Promise<void>,
): Promise<void> {
  const target = await deliveriesTargetOf(io, options);
  try {
    await work(target);
  } finally {
    target.close();
  }
}

/** A state read for output; an unreadable table (no `dynamodb:GetItem`, say) fails the command with the reason. */
export async function destinationStateOf(
  target: DeliveriesTarget,
  destination: string,
): Promise<DestinationState> {
  try {
    return await target.states.get(destination);
  } catch (error) {
    throw new CliError(
      `cannot read ${destination}'s state from table ${target.tableName} of ${target.label}: ${(error as Error).message}`,
    );
  }
}
