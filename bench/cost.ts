/**
 * Cost per million webhooks from counted AWS usage, at the list prices below (us-east-1; the team's sheet is
 * `../shared/reference/aws-numbers.md`). Change a price here and the next `npm run bench` uses it everywhere.
 */
import { LeanLogFormatter } from '../lambdas/common/log-format.js';
import { SYSTEM_LOG_LEVEL } from '../lib/payhook-function.js';
import type { AwsUsage } from './aws-usage.js';

export interface Price {
  /** US dollars per million units. */
  readonly perMillion: number;
  readonly unit: string;
  readonly source: string;
}

export const PRICES = {
  httpApi: { perMillion: 1.0, unit: 'request', source: 'API Gateway pricing page (first 300 M)' },
  restApi: { perMillion: 3.5, unit: 'request', source: 'AWS private-API whitepaper, table 4 (first 333 M)' },
  lambdaRequests: { perMillion: 0.2, unit: 'invocation', source: 'How AWS Pricing Works' },
  lambdaArmGbSeconds: { perMillion: 13.3334, unit: 'GB-second (arm64)', source: 'How AWS Pricing Works' },
  sqsRequests: { perMillion: 0.4, unit: '64 KB request chunk', source: 'secondary source (standard queue)' },
  dynamoWriteUnits: {
    perMillion: 0.625,
    unit: 'write request unit',
    source: 'AWS News Blog, on-demand price cut of Nov 2024',
  },
  dynamoReadUnits: {
    perMillion: 0.125,
    unit: 'read request unit',
    source: 'AWS News Blog, on-demand price cut of Nov 2024',
  },
  eventBridgeEvents: {
    perMillion: 1.0,
    unit: 'custom event (64 KB chunk)',
    source: 'EventBridge list price; not on the team sheet, unconfirmed here',
  },
  eventBridgeSameAccountDelivery: {
    perMillion: 0,
    unit: 'event a rule delivers to a same-account target',
    source:
      'EventBridge pricing page: custom events are billed when published, delivery to a same-account target is not (cross-account delivery is, $1/M, per a secondary source); not on the team sheet, unconfirmed here',
  },
  logsIngestion: {
    // $0.50 per GB is $0.50 / 1,024 per MB.
    perMillion: (0.5 / 1024) * 1_000_000,
    unit: 'MB of log ingested ($0.50/GB)',
    source: 'secondary source',
  },
  lambdaX86GbSeconds: { perMillion: 16.6667, unit: 'GB-second (x86)', source: 'How AWS Pricing Works' },
  schedulerInvocations: {
    perMillion: 1.0,
    unit: 'scheduled invocation',
    source:
      'EventBridge Scheduler, https://aws.amazon.com/eventbridge/pricing/ (team sheet: secondary; 14 M/month free, left out here)',
  },
} as const satisfies Record<string, Price>;

/** A price per unit per month (resources that cost by existing, not by use). */
export interface MonthlyPrice {
  /** US dollars per unit per month. */
  readonly perMonth: number;
  readonly unit: string;
  readonly source: string;
}

/**
 * Monthly list prices, us-east-1, no free tier, for the fixed cost of an idle deployment (`bench/fixed-cost.ts`). None
 * of these is on the team sheet (`aws-numbers.md`), so each is unconfirmed here beyond its pricing page.
 */
export const MONTHLY_PRICES = {
  alarmMetric: {
    perMonth: 0.1,
    unit: 'standard-resolution alarm metric',
    source:
      'CloudWatch pricing, https://aws.amazon.com/cloudwatch/pricing/: $0.10 per alarm metric; a metric-math alarm is billed per metric it reads, an anomaly-detection alarm 3 (issue #20 says the same); unconfirmed here',
  },
  highResolutionAlarmMetric: {
    perMonth: 0.3,
    unit: 'high-resolution alarm metric (period under 60 s)',
    source: 'CloudWatch pricing, https://aws.amazon.com/cloudwatch/pricing/; unconfirmed here',
  },
  dashboard: {
    perMonth: 3.0,
    unit: 'dashboard',
    source:
      'CloudWatch pricing, https://aws.amazon.com/cloudwatch/pricing/ (3 free dashboards left out); unconfirmed here',
  },
  customMetric: {
    perMonth: 0.3,
    unit: 'custom metric (name + dimension values) with data in the month',
    source:
      'CloudWatch pricing, https://aws.amazon.com/cloudwatch/pricing/: $0.30 per metric per month, first 10,000; unconfirmed here',
  },
  secret: {
    perMonth: 0.4,
    unit: 'secret',
    source: 'Secrets Manager pricing, https://aws.amazon.com/secrets-manager/pricing/; unconfirmed here',
  },
  kmsCustomerManagedKey: {
    perMonth: 1.0,
    unit: 'customer-managed KMS key',
    source:
      'KMS pricing, https://aws.amazon.com/kms/pricing/ (AWS-managed keys such as aws/dynamodb have no monthly fee); unconfirmed here',
  },
  dynamoStorageGb: {
    perMonth: 0.25,
    unit: 'GB-month of table storage',
    source:
      'DynamoDB on-demand pricing, https://aws.amazon.com/dynamodb/pricing/on-demand/ (25 GB free left out); unconfirmed here',
  },
  dynamoPitrGb: {
    perMonth: 0.2,
    unit: 'GB-month of point-in-time recovery',
    source:
      'DynamoDB on-demand pricing, https://aws.amazon.com/dynamodb/pricing/on-demand/; unconfirmed here',
  },
} as const satisfies Record<string, MonthlyPrice>;

