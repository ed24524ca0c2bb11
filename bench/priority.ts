import { listSamples, readSample, signWithDevSecret } from '../events/index.js';
import { GATEWAYS, type GatewayName } from '../lambdas/domain/webhook-event.js';
import { ADAPTERS } from '../lambdas/gateways/registry.js';
import { parseGatewaySettings } from '../lambdas/gateways/settings.js';
import type { QueuesView } from '../local/contract.js';
import {
  acceptedToApplied,
  drive,
  driveOneAtATime,
  type Percentiles,
  percentiles,
  prepare,
  type SampleChoice,
  startBenchStack,
  waitUntilApplied,
  withStdoutDropped,
} from './throughput.js';

export interface PriorityOptions {
  /** Low-priority webhooks sent as the backlog. */
  readonly backlog: number;
  /** High-priority webhooks timed in each condition. */
  readonly probes: number;
  readonly concurrency: number;
  readonly workersPerQueue: number;
}

export interface PriorityResults {
  readonly options: PriorityOptions;
  /** The samples the backlog rotates over (every one normalises to low-priority events only). */
  readonly lowSamples: readonly string[];
  readonly backlogAccepted: number;
  /** Low-priority messages queued once the backlog was sent, before the low-priority consumers were enabled. */
  readonly lowQueuedBeforeProbes: number;
  /** Low-priority messages waiting (visible) when the loaded probes started and when they ended. */
  readonly lowQueuedAtStart: number;
  readonly lowQueuedAtEnd: number;
  /** The gap between two probes, milliseconds (each probe is sent once the previous one was answered). */
  readonly probeGapMs: number;
  /** How long the low-priority consumers had been working through the backlog when the first probe went. */
  readonly lowWarmupMs: number;
  readonly idle: Percentiles | null;
  readonly idleApplied: number;
  readonly loaded: Percentiles | null;
  readonly loadedApplied: number;
}

/**
 * Probes go one at a time, this far apart: short enough that 200 of them go out while the backlog is still about
 * 10,000 deep, long enough that a probe seldom waits behind the previous one (the idle p95 is ~15 ms).
 */
const PROBE_GAP_MS = 25;
/** The low-priority consumers work through the backlog this long before the first probe, at full concurrency. */
const LOW_WARMUP_MS = 1000;

/** Samples whose every event is low priority (subscriptions, payouts, contacts...), found with the real adapters. */
function lowPrioritySamples(): SampleChoice[] {
  const settings = parseGatewaySettings(undefined);
  const found: SampleChoice[] = [];
  for (const gateway of GATEWAYS as readonly GatewayName[]) {
    for (const sample of listSamples(gateway)) {
      const signed = signWithDevSecret(gateway, readSample(gateway, sample));
      const headers = Object.fromEntries(
        Object.entries(signed.headers).map(([name, value]) => [name.toLowerCase(), value]),
      );
      try {
        const batch = ADAPTERS[gateway].normalise(
          { headers, body: Buffer.from(signed.body), receivedAt: new Date(), requestId: 'bench' },
          settings[gateway],
        );
        if (batch.events.length > 0 && batch.events.every((event) => event.priority === 'low')) {
          found.push({ gateway, sample });
        }
      } catch {
        // A sample this adapter refuses is not a candidate.
      }
    }
  }
  return found;
}

async function lowQueued(stackUrl: string): Promise<number> {
  const { queues } = (await (await fetch(`${stackUrl}/local/queues`)).json()) as QueuesView;
  const low = queues.find((view) => view.priority === 'low');
  return (low?.queue.visible ?? 0) + (low?.queue.delayed ?? 0);
}

export async function measurePriority(
  options: PriorityOptions,
  log: (line: string) => void = () => undefined,
): Promise<PriorityResults> {
  const lowSamples = lowPrioritySamples();
  if (lowSamples.length === 0) throw new Error('no sample normalises to low-priority events only');
  const stamp = Date.now();
  const backlog = prepare(
    options.backlog,
    `bench-low-${stamp}`,
    (i) => lowSamples[i % lowSamples.length] as SampleChoice,
  );
  const idleProbes = prepare(options.probes, `bench-high-idle-${stamp}`);
  const loadedProbes = prepare(options.probes, `bench-high-loaded-${stamp}`);
  const warmup = prepare(GATEWAYS.length * 3, `bench-priority-warmup-${stamp}`);

  const { value } = await withStdoutDropped(async () => {
    const stack = await startBenchStack('priority', options.workersPerQueue);
    try {
      const eventsFile = stack.info.eventsFile;
      const webhookUrl = (p: { gateway: string }) => `${stack.url}/webhooks/${p.gateway}`;
      const appliedWithin = async (sent: Awaited<ReturnType<typeof driveOneAtATime>>) => {
        const wanted = new Set(sent.filter((s) => s.status === 200).flatMap((s) => s.prepared.eventIds));
        return acceptedToApplied(sent, await waitUntilApplied(eventsFile, wanted, 60_000)).latencies;
      };
      await drive(webhookUrl, warmup, options.concurrency);
      await waitUntilApplied(eventsFile, new Set(warmup.flatMap((p) => p.eventIds)), 30_000);

      const idle = await appliedWithin(await driveOneAtATime(webhookUrl, idleProbes, PROBE_GAP_MS));
      // The backlog is built with the low queue's event source mapping disabled, so all of it is queued when the
      // probes go (sent with the consumers on, ingest outran them by only ~30%: 7,300 of 10,000 were left). The
      // consumers are then enabled and work through it at full concurrency while the probes are sent.
      stack.eventSources.disable('low');
      const burst = await drive(webhookUrl, backlog, options.concurrency);
      const lowQueuedBeforeProbes = await lowQueued(stack.url);
      stack.eventSources.enable('low');
      await new Promise((resolve) => setTimeout(resolve, LOW_WARMUP_MS));
      const lowQueuedAtStart = await lowQueued(stack.url);
      const loadedSent = await driveOneAtATime(webhookUrl, loadedProbes, PROBE_GAP_MS);
      const lowQueuedAtEnd = await lowQueued(stack.url);
      const loaded = await appliedWithin(loadedSent);
      return {
        idle,
        loaded,
        backlogAccepted: burst.sent.filter((s) => s.status === 200).length,
        lowQueuedBeforeProbes,
        lowQueuedAtStart,
        lowQueuedAtEnd,
      };
    } finally {
      await stack.stop({ drainTimeoutMs: 1000 });
    }
  });
  const results: PriorityResults = {
    options,
    lowSamples: lowSamples.map(({ gateway, sample }) => `${gateway}/${sample}`),
    backlogAccepted: value.backlogAccepted,
    lowQueuedBeforeProbes: value.lowQueuedBeforeProbes,
    probeGapMs: PROBE_GAP_MS,
    lowWarmupMs: LOW_WARMUP_MS,
    lowQueuedAtStart: value.lowQueuedAtStart,
    lowQueuedAtEnd: value.lowQueuedAtEnd,
    idle: value.idle.length > 0 ? percentiles(value.idle) : null,
    idleApplied: value.idle.length,
    loaded: value.loaded.length > 0 ? percentiles(value.loaded) : null,
    loadedApplied: value.loaded.length,
  };
  log(
    `priority: high-priority accepted->applied p50 ${results.idle?.p50.toFixed(0)} ms idle, ` +
      `${results.loaded?.p50.toFixed(0)} ms with ${results.lowQueuedAtStart} low-priority messages queued; ` +
      `p95 ${results.idle?.p95.toFixed(1)} ms idle, ${results.loaded?.p95.toFixed(1)} ms loaded`,
  );
  return results;
}
