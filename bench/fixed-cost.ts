/**
 * What a deployment costs per month when no webhook arrives (issue #20, point 2): read from the synthesised template
 * (alarms, dashboards, secrets, keys, event source mappings, schedules, tables), plus the custom metrics the functions
 * write (`lambdas/common/metrics.ts`, `METRICS` in `lambdas/definitions.ts`) in a month of occasional traffic, and
 * what an idle reconciler run does (run here against a stub DynamoDB client that counts the calls). List prices,
 * us-east-1, no free tier: `PRICES` and `MONTHLY_PRICES` in `bench/cost.ts`.
 *
 * The stack is synthesised in this process as `test/infra/support.ts` does, with bundling skipped.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { App } from 'aws-cdk-lib';
import type { Context } from 'aws-lambda';
import { EmfMetrics, type MetricsRecorder } from '../lambdas/common/metrics.js';
import { createLogger } from '../lambdas/common/powertools.js';
import { CONFIRMATION_SCHEDULE, METRICS, PRIORITIES } from '../lambdas/definitions.js';
import type { GatewayName } from '../lambdas/domain/webhook-event.js';
import type { FailureReason } from '../lambdas/intake/receive-webhook.js';
import type { RefusalReason } from '../lambdas/ports/refused-requests.js';
import {
  DEFAULT_RECONCILE_SETTINGS,
  type ReconcileScope,
  reconcile,
} from '../lambdas/reconciliation/reconcile.js';
import { VERIFIERS } from '../lambdas/reconciliation/verifiers/index.js';
import { DynamoPaymentStore } from '../lambdas/store/dynamodb-payment-store.js';
import { RECONCILER_PROGRESS_PREFIX } from '../lambdas/store/pending-index.js';
import { parsePayhookConfig } from '../lib/config.js';
import { SYSTEM_LOG_LEVEL } from '../lib/payhook-function.js';
import { SERVICES } from '../lib/payhook-metrics.js';
import { PayhookStack } from '../lib/payhook-stack.js';
import {
  MONTHLY_PRICES,
  type MonthlyPrice,
  PLATFORM_LOG_BYTES,
  PRICES,
  type Price,
  platformLogBytesPerInvocation,
} from './cost.js';

/** Hours in a month, as AWS's own monthly estimates count them. */
export const HOURS_PER_MONTH = 730;
/** Issue #20's target for the fixed monthly cost of an idle deployment with two active gateways. */
export const FIXED_MONTHLY_TARGET_DOLLARS = 10;

// ---------------------------------------------------------------------------------------------------------------
// The template

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Readonly<Record<string, unknown>>;
  readonly Metadata?: Readonly<Record<string, unknown>>;
}

export interface CfnTemplate {
  readonly Resources: Readonly<Record<string, CfnResource>>;
}

type Fields = Readonly<Record<string, unknown>>;

const isFields = (value: unknown): value is Fields =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const fields = (value: unknown): Fields => (isFields(value) ? value : {});
const list = (value: unknown): readonly unknown[] => (Array.isArray(value) ? value : []);
/** A template value as text: tokens (`{"Ref": ...}`) as their JSON. */
const text = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

function resourcesOf(template: CfnTemplate, type: string): [string, Fields][] {
  return Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === type)
    .map(([id, resource]) => [id, resource.Properties ?? {}]);
}

/** `shop-prod/Monitoring/high-dlq-depth/Resource` -> `high-dlq-depth`. */
function constructName(template: CfnTemplate, id: string): string {
  const path = template.Resources[id]?.Metadata?.['aws:cdk:path'];
  const segments = typeof path === 'string' ? path.split('/') : [];
  return segments.at(-1) === 'Resource' ? (segments.at(-2) ?? id) : (segments.at(-1) ?? id);
}

