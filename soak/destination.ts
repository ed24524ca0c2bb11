import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type SendMessageCommandInput, SQSClient } from '@aws-sdk/client-sqs';
import { runPayhookInProcess } from '../cli/in-process.js';
import { createDocumentClient } from '../lambdas/common/aws-clients.js';
import { RATE_RESERVED_ATTRIBUTE } from '../lambdas/delivery/admission.js';
import { PAYMENT_DETAIL_TYPES } from '../lambdas/delivery/destinations.js';
import { readPublishedEvents } from '../lambdas/publishing/file-publisher.js';
import { DynamoBreakerStates } from '../lambdas/store/dynamodb-breaker-states.js';
import { developmentSigningSecret } from '../local/development-secret.js';
import { queueCounts } from '../local/queues.js';
import type { LocalStack, LocalStackHooks } from '../local/stack.js';
import { createFailureSchedule, type DestinationFaultProfile, expectedKinds } from './delivery-faults.js';
import {
  checkDestination,
  type DeadLetterSeen,
  type DestinationCheck,
  type ExpectedDelivery,
  originalExpectations,
  type PublishedPaymentEvent,
  paymentEventExpectations,
  type StopRecord,
} from './destination-check.js';
import type { Random } from './prng.js';
import {
  originalFormat,
  paymentEventFormat,
  type ReceivedAttempt,
  type ReceiverFormat,
  startSoakReceiver,
} from './receiver.js';
import type { AcceptedWebhook } from './sender.js';
import { receiveEveryMessage } from './sqs.js';

/**
 * The soak's delivery destination (issue #19): the local stack delivers its payment events to the soak's receiver
 * (`receiver.ts`), which verifies each signature with the official Standard Webhooks library, records every
 * webhook-id and body, and injects failures from a seeded schedule (`delivery-faults.ts`): 5xx, timeouts, 429s with
 * Retry-After, connection resets, an outage that opens the circuit breaker, and one 410 that stops the destination,
 * which the soak's on-call engineer then resumes with `payhook deliveries resume`, as the runbook says. After the
 * pipeline has drained, the soak waits for the destination's queue to empty and checks what the receiver saw against
 * what the stack published (`destination-check.ts`).
 *
 * Adding a destination of another format is one more {@link SoakDestinationSpec}: its settings, its receiver format
 * and how it builds its expectations (`startSoakDestinations`' second argument).
 */

/** The destination's name in `PAYHOOK_DESTINATIONS`. */
export const SOAK_DESTINATION = 'soak-events';

/** A detail-type the destination does not want, so its filter is exercised too (dispute openings, ~5% of events). */
export const UNWANTED_DETAIL_TYPE = 'payment.disputed';

/**
 * Held copies asking for more than {@link HOLD_CAP_FROM_SECONDS} are delayed {@link HOLD_CAP_SECONDS} instead. The
 * delivery function holds a stopped destination's events for 15 minutes (`STOPPED_DESTINATION_RECHECK_SECONDS`) and
 * the rest of a batch behind a breaker's probe for the probe's 60 s; the local stack has no option to shorten them
 * (`DelivererDependencies.stoppedRecheckSeconds` and `maxHoldSeconds` are not exposed), so the soak caps the
 * `DelaySeconds` of the delivery function's SendMessage calls through the stack's client hook. A held copy that comes
 * back early is simply held again (the stop and the breaker decide, not the delay). The breaker's pauses up to 30 s
 * (10 s, doubling after a failed probe; a third pause of 40 s is capped too) and the retry back-offs (30 s doubling,
 * Retry-After: visibility timeouts, not delays) are left as they are.
 */
export const HOLD_CAP_FROM_SECONDS = 30;
export const HOLD_CAP_SECONDS = 3;

/** The destination's timeout: an injected timeout holds its answer {@link TIMEOUT_HOLD_EXTRA_MS} longer. */
const TIMEOUT_SECONDS = 2;
const TIMEOUT_HOLD_EXTRA_MS = 1500;

/** Requests a batch that was already under way at the 410 may still send. */
const STOP_GRACE_MS = 5000;

