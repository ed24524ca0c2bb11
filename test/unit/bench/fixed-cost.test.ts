import { describe, expect, it } from 'vitest';
import { MONTHLY_PRICES, PRICES } from '../../../bench/cost.js';
import {
  ANY,
  alarmBills,
  type CfnTemplate,
  countCustomMetrics,
  customMetricRows,
  DEFINED_DIMENSIONS,
  deploymentFixedCost,
  EMITTERS,
  eventSourcePolling,
  type FixedMonthlyResults,
  type IdleRun,
  invocationsPerMonth,
  measureIdleReconcilerRun,
  RECEIVES_PER_POLLER_MONTH,
  scheduledFunctions,
  writtenDimensions,
} from '../../../bench/fixed-cost.js';
import { type BenchResults, keepSections, markdown } from '../../../bench/report.js';
import { METRICS } from '../../../lambdas/definitions.js';

const stat = (metricName: string, dimensions: Record<string, string>, period = 300) => ({
  MetricStat: {
    Metric: {
      Namespace: 'payhook/shop-prod',
      MetricName: metricName,
      Dimensions: Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value })),
    },
    Period: period,
    Stat: 'Sum',
  },
  ReturnData: false,
});

const mathAlarm = (expression: string, ...stats: ReturnType<typeof stat>[]) => ({
  Type: 'AWS::CloudWatch::Alarm',
  Properties: {
    Metrics: [
      { Id: 'expr_1', Expression: expression, ReturnData: true },
      ...stats.map((entry, index) => ({ Id: `m${index}`, ...entry })),
    ],
    Threshold: 0,
  },
});

const ALARMS: CfnTemplate = {
  Resources: {
    Single: {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        MetricName: 'Errors',
        Namespace: 'AWS/Lambda',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'Fn' } }],
        Period: 300,
      },
      Metadata: { 'aws:cdk:path': 'shop-prod/Monitoring/ingest-errors/Resource' },
    },
    Signature: mathAlarm(
      'SUM([m0,m1,m2])',
      stat('WebhookRequests', { gateway: 'stripe', outcome: 'invalid_signature', service: 'payhook-ingest' }),
      stat('WebhookRequests', {
        gateway: 'stripe',
        outcome: 'malformed_signature',
        service: 'payhook-ingest',
      }),
      stat('WebhookRequests', {
        gateway: 'stripe',
        outcome: 'timestamp_out_of_tolerance',
        service: 'payhook-ingest',
      }),
    ),
    Delay: mathAlarm(
      'MAX([m0,m1])',
      stat('QueueDelay', { gateway: 'paystack', service: 'payhook-consumer-high' }),
      stat('QueueDelay', { gateway: 'stripe', service: 'payhook-consumer-high' }),
    ),
    Anomaly: mathAlarm('ANOMALY_DETECTION_BAND(m0, 2)', stat('Invocations', { FunctionName: 'f' })),
    Fast: mathAlarm('m0', stat('Errors', { FunctionName: 'f' }, 10)),
    Topic: { Type: 'AWS::SNS::Topic', Properties: {} },
  },
};

describe('alarmBills', () => {
  const bills = Object.fromEntries(alarmBills(ALARMS).map((bill) => [bill.id, bill]));

  it('bills a metric-math alarm per metric it reads, never its expression, and a plain alarm one', () => {
    expect(Object.keys(bills).sort()).toEqual(['Anomaly', 'Delay', 'Fast', 'Signature', 'Single']);
    expect(bills.Single?.billedMetrics).toBe(1);
    expect(bills.Signature?.billedMetrics).toBe(3);
    expect(bills.Delay?.billedMetrics).toBe(2);
    expect(bills.Signature?.reads.map((read) => read.dimensions.outcome)).toEqual([
      'invalid_signature',
      'malformed_signature',
      'timestamp_out_of_tolerance',
    ]);
  });

  it('bills anomaly detection three metrics, and flags a period under a minute as high resolution', () => {
    expect(bills.Anomaly).toMatchObject({ billedMetrics: 3, anomalyDetection: true, highResolution: false });
    expect(bills.Fast).toMatchObject({ billedMetrics: 1, highResolution: true });
    expect(bills.Signature?.highResolution).toBe(false);
  });

  it("names an alarm by its construct id when the template's metadata says it", () => {
    expect(bills.Single?.name).toBe('ingest-errors');
    expect(bills.Delay?.name).toBe('Delay');
  });
});