/** Every function is 512 MB (`lib/payhook-function.ts`). */
export const FUNCTION_MEMORY_GB = 0.5;

export interface CostLine {
  readonly item: string;
  /** Units per webhook, in the price's unit. */
  readonly perWebhook: number;
  readonly unit: string;
  readonly dollarsPerMillionWebhooks: number;
}

export interface CostModel {
  readonly webhooks: number;
  readonly lines: readonly CostLine[];
  /** Everything but the API in front. */
  readonly pipelineDollars: number;
  readonly totalWithHttpApi: number;
  readonly totalWithRestApi: number;
}

const sum = (counts: Readonly<Record<string, number>>) => Object.values(counts).reduce((a, b) => a + b, 0);

/** Lambda's own log records per invocation in JSON log format (platform.start, platform.report), assumed. */
export const PLATFORM_LOG_BYTES = 550;

/**
 * Lambda's own records an invocation sends at the functions' system log level (`SYSTEM_LOG_LEVEL` in
 * `lib/payhook-function.ts`): `platform.start` and `platform.report` at INFO or DEBUG, none at WARN.
 */
export function platformLogBytesPerInvocation(systemLogLevel: string = SYSTEM_LOG_LEVEL): number {
  return systemLogLevel === 'WARN' ? 0 : PLATFORM_LOG_BYTES;
}

/**
 * The bytes Lambda's context adds to a handler's log line on AWS, measured with the functions' own formatter: every
 * handler calls `logger.addContext(context)`, so each line carries Lambda's request id (`function_request_id`; and
 * `cold_start` on an instance's first line, left out here: most lines are warm). The local stack's handlers share one
 * logger per function and add no invocation's context, so their lines lack it: the bench adds it to each such line.
 */
export function lambdaContextLogBytes(): number {
  const formatter = new LeanLogFormatter();
  const line = (lambdaContext?: { awsRequestId: string; coldStart: boolean }) =>
    JSON.stringify(
      formatter
        .formatAttributes(
          {
            logLevel: 'INFO',
            message: 'event processed',
            timestamp: new Date(0),
            serviceName: 'payhook-consumer',
            sampleRateValue: 0,
            ...(lambdaContext && {
              lambdaContext: {
                ...lambdaContext,
                functionName: 'payhook-consumer-high',
                functionVersion: '$LATEST',
                invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:payhook-consumer-high',
                memoryLimitInMB: '512',
              },
            }),
          } as Parameters<LeanLogFormatter['formatAttributes']>[0],
          {},
        )
        .getAttributes(),
    ).length;
  return line({ awsRequestId: '8f5e4c1a-1b2c-4d5e-8f90-123456789abc', coldStart: false }) - line();
}

/** Whether a log line is one of a handler's (Powertools Logger) lines without Lambda's context, as written locally. */
export function lacksLambdaContext(line: string): boolean {
  return line.startsWith('{"level":') && !line.includes('"function_request_id":');
}

/** Turns one run's counts into units per webhook and dollars per million webhooks. */
export function costPerMillion(usage: AwsUsage, webhooks: number, logBytes: number): CostModel {
  const line = (item: string, units: number, price: Price): CostLine => {
    const perWebhook = units / webhooks;
    return { item, perWebhook, unit: price.unit, dollarsPerMillionWebhooks: perWebhook * price.perMillion };
  };
  const gbSeconds = ((usage.ingestBilledMs + usage.consumerBilledMs) / 1000) * FUNCTION_MEMORY_GB;
  const lines = [
    line(
      'Lambda invocations (ingest + consumers)',
      usage.ingestInvocations + usage.consumerInvocations,
      PRICES.lambdaRequests,
    ),
    line('Lambda duration (ingest + consumers, 512 MB arm64)', gbSeconds, PRICES.lambdaArmGbSeconds),
    line('SQS requests', sum(usage.sqsBilledRequests), PRICES.sqsRequests),
    line(
      'DynamoDB writes (tables, indexes, refused conditions)',
      usage.dynamoWriteUnits + usage.dynamoIndexWriteUnits + usage.dynamoFailedConditionalWriteUnits,
      PRICES.dynamoWriteUnits,
    ),
    line('DynamoDB reads', usage.dynamoReadUnits, PRICES.dynamoReadUnits),
    line('EventBridge events', usage.eventBridgeBilledEvents, PRICES.eventBridgeEvents),
    line('CloudWatch Logs ingestion', logBytes / 2 ** 20, PRICES.logsIngestion),
    line(
      `CloudWatch Logs: Lambda's platform records (system log level ${SYSTEM_LOG_LEVEL})`,
      ((usage.ingestInvocations + usage.consumerInvocations) * platformLogBytesPerInvocation()) / 2 ** 20,
      PRICES.logsIngestion,
    ),
  ];
  const pipelineDollars = lines.reduce((total, entry) => total + entry.dollarsPerMillionWebhooks, 0);
  // Each ingest invocation is one API request: the gateway's POST.
  const api = (price: Price) =>
    line('API requests', usage.ingestInvocations, price).dollarsPerMillionWebhooks;
  return {
    webhooks,
    lines,
    pipelineDollars,
    totalWithHttpApi: pipelineDollars + api(PRICES.httpApi),
    totalWithRestApi: pipelineDollars + api(PRICES.restApi),
  };
}