export interface SoakDestinationOptions {
  readonly profile: DestinationFaultProfile;
  readonly seed: number;
  /** Draws the outage's answers. */
  readonly random: Random;
  /** About how many requests the destination will get (the modelled announcements): places the stop and outage. */
  readonly expectedRequests: number;
  /** The stack's secrets file: its development secret signs, and the receiver verifies with it. */
  readonly secretsFile: string;
  /** Every webhook the stack answered 2xx so far, as sent (for the `original` destination's expectations). */
  readonly accepted: () => readonly AcceptedWebhook[];
  /** Longest wait for the destination's queue to empty after the pipeline drained. @default 240 s */
  readonly drainTimeoutMs?: number;
  readonly progress?: (line: string) => void;
}

/** What the soak reports of one destination. */
export interface DestinationResult {
  readonly check: DestinationCheck;
  /** Its settings, as given to the stack. */
  readonly settings: Readonly<Record<string, unknown>>;
  /** Seconds the soak waited, after the pipeline drained, for its queue to empty. */
  readonly drainSeconds: number;
  /** Held copies whose delay was capped at {@link HOLD_CAP_SECONDS}, by the delay (seconds) asked for. */
  readonly holdsCapped: Readonly<Record<string, number>>;
  /** The breaker's longest run of opens (a failed probe opens it again, for twice as long). */
  readonly breakerMaxOpens: number;
  readonly breakerFinal: string;
}

