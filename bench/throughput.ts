/**
 * Local end-to-end throughput and latency: the local stack started in this process (DynamoDB in memory, port 0),
 * driven over HTTP with signed webhooks, each a fresh payment, at a fixed concurrency. Measures sustained webhooks per
 * second answered 200, and the latency from each 200 answer to the payment's `payment.succeeded` event being published
 * (published after the payment record is written). The reference is a trivial HTTP server in the same process that
 * reads the body and answers `{"received":true}`, driven by the same client with the same bodies.
 */
import { mkdtempSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { freshCopy } from '../events/fresh-copy.js';
import { DEFAULT_SAMPLES, DEV_SECRETS_FILE, readSample, signWithDevSecret } from '../events/index.js';
import { PRIORITIES, PRIORITY_QUEUES } from '../lambdas/definitions.js';
import { GATEWAYS, type GatewayName } from '../lambdas/domain/webhook-event.js';
import { ADAPTERS } from '../lambdas/gateways/registry.js';
import { parseGatewaySettings } from '../lambdas/gateways/settings.js';
import type { PublishedRecord } from '../lambdas/publishing/file-publisher.js';
import type { QueuesView } from '../local/contract.js';
import {
  type LocalStack,
  type LocalStackHooks,
  type LocalStackOptions,
  startLocalStack,
} from '../local/stack.js';
import { type AwsUsage, countingHooks, emptyUsage } from './aws-usage.js';
import type { ConsumersThreadData } from './consumers-thread.js';
import { type CostModel, costPerMillion, lacksLambdaContext, lambdaContextLogBytes } from './cost.js';

export interface ThroughputOptions {
  /** Webhooks sent (timed), spread evenly over the seven gateways' main success samples. */
  readonly webhooks: number;
  readonly concurrency: number;
  /** Pollers per queue in the local stack (its default is 2). */
  readonly workersPerQueue: number;
  /** How long to wait for every payment to be applied once the last webhook is answered. */
  readonly drainTimeoutMs: number;
}

export interface Percentiles {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

export interface ThroughputResults {
  readonly options: ThroughputOptions;
  readonly sent: number;
  readonly answered200: number;
  readonly otherStatuses: Readonly<Record<string, number>>;
  /** Webhooks answered 200 per second, first request sent to last answer received. */
  readonly acceptedPerSecond: number;
  /** The reference: the trivial HTTP server, same client, same bodies, same concurrency. */
  readonly referencePerSecond: number;
  readonly ratio: number;
  /** Request round trip (send to 200), milliseconds. */
  readonly requestLatencyMs: Percentiles;
  readonly referenceRequestLatencyMs: Percentiles;
  /** Webhooks whose payment reached `succeeded` (its event published) within the drain timeout. */
  readonly applied: number;
  /** Payments applied per second, first request sent to last event published. */
  readonly appliedPerSecond: number;
  /** From the 200 answer to the `payment.succeeded` event being published, milliseconds. */
  readonly acceptedToAppliedMs: Percentiles | null;
  /** Webhooks sent one at a time after the load run, the queues empty. */
  readonly idleWebhooks: number;
  readonly idleApplied: number;
  /** Accepted to applied for those: the latency of one webhook without a backlog, milliseconds. */
  readonly idleAcceptedToAppliedMs: Percentiles | null;
  /** Structured log lines the handlers wrote to stdout during the whole stack run (dropped, not printed). */
  readonly logLinesDropped: number;
  /** AWS calls counted from the first timed webhook until the last was applied. */
  readonly usage: AwsUsage;
  /** Log bytes the handlers wrote over the same window, as AWS would ingest them (Lambda's context included). */
  readonly logBytes: number;
  /** Of those, what Lambda's context adds on AWS to lines the local stack writes without it (absent: not counted). */
  readonly logContextBytes?: number;
  readonly cost: CostModel;
  /** The process's CPU (every thread: client, ingest, consumers, emulators) over the load run, and what it bounds. */
  readonly cpu?: ThroughputCpu;
  /** The same load run with the consumers on a thread of their own, per poller count (absent: not measured). */
  readonly consumersThread?: readonly ConsumersThreadRun[];
}

/**
 * One load run of the second layout (`startConsumersThread`): the client and the ingest handler on the main thread,
 * the consumers on a thread of their own, the emulators on theirs. Same webhooks, concurrency and emulators.
 */
export interface ConsumersThreadRun {
  /**
   * Pollers per queue on the consumers' thread, capped by each queue's `maxConcurrency` (what Lambda scales that
   * queue's consumers up to: 20, 10 and 5 for high, normal and low).
   */
  readonly workersPerQueue: number;
  readonly sent: number;
  readonly answered200: number;
  readonly answeredPerSecond: number;
  readonly applied: number;
  /** First request sent to last event published, as in the main run. */
  readonly appliedPerSecond: number;
  /** Process CPU (every thread) over the run, per webhook. */
  readonly msPerWebhook: number;
  readonly coresBusy: number;
}

/**
 * Why applied per second cannot keep up here, in CPU: whatever the scheduling, answering and applying N webhooks
 * takes `msPerWebhook x N` of CPU, at best spread over every core, so payments can be applied end to end at most
 * `cores x 1000 / msPerWebhook` per second, and the applied-to-answered ratio is at most that over the answered rate.
 */
export interface ThroughputCpu {
  readonly cores: number;
  /** Process CPU (user + system) from the first timed send to the last payment applied, per webhook. */
  readonly msPerWebhook: number;
  /** The same for the reference run (the client and a trivial server), per request: the client's share. */
  readonly referenceMsPerRequest: number;
  /** Share of the cores the process used over the load run. */
  readonly coresBusy: number;
  readonly appliedPerSecondBound: number;
  readonly ratioBound: number;
}

/** Milliseconds of process CPU (user + system, every thread) since `since`. */
function cpuMsSince(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

export interface Prepared {
  readonly gateway: GatewayName;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The event ids payhook derives for it (computed with the same adapter, to find its published event). */
  readonly eventIds: readonly string[];
}

export interface Sent {
  readonly prepared: Prepared;
  readonly status: number;
  readonly startedAt: number;
  /** Epoch milliseconds (fractional) when the answer was read. */
  readonly answeredAt: number;
}

/** Webhooks sent one at a time after the load run (10 per gateway), and the pause between them. */
const IDLE_WEBHOOKS = 70;
const IDLE_GAP_MS = 50;

const now = () => performance.timeOrigin + performance.now();

export function percentiles(values: readonly number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const pick = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
  return { p50: pick(0.5), p95: pick(0.95), p99: pick(0.99), max: sorted.at(-1) ?? 0 };
}

export interface SampleChoice {
  readonly gateway: GatewayName;
  readonly sample: string;
}

/** By default, each gateway's main success sample in turn. */
const mainSamples = (i: number): SampleChoice => {
  const gateway = GATEWAYS[i % GATEWAYS.length] as GatewayName;
  return { gateway, sample: DEFAULT_SAMPLES[gateway] };
};

/** Signed webhooks, each a fresh copy of a sample (its own event id and payment), with the ids payhook will derive. */
export function prepare(
  count: number,
  seedPrefix: string,
  choose: (index: number) => SampleChoice = mainSamples,
): Prepared[] {
  const settings = parseGatewaySettings(undefined);
  const prepared: Prepared[] = [];
  for (let i = 0; i < count; i += 1) {
    const { gateway, sample } = choose(i);
    const copy = freshCopy(gateway, readSample(gateway, sample), `${seedPrefix}-${i}`);
    const signed = signWithDevSecret(gateway, copy.payload, copy.eventId);
    const headers = Object.fromEntries(
      Object.entries(signed.headers).map(([name, value]) => [name.toLowerCase(), value]),
    );
    const batch = ADAPTERS[gateway].normalise(
      { headers, body: Buffer.from(signed.body), receivedAt: new Date(), requestId: 'bench' },
      settings[gateway],
    );
    prepared.push({
      gateway,
      body: signed.body,
      headers: signed.headers,
      eventIds: batch.events.map((event) => event.eventId),
    });
  }
  return prepared;
}

export async function drive(
  url: (p: Prepared) => string,
  requests: readonly Prepared[],
  concurrency: number,
) {
  const sent: Sent[] = [];
  let next = 0;
  const startedAt = now();
  const worker = async () => {
    for (;;) {
      const index = next;
      next += 1;
      const prepared = requests[index];
      if (prepared === undefined) return;
      const start = now();
      const response = await fetch(url(prepared), {
        method: 'POST',
        headers: prepared.headers,
        body: prepared.body,
      });
      await response.text();
      sent.push({ prepared, status: response.status, startedAt: start, answeredAt: now() });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const finishedAt = now();
  return { sent, startedAt, finishedAt };
}

/** The local stack as the benchmarks run it: in memory, on a free port, no reconciler timer. */
export function startBenchStack(
  name: string,
  workersPerQueue: number,
  hooks?: LocalStackHooks,
  more: Pick<LocalStackOptions, 'destinations'> = {},
): Promise<LocalStack> {
  return startLocalStack({
    dataDir: mkdtempSync(join(tmpdir(), `payhook-bench-${name}-`)),
    inMemory: true,
    port: 0,
    secretsFile: DEV_SECRETS_FILE,
    workersPerQueue,
    pollWaitSeconds: 1,
    reconcileIntervalSeconds: 0,
    ...(hooks && { hooks }),
    ...more,
  });
}

/** The consumers' thread (`startConsumersThread`). */
export interface ConsumersThread {
  /** Rejects when the thread fails or exits before it is stopped; never resolves. */
  readonly failed: Promise<never>;
  /** Drains what its consumers hold and ends the thread (terminated if it has not ended 30 s after asked). */
  stop(): Promise<void>;
}

const THREAD_STOP_MS = 30_000;

/**
 * A second local stack on `stack`'s emulators and events file, on a worker thread (`consumers-thread.ts`), its pollers
 * the only consumers once `stack`'s own are disabled (done here; a long poll of theirs already under way still hands over
 * what it receives, within a second, while the thread starts: before the warm-up is applied and the timed run sent).
 */
export async function startConsumersThread(
  stack: LocalStack,
  workersPerQueue: number,
): Promise<ConsumersThread> {
  for (const priority of PRIORITIES) stack.eventSources.disable(priority);
  const data: ConsumersThreadData = {
    emulatorEndpoints: stack.endpoints,
    eventsFile: stack.info.eventsFile,
    workersPerQueue,
  };
  const worker = new Worker(new URL('./consumers-thread.mjs', import.meta.url), { workerData: data });
  let stopping = false;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  // Listened to for the thread's whole life: an error event nobody listens to would end the whole bench.
  const failed = new Promise<never>((_resolve, reject) => {
    worker.on('error', (error) => reject(new Error(`the consumers' thread failed: ${error.message}`)));
    worker.on('exit', (code) => {
      if (!stopping) reject(new Error(`the consumers' thread exited with code ${code}`));
    });
  });
  failed.catch(() => undefined);
  const answer = () => new Promise<unknown>((resolve) => worker.once('message', resolve));
  const ready = await Promise.race([answer(), failed]);
  if (ready !== 'ready') throw new Error(`the consumers' thread did not start: ${String(ready)}`);
  return {
    failed,
    stop: async () => {
      stopping = true;
      worker.postMessage('stop');
      const stopped = await Promise.race([
        answer(),
        exited.then(() => 'exited'),
        failed.catch((error: Error) => error.message),
        new Promise((resolve) => setTimeout(() => resolve('no answer'), THREAD_STOP_MS).unref()),
      ]);
      await worker.terminate();
      if (stopped !== 'stopped' && stopped !== 'exited')
        throw new Error(`the consumers' thread: ${String(stopped)}`);
    },
  };
}

/**
 * The load run again, on a fresh stack whose consumers run on a thread of their own (`startConsumersThread`), with
 * webhooks signed for it (signatures carry a time that some gateways' schemes allow five minutes).
 */
export async function measureWithConsumersThread(
  options: ThroughputOptions,
  workersPerQueue: number,
): Promise<ConsumersThreadRun> {
  const warmup = prepare(GATEWAYS.length * 5, `bench-thread-warmup-${Date.now()}`);
  const requests = prepare(options.webhooks, `bench-thread-${workersPerQueue}-${Date.now()}`);
  const { value } = await withStdoutDropped(async () => {
    const stack = await startBenchStack('thread', options.workersPerQueue);
    try {
      const consumers = await startConsumersThread(stack, workersPerQueue);
      // A thread that dies mid-run ends the run at once rather than after the whole drain timeout.
      const unlessFailed = <T>(work: Promise<T>) => Promise.race([work, consumers.failed]);
      try {
        const webhookUrl = (p: Prepared) => `${stack.url}/webhooks/${p.gateway}`;
        const warm = await unlessFailed(warmUp(stack, warmup, options.concurrency));
        if (warm.applied < warm.of) {
          throw new Error(`the consumers' thread applied ${warm.applied} of ${warm.of} warm-up events`);
        }
        const cpu = process.cpuUsage();
        const run = await unlessFailed(drive(webhookUrl, requests, options.concurrency));
        const ok = run.sent.filter((s) => s.status === 200);
        if (ok.length < run.sent.length) {
          throw new Error(
            `${run.sent.length - ok.length} of ${run.sent.length} webhooks were not answered 200`,
          );
        }
        const appliedAt = await unlessFailed(
          waitUntilApplied(
            stack.info.eventsFile,
            new Set(ok.flatMap((s) => s.prepared.eventIds)),
            options.drainTimeoutMs,
          ),
        );
        const cpuMs = cpuMsSince(cpu);
        const { latencies, lastApplied } = acceptedToApplied(run.sent, appliedAt);
        const wallMs = Math.max(1, Math.max(lastApplied, run.finishedAt) - run.startedAt);
        return {
          workersPerQueue,
          sent: run.sent.length,
          answered200: ok.length,
          answeredPerSecond: ok.length / ((run.finishedAt - run.startedAt) / 1000),
          applied: latencies.length,
          appliedPerSecond: latencies.length / ((lastApplied - run.startedAt) / 1000),
          msPerWebhook: cpuMs / run.sent.length,
          coresBusy: cpuMs / wallMs,
        };
      } finally {
        await consumers.stop();
      }
    } finally {
      await stack.stop({ drainTimeoutMs: 5000 });
    }
  });
  return value;
}

/**
 * The warm-up, not timed: every gateway's path, the tables and queues, the connection pool. Sends `warmup` and waits
 * (up to 30 s) until their events are applied; says how many were.
 */
async function warmUp(
  stack: LocalStack,
  warmup: readonly Prepared[],
  concurrency: number,
): Promise<{ readonly applied: number; readonly of: number }> {
  await drive((p) => `${stack.url}/webhooks/${p.gateway}`, warmup, concurrency);
  const wanted = new Set(warmup.flatMap((p) => p.eventIds));
  const applied = await waitUntilApplied(stack.info.eventsFile, wanted, 30_000);
  return { applied: applied.size, of: wanted.size };
}

/** Sends webhooks one after the other, `gapMs` apart, so none waits behind another. */
export async function driveOneAtATime(
  url: (p: Prepared) => string,
  requests: readonly Prepared[],
  gapMs: number,
): Promise<Sent[]> {
  const sent: Sent[] = [];
  for (const prepared of requests) {
    sent.push(...(await drive(url, [prepared], 1)).sent);
    await new Promise((resolve) => setTimeout(resolve, gapMs));
  }
  return sent;
}

/**
 * The records appended to the local events file since the last call, read from where the previous call stopped.
 * Reading the whole file on every poll cost the measured run time that grows with the square of the webhooks sent
 * (10,000 events are about 7 MB, parsed four times a second), on the same cores as the pipeline.
 */
export function eventsTail(eventsFile: string): () => Promise<PublishedRecord[]> {
  let offset = 0;
  let pending = '';
  return async () => {
    let file: FileHandle;
    try {
      file = await open(eventsFile, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    try {
      const { size } = await file.stat();
      if (size <= offset) return [];
      const buffer = Buffer.alloc(size - offset);
      const { bytesRead } = await file.read(buffer, 0, buffer.length, offset);
      offset += bytesRead;
      const text = pending + buffer.toString('utf8', 0, bytesRead);
      // A last line without its newline is a write still in progress: kept for the next call.
      const end = text.lastIndexOf('\n') + 1;
      pending = text.slice(end);
      return text
        .slice(0, end)
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as PublishedRecord);
    } finally {
      await file.close();
    }
  };
}

/** When each wanted event id's `payment.succeeded` was published (epoch ms), polling the local events file. */
export async function waitUntilApplied(
  eventsFile: string,
  wanted: ReadonlySet<string>,
  timeoutMs: number,
): Promise<Map<string, number>> {
  const appliedAt = new Map<string, number>();
  const readNew = eventsTail(eventsFile);
  const deadline = now() + timeoutMs;
  while (now() < deadline) {
    for (const record of await readNew()) {
      const id = record.detail.sourceEventId;
      if (record.detail.to === 'succeeded' && wanted.has(id) && !appliedAt.has(id)) {
        appliedAt.set(id, Date.parse(record.publishedAt));
      }
    }
    if (appliedAt.size >= wanted.size) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return appliedAt;
}

/** Latency from each 200 answer to the last of its events published; webhooks not (yet) applied are left out. */
export function acceptedToApplied(sent: readonly Sent[], appliedAt: ReadonlyMap<string, number>) {
  const latencies: number[] = [];
  let lastApplied = 0;
  for (const s of sent) {
    if (s.status !== 200) continue;
    const times = s.prepared.eventIds.map((id) => appliedAt.get(id));
    if (times.some((time) => time === undefined)) continue;
    const applied = Math.max(...(times as number[]));
    lastApplied = Math.max(lastApplied, applied);
    latencies.push(applied - s.answeredAt);
  }
  return { latencies, lastApplied };
}

/** Until no message is visible or in flight on any main queue (read through the stack's `/local/queues`). */
export async function waitUntilQueuesEmpty(stackUrl: string, timeoutMs: number): Promise<void> {
  const deadline = now() + timeoutMs;
  while (now() < deadline) {
    const { queues } = (await (await fetch(`${stackUrl}/local/queues`)).json()) as QueuesView;
    if (queues.every(({ queue }) => queue.visible + queue.inFlight === 0)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function startEchoServer(): Promise<Server> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      Buffer.concat(chunks);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"received":true}');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/**
 * Runs `fn` with the process's stdout writes (the handlers' structured log lines) counted and dropped. `bytes` counts
 * what AWS would ingest: each handler line as written, plus what Lambda's context adds to it there
 * (`lambdaContextLogBytes`), which the local stack's lines lack.
 */
export async function withStdoutDropped<T>(
  fn: (written: { lines: number; bytes: number; contextAdded: number }) => Promise<T>,
): Promise<{ value: T; dropped: number }> {
  const original = process.stdout.write.bind(process.stdout);
  const written = { lines: 0, bytes: 0, contextAdded: 0 };
  const contextBytes = lambdaContextLogBytes();
  process.stdout.write = ((chunk: string | Uint8Array) => {
    written.lines += 1;
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    written.bytes += Buffer.byteLength(text);
    if (lacksLambdaContext(text)) {
      written.bytes += contextBytes;
      written.contextAdded += contextBytes;
    }
    return true;
  }) as typeof process.stdout.write;
  try {
    return { value: await fn(written), dropped: written.lines };
  } finally {
    process.stdout.write = original;
  }
}

export async function measureThroughput(
  options: ThroughputOptions,
  log: (line: string) => void = () => undefined,
): Promise<ThroughputResults> {
  const warmup = prepare(GATEWAYS.length * 5, 'bench-warmup');
  const requests = prepare(options.webhooks, `bench-${Date.now()}`);
  const idleRequests = prepare(IDLE_WEBHOOKS, `bench-idle-${Date.now()}`);

  // Reference first: a trivial server, same client, same bodies.
  const echo = await startEchoServer();
  const echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
  await drive(() => `${echoUrl}/`, warmup, options.concurrency);
  const referenceCpu = process.cpuUsage();
  const reference = await drive(() => `${echoUrl}/`, requests, options.concurrency);
  const referenceCpuMs = cpuMsSince(referenceCpu);
  await new Promise<void>((resolve) => echo.close(() => resolve()));
  echo.closeAllConnections();
  const referencePerSecond = reference.sent.length / ((reference.finishedAt - reference.startedAt) / 1000);
  log(`throughput reference: ${referencePerSecond.toFixed(0)} requests/s`);

  const usage = emptyUsage();
  let counting = false;
  let paymentsTable: string | undefined;
  const { value, dropped } = await withStdoutDropped(async (written) => {
    const stack = await startBenchStack(
      'stack',
      options.workersPerQueue,
      countingHooks(
        usage,
        () => counting,
        () => paymentsTable,
      ),
    );
    paymentsTable = stack.tables.payments;
    try {
      const eventsFile = stack.info.eventsFile;
      const webhookUrl = (p: Prepared) => `${stack.url}/webhooks/${p.gateway}`;
      await warmUp(stack, warmup, options.concurrency);

      counting = true;
      const logBytesBefore = written.bytes;
      const contextBytesBefore = written.contextAdded;
      const runCpu = process.cpuUsage();
      const run = await drive(webhookUrl, requests, options.concurrency);
      const wanted = new Set(run.sent.filter((s) => s.status === 200).flatMap((s) => s.prepared.eventIds));
      const appliedAt = await waitUntilApplied(eventsFile, wanted, options.drainTimeoutMs);
      const runCpuMs = cpuMsSince(runCpu);
      // The last batches' deletes and idempotency updates follow their publish: count them too.
      await waitUntilQueuesEmpty(stack.url, 10_000);
      counting = false;
      const logBytes = written.bytes - logBytesBefore;
      const logContextBytes = written.contextAdded - contextBytesBefore;

      // Unloaded: one webhook at a time, the queues empty, so nothing waits behind a backlog.
      const idleRun = await driveOneAtATime(webhookUrl, idleRequests, IDLE_GAP_MS);
      const idleWanted = new Set(idleRun.filter((s) => s.status === 200).flatMap((s) => s.prepared.eventIds));
      const idleAppliedAt = await waitUntilApplied(eventsFile, idleWanted, 30_000);
      return { run, appliedAt, idleRun, idleAppliedAt, logBytes, logContextBytes, runCpuMs };
    } finally {
      await stack.stop({ drainTimeoutMs: 5000 });
    }
  });
  const { run, appliedAt, idleRun, idleAppliedAt, logBytes, logContextBytes, runCpuMs } = value;

  const ok = run.sent.filter((s) => s.status === 200);
  const otherStatuses: Record<string, number> = {};
  for (const s of run.sent) {
    if (s.status !== 200) otherStatuses[String(s.status)] = (otherStatuses[String(s.status)] ?? 0) + 1;
  }
  const acceptedPerSecond = ok.length / ((run.finishedAt - run.startedAt) / 1000);
  const { latencies, lastApplied } = acceptedToApplied(run.sent, appliedAt);
  const idle = acceptedToApplied(idleRun, idleAppliedAt);
  const results: ThroughputResults = {
    options,
    sent: run.sent.length,
    answered200: ok.length,
    otherStatuses,
    acceptedPerSecond,
    referencePerSecond,
    ratio: acceptedPerSecond / referencePerSecond,
    requestLatencyMs: percentiles(ok.map((s) => s.answeredAt - s.startedAt)),
    referenceRequestLatencyMs: percentiles(reference.sent.map((s) => s.answeredAt - s.startedAt)),
    applied: latencies.length,
    appliedPerSecond: latencies.length / ((lastApplied - run.startedAt) / 1000),
    acceptedToAppliedMs: latencies.length > 0 ? percentiles(latencies) : null,
    idleWebhooks: idleRun.length,
    idleApplied: idle.latencies.length,
    idleAcceptedToAppliedMs: idle.latencies.length > 0 ? percentiles(idle.latencies) : null,
    logLinesDropped: dropped,
    usage,
    logBytes,
    logContextBytes,
    cost: costPerMillion(usage, run.sent.length, logBytes),
    cpu: cpuBound(runCpuMs, run.sent.length, referenceCpuMs / reference.sent.length, {
      wallMs: Math.max(1, Math.max(...appliedAt.values(), run.finishedAt) - run.startedAt),
      answeredPerSecond: acceptedPerSecond,
    }),
  };
  log(
    `throughput payhook: ${acceptedPerSecond.toFixed(0)} webhooks/s answered 200 (${ok.length}/${run.sent.length}), ` +
      `${results.applied} applied, accepted->applied p50 ${results.acceptedToAppliedMs?.p50.toFixed(0)} ms, ` +
      `unloaded p50 ${results.idleAcceptedToAppliedMs?.p50.toFixed(0)} ms`,
  );
  // The second layout: the pollers of the main run, and as many as Lambda would scale the consumers to (each queue's
  // `maxConcurrency`, which caps the pollers: 20 on the high queue). A run that fails is left out and said so: the
  // main run's figures above stand without it.
  const consumersThread: ConsumersThreadRun[] = [];
  for (const workers of new Set([options.workersPerQueue, PRIORITY_QUEUES.high.maxConcurrency])) {
    try {
      const layout = await measureWithConsumersThread(options, workers);
      consumersThread.push(layout);
      log(
        `throughput, consumers on their own thread (up to ${workers} poller(s) per queue): ` +
          `${layout.answeredPerSecond.toFixed(0)} answered/s, ${layout.appliedPerSecond.toFixed(0)} applied/s ` +
          `(${layout.applied}/${layout.answered200})`,
      );
    } catch (error) {
      log(
        `throughput, consumers on their own thread (up to ${workers} poller(s) per queue) failed: ${(error as Error).message}`,
      );
    }
  }
  return { ...results, consumersThread };
}

/** The CPU a run used, and the most payments it allows applied per second on this machine's cores. */
export function cpuBound(
  runCpuMs: number,
  webhooks: number,
  referenceMsPerRequest: number,
  run: { readonly wallMs: number; readonly answeredPerSecond: number },
  cores: number = availableParallelism(),
): ThroughputCpu {
  const msPerWebhook = runCpuMs / Math.max(1, webhooks);
  const appliedPerSecondBound = (cores * 1000) / msPerWebhook;
  return {
    cores,
    msPerWebhook,
    referenceMsPerRequest,
    coresBusy: runCpuMs / run.wallMs,
    appliedPerSecondBound,
    ratioBound: appliedPerSecondBound / run.answeredPerSecond,
  };
}