/** What one destination's deliveries used over a counted run (`bench/deliveries.ts`). */
export interface DeliveryUsage {
  /** Payment events delivered to the destination (distinct webhook-ids) over the counted run. */
  readonly deliveries: number;
  /**
   * The stand-ins' SQS calls on the destination's queues: the rule's SendMessage (EventBridge writing the event to its
   * target) and the event source mapping's receives and deletes.
   */
  readonly pipeline: AwsUsage;
  /** The delivery function's own calls (client role `delivery`): held copies, back-offs, its DynamoDB items. */
  readonly delivery: AwsUsage;
  readonly invocations: number;
  /** Invocations that attempted at least one delivery (the others only held their records). */
  readonly attemptingInvocations: number;
  /** Sum over invocations of the handler's duration rounded up to the millisecond. */
  readonly billedMs: number;
  /** The delivery function's log lines (and EMF metrics) for this destination. */
  readonly logBytes: number;
}

export interface DeliveryCostModel {
  readonly deliveries: number;
  readonly lines: readonly CostLine[];
  readonly dollarsPerMillionDeliveries: number;
  /**
   * What each 100 ms the merchant's endpoint takes to answer adds, per million deliveries: the function waits for the
   * answers of a batch in parallel, so a batch pays its slowest answer once, shared by its records.
   */
  readonly dollarsPer100msOfEndpointLatency: number;
}

/** One destination's counts as units per delivery and dollars per million deliveries (`perWebhook`: per delivery). */
export function deliveryCostPerMillion(usage: DeliveryUsage): DeliveryCostModel {
  const { deliveries, pipeline, delivery } = usage;
  const line = (item: string, units: number, price: Price): CostLine => {
    const perWebhook = deliveries > 0 ? units / deliveries : 0;
    return { item, perWebhook, unit: price.unit, dollarsPerMillionWebhooks: perWebhook * price.perMillion };
  };
  const billed = (counts: Readonly<Record<string, number>>, ...operations: string[]) =>
    operations.reduce((total, operation) => total + (counts[operation] ?? 0), 0);
  const gbSeconds = (usage.billedMs / 1000) * FUNCTION_MEMORY_GB;
  const lines = [
    line(
      'EventBridge: the rule delivering the event to the queue',
      deliveries,
      PRICES.eventBridgeSameAccountDelivery,
    ),
    line(
      "SQS: the rule's SendMessage to the destination queue",
      billed(pipeline.sqsBilledRequests, 'SendMessage'),
      PRICES.sqsRequests,
    ),
    line(
      'SQS: event source mapping receives (non-empty) and deletes',
      billed(pipeline.sqsBilledRequests, 'ReceiveMessage', 'DeleteMessageBatch'),
      PRICES.sqsRequests,
    ),
    line(
      'SQS: held copies and back-offs (delivery function)',
      sum(delivery.sqsBilledRequests),
      PRICES.sqsRequests,
    ),
    line('Lambda invocations (delivery function)', usage.invocations, PRICES.lambdaRequests),
    line('Lambda duration (512 MB arm64)', gbSeconds, PRICES.lambdaArmGbSeconds),
    line(
      'DynamoDB writes (token bucket, breaker; refused conditions)',
      delivery.dynamoWriteUnits + delivery.dynamoFailedConditionalWriteUnits,
      PRICES.dynamoWriteUnits,
    ),
    line(
      'DynamoDB reads (stop state, breaker, token bucket; consistent)',
      delivery.dynamoReadUnits,
      PRICES.dynamoReadUnits,
    ),
    line('CloudWatch Logs ingestion', usage.logBytes / 2 ** 20, PRICES.logsIngestion),
  ];
  const recordsPerAttempt = usage.attemptingInvocations > 0 ? deliveries / usage.attemptingInvocations : 1;
  return {
    deliveries,
    lines,
    dollarsPerMillionDeliveries: lines.reduce((total, entry) => total + entry.dollarsPerMillionWebhooks, 0),
    dollarsPer100msOfEndpointLatency:
      ((0.1 * FUNCTION_MEMORY_GB) / recordsPerAttempt) * PRICES.lambdaArmGbSeconds.perMillion,
  };
}