describe('eventSourcePolling', () => {
  const template: CfnTemplate = {
    Resources: {
      High: { Type: 'AWS::SQS::Queue' },
      Low: { Type: 'AWS::SQS::Queue' },
      Stream: { Type: 'AWS::Kinesis::Stream' },
      Capped: {
        Type: 'AWS::Lambda::EventSourceMapping',
        Properties: {
          EventSourceArn: { 'Fn::GetAtt': ['High', 'Arn'] },
          ScalingConfig: { MaximumConcurrency: 20 },
        },
      },
      Uncapped: {
        Type: 'AWS::Lambda::EventSourceMapping',
        Properties: { EventSourceArn: { 'Fn::GetAtt': ['Low', 'Arn'] } },
      },
      Provisioned: {
        Type: 'AWS::Lambda::EventSourceMapping',
        Properties: {
          EventSourceArn: 'arn:aws:sqs:us-east-1:123456789012:imported',
          ProvisionedPollerConfig: { MinimumPollers: 3 },
        },
      },
      Kinesis: {
        Type: 'AWS::Lambda::EventSourceMapping',
        Properties: { EventSourceArn: { 'Fn::GetAtt': ['Stream', 'Arn'] } },
      },
    },
  };

  it('keeps 5 pollers with maximum concurrency, as few as 2 without, and counts only SQS sources', () => {
    const polling = Object.fromEntries(eventSourcePolling(template).map((entry) => [entry.id, entry]));
    expect(Object.keys(polling).sort()).toEqual(['Capped', 'Provisioned', 'Uncapped']);
    expect(polling.Capped).toMatchObject({ queue: 'High', pollers: 5 });
    expect(polling.Uncapped?.pollers).toBe(2);
    expect(polling.Provisioned?.pollers).toBe(3);
  });

  it('counts one 20-second receive per poller over a 730-hour month', () => {
    expect(RECEIVES_PER_POLLER_MONTH).toBe(131_400);
    const capped = eventSourcePolling(template).find((entry) => entry.id === 'Capped');
    expect(capped?.receivesPerMonth).toBe(657_000);
  });
});

describe('invocationsPerMonth and scheduledFunctions', () => {
  it('turns rate expressions into invocations per 730-hour month', () => {
    expect(invocationsPerMonth('rate(5 minutes)')).toBe(8_760);
    expect(invocationsPerMonth('rate(1 minute)')).toBe(43_800);
    expect(invocationsPerMonth('rate(2 hours)')).toBe(365);
    expect(() => invocationsPerMonth('cron(0 12 * * ? *)')).toThrow(/not modelled/);
    expect(() => invocationsPerMonth('rate(0 minutes)')).toThrow(/not modelled/);
  });

  it("reads each schedule's target function, its memory, architecture and input", () => {
    const template: CfnTemplate = {
      Resources: {
        Fn: { Type: 'AWS::Lambda::Function', Properties: { MemorySize: 1024, Architectures: ['arm64'] } },
        Every: {
          Type: 'AWS::Scheduler::Schedule',
          Properties: {
            ScheduleExpression: 'rate(1 minute)',
            Target: { Arn: { 'Fn::GetAtt': ['Fn', 'Arn'] }, Input: '{"scope":"confirmations"}' },
          },
        },
        Elsewhere: {
          Type: 'AWS::Scheduler::Schedule',
          Properties: { ScheduleExpression: 'rate(1 minute)', Target: { Arn: 'arn:aws:sqs:us-east-1:1:q' } },
        },
      },
    };
    expect(scheduledFunctions(template)).toEqual([
      {
        id: 'Every',
        expression: 'rate(1 minute)',
        invocationsPerMonth: 43_800,
        input: '{"scope":"confirmations"}',
        functionId: 'Fn',
        memoryMb: 1024,
        arm64: true,
      },
    ]);
  });
});

