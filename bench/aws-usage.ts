/**
 * AWS calls counted where they are made: SDK middleware on the local stack's clients (the same clients, commands and
 * inputs the Lambda functions use), plus the stack's hooks for what has no AWS client locally (the publisher stands in
 * for EventBridge; the ingest handler and the consumers are what Lambda would invoke).
 *
 * - SQS: requests by operation, billed in 64 KB chunks of payload; receives that returned nothing are kept apart
 *   (on AWS the event source mapping's idle polling is a cost per hour, not per webhook).
 * - DynamoDB: read and write units from `ReturnConsumedCapacity: TOTAL` (added to every item call), plus what the
 *   emulator leaves out: writes to the payments table's global secondary indexes (from the item before and after,
 *   `ReturnValues: ALL_OLD` added where the caller asked for nothing) and failed conditional writes, which DynamoDB
 *   bills at the size of the item written.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AwsClient } from '../lambdas/composition/clients.js';
import { PAYMENTS_TABLE } from '../lambdas/definitions.js';
import type { LocalStackHooks } from '../local/stack.js';

export interface AwsUsage {
  /** Requests by operation, empty receives excluded. */
  readonly sqsRequests: Record<string, number>;
  /** The same requests in 64 KB billing units. */
  readonly sqsBilledRequests: Record<string, number>;
  emptyReceives: number;
  dynamoReadUnits: number;
  /** Table writes as DynamoDB reports them. */
  dynamoWriteUnits: number;
  /** Index writes on the payments table (the emulator does not count them). */
  dynamoIndexWriteUnits: number;
  /** Conditional writes refused (a racing writer, a duplicate meeting its idempotency record), and their units. */
  dynamoFailedConditionalWrites: number;
  dynamoFailedConditionalWriteUnits: number;
  readonly dynamoCalls: Record<string, number>;
  eventBridgeEntries: number;
  /** EventBridge bills each 64 KB chunk of an entry as one event. */
  eventBridgeBilledEvents: number;
  ingestInvocations: number;
  /** Sum over invocations of the duration rounded up to the millisecond, as Lambda bills it. */
  ingestBilledMs: number;
  consumerInvocations: number;
  consumerRecords: number;
  consumerBilledMs: number;
}

export function emptyUsage(): AwsUsage {
  return {
    sqsRequests: {},
    sqsBilledRequests: {},
    emptyReceives: 0,
    dynamoReadUnits: 0,
    dynamoWriteUnits: 0,
    dynamoIndexWriteUnits: 0,
    dynamoFailedConditionalWrites: 0,
    dynamoFailedConditionalWriteUnits: 0,
    dynamoCalls: {},
    eventBridgeEntries: 0,
    eventBridgeBilledEvents: 0,
    ingestInvocations: 0,
    ingestBilledMs: 0,
    consumerInvocations: 0,
    consumerRecords: 0,
    consumerBilledMs: 0,
  };
}

/** The sum of several usages (counts added key by key). */
export function mergeUsage(...usages: readonly AwsUsage[]): AwsUsage {
  const merged = emptyUsage();
  const addCounts = (into: Record<string, number>, from: Readonly<Record<string, number>>) => {
    for (const [key, count] of Object.entries(from)) into[key] = (into[key] ?? 0) + count;
  };
  for (const usage of usages) {
    addCounts(merged.sqsRequests, usage.sqsRequests);
    addCounts(merged.sqsBilledRequests, usage.sqsBilledRequests);
    addCounts(merged.dynamoCalls, usage.dynamoCalls);
    for (const key of [
      'emptyReceives',
      'dynamoReadUnits',
      'dynamoWriteUnits',
      'dynamoIndexWriteUnits',
      'dynamoFailedConditionalWrites',
      'dynamoFailedConditionalWriteUnits',
      'eventBridgeEntries',
      'eventBridgeBilledEvents',
      'ingestInvocations',
      'ingestBilledMs',
      'consumerInvocations',
      'consumerRecords',
      'consumerBilledMs',
    ] as const) {
      merged[key] += usage[key];
    }
  }
  return merged;
}

const KB = 1024;
const SQS_CHUNK = 64 * KB;
const ITEM_CALLS = new Set([
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'Scan',
  'BatchGetItem',
  'BatchWriteItem',
  'TransactGetItems',
  'TransactWriteItems',
]);
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

type AttributeValue = Record<string, unknown>;
type Item = Record<string, unknown>;

const TYPES = new Set(['S', 'N', 'B', 'BOOL', 'NULL', 'SS', 'NS', 'BS', 'L', 'M']);

/** `{ S: 'x' }` rather than `'x'`: the low-level client's shape, not the document client's plain values. */
function isAttributeValue(value: unknown): value is AttributeValue {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array)
    return false;
  const keys = Object.keys(value);
  return keys.length === 1 && TYPES.has(keys[0] as string);
}

