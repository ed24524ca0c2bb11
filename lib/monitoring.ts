import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { PRIORITIES, type Priority } from '../lambdas/definitions.js';
import type { PayhookFunction } from './payhook-function.js';
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
}

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
    this.dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms, width: 24 }));
  }
}