describe('customMetricRows', () => {
  const rows = customMetricRows(['paystack', 'stripe'], []);
  const row = (metric: string, service: string) =>
    rows.find((entry) => entry.metric === metric && entry.service === service);

  it('counts gateways x the extra dimension values assumed to receive data, per writing function', () => {
    expect(row('WebhookRequests', 'payhook-ingest')).toMatchObject({ count: 4, possible: 2 * 15 });
    // No extra dimension: one metric per gateway that gets data, none for one that gets none.
    expect(row('WebhookSourceNotAllowed', 'payhook-ingest')).toMatchObject({ values: [], possible: 2 });
    // Per run (no gateway): one per status with data.
    expect(row('ReconcilerPaymentsMoved', 'payhook-reconciler')).toMatchObject({
      per: 'none',
      values: ['expired', 'failed'],
      count: 2,
    });
    // A metric of the consumer as a whole (QueueDelay): one, whatever the gateways.
    expect(row('QueueDelay', 'payhook-consumer-high')).toMatchObject({ per: 'none', count: 1 });
    expect(row('WebhookSourceNotAllowed', 'payhook-ingest')?.count).toBe(0);
    expect(row('ProcessingFailures', 'payhook-consumer-high')).toMatchObject({ count: 0, possible: null });
  });

  it('writes the deliveries per destination, and nothing for them without one', () => {
    expect(rows.some((entry) => entry.per === 'destination')).toBe(false);
    const withShop = customMetricRows(['paystack', 'stripe'], ['shop']);
    expect(withShop.find((entry) => entry.metric === 'DeliveryAttempts')).toMatchObject({
      per: 'destination',
      primaries: ['shop'],
      count: 2,
      possible: 7,
    });
    expect(countCustomMetrics(withShop) - countCustomMetrics(rows)).toBe(3);
  });

  it('scales with the gateways, and totals the rows', () => {
    const total = countCustomMetrics(rows);
    expect(total).toBe(rows.reduce((sum, entry) => sum + entry.count, 0));
    // 48 before issue #20: WebhookBodyBytes and TimeToQueue (2 each), ReconcilerPaymentsChecked and
    // ReconcilerStillPending (2 each), EventsProcessed (16) and Transitions (10) became log fields; QueueDelay (6 -> 3)
    // and ReconcilerPaymentsMoved (4 -> 2) lost their gateway. What is left: WebhookRequests 4, QueueDelay 3,
    // ReconcilerPaymentsMoved 2.
    expect(total).toBe(9);
    // Only what is still per gateway grows with the gateways.
    const perGateway = countCustomMetrics(rows.filter((entry) => entry.per === 'gateway'));
    expect(perGateway).toBe(4);
    expect(countCustomMetrics(customMetricRows(['paystack', 'stripe', 'razorpay'], []))).toBe(
      total - perGateway + (perGateway / 2) * 3,
    );
  });

  it('recounts what a change of dimensions would bill', () => {
    const total = countCustomMetrics(rows);
    // QueueDelay 3.
    expect(countCustomMetrics(rows, { drop: ['queueDelay'] })).toBe(total - 3);
    // WebhookRequests without its gateway: one per outcome with data (2) instead of one per gateway and outcome (4).
    expect(countCustomMetrics(rows, { withoutPrimary: ['webhookRequests'] })).toBe(total - 2);
    // ReconcilerPaymentsMoved without its status: one.
    expect(countCustomMetrics(rows, { withoutDetail: ['paymentsMoved'] })).toBe(total - 2 + 1);
  });
});

