import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import {
  METRICS,
  PRIORITIES,
  type Priority,
  STOPPED_DESTINATION_RECHECK_SECONDS,
} from '../lambdas/definitions.js';
import type { GatewayName } from '../lambdas/domain/webhook-event.js';
import { GATEWAY_SKIP_REASONS } from '../lambdas/reconciliation/reconcile.js';
import { VERIFIERS } from '../lambdas/reconciliation/verifiers/index.js';
import { type AlarmWindow, SETTING_DEFAULTS } from './config.js';
import type { Deliveries, DeliveryDestination } from './deliveries.js';
import type { PayhookFunction } from './payhook-function.js';
import {
  combined,
  deliveryMetric,
  metricsNamespace,
  payhookMetric,
  SERVICES,
  SIGNATURE_FAILURE_OUTCOMES,
  serviceMetric,
} from './payhook-metrics.js';
import type { PriorityPipeline } from './priority-pipeline.js';
import type { WebhookApi } from './webhook-api.js';

export interface MonitoringProps {
  readonly pipeline: PriorityPipeline;
  readonly webhookApi: WebhookApi;
  /** Where alarms notify (and say OK again). @default - alarms without actions, visible on the dashboard */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Alarm when a priority queue's oldest message is older than this many seconds.
   * @default - the `oldestMessageAgeSeconds` setting's default: { high: 300, normal: 900, low: 3600 }
   */
  readonly oldestMessageAgeSeconds?: Readonly<Partial<Record<Priority, number>>>;
  /** @default 'payhook' */
  readonly dashboardName?: string;
  /** More functions to watch for errors and throttles, by name (the reconciler, registration). @default - none */
  readonly otherFunctions?: Readonly<Record<string, PayhookFunction>>;
  /** The gateways with a route: each gets a signature-failure alarm and a row on the dashboard. @default - none */
  readonly gateways?: readonly GatewayName[];
  /**
   * Failing signatures from one gateway (invalid, malformed, or a timestamp out of tolerance; not missing) above
   * `threshold` within `minutes`: forgeries, or the typical wrong secret after a rotation, which otherwise turns every
   * webhook into a 401 until the gateway gives up.
   * @default - the `signatureFailureAlarm` setting's default: { threshold: 10, minutes: 5 }
   */
  readonly signatureFailures?: AlarmWindow;
  /** Minutes without an accepted webhook after which a gateway's quiet alarm fires, per gateway. @default - none */
  readonly quietMinutes?: Readonly<Partial<Record<GatewayName, number>>>;
  /**
   * p95 delay (seconds) of messages on the high-priority queue above which to alarm.
   * @default - the `highQueueDelaySeconds` setting's default (60)
   */
  readonly highQueueDelaySeconds?: number;
  /**
   * Payments the reconciler found paid with no webhook, in an hour, above which to alarm.
   * @default - the `lostWebhooksPerHour` setting's default (0)
   */
  readonly lostWebhooksPerHour?: number;
  /**
   * How often the full reconciler run is scheduled: the period of the alarms on a gateway the reconciler skipped
   * (empty, invalid or unreachable secret) in 3 consecutive runs.
   * @default - the `reconcileIntervalMinutes` setting's default (5 minutes)
   */
  readonly reconcileInterval?: Duration;
  /** Deliveries to merchant endpoints: alarms and a dashboard row per destination. @default - none */
  readonly deliveries?: Deliveries;
  /**
   * Alarm when a destination queue's oldest event is older than this many seconds.
   * @default - the `deliveryOldestAgeSeconds` setting's default (3600)
   */
  readonly deliveryOldestAgeSeconds?: number;
}

/** What a delivery's attempt came to (`DeliveryAttempts`' outcome dimension, `lambdas/delivery/deliverer.ts`). */
const DELIVERY_OUTCOMES = [
  'delivered',
  'retry',
  'stopped',
  'dead_lettered',
  'held',
  'paused',
  'throttled',
] as const;

/** The gateway alarms the dashboard's gateway row shows. */
interface GatewayAlarms {
  readonly signature: Map<GatewayName, cloudwatch.Alarm>;
  readonly quiet: Map<GatewayName, cloudwatch.Alarm>;
}

type WatchedFunctions = readonly (readonly [string, PayhookFunction])[];

const ONE_MINUTE = Duration.minutes(1);
const FIVE_MINUTES = Duration.minutes(5);

