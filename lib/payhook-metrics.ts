import type { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import {
  METRICS_NAMESPACE,
  type MetricDefinition,
  SIGNATURE_FAILURE_OUTCOMES as OUTCOMES_OF_FAILING_SIGNATURES,
} from '../lambdas/definitions.js';
import type { SignatureFailureReason } from '../lambdas/gateways/types.js';

/**
 * payhook's custom metrics as CloudWatch metrics, with exactly the dimensions the functions emit (`lambdas/common/
 * metrics.ts`): `service` (the function's POWERTOOLS_SERVICE_NAME), `gateway`, and the metric's one extra dimension.
 */
/**
 * The CloudWatch namespace of one deployment's metrics: `payhook/<stack>`, so two deployments in one account (staging
 * and production) never share a metric, and neither's alarms hear the other's traffic.
 */
export function metricsNamespace(stackName: string): string {
  return `${METRICS_NAMESPACE}/${stackName}`;
}

type MetricOptions = { readonly statistic: string; readonly period: Duration; readonly label?: string };

/** A metric with its first dimensions and, where the definition has one, its extra dimension (`detail`). */
function metricWith(
  namespace: string,
  definition: MetricDefinition,
  first: Readonly<Record<string, string>>,
  detail: string | undefined,
  options: MetricOptions,
): cloudwatch.Metric {
  const dimensionsMap: Record<string, string> = { ...first };
  if (definition.dimension) {
    if (detail === undefined) throw new Error(`${definition.name} needs its ${definition.dimension}`);
    dimensionsMap[definition.dimension] = detail;
  }
  return new cloudwatch.Metric({
    namespace,
    metricName: definition.name,
    dimensionsMap,
    statistic: options.statistic,
    period: options.period,
    ...(options.label && { label: options.label }),
  });
}

export function payhookMetric(
  namespace: string,
  definition: MetricDefinition,
  dimensions: { readonly service: string; readonly gateway: string; readonly detail?: string },
  options: MetricOptions,
): cloudwatch.Metric {
  const first = { service: dimensions.service, gateway: dimensions.gateway };
  return metricWith(namespace, definition, first, dimensions.detail, options);
}

/**
 * A metric of one function as a whole (`QueueDelay`, the reconciler's moved and settled payments): `service` its first
 * dimension, as `lambdas/common/metrics.ts` writes a definition whose `primary` is `service`, plus the metric's extra
 * dimension (the status) where it has one.
 */
export function serviceMetric(
  namespace: string,
  definition: MetricDefinition,
  dimensions: { readonly service: string; readonly detail?: string },
  options: MetricOptions,
): cloudwatch.Metric {
  if (!('primary' in definition) || definition.primary !== 'service')
    throw new Error(`${definition.name} is not a per-function metric`);
  return metricWith(namespace, definition, { service: dimensions.service }, dimensions.detail, options);
}

/**
 * One of the delivery function's metrics (`DeliveryAttempts`, `DeliveryLatency`): per destination rather than per
 * gateway, as `lambdas/common/metrics.ts` writes them (the definition's `primary` dimension), plus the metric's extra
 * dimension (the outcome) where it has one.
 */
export function deliveryMetric(
  namespace: string,
  definition: MetricDefinition,
  dimensions: { readonly destination: string; readonly detail?: string },
  options: MetricOptions,
): cloudwatch.Metric {
  if (!('primary' in definition) || definition.primary !== 'destination')
    throw new Error(`${definition.name} is not a per-destination metric`);
  const first = { service: SERVICES.deliver, destination: dimensions.destination };
  return metricWith(namespace, definition, first, dimensions.detail, options);
}

/**
 * One expression over several metrics (`SUM` or `MAX`). Their ids come from the label, so several expressions can
 * share one graph.
 */
export function combined(
  fn: 'SUM' | 'MAX',
  metrics: readonly cloudwatch.IMetric[],
  label: string,
  period: Duration,
): cloudwatch.MathExpression {
  const prefix = `m${label
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '')
    .slice(0, 20)}`;
  const usingMetrics = Object.fromEntries(metrics.map((metric, index) => [`${prefix}${index}`, metric]));
  return new cloudwatch.MathExpression({
    expression: `${fn}([${Object.keys(usingMetrics).join(',')}])`,
    usingMetrics,
    label,
    period,
  });
}

export const SERVICES = {
  ingest: 'payhook-ingest',
  consumer: (priority: string) => `payhook-consumer-${priority}`,
  reconciler: 'payhook-reconciler',
  deliver: 'payhook-deliver',
} as const;

/**
 * The `WebhookRequests` outcomes ingest also counts as `SignatureFailures`, the metric the signature-failure alarm
 * reads (defined beside the metrics): each one a refusal reason of the adapters.
 */
export const SIGNATURE_FAILURE_OUTCOMES =
  OUTCOMES_OF_FAILING_SIGNATURES satisfies readonly SignatureFailureReason[];