describe('the dimensions each metric is written with', () => {
  it('are, in what EmfMetrics prints, those the definitions say: first dimension and extra one', async () => {
    const written = await writtenDimensions();
    for (const key of Object.keys(METRICS) as (keyof typeof METRICS)[]) {
      expect([...written[key]].sort(), key).toEqual([...DEFINED_DIMENSIONS(key)].sort());
    }
    expect(written.webhookRequests).toContain('gateway');
    expect(written.queueDelay).not.toContain('gateway');
    expect(written.signatureFailures).toEqual(['gateway']);
    expect(written.gatewaySkipped).toEqual(['gateway']);
    expect(written.deliveryAttempts).toContain('destination');
  });

  it('count one metric per extra value, not per gateway, for a metric written without its gateway', () => {
    const rows = customMetricRows(['paystack', 'stripe'], [], undefined, (key) =>
      key === 'webhookRequests' ? ['outcome'] : DEFINED_DIMENSIONS(key),
    );
    const ingest = rows.find((row) => row.metric === 'WebhookRequests' && row.service === 'payhook-ingest');
    expect(ingest).toMatchObject({ per: 'none', count: 2 });
    expect(countCustomMetrics(rows)).toBe(9 - 4 + 2);
  });
});

describe('EMITTERS', () => {
  it('says who writes every metric, and assumes only values the code can write', () => {
    for (const key of Object.keys(METRICS) as (keyof typeof METRICS)[]) {
      const emitters = EMITTERS[key];
      expect(emitters.length, key).toBeGreaterThan(0);
      for (const emitter of emitters) {
        if (METRICS[key].dimension === undefined) {
          expect(
            emitter.month.every((value) => value === ANY),
            key,
          ).toBe(true);
        } else if (emitter.possible !== 'open') {
          for (const value of emitter.month) expect(emitter.possible, `${key} ${value}`).toContain(value);
        }
      }
    }
  });
});

const idle = (scope: 'all' | 'confirmations', readUnits: number, logBytes: number): IdleRun => ({
  scope,
  calls: {},
  readUnits,
  readUnitsByPartition: { stripe: readUnits },
  logBytes,
  metricsWritten: 0,
});

describe('deploymentFixedCost', () => {
  const template: CfnTemplate = {
    Resources: {
      ...ALARMS.Resources,
      Board: { Type: 'AWS::CloudWatch::Dashboard', Properties: {} },
      SecretA: { Type: 'AWS::SecretsManager::Secret', Properties: {} },
      SecretB: { Type: 'AWS::SecretsManager::Secret', Properties: {} },
      Queue: { Type: 'AWS::SQS::Queue' },
      Mapping: {
        Type: 'AWS::Lambda::EventSourceMapping',
        Properties: {
          EventSourceArn: { 'Fn::GetAtt': ['Queue', 'Arn'] },
          ScalingConfig: { MaximumConcurrency: 2 },
        },
      },
      Fn: { Type: 'AWS::Lambda::Function', Properties: { MemorySize: 512, Architectures: ['arm64'] } },
      Schedule: {
        Type: 'AWS::Scheduler::Schedule',
        Properties: {
          ScheduleExpression: 'rate(5 minutes)',
          Target: { Arn: { 'Fn::GetAtt': ['Fn', 'Arn'] } },
        },
      },
    },
  };
  const cost = deploymentFixedCost('test', template, ['stripe'], [], {
    all: idle('all', 20, 600),
    confirmations: idle('confirmations', 7.5, 0),
  });
  const item = (name: string) => cost.items.find((entry) => entry.item === name);

  it('prices what the template holds', () => {
    // 1 + 3 + 2 + 3 standard metrics; the 10-s alarm is high resolution.
    expect(item('CloudWatch alarms')).toMatchObject({
      quantity: 9,
      monthly: 9 * MONTHLY_PRICES.alarmMetric.perMonth,
    });
    expect(item('CloudWatch alarms, high resolution')?.monthly).toBeCloseTo(0.3);
    expect(item('CloudWatch dashboards')?.monthly).toBe(3);
    expect(item('Secrets Manager secrets')?.monthly).toBeCloseTo(0.8);
    expect(item('SQS: idle long polling by the event sources')).toMatchObject({ quantity: 657_000 });
    expect(item('SQS: idle long polling by the event sources')?.monthly).toBeCloseTo(0.2628, 6);
    expect(item('EventBridge Scheduler invocations')?.quantity).toBe(8_760);
    expect(item('DynamoDB reads (scheduled idle runs)')?.quantity).toBe(8_760 * 20);
    expect(item('KMS customer-managed keys')?.monthly).toBe(0);
  });

  it('prices the custom metrics of its gateways, and totals every item', () => {
    // One gateway: its 2 WebhookRequests outcomes, and the 5 written per function (QueueDelay 3, payments moved 2).
    expect(item('CloudWatch custom metrics')?.quantity).toBe(7);
    expect(cost.total).toBeCloseTo(
      cost.items.reduce((sum, entry) => sum + entry.monthly, 0),
      10,
    );
    const duration = item('Lambda duration (scheduled idle runs, and inits)');
    // 8,760 runs x 50 ms x 0.5 GB, plus 730 inits x 300 ms x 0.5 GB.
    expect(duration?.quantity).toBeCloseTo(219 + 109.5, 6);
    expect(duration?.unitPrice).toBeCloseTo(PRICES.lambdaArmGbSeconds.perMillion / 1e6, 12);
  });
});

