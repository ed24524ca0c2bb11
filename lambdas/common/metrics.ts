import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, type MetricDefinition } from '../definitions.js';
import { isGatewayName } from '../domain/webhook-event.js';

/**
 * The metrics the handlers' core code records. `EmfMetrics` writes them as CloudWatch embedded metric format lines
 * (Powertools Metrics); tests pass a recorder, so names and dimensions can be asserted.
 */
export interface MetricsRecorder {
  /**
   * Adds `value` to `metric` for `gateway` (a destination's name for a delivery metric; ignored for a metric of the
   * function as a whole); `detail` fills the metric's one extra dimension (outcome, status, error class or reason)
   * where it has one. Counts are summed until the next flush; sizes and times are kept one by one.
   */
  add(metric: MetricDefinition, gateway: string, value: number, detail?: string): void;
  /**
   * Fields for the next flush's first line, searchable in the logs as a log line's fields are, and never a dimension or
   * a metric (Powertools metadata): the request's own line, where a metric line is written anyway (issue #20).
   */
  annotate(fields: Readonly<Record<string, MetadataValue>>): void;
  /** Writes everything added since the last flush. */
  flush(): void;
}

/** What a metrics line can carry as a searchable field. */
export type MetadataValue = string | number | boolean | readonly string[];

/** A gateway dimension that only ever holds a gateway's name: a path segment chosen by a caller must not mint metrics. */
export function gatewayDimension(gateway: string): string {
  return isGatewayName(gateway) ? gateway : 'unknown';
}

interface Group {
  readonly dimensions: Readonly<Record<string, string>>;
  readonly counts: Map<MetricDefinition, number>;
  readonly values: [MetricDefinition, number][];
}

/** A recorder that does nothing: for callers that have no metrics to give (tests of other concerns, tools). */
export const NO_METRICS: MetricsRecorder = {
  add: () => undefined,
  annotate: () => undefined,
  flush: () => undefined,
};

/**
 * Powertools Metrics, grouped by dimension set: one EMF line per distinct set of dimension values at each flush (a
 * request, a batch, a reconciler run), with `service` (the function) added by Powertools. Namespace and service come
 * from the standard Powertools variables the CDK stack sets, with payhook's defaults.
 */
export class EmfMetrics implements MetricsRecorder {
  readonly #metrics: Metrics;
  readonly #groups = new Map<string, Group>();
  #annotations: Record<string, MetadataValue> = {};

  constructor(serviceName: string, env: NodeJS.ProcessEnv = process.env) {
    this.#metrics = new Metrics({
      namespace: env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE,
      serviceName: env.POWERTOOLS_SERVICE_NAME ?? serviceName,
    });
  }

  add(metric: MetricDefinition, gateway: string, value: number, detail?: string): void {
    // A destination's name comes from configuration; a gateway dimension only ever holds a gateway's name; a metric of
    // the function as a whole has no first dimension (Powertools adds `service` to every one).
    const primary = 'primary' in metric ? metric.primary : 'gateway';
    const dimensions: Record<string, string> = {};
    if (primary === 'gateway') dimensions.gateway = gatewayDimension(gateway);
    else if (primary === 'destination') dimensions.destination = gateway.slice(0, 32);
    if (metric.dimension) dimensions[metric.dimension] = (detail ?? 'none').slice(0, 64);
    const key = JSON.stringify(dimensions);
    let group = this.#groups.get(key);
    if (!group) {
      group = { dimensions, counts: new Map(), values: [] };
      this.#groups.set(key, group);
    }
    if (metric.unit === 'Count') group.counts.set(metric, (group.counts.get(metric) ?? 0) + value);
    else group.values.push([metric, value]);
  }

  annotate(fields: Readonly<Record<string, MetadataValue>>): void {
    Object.assign(this.#annotations, fields);
  }

  flush(): void {
    let annotations: Record<string, MetadataValue> | undefined = this.#annotations;
    this.#annotations = {};
    for (const group of this.#groups.values()) {
      for (const [name, value] of Object.entries(annotations ?? {})) {
        // Typed as a string, written as whatever JSON value it is (arrays and numbers stay so: metrics.test.ts).
        this.#metrics.addMetadata(name, value as string);
      }
      annotations = undefined;
      for (const [name, value] of Object.entries(group.dimensions)) this.#metrics.addDimension(name, value);
      for (const [metric, total] of group.counts)
        this.#metrics.addMetric(metric.name, MetricUnit.Count, total);
      for (const [metric, value] of group.values) {
        this.#metrics.addMetric(metric.name, MetricUnit[metric.unit], value);
      }
      this.#metrics.publishStoredMetrics();
    }
    this.#groups.clear();
  }
}