export interface SoakDestinations {
  /** For `startLocalStack`: `destinations`, and the `awsClient` hook that caps held copies' delays. */
  readonly destinations: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly awsClient: NonNullable<LocalStackHooks['awsClient']>;
  /** Once the stack runs: the on-call engineer (who resumes after the 410) and the breaker watch start. */
  attach(
    stack: LocalStack,
    dataDir: string,
    direct: { readonly sqs: string; readonly dynamodb: string },
  ): void;
  /** After the pipeline drained: waits for the destination's queue to empty, then checks it. */
  finish(): Promise<DestinationResult[]>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const CREDENTIALS = { accessKeyId: 'soak', secretAccessKey: 'soak' };

/** `payhook <args>` in-process against the soak's stack, as an on-call engineer would run it. */
function payhook(dataDir: string, ...args: string[]) {
  return runPayhookInProcess({ PAYHOOK_DATA_DIR: dataDir }, ...args);
}

interface StatusRow {
  readonly destination: string;
  readonly stopped: boolean;
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
}

async function statusOf(dataDir: string, name: string): Promise<StatusRow | undefined> {
  const run = await payhook(dataDir, 'deliveries', 'status', '--json');
  if (run.code !== 0) return undefined;
  const json = JSON.parse(run.stdout) as { destinations: StatusRow[] };
  return json.destinations.find((row) => row.destination === name);
}

/**
 * The on-call engineer after a 410: waits until `payhook deliveries status` shows the destination stopped, leaves it
 * stopped until `stopSeconds` after the 410 (the merchant fixing its endpoint), then runs `payhook deliveries resume`
 * (again if it fails).
 */
async function resumeAfterStop(
  dataDir: string,
  name: string,
  goneAtMs: number,
  stopSeconds: number,
  progress: (line: string) => void,
): Promise<StopRecord> {
  let stoppedSeen = false;
  const seenBy = goneAtMs + 30_000;
  while (Date.now() < seenBy) {
    const row = await statusOf(dataDir, name).catch(() => undefined);
    if (row?.stopped) {
      stoppedSeen = true;
      break;
    }
    await sleep(500);
  }
  progress(
    `  ${name}: answered 410; deliveries status shows it ${stoppedSeen ? 'STOPPED' : 'NOT stopped'} after ${Date.now() - goneAtMs} ms`,
  );
  await sleep(Math.max(0, goneAtMs + stopSeconds * 1000 - Date.now()));
  const before = await statusOf(dataDir, name).catch(() => undefined);
  const heldAtResume = before ? before.visible + before.inFlight + before.delayed : undefined;
  let error: string | undefined;
  for (let attempt = 1; attempt <= 3; attempt += 1) {
    // Requests a moment before the resume's DeleteItem would be requests while stopped: the time is taken first.
    const resumedAtMs = Date.now();
    const run = await payhook(dataDir, 'deliveries', 'resume', name, '--json');
    if (run.code === 0) {
      const resumed = (JSON.parse(run.stdout) as { resumed?: boolean }).resumed === true;
      progress(
        `  ${name}: payhook deliveries resume ${resumed ? 'resumed it' : 'found it not stopped'} ${resumedAtMs - goneAtMs} ms after the 410, ${heldAtResume ?? '?'} event(s) on its queue`,
      );
      return {
        goneAtMs,
        stoppedSeen,
        ...(heldAtResume !== undefined && { heldAtResume }),
        resumed,
        resumedAtMs,
      };
    }
    error = run.stderr.trim();
    await sleep(1000);
  }
  return { goneAtMs, stoppedSeen, resumed: false, ...(error !== undefined && { error }) };
}

/** The settings of the `payment-event` destination: short timeouts, a breaker that opens after a few failures. */
export function paymentEventDestinationSettings(url: string): Record<string, unknown> {
  return {
    url,
    format: 'payment-event',
    detailTypes: PAYMENT_DETAIL_TYPES.filter((type) => type !== UNWANTED_DETAIL_TYPE),
    timeoutSeconds: TIMEOUT_SECONDS,
    // Nothing here waits more than a few minutes; an hour keeps a bug that retries forever from looking delivered.
    retryHours: 1,
    maxConcurrency: 2,
    circuitBreaker: { consecutiveFailures: 4, openSeconds: 10, windowSeconds: 60 },
  };
}

/** Messages still on a queue: visible, in flight and delayed (a held copy waits as a delayed one). */
async function queueLeft(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { visible, inFlight, delayed } = await queueCounts(sqs, queueUrl);
  return visible + inFlight + delayed;
}

/** Every message on a destination's DLQ (read straight from the emulator), hidden ones counted. */
async function readDeadLetters(sqs: SQSClient, queueUrl: string): Promise<DeadLetterSeen[]> {
  const total = await queueLeft(sqs, queueUrl);
  const found: DeadLetterSeen[] = [];
  for (const message of await receiveEveryMessage(sqs, queueUrl)) {
    const attributes = message.MessageAttributes ?? {};
    let id: string | undefined;
    try {
      id = (JSON.parse(message.Body ?? '') as { detail?: { id?: string } }).detail?.id;
    } catch {
      id = undefined;
    }
    const reason = attributes.errorMessage?.StringValue;
    found.push({
      ...(id !== undefined && { id }),
      errorClass: attributes.errorClass?.StringValue ?? '?',
      ...(reason !== undefined && { reason }),
    });
  }
  for (let hidden = found.length; hidden < total; hidden += 1) {
    found.push({ errorClass: '?', reason: 'hidden (being read elsewhere)' });
  }
  return found;
}

/** What a destination's expectations are built from: what the stack published, and what it accepted (as sent). */
export interface DeliveryEvidence {
  readonly published: readonly PublishedPaymentEvent[];
  readonly accepted: readonly AcceptedWebhook[];
}

/**
 * One destination of the soak: its name, how the receiver reads its deliveries, its settings for the stack, and what
 * it must receive. A destination of another format is another spec; the schedule, the receiver, the on-call engineer,
 * the waiting and the check are the same for all.
 */
export interface SoakDestinationSpec {
  readonly name: string;
  readonly format: ReceiverFormat;
  settings(url: string): Record<string, unknown>;
  expectations(settings: Readonly<Record<string, unknown>>, evidence: DeliveryEvidence): ExpectedDelivery[];
}

/** The `payment-event` destination: every published event of the detail-types it wants, as published. */
export function paymentEventDestination(secret: string): SoakDestinationSpec {
  return {
    name: SOAK_DESTINATION,
    format: paymentEventFormat(secret),
    settings: paymentEventDestinationSettings,
    expectations(settings, { published }) {
      const wanted = new Set(settings.detailTypes as readonly string[]);
      return paymentEventExpectations(published, (event) => wanted.has(event.detailType));
    },
  };
}

/** The `original` destination's name: every webhook the stack accepted, as the gateway sent it. */
export const SOAK_ORIGINAL_DESTINATION = 'soak-originals';

/** The `original` destination: the same failures, every accepted webhook byte for byte (see `originalExpectations`). */
export function originalDestination(): SoakDestinationSpec {
  return {
    name: SOAK_ORIGINAL_DESTINATION,
    format: originalFormat(),
    settings: (url) => {
      const { detailTypes: _all, ...rest } = paymentEventDestinationSettings(url);
      return { ...rest, format: 'original' };
    },
    expectations: (_settings, { accepted }) => originalExpectations(accepted),
  };
}

/** The breaker of one destination as the soak saw it: each open (each lasts at least its 10 s), the longest run. */
class BreakerWatch {
  readonly opens = new Set<number>();
  maxOpens = 0;
  final = 'closed';

