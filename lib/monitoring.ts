import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { METRICS, PRIORITIES, type Priority } from '../lambdas/definitions.js';
import type { GatewayName } from '../lambdas/domain/webhook-event.js';
import type { SignatureFailureReason } from '../lambdas/gateways/types.js';
import type { PayhookFunction } from './payhook-function.js';
import { combined, metricsNamespace, payhookMetric, SERVICES } from './payhook-metrics.js';
import type { PriorityPipeline } from './priority-pipeline.js';
import type { WebhookApi } from './webhook-api.js';

export interface MonitoringProps {
  readonly pipeline: PriorityPipeline;
  readonly webhookApi: WebhookApi;
  /** Where alarms notify (and say OK again). @default - alarms without actions, visible on the dashboard */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Alarm when a priority queue's oldest message is older than this.
   * @default { high: 300, normal: 900, low: 3600 } seconds
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
   * webhook into a 401 until the gateway gives up. @default { threshold: 10, minutes: 5 }
   */
  readonly signatureFailures?: { readonly threshold: number; readonly minutes: number };
  /** Minutes without an accepted webhook after which a gateway's quiet alarm fires, per gateway. @default - none */
  readonly quietMinutes?: Readonly<Partial<Record<GatewayName, number>>>;
  /** p95 delay (seconds) of messages on the high-priority queue above which to alarm. @default 60 */
  readonly highQueueDelaySeconds?: number;
  /** Payments the reconciler found paid with no webhook, in an hour, above which to alarm. @default 0 */
  readonly lostWebhooksPerHour?: number;
}

const DEFAULT_SIGNATURE_FAILURES = { threshold: 10, minutes: 5 };

/**
 * The `WebhookRequests` outcomes the signature-failure alarm counts: a signature was presented and failed. Not
 * `missing_signature`, which every scanner produces.
 */
export const SIGNATURE_FAILURE_OUTCOMES = [
  'invalid_signature',
  'malformed_signature',
  'timestamp_out_of_tolerance',
] as const satisfies readonly SignatureFailureReason[];

const DEFAULT_OLDEST_AGE: Readonly<Record<Priority, number>> = { high: 300, normal: 900, low: 3600 };

/**
 * What on-call needs to hear about: anything in a dead-letter queue, a queue falling behind, function errors and
 * throttles, and API 5xx (each of which a gateway turns into retries, then a disabled endpoint). One dashboard shows
 * the same, one row per concern.
 */