/** The logical id a `{"Fn::GetAtt": [id, attribute]}` or `{"Ref": id}` names, if it is one. */
function referencedId(value: unknown): string | undefined {
  const getAtt = fields(value)['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  const ref = fields(value).Ref;
  return typeof ref === 'string' ? ref : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Alarms: billed per metric they read

/** One metric an alarm reads: a `MetricStat` of a metric-math alarm, or a single-metric alarm's metric. */
export interface AlarmRead {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
}

export interface AlarmBill {
  readonly id: string;
  /** The alarm's construct id (from `aws:cdk:path`), else its logical id. */
  readonly name: string;
  readonly reads: readonly AlarmRead[];
  /** Alarm metrics billed: one per metric read (expressions are free), three per metric for anomaly detection. */
  readonly billedMetrics: number;
  /** A period under 60 s: billed at the high-resolution price. */
  readonly highResolution: boolean;
  readonly anomalyDetection: boolean;
}

function dimensionsOf(value: unknown): Record<string, string> {
  return Object.fromEntries(
    list(value).map((entry) => [text(fields(entry).Name), text(fields(entry).Value)]),
  );
}

/**
 * Every `AWS::CloudWatch::Alarm` with what it is billed for: a single-metric alarm reads one metric; a metric-math
 * alarm (`Metrics`) one per `MetricStat`, whatever its expressions do with them; an anomaly-detection alarm
 * (`ANOMALY_DETECTION_BAND`) three per metric (the metric and the band's two bounds).
 */
export function alarmBills(template: CfnTemplate): AlarmBill[] {
  return resourcesOf(template, 'AWS::CloudWatch::Alarm').map(([id, properties]) => {
    const reads: AlarmRead[] = [];
    const periods: number[] = [];
    let anomalyDetection = false;
    const metrics = list(properties.Metrics);
    if (metrics.length > 0) {
      for (const entry of metrics.map(fields)) {
        const stat = fields(entry.MetricStat);
        if (entry.MetricStat !== undefined) {
          const metric = fields(stat.Metric);
          reads.push({
            namespace: text(metric.Namespace),
            metricName: text(metric.MetricName),
            dimensions: dimensionsOf(metric.Dimensions),
          });
          if (typeof stat.Period === 'number') periods.push(stat.Period);
        }
        if (typeof entry.Expression === 'string' && entry.Expression.includes('ANOMALY_DETECTION_BAND')) {
          anomalyDetection = true;
        }
      }
    } else if (properties.MetricName !== undefined) {
      reads.push({
        namespace: text(properties.Namespace),
        metricName: text(properties.MetricName),
        dimensions: dimensionsOf(properties.Dimensions),
      });
    }
    if (typeof properties.Period === 'number') periods.push(properties.Period);
    return {
      id,
      name: constructName(template, id),
      reads,
      billedMetrics: reads.length * (anomalyDetection ? 3 : 1),
      highResolution: periods.some((period) => period < 60),
      anomalyDetection,
    };
  });
}

// ---------------------------------------------------------------------------------------------------------------
// SQS event source mappings: idle long polling

/** SQS's longest receive wait, which Lambda's pollers use: each poller makes one receive per 20 s on an empty queue. */
export const LONG_POLL_WAIT_SECONDS = 20;

/**
 * Pollers an idle SQS event source keeps: "When traffic is low, Lambda scales back the processing to five concurrent
 * batches, and can optimize to as few as 2 concurrent batches to reduce the SQS calls and corresponding costs.
 * However, this optimization is not available when you enable the maximum concurrency setting." (Lambda developer
 * guide, "Configuring scaling behavior for SQS event source mappings",
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html). Provisioned mode keeps its `MinimumPollers`.
 */
export const IDLE_POLLERS = { withMaximumConcurrency: 5, withoutMaximumConcurrency: 2 } as const;

export const SQS_SCALING_SOURCE =
  'Lambda DG, services-sqs-scaling (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html): 5 pollers at low traffic, "as few as 2" only without maximum concurrency';

export interface EventSourcePolling {
  readonly id: string;
  readonly queue: string;
  readonly pollers: number;
  readonly why: string;
  readonly receivesPerMonth: number;
}

/** Empty receives per month of one poller: one long poll every {@link LONG_POLL_WAIT_SECONDS}. */
export const RECEIVES_PER_POLLER_MONTH = (HOURS_PER_MONTH * 3600) / LONG_POLL_WAIT_SECONDS;

/** Every event source mapping on an SQS queue, with the pollers it keeps when the queue is empty. */
export function eventSourcePolling(template: CfnTemplate): EventSourcePolling[] {
  const polling: EventSourcePolling[] = [];
  for (const [id, properties] of resourcesOf(template, 'AWS::Lambda::EventSourceMapping')) {
    const source = referencedId(properties.EventSourceArn);
    const isQueue = source
      ? template.Resources[source]?.Type === 'AWS::SQS::Queue'
      : text(properties.EventSourceArn).includes(':sqs:');
    if (!isQueue) continue;
    const provisioned = fields(properties.ProvisionedPollerConfig).MinimumPollers;
    const maximumConcurrency = fields(properties.ScalingConfig).MaximumConcurrency;
    const [pollers, why] =
      typeof provisioned === 'number'
        ? [provisioned, 'provisioned mode: its MinimumPollers (poller-hours billed on top, not counted here)']
        : maximumConcurrency !== undefined
          ? [
              IDLE_POLLERS.withMaximumConcurrency,
              'MaximumConcurrency set: 5 pollers, no 2-poller optimisation',
            ]
          : [IDLE_POLLERS.withoutMaximumConcurrency, 'no MaximumConcurrency: as few as 2 pollers'];
    polling.push({
      id,
      queue: source ? constructName(template, source) : text(properties.EventSourceArn),
      pollers,
      why,
      receivesPerMonth: pollers * RECEIVES_PER_POLLER_MONTH,
    });
  }
  return polling;
}

// ---------------------------------------------------------------------------------------------------------------
// Schedules

const RATE_UNITS_MINUTES: Readonly<Record<string, number>> = {
  minute: 1,
  minutes: 1,
  hour: 60,
  hours: 60,
  day: 1440,
  days: 1440,
};

/** Invocations per month of a `rate(...)` schedule expression. */
export function invocationsPerMonth(expression: string): number {
  const match = /^rate\((\d+) (minutes?|hours?|days?)\)$/.exec(expression.trim());
  const minutes = match ? Number(match[1]) * (RATE_UNITS_MINUTES[match[2] ?? ''] ?? Number.NaN) : Number.NaN;
  if (!Number.isFinite(minutes) || minutes <= 0) {
    throw new Error(`schedule expression "${expression}" is not modelled (only rate(N unit))`);
  }
  return (HOURS_PER_MONTH * 60) / minutes;
}

export interface ScheduledFunction {
  readonly id: string;
  readonly expression: string;
  readonly invocationsPerMonth: number;
  /** The input the schedule passes (JSON text), if any. */
  readonly input?: string;
  readonly functionId: string;
  readonly memoryMb: number;
  readonly arm64: boolean;
}

/** Every EventBridge Scheduler schedule that invokes a function of the template. */
export function scheduledFunctions(template: CfnTemplate): ScheduledFunction[] {
  return resourcesOf(template, 'AWS::Scheduler::Schedule').flatMap(([id, properties]) => {
    const target = fields(properties.Target);
    const functionId = referencedId(target.Arn);
    const fn = functionId ? template.Resources[functionId] : undefined;
    if (!functionId || fn?.Type !== 'AWS::Lambda::Function') return [];
    const memory = fn.Properties?.MemorySize;
    const expression = text(properties.ScheduleExpression);
    return [
      {
        id,
        expression,
        invocationsPerMonth: invocationsPerMonth(expression),
        ...(typeof target.Input === 'string' && { input: target.Input }),
        functionId,
        memoryMb: typeof memory === 'number' ? memory : 128,
        arm64: list(fn.Properties?.Architectures).includes('arm64'),
      },
    ];
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Custom metrics: each name and dimension values that receive data in a month

type MetricKey = keyof typeof METRICS;

/** For a metric without an extra dimension: it receives data (one metric per gateway or destination). */
export const ANY = '*';

/** A list of every member of `T`: the compiler refuses one that misses a member. */
const everyOf =
  <T extends string>() =>
  <const L extends readonly T[]>(values: L & ([Exclude<T, L[number]>] extends [never] ? unknown : never)) =>
    values;

const REFUSALS = everyOf<RefusalReason>()([
  'unknown_gateway',
  'gateway_disabled',
  'method_not_allowed',
  'payload_too_large',
  'empty_body',
  'missing_signature',
  'malformed_signature',
  'invalid_signature',
  'timestamp_out_of_tolerance',
  'test_mode_not_accepted',
  'source_not_allowed',
]);
const FAILURES = everyOf<FailureReason>()([
  'gateway_not_configured',
  'secrets_unavailable',
  'queue_unavailable',
]);
/** `lambdas/reconciliation/reconcile.ts`: the status a queued event moves to (`KIND_OF`), and `errorKind`'s kinds. */
const MOVED = ['authorized', 'succeeded', 'failed', 'expired'];
const API_ERRORS = [
  'unavailable',
  'malformed',
  'unsupported',
  'not_found',
  'unexpected',
  'confirmation_mismatch',
  'claim_differs',
];
/** `lambdas/delivery/deliverer.ts` (and `DELIVERY_OUTCOMES` in `lib/monitoring.ts`). */
const DELIVERY_OUTCOMES = ['delivered', 'retry', 'stopped', 'dead_lettered', 'held', 'paused', 'throttled'];

export interface MetricEmitter {
  /** The `service` dimension: the function that writes it (Powertools adds it to every metric). */
  readonly service: string;
  /**
   * The values of the metric's extra dimension assumed to receive data in a month of occasional traffic, or `[ANY]`
   * for a metric without one; `[]`: none (no data, no bill).
   */
  readonly month: readonly string[];
  /** Every value the code can write (`open`: error names, unbounded). */
  readonly possible: readonly string[] | 'open';
  readonly why: string;
}

const perPriority = (
  month: Readonly<Record<(typeof PRIORITIES)[number], readonly string[]>>,
  possible: readonly string[] | 'open',
  why: string,
): MetricEmitter[] =>
  PRIORITIES.map((priority) => ({
    service: SERVICES.consumer(priority),
    month: month[priority],
    possible,
    why,
  }));

/**
 * Who writes each metric (the call sites: `intake/api-gateway.ts`, `processing/consumer.ts`,
 * `reconciliation/reconcile.ts`, `delivery/deliverer.ts`) and what a month of idle-plus-occasional traffic is assumed
 * to bring: tens of payments per gateway, most paid, some failed or abandoned (expired by the reconciler), a refund
 * now and then, gateway retries, the URL found by scanners; a healthy month: no processing failures, no dead letters,
 * no gateway API errors, secrets filled in, no lost webhook, no source-IP list configured.
 */
export const EMITTERS: Readonly<Record<MetricKey, readonly MetricEmitter[]>> = {
  webhookRequests: [
    {
      service: SERVICES.ingest,
      month: ['accepted', 'missing_signature'],
      possible: ['accepted', ...REFUSALS, ...FAILURES],
      why: 'webhooks accepted; scanners that find the URL send no signature',
    },
  ],
  signatureFailures: [
    {
      service: SERVICES.ingest,
      month: [],
      possible: [ANY],
      why: 'a healthy month: no wrong secret; scanners send no signature (`missing_signature` is not one)',
    },
  ],
  webhookSourceNotAllowed: [
    {
      service: SERVICES.ingest,
      month: [],
      possible: [ANY],
      why: 'only with a `sourceIps` setting, which no gateway has by default',
    },
  ],
  queueDelay: perPriority(
    { high: [ANY], normal: [ANY], low: [ANY] },
    [ANY],
    "every queue gets some of each gateway's events: paid (high), failed, pending, expired, refunds (normal), other event types (low)",
  ),
  processingFailures: perPriority({ high: [], normal: [], low: [] }, 'open', 'a healthy month'),
  deadLettered: perPriority({ high: [], normal: [], low: [] }, 'open', 'a healthy month'),
  paymentsMoved: [
    {
      service: SERVICES.reconciler,
      month: ['expired', 'failed'],
      possible: MOVED,
      why: 'abandoned payments expire, or the gateway says failed; no webhook lost',
    },
  ],
  paymentsSettled: [
    { service: SERVICES.reconciler, month: [], possible: [ANY], why: 'no lost webhook in a healthy month' },
  ],
  gatewayApiErrors: [
    { service: SERVICES.reconciler, month: [], possible: API_ERRORS, why: 'a healthy month' },
  ],
  gatewaySkipped: [
    {
      service: SERVICES.reconciler,
      month: [],
      possible: [ANY],
      why: 'secrets filled in',
    },
  ],
  deliveryAttempts: [
    {
      service: SERVICES.deliver,
      month: ['delivered', 'retry'],
      possible: DELIVERY_OUTCOMES,
      why: "delivered; the merchant's endpoint fails now and then",
    },
  ],
  deliveryLatency: [{ service: SERVICES.deliver, month: [ANY], possible: [ANY], why: 'every attempt' }],
};

export interface CustomMetricRow {
  readonly key: MetricKey;
  readonly metric: string;
  readonly service: string;
  /** The first dimension: `gateway`, or `destination` for the deliveries' metrics; `none` if it has none. */
  readonly per: 'gateway' | 'destination' | 'none';
  readonly primaries: readonly string[];
  /** The extra dimension, if the metric has one. */
  readonly dimension?: string;
  /** Its values assumed to receive data in a month (empty for a metric without one). */
  readonly values: readonly string[];
  readonly why: string;
  /** Metrics (name + dimension values) that receive data in the month: billed. */
  readonly count: number;
  /** The most the code can write with these gateways and destinations (`null`: unbounded). */
  readonly possible: number | null;
}

/** How the dimensions could change, for what-if counts (the proposals). */
export interface MetricChange {
  /** Metrics no longer written (their fields stay in the log lines). */
  readonly drop?: readonly MetricKey[];
  /** Metrics written without their gateway (or destination) dimension. */
  readonly withoutPrimary?: readonly MetricKey[];
  /** Metrics written without their extra dimension. */
  readonly withoutDetail?: readonly MetricKey[];
}

/** The dimensions besides `service` a metric is written with, as `METRICS` describes it. */
export type DimensionsOf = (key: MetricKey) => readonly string[];

/** What `METRICS` says: the first dimension (`gateway`, or the definition's `primary`) and the extra one, if any. */
export const DEFINED_DIMENSIONS: DimensionsOf = (key) => {
  const definition = METRICS[key];
  const primary = 'primary' in definition ? definition.primary : 'gateway';
  // A metric of the function as a whole has only `service`, which every metric has.
  const first = primary === 'service' ? [] : [primary];
  return definition.dimension ? [...first, definition.dimension] : first;
};

/**
 * One row per metric and writing function: which dimension values are assumed to receive data in a month with these
 * gateways and destinations, and how many billed metrics that makes (primaries x extra-dimension values).
 * `dimensionsOf` says which dimensions each metric is written with (`writtenDimensions()` reads them from what
 * `EmfMetrics` writes).
 */
export function customMetricRows(
  gateways: readonly string[],
  destinations: readonly string[],
  emitters: Readonly<Record<MetricKey, readonly MetricEmitter[]>> = EMITTERS,
  dimensionsOf: DimensionsOf = DEFINED_DIMENSIONS,
): CustomMetricRow[] {
  return (Object.keys(METRICS) as MetricKey[]).flatMap((key) => {
    const definition = METRICS[key];
    const delivery = 'primary' in definition && definition.primary === 'destination';
    // The deliveries' metrics exist only with a destination.
    if ((delivery ? destinations : gateways).length === 0) return [];
    const written = dimensionsOf(key);
    const per = written.includes('destination')
      ? 'destination'
      : written.includes('gateway')
        ? 'gateway'
        : 'none';
    const primaries = per === 'destination' ? destinations : per === 'gateway' ? gateways : ['(one)'];
    const dimension =
      definition.dimension && written.includes(definition.dimension) ? definition.dimension : undefined;
    return (emitters[key] ?? []).map((emitter) => {
      const values = dimension ? emitter.month : [];
      const perPrimary = dimension ? emitter.month.length : emitter.month.length > 0 ? 1 : 0;
      const possiblePerPrimary = !dimension
        ? 1
        : emitter.possible === 'open'
          ? null
          : emitter.possible.length;
      return {
        key,
        metric: definition.name,
        service: emitter.service,
        per,
        primaries,
        ...(dimension && { dimension }),
        values,
        why: emitter.why,
        count: primaries.length * perPrimary,
        possible: possiblePerPrimary === null ? null : primaries.length * possiblePerPrimary,
      };
    });
  });
}

/** Billed metrics of `rows` after `change`. */
export function countCustomMetrics(rows: readonly CustomMetricRow[], change: MetricChange = {}): number {
  return rows.reduce((total, row) => {
    if (change.drop?.includes(row.key) || row.count === 0) return total;
    const primaries = change.withoutPrimary?.includes(row.key) ? 1 : row.primaries.length;
    const perPrimary = row.dimension && !change.withoutDetail?.includes(row.key) ? row.values.length : 1;
    return total + primaries * perPrimary;
  }, 0);
}

/** Runs `fn` with this process's stdout captured; returns what it wrote. */
async function capturingStdout(fn: () => unknown): Promise<string> {
  const written: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  }) as typeof process.stdout.write;
  try {
    await fn();
  } finally {
    process.stdout.write = write;
  }
  return written.join('');
}

/**
 * The dimensions besides `service` that `EmfMetrics` (`lambdas/common/metrics.ts`, the functions' recorder) writes
 * each metric with, read from the embedded-metric-format lines it prints: the count follows the code, not a copy of it.
 */
export async function writtenDimensions(): Promise<Record<MetricKey, readonly string[]>> {
  const written = {} as Record<MetricKey, readonly string[]>;
  for (const key of Object.keys(METRICS) as MetricKey[]) {
    const output = await capturingStdout(() => {
      const metrics = new EmfMetrics('payhook-bench', { POWERTOOLS_METRICS_NAMESPACE: 'payhook/bench' });
      metrics.add(METRICS[key], 'stripe', 1, 'detail');
      metrics.flush();
    });
    const names = output
      .split('\n')
      .filter((line) => line.includes('"_aws"'))
      .flatMap((line) =>
        list(fields(fields(JSON.parse(line))._aws).CloudWatchMetrics).flatMap((entry) =>
          list(fields(entry).Dimensions).flatMap((set) => list(set).map(text)),
        ),
      );
    if (names.length === 0) {
      throw new Error(
        `EmfMetrics wrote no ${METRICS[key].name} metric (POWERTOOLS_METRICS_DISABLED or POWERTOOLS_DEV set?)`,
      );
    }
    written[key] = [...new Set(names)].filter((name) => name !== 'service');
  }
  return written;
}

// ---------------------------------------------------------------------------------------------------------------
// An idle reconciler run

export interface IdleRun {
  readonly scope: ReconcileScope;
  /** DynamoDB calls of one run with nothing pending, by operation (`GetItem (consistent)`, `Query`). */
  readonly calls: Readonly<Record<string, number>>;
  /** Read request units of those calls: the minimum each is billed (1 consistent, 0.5 eventually consistent). */
  readonly readUnits: number;
  /** Read units by pending-index partition (`stripe`, `stripe#confirm`, ...). */
  readonly readUnitsByPartition: Readonly<Record<string, number>>;
  /** Bytes of the log lines the run writes (Powertools JSON, with a Lambda context). */
  readonly logBytes: number;
  readonly metricsWritten: number;
}

interface CountedCommand {
  readonly input: Fields;
  readonly constructor: { readonly name: string };
}

/**
 * Runs `reconcile()` once on an empty payments table, the deployment's gateways having had traffic before (their
 * progress items exist), through a stub DynamoDB client that counts every call and answers nothing pending.
 */
export async function measureIdleReconcilerRun(
  scope: ReconcileScope,
  deployed: readonly GatewayName[],
): Promise<IdleRun> {
  const calls: Record<string, number> = {};
  const readUnitsByPartition: Record<string, number> = {};
  let readUnits = 0;
  const long = '2020-01-01T00:00:00.000Z';
  const client = {
    send: async (command: CountedCommand) => {
      const { input } = command;
      const name = command.constructor.name.replace(/Command$/, '');
      const consistent = input.ConsistentRead === true;
      const operation = `${name === 'Get' ? 'GetItem' : name}${consistent ? ' (consistent)' : ''}`;
      calls[operation] = (calls[operation] ?? 0) + 1;
      const partition =
        name === 'Get'
          ? text(fields(input.Key).pk).slice(RECONCILER_PROGRESS_PREFIX.length)
          : text(fields(input.ExpressionAttributeValues)[':gateway']);
      if (name === 'Get' || name === 'Query') {
        const units = consistent ? 1 : 0.5;
        readUnits += units;
        readUnitsByPartition[partition] = (readUnitsByPartition[partition] ?? 0) + units;
      }
      if (name === 'Get') {
        const position = { pendingSince: long, pk: `PAYMENT#${partition}#old`, sk: 'PAYMENT' };
        const hadTraffic = (deployed as readonly string[]).includes(partition);
        return hadTraffic
          ? { Item: { ...fields(input.Key), frontier: position, cursor: position, version: 3 } }
          : {};
      }
      if (name === 'Query') return { Items: [], Count: 0 };
      return {};
    },
  } as unknown as DynamoDBDocumentClient;

  let metricsWritten = 0;
  const metrics: MetricsRecorder = {
    add: () => {
      metricsWritten += 1;
    },
    annotate: () => undefined,
    flush: () => undefined,
  };
  // The function's own logger (its line format), at the INFO level the stack sets, whatever this process's variables say.
  const logger = createLogger(SERVICES.reconciler);
  logger.setLogLevel('INFO');
  logger.addContext(lambdaContext());
  const output = await capturingStdout(() =>
    reconcile(
      {
        store: new DynamoPaymentStore(client, {
          tableName: 'shop-prod-payhook-payments',
          historyRetentionDays: 400,
        }),
        verifiers: VERIFIERS,
        credentials: async () => {
          throw new Error('an idle run reads no secret');
        },
        baseUrls: {},
        queue: {
          enqueue: async () => {
            throw new Error('an idle run queues nothing');
          },
          park: async () => {
            throw new Error('an idle run parks nothing');
          },
        },
        settings: DEFAULT_RECONCILE_SETTINGS,
        now: () => new Date(),
        log: logger,
        metrics,
      },
      'idle-run',
      scope,
    ),
  );
  return {
    scope,
    calls,
    readUnits,
    readUnitsByPartition,
    logBytes: Buffer.byteLength(output),
    metricsWritten,
  };
}

function lambdaContext(): Context {
  const name = 'shop-prod-ReconciliationReconcilerFunction5948D8-AbCdEfGh1234';
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${name}`,
    memoryLimitInMB: '512',
    awsRequestId: '6f1c2d3e-4a5b-6c7d-8e9f-0a1b2c3d4e5f',
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: '2026/11/30/[$LATEST]0123456789abcdef0123456789abcdef',
    getRemainingTimeInMillis: () => 240_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Assumptions for what no template says

/** Billed duration assumed for an idle run on AWS (warm): its DynamoDB reads in parallel per gateway, a few ms each. */
export const IDLE_RUN_MS: Readonly<Record<ReconcileScope, number>> = { all: 50, confirmations: 25 };
/** Init phases per month of the scheduled function (billed since 2025-08), assumed one per hour of recycling. */
export const INITS_PER_MONTH = HOURS_PER_MONTH;
/** Billed init, assumed: the team sheet's bundled-SDK init figures are 214-270 ms. */
export const INIT_MS = 300;
/** Table data assumed per table, for storage and PITR (tiny when idle: a few thousand payments). */
export const TABLE_DATA_GB = 0.01;

// ---------------------------------------------------------------------------------------------------------------
// The bill

export interface FixedCostItem {
  readonly item: string;
  readonly quantity: number;
  readonly unit: string;
  /** US dollars per unit. */
  readonly unitPrice: number;
  readonly monthly: number;
  /** Where the quantity comes from. */
  readonly basis: string;
  readonly source: string;
}

export interface DeploymentFixedCost {
  readonly name: string;
  readonly gateways: readonly string[];
  readonly destinations: readonly string[];
  readonly items: readonly FixedCostItem[];
  readonly total: number;
  readonly alarms: readonly AlarmBill[];
  readonly customMetrics: readonly CustomMetricRow[];
  readonly polling: readonly EventSourcePolling[];
  readonly schedules: readonly (ScheduledFunction & { readonly scope: ReconcileScope })[];
}

const monthly = (
  item: string,
  quantity: number,
  price: MonthlyPrice,
  basis: string,
  unit: string = price.unit,
): FixedCostItem => ({
  item,
  quantity,
  unit,
  unitPrice: price.perMonth,
  monthly: quantity * price.perMonth,
  basis,
  source: price.source,
});

const used = (
  item: string,
  quantity: number,
  price: Price,
  basis: string,
  source = price.source,
): FixedCostItem => ({
  item,
  quantity,
  unit: price.unit,
  unitPrice: price.perMillion / 1_000_000,
  monthly: (quantity * price.perMillion) / 1_000_000,
  basis,
  source,
});

const sumOf = (items: readonly FixedCostItem[]) => items.reduce((total, item) => total + item.monthly, 0);
const count = (value: number) => value.toLocaleString('en-US', { maximumFractionDigits: 1 });

/** The scope a schedule's input asks for, as the reconciler's handler reads it. */
function scopeOf(input: string | undefined): ReconcileScope {
  try {
    const parsed = fields(input === undefined ? undefined : JSON.parse(input));
    return parsed.scope === CONFIRMATION_SCHEDULE.input.scope ? 'confirmations' : 'all';
  } catch {
    return 'all';
  }
}

/**
 * Synthesises the stack as `test/infra/support.ts` does (bundling skipped) and returns its template. `config` is the
 * `payhook` context value as a team writes it, checked as `cdk synth` checks it.
 */
export function synthesise(config: unknown, stackName = 'shop-prod'): CfnTemplate {
  // Path metadata (as the CDK CLI adds it) only to name the alarms and queues in the report.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], 'aws:cdk:enable-path-metadata': true } });
  new PayhookStack(app, stackName, { config: parsePayhookConfig(config) });
  return app.synth().getStackByName(stackName).template as CfnTemplate;
}

/** The fixed monthly items of one synthesised deployment. */
export function deploymentFixedCost(
  name: string,
  template: CfnTemplate,
  gateways: readonly string[],
  destinations: readonly string[],
  idleRuns: Readonly<Record<ReconcileScope, IdleRun>>,
  dimensionsOf: DimensionsOf = DEFINED_DIMENSIONS,
): DeploymentFixedCost {
  const alarms = alarmBills(template);
  const standardAlarmMetrics = alarms
    .filter((bill) => !bill.highResolution)
    .reduce((total, bill) => total + bill.billedMetrics, 0);
  const highResolutionAlarmMetrics = alarms
    .filter((bill) => bill.highResolution)
    .reduce((total, bill) => total + bill.billedMetrics, 0);
  const mathAlarms = alarms.filter((bill) => bill.reads.length > 1);
  const customMetrics = customMetricRows(gateways, destinations, EMITTERS, dimensionsOf);
  const metricCount = countCustomMetrics(customMetrics);
  const polling = eventSourcePolling(template);
  const schedules = scheduledFunctions(template).map((schedule) => ({
    ...schedule,
    scope: scopeOf(schedule.input),
  }));
  const dashboards = resourcesOf(template, 'AWS::CloudWatch::Dashboard').length;
  const secrets = resourcesOf(template, 'AWS::SecretsManager::Secret').length;
  const keys = resourcesOf(template, 'AWS::KMS::Key').length;
  const tables = [
    ...resourcesOf(template, 'AWS::DynamoDB::GlobalTable'),
    ...resourcesOf(template, 'AWS::DynamoDB::Table'),
  ].length;

  const runs = schedules.reduce((total, schedule) => total + schedule.invocationsPerMonth, 0);
  const gbSeconds = schedules.reduce(
    (total, schedule) =>
      total + (schedule.invocationsPerMonth * IDLE_RUN_MS[schedule.scope] * schedule.memoryMb) / 1024 / 1000,
    0,
  );
  const scheduledMemoryGb = (schedules[0]?.memoryMb ?? 512) / 1024;
  const initGbSeconds = schedules.length > 0 ? (INITS_PER_MONTH * INIT_MS * scheduledMemoryGb) / 1000 : 0;
  const readUnits = schedules.reduce(
    (total, schedule) => total + schedule.invocationsPerMonth * idleRuns[schedule.scope].readUnits,
    0,
  );
  const logMb =
    schedules.reduce(
      (total, schedule) =>
        total +
        schedule.invocationsPerMonth * (platformLogBytesPerInvocation() + idleRuns[schedule.scope].logBytes),
      0,
    ) /
    2 ** 20;
  const receives = polling.reduce((total, mapping) => total + mapping.receivesPerMonth, 0);
  const scheduleText = schedules
    .map((schedule) => `${count(schedule.invocationsPerMonth)} (${schedule.expression}, ${schedule.scope})`)
    .join(' + ');
  const allArm = schedules.every((schedule) => schedule.arm64);

  const items: FixedCostItem[] = [
    monthly(
      'CloudWatch alarms',
      standardAlarmMetrics,
      MONTHLY_PRICES.alarmMetric,
      `template: ${alarms.length} alarms, ${mathAlarms.length} of them metric math reading ${mathAlarms.reduce((total, bill) => total + bill.reads.length, 0)} metrics`,
    ),
    ...(highResolutionAlarmMetrics > 0
      ? [
          monthly(
            'CloudWatch alarms, high resolution',
            highResolutionAlarmMetrics,
            MONTHLY_PRICES.highResolutionAlarmMetric,
            'template: alarms with a period under 60 s',
          ),
        ]
      : []),
    monthly('CloudWatch dashboards', dashboards, MONTHLY_PRICES.dashboard, 'template'),
    monthly(
      'Secrets Manager secrets',
      secrets,
      MONTHLY_PRICES.secret,
      'template: secrets it creates (imported ones are billed to whoever made them)',
    ),
    monthly(
      'CloudWatch custom metrics',
      metricCount,
      MONTHLY_PRICES.customMetric,
      `the functions' EMF metrics with ${gateways.length} gateway(s)${destinations.length > 0 ? ` and ${destinations.length} destination(s)` : ''}, in a month of occasional traffic (table below)`,
    ),
    used(
      'SQS: idle long polling by the event sources',
      receives,
      PRICES.sqsRequests,
      `template: ${polling.length} SQS event source mapping(s), ${polling.map((mapping) => mapping.pollers).join(' + ')} pollers, one ${LONG_POLL_WAIT_SECONDS}-s receive each, ${HOURS_PER_MONTH} h`,
      `${PRICES.sqsRequests.source}; pollers: ${SQS_SCALING_SOURCE}`,
    ),
    used('EventBridge Scheduler invocations', runs, PRICES.schedulerInvocations, `template: ${scheduleText}`),
    used(
      'Lambda invocations (scheduled idle runs)',
      runs,
      PRICES.lambdaRequests,
      'one per scheduled invocation',
    ),
    used(
      'Lambda duration (scheduled idle runs, and inits)',
      gbSeconds + initGbSeconds,
      allArm ? PRICES.lambdaArmGbSeconds : PRICES.lambdaX86GbSeconds,
      `assumed ${IDLE_RUN_MS.all} ms per full run, ${IDLE_RUN_MS.confirmations} ms per confirmations run, ` +
        `${INITS_PER_MONTH} inits of ${INIT_MS} ms; ${schedules[0]?.memoryMb ?? 512} MB (template)`,
    ),
    used(
      'DynamoDB reads (scheduled idle runs)',
      readUnits,
      PRICES.dynamoReadUnits,
      `measured per run: ${idleRuns.all.readUnits} read units (full), ${idleRuns.confirmations.readUnits} (confirmations), each call billed its minimum`,
    ),
    used(
      'CloudWatch Logs ingestion (scheduled idle runs)',
      logMb,
      PRICES.logsIngestion,
      `measured run log line ${idleRuns.all.logBytes} B (full), ${idleRuns.confirmations.logBytes} B (confirmations), plus ${platformLogBytesPerInvocation()} B of Lambda's platform records per invocation (system log level ${SYSTEM_LOG_LEVEL}; ${PLATFORM_LOG_BYTES} B at INFO)`,
    ),
    monthly('KMS customer-managed keys', keys, MONTHLY_PRICES.kmsCustomerManagedKey, 'template'),
    monthly(
      'DynamoDB storage and PITR',
      tables * TABLE_DATA_GB,
      {
        perMonth: MONTHLY_PRICES.dynamoStorageGb.perMonth + MONTHLY_PRICES.dynamoPitrGb.perMonth,
        unit: 'GB-month (storage + PITR)',
        source: `${MONTHLY_PRICES.dynamoStorageGb.source}; PITR: $${MONTHLY_PRICES.dynamoPitrGb.perMonth.toFixed(2)} per GB-month, same page`,
      },
      `template: ${tables} on-demand tables (no capacity to pay for); ${TABLE_DATA_GB} GB of data each assumed`,
    ),
  ];
  return {
    name,
    gateways,
    destinations,
    items,
    total: sumOf(items),
    alarms,
    customMetrics,
    polling,
    schedules,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Proposals: what could come off, every alarm and dashboard row still working

export interface Proposal {
  readonly change: string;
  /** Why every alarm and dashboard row still works, and what is given up. */
  readonly trade: string;
  readonly saving: number;
  /** Part of the set that reaches the target; the others are listed with their trade, not proposed. */
  readonly proposed: boolean;
}

/**
 * What is left, with its saving computed from the base deployment's template, metric rows and idle runs, and why it was
 * not done. (Done for issue #20 and no longer here: `EventsProcessed` and `Transitions` as log fields, one metric per
 * signature-failure and reconciler-skipped alarm, the confirmations schedule only with a gateway that sends claims.)
 */
export function proposals(
  base: DeploymentFixedCost,
  idleRuns: Readonly<Record<ReconcileScope, IdleRun>>,
): Proposal[] {
  // Reads of the partitions of gateways the deployment does not serve, by the full runs.
  const otherPartitionReads = base.schedules
    .filter((schedule) => schedule.scope === 'all')
    .reduce((total, schedule) => {
      const others = Object.entries(idleRuns[schedule.scope].readUnitsByPartition)
        .filter(([partition]) => !base.gateways.includes(partition.replace(/#confirm$/, '')))
        .reduce((sum, [, units]) => sum + units, 0);
      return total + schedule.invocationsPerMonth * others;
    }, 0);
  const pollingSaving =
    base.polling
      .filter((mapping) => mapping.pollers === IDLE_POLLERS.withMaximumConcurrency)
      .reduce(
        (total, mapping) =>
          total + (mapping.pollers - IDLE_POLLERS.withoutMaximumConcurrency) * RECEIVES_PER_POLLER_MONTH,
        0,
      ) *
    (PRICES.sqsRequests.perMillion / 1e6);
  return [
    {
      change: "the reconciler reads only the deployment's gateways' partitions of the pending index",
      trade:
        'NOT done: a gateway taken out of `gateways` would leave its pending payments unexpired and its claims unconfirmed, for a cent a month',
      saving: (otherPartitionReads * PRICES.dynamoReadUnits.perMillion) / 1e6,
      proposed: false,
    },
    {
      change: 'no `MaximumConcurrency` on the event sources, so idle pollers can drop from 5 to 2',
      trade:
        'NOT done: the cap keeps a burst on one queue from taking the concurrency the others need; reserved concurrency instead throttles',
      saving: pollingSaving,
      proposed: false,
    },
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// The section

export interface AlarmSummary {
  readonly name: string;
  readonly billedMetrics: number;
  /** The metrics it reads, as `MetricName` (one entry per read). */
  readonly reads: readonly string[];
}

const summary = (bill: AlarmBill): AlarmSummary => ({
  name: bill.name,
  billedMetrics: bill.billedMetrics,
  reads: bill.reads.map((read) => read.metricName),
});

export interface FixedMonthlyResults {
  readonly target: number;
  readonly hoursPerMonth: number;
  readonly gateways: readonly string[];
  /** The deployment the target is about: two active gateways, no destination. */
  readonly items: readonly FixedCostItem[];
  readonly total: number;
  /** The same deployment with one payment-event destination. */
  readonly withDestination: {
    readonly destinations: readonly string[];
    readonly items: readonly FixedCostItem[];
    readonly total: number;
  };
  readonly alarms: readonly AlarmSummary[];
  /** The alarms one destination adds. */
  readonly destinationAlarms: readonly AlarmSummary[];
  readonly customMetrics: readonly CustomMetricRow[];
  readonly destinationMetrics: readonly CustomMetricRow[];
  readonly polling: readonly EventSourcePolling[];
  readonly idleRuns: readonly IdleRun[];
  /** The reconciler's schedules in the base deployment, by scope (`confirmations` only with Flutterwave). */
  readonly scheduleScopes: readonly ReconcileScope[];
  readonly proposals: readonly Proposal[];
  /** The base total less every proposed saving. */
  readonly totalAfterProposals: number;
}

export const FIXED_GATEWAYS: readonly GatewayName[] = ['paystack', 'stripe'];
export const FIXED_DESTINATION = { shop: { url: 'https://shop.example.com/payhook' } } as const;

export async function measureFixedMonthly(log: (line: string) => void): Promise<FixedMonthlyResults> {
  const gateways = FIXED_GATEWAYS;
  log(`fixed: idle reconciler runs (stub DynamoDB), ${gateways.join(' + ')}`);
  const idleRuns = {
    all: await measureIdleReconcilerRun('all', gateways),
    confirmations: await measureIdleReconcilerRun('confirmations', gateways),
  };
  const written = await writtenDimensions();
  const dimensionsOf: DimensionsOf = (key) => written[key];
  log('fixed: synthesising the stack (two gateways, no destination)');
  const base = deploymentFixedCost(
    'two gateways',
    synthesise({ gateways: [...gateways] }),
    gateways,
    [],
    idleRuns,
    dimensionsOf,
  );
  log('fixed: synthesising the stack (two gateways, one destination)');
  const destinations = Object.keys(FIXED_DESTINATION);
  const withDestination = deploymentFixedCost(
    'two gateways, one destination',
    synthesise({ gateways: [...gateways], destinations: FIXED_DESTINATION }),
    gateways,
    destinations,
    idleRuns,
    dimensionsOf,
  );
  const ideas = proposals(base, idleRuns);
  const saved = ideas.filter((idea) => idea.proposed).reduce((total, idea) => total + idea.saving, 0);
  const baseIds = new Set(base.alarms.map((bill) => bill.id));
  log(
    `fixed: $${base.total.toFixed(2)} per month idle (with one destination $${withDestination.total.toFixed(2)})`,
  );
  return {
    target: FIXED_MONTHLY_TARGET_DOLLARS,
    hoursPerMonth: HOURS_PER_MONTH,
    gateways,
    items: base.items,
    total: base.total,
    withDestination: { destinations, items: withDestination.items, total: withDestination.total },
    alarms: base.alarms.map(summary),
    destinationAlarms: withDestination.alarms.filter((bill) => !baseIds.has(bill.id)).map(summary),
    customMetrics: base.customMetrics,
    destinationMetrics: withDestination.customMetrics.filter((row) => row.per === 'destination'),
    polling: base.polling,
    idleRuns: [idleRuns.all, idleRuns.confirmations],
    scheduleScopes: base.schedules.map((schedule) => schedule.scope),
    proposals: ideas,
    totalAfterProposals: base.total - saved,
  };
}