/** A plain value's size as DynamoDB counts it once marshalled (the document client's items reach us unmarshalled). */
function plainBytes(value: unknown): number {
  if (value === null || value === undefined || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number' || typeof value === 'bigint') {
    return Math.ceil(String(value).replace(/^-|\./g, '').length / 2) + 1;
  }
  if (value instanceof Uint8Array) return value.length;
  if (value instanceof Set) return [...value].reduce<number>((sum, element) => sum + plainBytes(element), 0);
  if (Array.isArray(value))
    return 3 + value.reduce<number>((sum, element) => sum + 1 + plainBytes(element), 0);
  return (
    3 +
    Object.entries(value as Record<string, unknown>).reduce(
      (sum, [name, element]) => sum + 1 + Buffer.byteLength(name) + plainBytes(element),
      0,
    )
  );
}

/**
 * DynamoDB's item size: attribute names plus values (strings and binary by length, numbers about 1 byte per 2
 * digits), whether the item is marshalled (`{ S: 'x' }`) or plain, as the document client passes it.
 */
export function itemBytes(item: Record<string, unknown> | undefined): number {
  if (!item) return 0;
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) {
    bytes += Buffer.byteLength(name) + (isAttributeValue(value) ? valueBytes(value) : plainBytes(value));
  }
  return bytes;
}

function valueBytes(value: AttributeValue): number {
  const [type, inner] = Object.entries(value)[0] ?? ['NULL', true];
  switch (type) {
    case 'S':
      return Buffer.byteLength(String(inner));
    case 'N':
      return Math.ceil(String(inner).replace(/^-|\./g, '').length / 2) + 1;
    case 'B':
      return (inner as Uint8Array).length;
    case 'BOOL':
    case 'NULL':
      return 1;
    case 'SS':
    case 'NS':
    case 'BS':
      return (inner as unknown[]).reduce<number>(
        (sum, element) => sum + valueBytes({ [type.slice(0, 1)]: element }),
        0,
      );
    case 'L':
      return 3 + (inner as AttributeValue[]).reduce((sum, element) => sum + 1 + valueBytes(element), 0);
    case 'M':
      return (
        3 +
        Object.entries(inner as Record<string, AttributeValue>).reduce(
          (sum, [name, element]) => sum + 1 + Buffer.byteLength(name) + valueBytes(element),
          0,
        )
      );
    default:
      return 0;
  }
}

const writeUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / KB));

interface IndexShape {
  readonly keys: readonly string[];
  readonly projectsAll: boolean;
}

/** The payments table's indexes, as `local/tables.ts` and the CDK stack create them. */
const PAYMENT_INDEXES: readonly IndexShape[] = [
  {
    keys: [PAYMENTS_TABLE.pendingIndex.partitionKey, PAYMENTS_TABLE.pendingIndex.sortKey],
    projectsAll: true,
  },
  { keys: [PAYMENTS_TABLE.referenceIndex.partitionKey], projectsAll: false },
  { keys: [PAYMENTS_TABLE.gatewayPaymentIdIndex.partitionKey], projectsAll: false },
];

/**
 * Write units a put costs in the indexes: an entry added or removed costs its projected size, a changed key costs
 * both, and an unchanged key costs the new size only where the index projects every attribute.
 */
export function indexWriteUnits(before: Item | undefined, after: Item): number {
  let units = 0;
  for (const index of PAYMENT_INDEXES) {
    const key = (item: Item | undefined) =>
      item && index.keys.every((name) => item[name] !== undefined)
        ? JSON.stringify(index.keys.map((name) => item[name]))
        : undefined;
    const size = (item: Item) => (index.projectsAll ? writeUnits(itemBytes(item)) : 1);
    const [was, is] = [key(before), key(after)];
    if (was === undefined && is === undefined) continue;
    if (was === undefined) units += size(after);
    else if (is === undefined) units += size(before as Item);
    else if (was !== is) units += size(before as Item) + size(after);
    else if (index.projectsAll) units += size(after);
  }
  return units;
}

const bump = (counts: Record<string, number>, key: string, by = 1) => {
  counts[key] = (counts[key] ?? 0) + by;
};

function sqsPayloadBytes(operation: string, input: Record<string, unknown>, output: unknown): number {
  const text = (value: unknown) => Buffer.byteLength(JSON.stringify(value ?? ''));
  if (operation === 'SendMessage') return text(input.MessageBody) + text(input.MessageAttributes);
  if (operation === 'SendMessageBatch') return text(input.Entries);
  if (operation === 'ReceiveMessage') return text((output as { Messages?: unknown }).Messages);
  return 0;
}