  constructor(
    private readonly name: string,
    private readonly progress: (line: string) => void,
  ) {}

  async look(breakers: DynamoBreakerStates): Promise<void> {
    const { state } = await breakers.get(this.name);
    this.final = state.kind;
    if (state.kind !== 'open') return;
    if (!this.opens.has(state.openedAtMs)) {
      this.opens.add(state.openedAtMs);
      this.progress(`  ${this.name}: circuit breaker open (${state.reason}; open #${state.opens} in a row)`);
    }
    this.maxOpens = Math.max(this.maxOpens, state.opens);
  }
}

/** Waits until the queue is empty (nothing visible, in flight or delayed) twice running, or the deadline; what is left. */
async function drainQueue(
  sqs: SQSClient,
  queueUrl: string,
  deadline: number,
  report: (left: number) => void,
): Promise<number> {
  let emptyInARow = 0;
  let nextReport = Date.now() + 15_000;
  for (;;) {
    const left = await queueLeft(sqs, queueUrl);
    emptyInARow = left === 0 ? emptyInARow + 1 : 0;
    if (emptyInARow >= 2 || Date.now() > deadline) return left;
    if (Date.now() >= nextReport) {
      report(left);
      nextReport += 15_000;
    }
    await sleep(500);
  }
}

/**
 * The soak's destinations (by default the one `payment-event` destination): the receiver started, each with its own
 * failure schedule, and the settings ready for `startLocalStack`.
 */
export async function startSoakDestinations(
  options: SoakDestinationOptions,
  specsFor: (secret: string) => readonly SoakDestinationSpec[] = (secret) => [
    paymentEventDestination(secret),
    originalDestination(),
  ],
): Promise<SoakDestinations> {
  const { profile } = options;
  const progress = options.progress ?? (() => undefined);
  const specs = specsFor(developmentSigningSecret(options.secretsFile).secret);
  let attached: { stack: LocalStack; dataDir: string; sqs: SQSClient; dynamo: DynamoDBClient } | undefined;
  const operators = new Map<string, Promise<StopRecord>>();
  const onAttempt = (attempt: ReceivedAttempt) => {
    const { destination } = attempt;
    if (attempt.answer.kind !== 'gone' || operators.has(destination) || !attached) return;
    const operator = resumeAfterStop(
      attached.dataDir,
      destination,
      attempt.atMs,
      profile.stopSeconds,
      progress,
    ).catch((error: unknown) => ({
      goneAtMs: attempt.atMs,
      stoppedSeen: false,
      resumed: false,
      error: (error as Error).message,
    }));
    operators.set(destination, operator);
  };
  const receiver = await startSoakReceiver(
    specs.map((spec, index) => ({
      name: spec.name,
      format: spec.format,
      schedule: createFailureSchedule(
        profile,
        options.seed + index,
        options.expectedRequests,
        options.random.fork(),
      ),
      holdMs: TIMEOUT_SECONDS * 1000 + TIMEOUT_HOLD_EXTRA_MS,
    })),
    onAttempt,
  );
  const settings = new Map(specs.map((spec) => [spec.name, spec.settings(receiver.url(spec.name))]));

  // Held copies' delays capped, by queue URL and the delay asked for (see HOLD_CAP_SECONDS).
  const holdsCapped = new Map<string, Record<string, number>>();
  const awsClient: SoakDestinations['awsClient'] = (client, role) => {
    if (role !== 'delivery' || !(client instanceof SQSClient)) return;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as SendMessageCommandInput;
        if (
          context.commandName === 'SendMessageCommand' &&
          (input.DelaySeconds ?? 0) > HOLD_CAP_FROM_SECONDS &&
          // A copy holding a reserved rate token must not come back before its token is there.
          input.MessageAttributes?.[RATE_RESERVED_ATTRIBUTE] === undefined
        ) {
          const asked = String(input.DelaySeconds);
          const counts = holdsCapped.get(input.QueueUrl ?? '') ?? {};
          counts[asked] = (counts[asked] ?? 0) + 1;
          holdsCapped.set(input.QueueUrl ?? '', counts);
          return next({ ...args, input: { ...input, DelaySeconds: HOLD_CAP_SECONDS } });
        }
        return next(args);
      },
      { step: 'initialize', name: 'soakHoldCap' },
    );
  };

  const watches = new Map(specs.map((spec) => [spec.name, new BreakerWatch(spec.name, progress)]));
  let breakers: DynamoBreakerStates | undefined;
  let timer: NodeJS.Timeout | undefined;
  const lookAtBreakers = async () => {
    for (const watch of watches.values()) if (breakers) await watch.look(breakers);
  };

  return {
    destinations: Object.fromEntries(settings),
    awsClient,
    attach(stack, dataDir, direct) {
      const sqs = new SQSClient({
        endpoint: direct.sqs,
        region: 'us-east-1',
        useQueueUrlAsEndpoint: false,
        credentials: CREDENTIALS,
      });
      const dynamo = new DynamoDBClient({
        endpoint: direct.dynamodb,
        region: 'us-east-1',
        credentials: CREDENTIALS,
      });
      attached = { stack, dataDir, sqs, dynamo };
      breakers = new DynamoBreakerStates(createDocumentClient(dynamo), stack.tables.payments);
      let looking = false;
      timer = setInterval(() => {
        if (looking) return;
        looking = true;
        lookAtBreakers()
          .catch(() => undefined)
          .finally(() => {
            looking = false;
          });
      }, 500);
      timer.unref();
    },
    async finish() {
      if (!attached) throw new Error('the soak destinations were never attached to a stack');
      const { stack, sqs } = attached;
      const started = Date.now();
      const deadline = started + (options.drainTimeoutMs ?? 240_000);
      const drained = new Map<string, { left: number; seconds: number }>();
      for (const spec of specs) {
        const target = stack.deliveries.destinations[spec.name];
        if (!target) throw new Error(`the stack has no destination ${spec.name}`);
        // A stopped destination holds its events until the on-call engineer has resumed it.
        await operators.get(spec.name);
        const left = await drainQueue(sqs, target.queueUrl, deadline, (count) =>
          progress(`  ${spec.name}: ${count} delivery message(s) still queued, in flight or held`),
        );
        drained.set(spec.name, { left, seconds: (Date.now() - started) / 1000 });
      }
      if (timer) clearInterval(timer);
      await lookAtBreakers().catch(() => undefined);
      const published = (await readPublishedEvents(
        stack.info.eventsFile,
      )) as readonly PublishedPaymentEvent[];
      const results: DestinationResult[] = [];
      for (const spec of specs) {
        const target = stack.deliveries.destinations[spec.name];
        const given = settings.get(spec.name) ?? {};
        const watch = watches.get(spec.name);
        const stop = await operators.get(spec.name);
        const { left, seconds } = drained.get(spec.name) ?? { left: 0, seconds: 0 };
        const check = checkDestination({
          destination: spec.name,
          format: spec.format.name,
          expected: spec.expectations(given, { published, accepted: options.accepted() }),
          attempts: receiver.attempts(spec.name),
          deadLetters: target ? await readDeadLetters(sqs, target.deadLetterQueueUrl) : [],
          queueLeft: left,
          requiredKinds: expectedKinds(profile),
          ...(stop && { stop }),
          stopGraceMs: STOP_GRACE_MS,
          breakerOpens: watch?.opens.size ?? 0,
          breakerRequired: profile.outageAt !== undefined,
          retryAfterCheckedFromSeconds: 10,
          retryAfterToleranceMs: 2000,
          retryAfterRequired:
            profile.firstFailure > 0 && profile.retryAfters.some((each) => each.seconds >= 10),
        });
        results.push({
          check,
          settings: given,
          drainSeconds: seconds,
          holdsCapped: holdsCapped.get(target?.queueUrl ?? '') ?? {},
          breakerMaxOpens: watch?.maxOpens ?? 0,
          breakerFinal: watch?.final ?? '?',
        });
      }
      return results;
    },
    async close() {
      if (timer) clearInterval(timer);
      await Promise.all([...operators.values()].map((operator) => operator.catch(() => undefined)));
      await receiver.close();
      attached?.sqs.destroy();
      attached?.dynamo.destroy();
    },
  };
}