describe('measureIdleReconcilerRun', () => {
  it('counts what an idle run reads, and that it writes no metric and no log line for confirmations', async () => {
    const run = await measureIdleReconcilerRun('confirmations', ['stripe']);
    expect(run.metricsWritten).toBe(0);
    expect(run.logBytes).toBe(0);
    const partitions = Object.keys(run.readUnitsByPartition);
    expect(partitions).toContain('stripe#confirm');
    expect(partitions.every((partition) => partition.endsWith('#confirm'))).toBe(true);
    expect(run.readUnits).toBe(
      Object.values(run.readUnitsByPartition).reduce((sum, units) => sum + units, 0),
    );
    const full = await measureIdleReconcilerRun('all', ['stripe']);
    expect(full.logBytes).toBeGreaterThan(0);
    expect(full.readUnitsByPartition.stripe).toBeGreaterThan(0);
  });
});

describe('the fixed section in the results', () => {
  it('is kept, with its date, when --only leaves it out', () => {
    const previous = {
      machine: { date: '2026-11-30T00:00:00.000Z' },
      fixedMonthly: { total: 22.66 },
      notRun: {},
    } as unknown as Partial<BenchResults>;
    const kept = keepSections(previous, ['fixed', 'cpu']);
    expect(kept.carried).toEqual({ fixedMonthly: { total: 22.66 } });
    expect(kept.carriedOver).toEqual({ fixed: '2026-11-30T00:00:00.000Z' });
    expect(kept.notRun).toEqual({ cpu: 'left out with --only' });
  });

  it('renders the items against the target and says by how much it is over', () => {
    const items = [
      {
        item: 'CloudWatch dashboards',
        quantity: 1,
        unit: 'dashboard',
        unitPrice: 3,
        monthly: 3,
        basis: 'template',
        source: 'pricing',
      },
    ];
    const fixedMonthly: FixedMonthlyResults = {
      target: 10,
      hoursPerMonth: 730,
      gateways: ['paystack', 'stripe'],
      items,
      total: 12.5,
      withDestination: { destinations: ['shop'], items, total: 14 },
      alarms: [],
      destinationAlarms: [],
      customMetrics: [],
      destinationMetrics: [],
      polling: [],
      idleRuns: [],
      scheduleScopes: ['all'],
      proposals: [{ change: 'drop a thing', trade: 'nothing', saving: 3, proposed: true }],
      totalAfterProposals: 9.5,
    };
    const text = markdown({
      machine: {
        cores: 2,
        model: 'cpu',
        node: 'v20',
        platform: 'linux x64',
        memoryGiB: 4,
        date: '2026-11-30T00:00:00.000Z',
        loadAverageAtStart: 0,
      },
      durationSeconds: 1,
      fixedMonthly,
      notRun: {},
    });
    expect(text).toContain('## 8. Fixed monthly cost when idle');
    expect(text).toContain('| **total** | | | | **$12.50** | **$14.00** | | |');
    expect(text).toContain('**not met: $2.50 over**');
    // What is left is listed with why it was not done and what it would save.
    expect(text).toContain('| drop a thing | nothing | $3.00 |');
  });
});
