import type { MetadataValue, MetricsRecorder } from '../../lambdas/common/metrics.js';
import type { MetricDefinition } from '../../lambdas/definitions.js';
import type { GatewayName, OriginalWebhook, WebhookEvent } from '../../lambdas/domain/webhook-event.js';
import type { EventQueue, UnparseableWebhook } from '../../lambdas/ports/event-queue.js';
import type { FetchedSecret, SecretStore } from '../../lambdas/ports/secret-store.js';

/**
 * An in-memory queue for pure tests of the ingest core (the SQS implementation has its own tests against fauxqs).
 * Records exactly what was handed over, so "nothing was queued" is an exact assertion.
 */
export class RecordingQueue implements EventQueue {
  readonly events: WebhookEvent[] = [];
  readonly parked: UnparseableWebhook[] = [];
  /** The original each enqueue handed over with its events (`undefined` where none). */
  readonly originals: (OriginalWebhook | undefined)[] = [];

  async enqueue(events: readonly WebhookEvent[], original?: OriginalWebhook): Promise<void> {
    this.events.push(...events);
    this.originals.push(original);
  }

  async park(webhook: UnparseableWebhook): Promise<void> {
    this.parked.push(webhook);
  }

  get isEmpty(): boolean {
    return this.events.length === 0 && this.parked.length === 0;
  }
}

/** A secret store whose answers a test scripts, counting fetches. */
export class ScriptedSecretStore implements SecretStore {
  readonly calls: { gateway: GatewayName; refresh: boolean }[] = [];

  constructor(private readonly answer: (refresh: boolean) => FetchedSecret | undefined) {}

  async get(
    gateway: GatewayName,
    options?: { readonly refresh?: boolean },
  ): Promise<FetchedSecret | undefined> {
    const refresh = options?.refresh === true;
    this.calls.push({ gateway, refresh });
    return this.answer(refresh);
  }
}

/** Records metrics as the handlers add them: `[metric name, gateway, detail, value]`, flushed or not. */
export class RecordingMetrics implements MetricsRecorder {
  readonly added: { name: string; gateway: string; detail?: string; value: number }[] = [];
  flushes = 0;
  /** The fields annotated on each flush's line, one entry per flush that had any. */
  readonly annotated: Record<string, MetadataValue>[] = [];
  #pending: Record<string, MetadataValue> | undefined;
  add(metric: MetricDefinition, gateway: string, value: number, detail?: string): void {
    this.added.push({ name: metric.name, gateway, value, ...(detail !== undefined && { detail }) });
  }
  annotate(fields: Readonly<Record<string, MetadataValue>>): void {
    this.#pending = { ...this.#pending, ...fields };
  }
  flush(): void {
    this.flushes += 1;
    if (this.#pending) this.annotated.push(this.#pending);
    this.#pending = undefined;
  }
  /** Sum of a metric's values, optionally for one detail (outcome, status, error class...). */
  total(metric: MetricDefinition, detail?: string): number {
    return this.added
      .filter((entry) => entry.name === metric.name && (detail === undefined || entry.detail === detail))
      .reduce((sum, entry) => sum + entry.value, 0);
  }
}
