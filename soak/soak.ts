import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEV_SECRETS_FILE } from '../events/index.js';
import type { PaymentView } from '../local/contract.js';
import { startLocalStack } from '../local/stack.js';
import { check, drain, isVerifiedAnswerId } from './checks.js';
import { DESTINATION_FAULT_PROFILES } from './delivery-faults.js';
import { type SoakDestinations, startSoakDestinations } from './destination.js';
import { FAULT_PROFILES, type FaultProfileName, startFaultyBackend } from './faults.js';
import { buildPlan, type Plan } from './generator.js';
import { mulberry32 } from './prng.js';
import type { SoakResult } from './report.js';
import { type AcceptedWebhook, deliverAll, emptyStats } from './sender.js';

/** Webhooks planned by default (copies, duplicates and forgeries; the gateway's retries on 5xx come on top). */
export const DEFAULT_WEBHOOKS = 10_000;
export const DEFAULT_SEED = 20261120;

/** Reconciler runs after a phase, at most: each works off a bounded number of claims per gateway. */
const MAX_RECONCILER_RUNS = 6;

/** The payments whose claim the reconciler must have settled by now that do not show its answer yet. */
async function unsettled(url: string, plan: Plan, phase: number): Promise<string[]> {
  const waiting: string[] = [];
  for (const { payment } of plan.confirmations.filter((confirmation) => confirmation.phase <= phase)) {
    const response = await fetch(
      `${url}/local/payments/${payment.gateway}/${encodeURIComponent(payment.key)}`,
    );
    const view = response.ok ? ((await response.json()) as PaymentView) : undefined;
    if (!view?.history.some((item) => isVerifiedAnswerId(item.eventId))) {
      waiting.push(`${payment.gateway} ${payment.key}`);
    }
  }
  return waiting;
}

export interface SoakOptions {
  /** @default DEFAULT_WEBHOOKS */
  readonly webhooks?: number;
  readonly seed?: number;
  readonly faults?: FaultProfileName;
  /** Webhooks in flight at once. @default 16 */
  readonly concurrency?: number;
  /**
   * Longest wait for the queues to drain after each phase. Faults stretch it: a record meeting an orphaned
   * in-progress record waits out the consumer's timeout, throttled writes back off. @default 600 s
   */
  readonly drainTimeoutMs?: number;
  /**
   * Deliver the stack's payment events to the soak's receiver, with the profile's delivery failures (errors,
   * timeouts, 429s, resets, a breaker outage, a 410 stop and its resume), and check every one arrived.
   * @default true
   */
  readonly destination?: boolean;
  /** Longest wait, after the final drain, for the destination's queue to empty. @default 240 s */
  readonly destinationDrainTimeoutMs?: number;
  /** Progress lines (and the stack's own reports). */
  readonly progress?: (line: string) => void;
}

/**
 * One soak: plan (and model) from the seed, the emulators behind the fault proxy, the local stack in-process on a
 * free port and in memory, each phase sent and drained, then the stack's state compared with the model.
 */