export class Monitoring extends Construct {
  public readonly alarms: readonly cloudwatch.Alarm[];
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const alarms: cloudwatch.Alarm[] = [];
    const alarm = (alarmId: string, metric: cloudwatch.IMetric, threshold: number, description: string) => {
      const created = new cloudwatch.Alarm(this, alarmId, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      if (props.alarmTopic) {
        created.addAlarmAction(new SnsAction(props.alarmTopic));
        created.addOkAction(new SnsAction(props.alarmTopic));
      }
      alarms.push(created);
      return created;
    };

    const oneMinute = Duration.minutes(1);
    const fiveMinutes = Duration.minutes(5);
    const { pipeline, webhookApi } = props;
    for (const priority of PRIORITIES) {
      alarm(
        `${priority}-dlq-depth`,
        pipeline.deadLetterQueues[priority].metricApproximateNumberOfMessagesVisible({
          period: oneMinute,
          statistic: 'Maximum',
        }),
        0,
        `payhook ${priority} dead-letter queue has messages: run \`payhook dlq list --queue ${priority}\``,
      );
      const maxAge = props.oldestMessageAgeSeconds?.[priority] ?? DEFAULT_OLDEST_AGE[priority];
      alarm(
        `${priority}-oldest-message`,
        pipeline.queues[priority].metricApproximateAgeOfOldestMessage({
          period: oneMinute,
          statistic: 'Maximum',
        }),
        maxAge,
        `payhook ${priority} queue's oldest message is over ${maxAge} s old: consumers are failing or throttled`,
      );
    }
    const functions: [string, PayhookFunction][] = [
      ['ingest', webhookApi.ingest],
      ...PRIORITIES.map((priority): [string, PayhookFunction] => [
        `${priority}-consumer`,
        pipeline.consumers[priority],
      ]),
      ...Object.entries(props.otherFunctions ?? {}),
    ];
    for (const [name, fn] of functions) {
      alarm(
        `${name}-errors`,
        fn.function.metricErrors({ period: fiveMinutes, statistic: 'Sum' }),
        0,
        `payhook ${name} function errors`,
      );
      alarm(
        `${name}-throttles`,
        fn.function.metricThrottles({ period: fiveMinutes, statistic: 'Sum' }),
        0,
        `payhook ${name} function throttled`,
      );
    }
    alarm(
      'api-5xx',
      webhookApi.api.metricServerError({ period: fiveMinutes, statistic: 'Sum' }),
      0,
      'payhook webhook API answered 5xx: gateways retry these, then disable the endpoint',
    );
    const gateways = props.gateways ?? [];
    const webhookAlarms = this.webhookAlarms(alarm, gateways, props);
    this.alarms = alarms;

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName ?? 'payhook',
    });
    const api = webhookApi.api;
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Webhooks: requests, 4xx, 5xx',
        left: [
          api.metricCount({ period: oneMinute }),
          api.metricClientError({ period: oneMinute }),
          api.metricServerError({ period: oneMinute }),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Webhooks: latency',
        left: [api.metricLatency({ period: oneMinute })],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Queue depth',
        left: PRIORITIES.map((priority) =>
          pipeline.queues[priority].metricApproximateNumberOfMessagesVisible({
            period: oneMinute,
            label: priority,
          }),
        ),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Oldest message age (s)',
        left: PRIORITIES.map((priority) =>
          pipeline.queues[priority].metricApproximateAgeOfOldestMessage({
            period: oneMinute,
            label: priority,
          }),
        ),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Dead-letter queue depth',
        left: PRIORITIES.map((priority) =>
          pipeline.deadLetterQueues[priority].metricApproximateNumberOfMessagesVisible({
            period: oneMinute,
            label: `${priority} DLQ`,
          }),
        ),
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Function errors',
        left: functions.map(([name, fn]) => fn.function.metricErrors({ period: fiveMinutes, label: name })),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Function throttles',
        left: functions.map(([name, fn]) =>
          fn.function.metricThrottles({ period: fiveMinutes, label: name }),
        ),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Function duration (p95)',
        left: functions.map(([name, fn]) =>
          fn.function.metricDuration({ period: fiveMinutes, statistic: 'p95', label: name }),
        ),
        width: 8,
      }),
    );
    this.addGatewayWidgets(gateways, webhookAlarms);
    this.dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms, width: 24 }));
  }

  /**
   * Alarms on payhook's own metrics: what a gateway sees before it gives up on the endpoint (invalid signatures,
   * silence), a high-priority backlog, and payments only the reconciler could settle (lost webhooks).
   */
  private webhookAlarms(
    alarm: (
      id: string,
      metric: cloudwatch.IMetric,
      threshold: number,
      description: string,
    ) => cloudwatch.Alarm,
    gateways: readonly GatewayName[],
    props: MonitoringProps,
  ): {
    readonly signature: Map<GatewayName, cloudwatch.Alarm>;
    readonly quiet: Map<GatewayName, cloudwatch.Alarm>;
  } {
    const namespace = metricsNamespace(Stack.of(this).stackName);
    const signature = new Map<GatewayName, cloudwatch.Alarm>();
    const quiet = new Map<GatewayName, cloudwatch.Alarm>();
    const failures = props.signatureFailures ?? DEFAULT_SIGNATURE_FAILURES;
    for (const gateway of gateways) {
      // Every refusal that presented a signature (a forgery, a wrong secret, a replay), summed in one metric-math
      // alarm, billed per metric read: SIGNATURE_FAILURE_OUTCOMES.length (3) per gateway. `missing_signature` is left
      // out: every scanner that finds the URL produces it.
      signature.set(
        gateway,
        alarm(
          `${gateway}-signature-failures`,
          combined(
            'SUM',
            SIGNATURE_FAILURE_OUTCOMES.map((outcome) =>
              payhookMetric(
                namespace,
                METRICS.webhookRequests,
                { service: SERVICES.ingest, gateway, detail: outcome },
                { statistic: 'Sum', period: Duration.minutes(failures.minutes) },
              ),
            ),
            `${gateway} signature failures`,
            Duration.minutes(failures.minutes),
          ),
          failures.threshold,
          `payhook: more than ${failures.threshold} ${gateway} requests with a failing signature in ` +
            `${failures.minutes} min (${SIGNATURE_FAILURE_OUTCOMES.join(', ')}): a wrong or rotated secret, or ` +
            'forgeries? Every one is a 401; a real gateway retries, then gives up on the endpoint. ' +
            `Run \`payhook rejects list --gateway ${gateway}\``,
        ),
      );
      const minutes = props.quietMinutes?.[gateway];
      if (minutes === undefined) continue;
      // Periods of at most an hour, all of which must be silent: their sum is the quiet time asked for (rounded up
      // to whole minutes per period), within CloudWatch's one-day evaluation range.
      const periods = Math.ceil(minutes / 60);
      const periodMinutes = Math.ceil(minutes / periods);
      const silent = new cloudwatch.Alarm(this, `${gateway}-quiet`, {
        metric: payhookMetric(
          namespace,
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
      if (props.alarmTopic) {
        silent.addAlarmAction(new SnsAction(props.alarmTopic));
        silent.addOkAction(new SnsAction(props.alarmTopic));
      }
      quiet.set(gateway, silent);
    }
    if (gateways.length > 0) {
      const delaySeconds = props.highQueueDelaySeconds ?? 60;
      alarm(
        'high-queue-delay',
        combined(
          'MAX',
          gateways.map((gateway) =>
            payhookMetric(
              namespace,
              METRICS.queueDelay,
              { service: SERVICES.consumer('high'), gateway },
              { statistic: 'p95', period: Duration.minutes(5) },
            ),
          ),
          'high-priority queue delay p95 (ms), worst gateway',
          Duration.minutes(5),
        ),
        delaySeconds * 1000,
        `payhook: high-priority events wait over ${delaySeconds} s (p95) before processing: money-arrived events are late`,
      );
      const perHour = props.lostWebhooksPerHour ?? 0;
      alarm(
        'lost-webhooks',
        combined(
          'SUM',
          gateways.map((gateway) =>
            payhookMetric(
              namespace,
              METRICS.paymentsSettled,
              { service: SERVICES.reconciler, gateway },
              { statistic: 'Sum', period: Duration.hours(1) },
            ),
          ),
          'payments found paid by the reconciler (lost webhooks)',
          Duration.hours(1),
        ),
        perHour,
        `payhook: the reconciler found more than ${perHour} payment(s) paid in an hour that no webhook had announced: ` +
          'webhooks are being lost (endpoint disabled at a gateway? refused requests?)',
      );
    }
    return { signature, quiet };
  }

  /** One row per concern: what each gateway sends and how it is answered, queue delay, and the reconciler's finds. */
  private addGatewayWidgets(
    gateways: readonly GatewayName[],
    alarms: {
      readonly signature: Map<GatewayName, cloudwatch.Alarm>;
      readonly quiet: Map<GatewayName, cloudwatch.Alarm>;
    },
  ): void {
    if (gateways.length === 0) return;
    const namespace = metricsNamespace(Stack.of(this).stackName);
    const fiveMinutes = Duration.minutes(5);
    const requests = (detail: string) =>
      gateways.map((gateway) =>
        payhookMetric(
          namespace,
          METRICS.webhookRequests,
          { service: SERVICES.ingest, gateway, detail },
          { statistic: 'Sum', period: fiveMinutes, label: gateway },
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
        left: gateways.map((gateway) =>
          combined(
            'SUM',
            SIGNATURE_FAILURE_OUTCOMES.map((outcome) =>
              payhookMetric(
                namespace,
                METRICS.webhookRequests,
                { service: SERVICES.ingest, gateway, detail: outcome },
                { statistic: 'Sum', period: fiveMinutes },
              ),
            ),
            gateway,
            fiveMinutes,
          ),
        ),
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
        title: 'Queue delay p95 (ms), worst gateway',
        left: PRIORITIES.map((priority) =>
          combined(
            'MAX',
            gateways.map((gateway) =>
              payhookMetric(
                namespace,
                METRICS.queueDelay,
                { service: SERVICES.consumer(priority), gateway },
                { statistic: 'p95', period: fiveMinutes },
              ),
            ),
            priority,
            fiveMinutes,
          ),
        ),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Reconciler: payments moved by status (lost webhooks found)',
        left: ['succeeded', 'failed', 'expired', 'authorized'].map((status) =>
          combined(
            'SUM',
            gateways.map((gateway) =>
              payhookMetric(
                namespace,
                METRICS.paymentsMoved,
                { service: SERVICES.reconciler, gateway, detail: status },
                { statistic: 'Sum', period: Duration.hours(1) },
              ),
            ),
            status,
            Duration.hours(1),
          ),
        ),
        width: 12,
      }),
    );
  }
}