/**
 * What on-call needs to hear about: anything in a dead-letter queue, a queue falling behind, function errors and
 * throttles, and API 5xx (each of which a gateway turns into retries, then a disabled endpoint). One dashboard shows
 * the same, one row per concern.
 */
export class Monitoring extends Construct {
  /** Every alarm but the quiet-gateway ones, which the gateway row shows. */
  public readonly alarms: readonly cloudwatch.Alarm[];
  public readonly dashboard: cloudwatch.Dashboard;
  private readonly created: cloudwatch.Alarm[] = [];
  private readonly alarmTopic?: sns.ITopic;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.alarmTopic = props.alarmTopic;
    const { pipeline, webhookApi } = props;
    const functions: WatchedFunctions = [
      ['ingest', webhookApi.ingest],
      ...PRIORITIES.map((priority) => [`${priority}-consumer`, pipeline.consumers[priority]] as const),
      ...Object.entries(props.otherFunctions ?? {}),
      ...(props.deliveries ? [['deliver', props.deliveries.deliverer] as const] : []),
    ];
    this.queueAlarms(pipeline, props.oldestMessageAgeSeconds ?? {});
    this.functionAlarms(functions);
    this.alarm(
      'api-5xx',
      webhookApi.api.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }),
      0,
      'payhook webhook API answered 5xx: gateways retry these, then disable the endpoint',
    );
    const gateways = props.gateways ?? [];
    const gatewayAlarms = this.webhookAlarms(gateways, props);
    const destinations = props.deliveries?.destinations ?? [];
    const oldestAge = props.deliveryOldestAgeSeconds ?? SETTING_DEFAULTS.deliveryOldestAgeSeconds;
    for (const destination of destinations) this.deliveryAlarms(destination, oldestAge);
    this.alarms = this.created;

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName ?? 'payhook',
    });
    this.addApiWidgets(webhookApi);
    this.addQueueWidgets(pipeline);
    this.addOutcomeWidgets(pipeline);
    this.addFunctionWidgets(functions);
    this.addGatewayWidgets(gateways, gatewayAlarms);
    for (const destination of destinations) this.addDeliveryWidgets(destination);
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.created, width: 24 }),
    );
  }

  /** An alarm above `threshold` over one period, missing data not breaching, notifying the topic if any. */
  private alarm(
    id: string,
    metric: cloudwatch.IMetric,
    threshold: number,
    description: string,
  ): cloudwatch.Alarm {
    const created = new cloudwatch.Alarm(this, id, {
      metric,
      threshold,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    });
    this.notify(created);
    this.created.push(created);
    return created;
  }

  /** Sends the alarm, and its return to OK, to the alarm topic, if there is one. */
  private notify(alarm: cloudwatch.Alarm): void {
    if (!this.alarmTopic) return;
    alarm.addAlarmAction(new SnsAction(this.alarmTopic));
    alarm.addOkAction(new SnsAction(this.alarmTopic));
  }

  /** Per priority: any message in the dead-letter queue, and the queue's oldest message over its age. */
  private queueAlarms(pipeline: PriorityPipeline, ages: Readonly<Partial<Record<Priority, number>>>): void {
    for (const priority of PRIORITIES) {
      this.alarm(
        `${priority}-dlq-depth`,
        pipeline.deadLetterQueues[priority].metricApproximateNumberOfMessagesVisible({
          period: ONE_MINUTE,
          statistic: 'Maximum',
        }),
        0,
        `payhook ${priority} dead-letter queue has messages: run \`payhook dlq list --queue ${priority}\``,
      );
      const maxAge = ages[priority] ?? SETTING_DEFAULTS.oldestMessageAgeSeconds[priority];
      this.alarm(
        `${priority}-oldest-message`,
        pipeline.queues[priority].metricApproximateAgeOfOldestMessage({
          period: ONE_MINUTE,
          statistic: 'Maximum',
        }),
        maxAge,
        `payhook ${priority} queue's oldest message is over ${maxAge} s old: consumers are failing or throttled`,
      );
    }
  }

  /** Any error or throttle of any watched function. */
  private functionAlarms(functions: WatchedFunctions): void {
    for (const [name, fn] of functions) {
      this.alarm(
        `${name}-errors`,
        fn.function.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
        0,
        `payhook ${name} function errors`,
      );
      this.alarm(
        `${name}-throttles`,
        fn.function.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }),
        0,
        `payhook ${name} function throttled`,
      );
    }
  }

  /**
   * Alarms on payhook's own metrics: what a gateway sees before it gives up on the endpoint (invalid signatures,
   * silence), a high-priority backlog, and payments only the reconciler could settle (lost webhooks).
   */
  private webhookAlarms(gateways: readonly GatewayName[], props: MonitoringProps): GatewayAlarms {
    const signature = new Map<GatewayName, cloudwatch.Alarm>();
    const quiet = new Map<GatewayName, cloudwatch.Alarm>();
    const failures = props.signatureFailures ?? SETTING_DEFAULTS.signatureFailureAlarm;
    for (const gateway of gateways) {
      signature.set(gateway, this.signatureAlarm(gateway, failures));
      const minutes = props.quietMinutes?.[gateway];
      if (minutes !== undefined) quiet.set(gateway, this.quietAlarm(gateway, minutes));
    }
    if (gateways.length > 0) {
      this.highQueueDelayAlarm(props.highQueueDelaySeconds ?? SETTING_DEFAULTS.highQueueDelaySeconds);
      this.lostWebhooksAlarm(props.lostWebhooksPerHour ?? SETTING_DEFAULTS.lostWebhooksPerHour);
    }
    const interval = props.reconcileInterval ?? Duration.minutes(SETTING_DEFAULTS.reconcileIntervalMinutes);
    for (const gateway of gateways.filter((name) => VERIFIERS[name] !== undefined)) {
      this.reconcilerSkippedAlarm(gateway, interval);
    }
    return { signature, quiet };
  }

  private get namespace(): string {
    return metricsNamespace(Stack.of(this).stackName);
  }

  /**
   * Every refusal of one gateway that presented a signature (a forgery, a wrong secret, a replay): ingest counts them
   * as one metric (`SignatureFailures`, SIGNATURE_FAILURE_OUTCOMES), so the alarm is billed for one metric, not three.
   * `missing_signature` is left out: every scanner that finds the URL produces it.
   */
  private signatureAlarm(gateway: GatewayName, failures: AlarmWindow): cloudwatch.Alarm {
    return this.alarm(
      `${gateway}-signature-failures`,
      this.signatureFailures(gateway, Duration.minutes(failures.minutes)),
      failures.threshold,
      `payhook: more than ${failures.threshold} ${gateway} requests with a failing signature in ` +
        `${failures.minutes} min (${SIGNATURE_FAILURE_OUTCOMES.join(', ')}): a wrong or rotated secret, or ` +
        'forgeries? Every one is a 401; a real gateway retries, then gives up on the endpoint. ' +
        `Run \`payhook rejects list --gateway ${gateway}\``,
    );
  }

  private signatureFailures(gateway: GatewayName, period: Duration, label?: string): cloudwatch.Metric {
    return payhookMetric(
      this.namespace,
      METRICS.signatureFailures,
      { service: SERVICES.ingest, gateway },
      { statistic: 'Sum', period, ...(label && { label }) },
    );
  }

  /**
   * No accepted webhook from the gateway for `minutes`: periods of at most an hour, all of which must be silent, whose
   * sum is the quiet time asked for (rounded up to whole minutes per period), within CloudWatch's one-day range.
   */
  private quietAlarm(gateway: GatewayName, minutes: number): cloudwatch.Alarm {
    const periods = Math.ceil(minutes / 60);
    const periodMinutes = Math.ceil(minutes / periods);
    const silent = new cloudwatch.Alarm(this, `${gateway}-quiet`, {
      metric: payhookMetric(
        this.namespace,
        METRICS.webhookRequests,
        { service: SERVICES.ingest, gateway, detail: 'accepted' },
        { statistic: 'Sum', period: Duration.minutes(periodMinutes) },
      ),
      threshold: 1,
      evaluationPeriods: periods,
      datapointsToAlarm: periods,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      // No datapoint is exactly the silence this alarm is for.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      alarmDescription: `payhook: no accepted ${gateway} webhook for ${minutes} min: endpoint disabled at the gateway, DNS, or a route problem?`,
    });
    this.notify(silent);
    return silent;
  }

  /** The p95 wait on the high-priority queue over `seconds`: money-arrived events are late. */
  private highQueueDelayAlarm(seconds: number): void {
    this.alarm(
      'high-queue-delay',
      serviceMetric(
        this.namespace,
        METRICS.queueDelay,
        { service: SERVICES.consumer('high') },
        {
          statistic: 'p95',
          period: FIVE_MINUTES,
        },
      ),
      seconds * 1000,
      `payhook: high-priority events wait over ${seconds} s (p95) before processing: money-arrived events are late`,
    );
  }

  /** More than `perHour` payments in an hour found paid by the reconciler that no webhook had announced. */
  private lostWebhooksAlarm(perHour: number): void {
    this.alarm(
      'lost-webhooks',
      serviceMetric(
        this.namespace,
        METRICS.paymentsSettled,
        { service: SERVICES.reconciler },
        { statistic: 'Sum', period: Duration.hours(1) },
      ),
      perHour,
      `payhook: the reconciler found more than ${perHour} payment(s) paid in an hour that no webhook had announced: ` +
        'webhooks are being lost (endpoint disabled at a gateway? refused requests?)',
    );
  }

  /**
   * The reconciler left the gateway alone (its secret holds no API credentials, is not of the documented shape, or
   * could not be fetched) in 3 consecutive runs: its payments are neither asked about nor expired until it is fixed.
   * One datapoint per run at most (a skip is counted once per run), so 3 periods of the schedule's interval, all
   * breaching; a run with nothing of that gateway's to ask about writes nothing, which is not breaching.
   */
  private reconcilerSkippedAlarm(gateway: GatewayName, interval: Duration): void {
    const skipped = new cloudwatch.Alarm(this, `${gateway}-reconciler-skipped`, {
      // Without the reason (it is in the run's warning line): one metric read, not one per reason.
      metric: payhookMetric(
        this.namespace,
        METRICS.gatewaySkipped,
        { service: SERVICES.reconciler, gateway },
        { statistic: 'Sum', period: interval },
      ),
      threshold: 0,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription:
        `payhook: the reconciler skipped ${gateway} in 3 consecutive runs (${GATEWAY_SKIP_REASONS.join(', ')}): ` +
        `its lost webhooks are not found and its pending payments never expire. Fix the ${gateway} secret ` +
        '(the reason is in the reconciler log line "reconciler skipped a gateway this run")',
    });
    this.notify(skipped);
    this.created.push(skipped);
  }

  /**
   * Per destination: anything in its dead-letter queue (dead-lettered with a reason: `payhook deliveries list`); the
   * destination stopped by a 410 Gone; and its queue's oldest event over `maxAge` (the function not draining it).
   */
  private deliveryAlarms(destination: DeliveryDestination, maxAge: number): void {
    const { name, queue, deadLetterQueue } = destination;
    this.alarm(
      `delivery-${name}-dlq-depth`,
      deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: ONE_MINUTE, statistic: 'Maximum' }),
      0,
      `payhook: deliveries to ${name} were dead-lettered (refused, or retried for its retryHours): ` +
        `see \`payhook deliveries list\` for ${name}`,
    );
    this.stoppedAlarm(name);
    this.pausedAlarm(name);
    // SQS leaves a message received 3 times or more out of this age: a destination failing every attempt shows in
    // the attempts graph and, once its retries run out, the DLQ alarm; this one hears a queue nobody drains.
    this.alarm(
      `delivery-${name}-oldest-event`,
      queue.metricApproximateAgeOfOldestMessage({ period: ONE_MINUTE, statistic: 'Maximum' }),
      maxAge,
      `payhook: the ${name} destination's oldest undelivered event is over ${maxAge} s old: the delivery ` +
        'function is failing, throttled, or its event source is disabled',
    );
  }

  /**
   * The destination stopped (410 Gone) and its events held on its queue. A held event is looked at again every
   * STOPPED_DESTINATION_RECHECK_SECONDS (15 minutes), so `held` is counted in one 5-minute period out of three: the
   * alarm wants one datapoint in 6 periods (30 minutes), which fires within 5 minutes of the 410 (`stopped`) and stays
   * in alarm, without flapping, until the destination is resumed and nothing is held for half an hour.
   */
  private stoppedAlarm(name: string): void {
    const periods = Math.ceil((2 * STOPPED_DESTINATION_RECHECK_SECONDS) / FIVE_MINUTES.toSeconds());
    const stopped = new cloudwatch.Alarm(this, `delivery-${name}-stopped`, {
      metric: combined(
        'SUM',
        (['stopped', 'held'] as const).map((outcome) =>
          deliveryMetric(
            this.namespace,
            METRICS.deliveryAttempts,
            { destination: name, detail: outcome },
            { statistic: 'Sum', period: FIVE_MINUTES },
          ),
        ),
        `${name} stopped or held`,
        FIVE_MINUTES,
      ),
      threshold: 1,
      evaluationPeriods: periods,
      datapointsToAlarm: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription:
        `payhook: the ${name} destination answered 410 Gone and is stopped: its events wait on its queue. ` +
        `Once the merchant's endpoint is back, resume it (\`payhook deliveries resume\`)`,
    });
    this.notify(stopped);
    this.created.push(stopped);
  }

  /**
   * The destination's circuit breaker is open: its events wait on its queue (`paused`) until a probe succeeds. Paused
   * events come back after the breaker's pause (at most 15 minutes), so, as for the stop, one datapoint in 30 minutes.
   */
  private pausedAlarm(name: string): void {
    const paused = new cloudwatch.Alarm(this, `delivery-${name}-breaker-open`, {
      metric: deliveryMetric(
        this.namespace,
        METRICS.deliveryAttempts,
        { destination: name, detail: 'paused' },
        { statistic: 'Sum', period: FIVE_MINUTES },
      ),
      threshold: 1,
      evaluationPeriods: Math.ceil((2 * STOPPED_DESTINATION_RECHECK_SECONDS) / FIVE_MINUTES.toSeconds()),
      datapointsToAlarm: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription:
        `payhook: the ${name} destination kept failing and its circuit breaker is open: its events wait on its ` +
        'queue and one probe at a time checks whether it is back (`payhook deliveries status`)',
    });
    this.notify(paused);
    this.created.push(paused);
  }

  /** One row per destination: attempts by outcome, latency p95, its queue's oldest event and its DLQ's depth. */
  private addDeliveryWidgets(destination: DeliveryDestination): void {
    const { name, queue, deadLetterQueue } = destination;
    const attempts = (outcome: string) =>
      deliveryMetric(
        this.namespace,
        METRICS.deliveryAttempts,
        { destination: name, detail: outcome },
        { statistic: 'Sum', period: FIVE_MINUTES, label: outcome },
      );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: `Deliveries to ${name}: attempts by outcome`,
        left: DELIVERY_OUTCOMES.map(attempts),
        width: 6,
      }),
      new cloudwatch.GraphWidget({
        title: `Deliveries to ${name}: latency p95 (ms)`,
        left: [
          deliveryMetric(
            this.namespace,
            METRICS.deliveryLatency,
            { destination: name },
            { statistic: 'p95', period: FIVE_MINUTES, label: 'p95' },
          ),
        ],
        width: 6,
      }),
      new cloudwatch.GraphWidget({
        title: `Deliveries to ${name}: oldest event (s)`,
        left: [queue.metricApproximateAgeOfOldestMessage({ period: ONE_MINUTE, label: 'oldest' })],
        width: 6,
      }),
      new cloudwatch.GraphWidget({
        title: `Deliveries to ${name}: dead-letter queue`,
        left: [
          deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: ONE_MINUTE, label: 'DLQ' }),
        ],
        width: 6,
      }),
    );
  }

  /** Requests, 4xx and 5xx, and latency of the webhook API. */
  private addApiWidgets(webhookApi: WebhookApi): void {
    const api = webhookApi.api;
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Webhooks: requests, 4xx, 5xx',
        left: [
          api.metricCount({ period: ONE_MINUTE }),
          api.metricClientError({ period: ONE_MINUTE }),
          api.metricServerError({ period: ONE_MINUTE }),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Webhooks: latency',
        left: [api.metricLatency({ period: ONE_MINUTE })],
        width: 12,
      }),
    );
  }

  /** Depth and oldest message of each priority queue, and depth of each dead-letter queue. */
  private addQueueWidgets(pipeline: PriorityPipeline): void {
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Queue depth',
        left: PRIORITIES.map((priority) =>
          pipeline.queues[priority].metricApproximateNumberOfMessagesVisible({
            period: ONE_MINUTE,
            label: priority,
          }),
        ),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Oldest message age (s)',
        left: PRIORITIES.map((priority) =>
          pipeline.queues[priority].metricApproximateAgeOfOldestMessage({
            period: ONE_MINUTE,
            label: priority,
          }),
        ),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Dead-letter queue depth',
        left: PRIORITIES.map((priority) =>
          pipeline.deadLetterQueues[priority].metricApproximateNumberOfMessagesVisible({
            period: ONE_MINUTE,
            label: `${priority} DLQ`,
          }),
        ),
        width: 8,
      }),
    );
  }

  /**
   * What the consumers did with each event and the statuses payments reached, counted from their "event processed"
   * lines by Logs Insights when the dashboard is looked at: as metrics, each outcome and status would be billed every
   * month whether webhooks came or not (issue #20). A query reads the log retention's worth at most.
   */
  private addOutcomeWidgets(pipeline: PriorityPipeline): void {
    const logGroupNames = PRIORITIES.map((priority) => pipeline.consumers[priority].logGroup.logGroupName);
    const processed = 'filter message = "event processed"';
    this.dashboard.addWidgets(
      new cloudwatch.LogQueryWidget({
        title: 'Events processed by outcome (consumer logs)',
        logGroupNames,
        queryLines: [processed, 'stats count(*) as events by outcome', 'sort events desc'],
        view: cloudwatch.LogQueryVisualizationType.TABLE,
        width: 12,
      }),
      new cloudwatch.LogQueryWidget({
        title: 'Statuses reached by applied events (consumer logs)',
        logGroupNames,
        // Backquoted: plain field names, never read as words of the query language.
        queryLines: [
          `${processed} and outcome = "applied" and ispresent(\`to\`)`,
          'stats count(*) as events by `from`, `to`',
          'sort events desc',
        ],
        view: cloudwatch.LogQueryVisualizationType.TABLE,
        width: 12,
      }),
    );
  }

  /** Errors, throttles and p95 duration of every watched function. */
  private addFunctionWidgets(functions: WatchedFunctions): void {
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Function errors',
        left: functions.map(([name, fn]) => fn.function.metricErrors({ period: FIVE_MINUTES, label: name })),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Function throttles',
        left: functions.map(([name, fn]) =>
          fn.function.metricThrottles({ period: FIVE_MINUTES, label: name }),
        ),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Function duration (p95)',
        left: functions.map(([name, fn]) =>
          fn.function.metricDuration({ period: FIVE_MINUTES, statistic: 'p95', label: name }),
        ),
        width: 8,
      }),
    );
  }

  /** One row per concern: what each gateway sends and how it is answered, queue delay, and the reconciler's finds. */
  private addGatewayWidgets(gateways: readonly GatewayName[], alarms: GatewayAlarms): void {
    if (gateways.length === 0) return;
    const namespace = this.namespace;
    const requests = (detail: string) =>
      gateways.map((gateway) =>
        payhookMetric(
          namespace,
          METRICS.webhookRequests,
          { service: SERVICES.ingest, gateway, detail },
          { statistic: 'Sum', period: FIVE_MINUTES, label: gateway },
        ),
      );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Accepted webhooks by gateway',
        left: requests('accepted'),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        // What the signature-failure alarms count, per gateway.
        title: 'Signature failures by gateway (invalid, malformed, timestamp)',
        left: gateways.map((gateway) => this.signatureFailures(gateway, FIVE_MINUTES, gateway)),
        width: 8,
      }),
      new cloudwatch.AlarmStatusWidget({
        title: 'Gateway alarms (signatures, silence)',
        alarms: [...alarms.signature.values(), ...alarms.quiet.values()],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Queue delay p95 (ms)',
        left: PRIORITIES.map((priority) =>
          serviceMetric(
            namespace,
            METRICS.queueDelay,
            { service: SERVICES.consumer(priority) },
            {
              statistic: 'p95',
              period: FIVE_MINUTES,
              label: priority,
            },
          ),
        ),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Reconciler: payments moved by status (lost webhooks found)',
        left: ['succeeded', 'failed', 'expired', 'authorized'].map((status) =>
          serviceMetric(
            namespace,
            METRICS.paymentsMoved,
            { service: SERVICES.reconciler, detail: status },
            { statistic: 'Sum', period: Duration.hours(1), label: status },
          ),
        ),
        width: 12,
      }),
    );
  }
}