export async function runSoak(options: SoakOptions = {}): Promise<SoakResult> {
  const webhooks = options.webhooks ?? DEFAULT_WEBHOOKS;
  const seed = options.seed ?? DEFAULT_SEED;
  const profileName = options.faults ?? 'full';
  const profile = FAULT_PROFILES[profileName];
  const progress = options.progress ?? (() => undefined);
  const started = Date.now();
  const random = mulberry32(seed);
  const plan = buildPlan({ webhooks, seed }, random.fork());
  const faultRandom = random.fork();
  const outageRandom = random.fork();
  const destinationRandom = random.fork();

  const backend = await startFaultyBackend(profile, faultRandom);
  const dataDir = mkdtempSync(join(tmpdir(), 'payhook-soak-'));
  let destinations: SoakDestinations | undefined;
  // Every webhook answered 2xx, as sent: what the `original` destination must receive byte for byte.
  const accepted: AcceptedWebhook[] = [];
  try {
    if (options.destination ?? true) {
      destinations = await startSoakDestinations({
        accepted: () => accepted,
        profile: DESTINATION_FAULT_PROFILES[profileName],
        seed,
        random: destinationRandom,
        expectedRequests: plan.payments.reduce((sum, planned) => sum + planned.model.announcements.length, 0),
        secretsFile: DEV_SECRETS_FILE,
        ...(options.destinationDrainTimeoutMs !== undefined && {
          drainTimeoutMs: options.destinationDrainTimeoutMs,
        }),
        progress,
      });
    }
    const stack = await startLocalStack({
      dataDir,
      inMemory: true,
      port: 0,
      secretsFile: DEV_SECRETS_FILE,
      externalEndpoint: backend.endpoint,
      workersPerQueue: 2,
      pollWaitSeconds: 1,
      reconcileIntervalSeconds: 0,
      report: progress,
      hooks: destinations ? { ...backend.hooks, awsClient: destinations.awsClient } : backend.hooks,
      ...(destinations && { destinations: destinations.destinations }),
    });
    try {
      destinations?.attach(stack, dataDir, backend.direct);
      backend.setMainQueues(stack.queues.queues);
      backend.setTables(stack.tables);
      backend.enable(true);
      const stats = emptyStats();
      const sender = {
        url: stack.url,
        maxAttempts: 10,
        beforeSend: () => {
          if (outageRandom.chance(profile.outageChance)) backend.outage(profile.outageMs);
        },
        onAccepted: (webhook: AcceptedWebhook) => accepted.push(webhook),
      };
      const drainTimeoutMs = options.drainTimeoutMs ?? 600_000;
      // What the gateways' verify APIs know about the payments someone sent a claim about.
      for (const record of plan.sandbox) stack.sandbox.setPayment(record.gateway, record.payment);
      // Registrations made before any webhook.
      await deliverAll(plan.prelude, options.concurrency ?? 16, sender, stats);
      const reconcilerRuns: number[] = [];
      for (const [index, steps] of plan.phases.entries()) {
        const phaseStart = Date.now();
        await deliverAll(steps, options.concurrency ?? 16, sender, stats);
        progress(
          `phase ${index + 1}: ${steps.length} deliveries and registrations sent in ${Date.now() - phaseStart} ms; draining`,
        );
        await drain(stack.url, drainTimeoutMs, progress);
        progress(`phase ${index + 1}: drained after ${Date.now() - phaseStart} ms; reconciling`);
        // The reconciler (its timer is off) confirms the claims with the gateways and asks about pending payments;
        // what it queues is drained too. Run again while a claim it must have settled shows no answer yet (each run
        // works off a bounded number per gateway), at most MAX_RECONCILER_RUNS times: the checks say what is left.
        let runs = 0;
        for (;;) {
          runs += 1;
          const runStart = Date.now();
          for (let attempt = 1; ; attempt += 1) {
            try {
              const report = await stack.reconcileNow(0);
              progress(
                `  reconciler run ${runs}: ${Date.now() - runStart} ms, queued ${JSON.stringify(report.queued)}, errors ${JSON.stringify(report.errors)}`,
              );
              break;
            } catch (error) {
              // An injected fault the SDK's retries did not absorb: run again.
              if (attempt >= 3) throw error;
            }
          }
          await drain(stack.url, drainTimeoutMs, progress);
          const waiting = await unsettled(stack.url, plan, index);
          if (waiting.length === 0 || runs >= MAX_RECONCILER_RUNS) break;
        }
        reconcilerRuns.push(runs);
        progress(
          `phase ${index + 1}: ${runs} reconciler run(s), drained after ${Date.now() - phaseStart} ms`,
        );
      }
      // The destination's stragglers: events held by the stop or the breaker, or waiting out a back-off.
      const destinationStart = Date.now();
      const delivered = destinations ? await destinations.finish() : [];
      if (destinations) {
        progress(`destination: drained ${Date.now() - destinationStart} ms after the pipeline`);
      }
      backend.enable(false);
      const result = await check({
        url: stack.url,
        plan,
        eventsFile: stack.info.eventsFile,
        sqsEndpoint: backend.direct.sqs,
        deadLetterQueues: stack.queues.deadLetterQueues,
      });
      const lifecycles: Record<string, number> = {};
      for (const { lifecycle } of plan.payments) lifecycles[lifecycle] = (lifecycles[lifecycle] ?? 0) + 1;
      return {
        payments: plan.payments.length,
        webhooksPlanned: webhooks,
        seed,
        faultProfile: profileName,
        seconds: (Date.now() - started) / 1000,
        lifecycles,
        figures: plan.figures,
        delivery: stats,
        faults: { ...backend.counts },
        reconcilerRuns,
        check: result,
        destinations: delivered,
      };
    } finally {
      await stack.stop({ drainTimeoutMs: 5000 });
    }
  } finally {
    await destinations?.close();
    await backend.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