function countSqs(usage: AwsUsage, operation: string, input: Record<string, unknown>, output: unknown): void {
  if (operation === 'GetQueueAttributes' || operation === 'CreateQueue' || operation === 'GetQueueUrl')
    return;
  if (operation === 'ReceiveMessage' && ((output as { Messages?: unknown[] }).Messages ?? []).length === 0) {
    usage.emptyReceives += 1;
    return;
  }
  bump(usage.sqsRequests, operation);
  bump(
    usage.sqsBilledRequests,
    operation,
    Math.max(1, Math.ceil(sqsPayloadBytes(operation, input, output) / SQS_CHUNK)),
  );
}

interface ConsumedCapacity {
  readonly CapacityUnits?: number;
}

function consumedUnits(output: unknown): number {
  const consumed = (output as { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] }).ConsumedCapacity;
  const list = Array.isArray(consumed) ? consumed : consumed ? [consumed] : [];
  return list.reduce((sum, entry) => sum + (entry.CapacityUnits ?? 0), 0);
}

/**
 * Which usage a call counts into, from its operation and input (a queue URL, an item's key); `undefined`: not
 * counted. Lets one client's calls be split, e.g. by the destination whose queue or item they touch.
 */
export type UsageRouter = (
  operation: string,
  input: Readonly<Record<string, unknown>>,
) => AwsUsage | undefined;

/**
 * Adds the counting middleware to one client; `isCounting` lets the bench count only its timed run. `usage` is where
 * every call counts, or a {@link UsageRouter} choosing per call.
 */
export function countCalls(
  usage: AwsUsage | UsageRouter,
  client: AwsClient,
  isCounting: () => boolean,
  paymentsTable: () => string | undefined,
): void {
  const stack = client.middlewareStack as DynamoDBClient['middlewareStack'];
  stack.add(
    (next, context) => async (args) => {
      const operation = String(context.commandName ?? '').replace(/Command$/, '');
      if (!isCounting()) return next(args);
      const routed =
        typeof usage === 'function' ? usage(operation, args.input as Record<string, unknown>) : usage;
      if (routed === undefined) return next(args);
      const isDynamo = context.clientName === 'DynamoDBClient';
      const input = { ...(args.input as Record<string, unknown>) };
      if (!isDynamo) {
        const result = await next(args);
        countSqs(routed, operation, input, result.output);
        return result;
      }
      if (!ITEM_CALLS.has(operation)) return next(args);
      bump(routed.dynamoCalls, operation);
      input.ReturnConsumedCapacity = 'TOTAL';
      const isPaymentPut = operation === 'PutItem' && input.TableName === paymentsTable();
      const askedForOld = isPaymentPut && input.ReturnValues === undefined;
      if (askedForOld) input.ReturnValues = 'ALL_OLD';
      try {
        const result = await next({ ...args, input });
        const units = consumedUnits(result.output);
        if (WRITES.has(operation)) routed.dynamoWriteUnits += units;
        else routed.dynamoReadUnits += units;
        if (isPaymentPut) {
          const before = (result.output as { Attributes?: Item }).Attributes;
          routed.dynamoIndexWriteUnits += indexWriteUnits(before, input.Item as Item);
          if (askedForOld) delete (result.output as { Attributes?: Item }).Attributes;
        }
        return result;
      } catch (error) {
        if ((error as Error).name === 'ConditionalCheckFailedException') {
          routed.dynamoFailedConditionalWrites += 1;
          routed.dynamoFailedConditionalWriteUnits += writeUnits(itemBytes(input.Item as Item | undefined));
        }
        throw error;
      }
    },
    // Before serialisation. The document client's commands may still hold plain values here (its marshalling runs
    // just before the serializer), so item sizes accept both shapes.
    { step: 'serialize', priority: 'high', name: 'payhookBenchCallCounter' },
  );
}

/** The local stack's hooks that count Lambda invocations and EventBridge entries, and add the middleware. */
export function countingHooks(
  usage: AwsUsage,
  isCounting: () => boolean,
  paymentsTable: () => string | undefined,
): LocalStackHooks {
  const billedMs = (started: number) => Math.ceil(performance.now() - started);
  return {
    awsClient: (client) => countCalls(usage, client, isCounting, paymentsTable),
    publisher: (inner) => ({
      async publish(event) {
        if (isCounting()) {
          usage.eventBridgeEntries += 1;
          usage.eventBridgeBilledEvents += Math.max(
            1,
            Math.ceil(Buffer.byteLength(JSON.stringify(event)) / SQS_CHUNK),
          );
        }
        await inner.publish(event);
      },
    }),
    ingest: (handler) => async (event) => {
      const started = performance.now();
      try {
        return await handler(event);
      } finally {
        if (isCounting()) {
          usage.ingestInvocations += 1;
          usage.ingestBilledMs += billedMs(started);
        }
      }
    },
    consumer: (_priority, handler) => async (event, context) => {
      const started = performance.now();
      try {
        return await handler(event, context);
      } finally {
        if (isCounting()) {
          usage.consumerInvocations += 1;
          usage.consumerRecords += event.Records.length;
          usage.consumerBilledMs += billedMs(started);
        }
      }
    },
  };
}
