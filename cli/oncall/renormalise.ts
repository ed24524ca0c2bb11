/**
 * `payhook dlq renormalise`: parked webhooks (validly signed bodies ingest could not normalise, on the low-priority
 * dead-letter queue as `unparseable-webhook` messages) go through the CURRENT adapter's normaliser once the adapter is
 * fixed and deployed. What now normalises is queued on the queue of each event's priority, as ingest would have
 * queued it; what still does not stays parked, with the reason the current adapter gives.
 *
 * The body was verified when it was received (nothing is parked that did not verify), and the signature headers are
 * not kept with it, so nothing is verified again and no secret is needed. Every rule ingest applies after verifying
 * is applied here too: the gateway must be enabled in the settings, an empty body stays parked, identifiers too long
 * for a DynamoDB key stay parked (`key_too_large`), a Flutterwave body becomes an unverified claim (see below), and
 * test-mode events are held back where the settings refuse test mode.
 *
 * Safety, as for `dlq redrive`: a parked message is deleted only after its events are durably queued and whatever
 * still fails is parked again (an interruption can duplicate, never lose; the consumer's dedupe absorbs a duplicate
 * event); every message read and not acted on is made visible again at once.
 */
import { DeleteMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { stringify } from 'lossless-json';
import { booleanEnv, MissingConfigurationError } from '../../lambdas/common/config.js';
import { INTAKE_ENV, type Priority } from '../../lambdas/definitions.js';
import { InvalidAmountError } from '../../lambdas/domain/money.js';
import { type GatewayName, isGatewayName, type WebhookEvent } from '../../lambdas/domain/webhook-event.js';
import { isObject, parseJsonObject } from '../../lambdas/gateways/payload.js';
import { ADAPTERS } from '../../lambdas/gateways/registry.js';
import { parseGatewaySettings, type SettingsByGateway } from '../../lambdas/gateways/settings.js';
import {
  type NormalisedBatch,
  type UnparseableItem,
  UnparseablePayloadError,
  type WebhookRequest,
} from '../../lambdas/gateways/types.js';
import { asUnverifiedClaim } from '../../lambdas/intake/claims.js';
import { parkOversizeKeys } from '../../lambdas/intake/key-sizes.js';
import { SqsEventQueue } from '../../lambdas/intake/sqs-event-queue.js';
import { unparseableWebhook } from '../../lambdas/intake/unparseable-webhook.js';
import { CliError } from '../io.js';
import {
  checkLimit,
  describeError,
  Hold,
  isParkedWebhook,
  MAX_CONSECUTIVE_FAILURES,
} from './dead-letter-moves.js';
import { type HeldMessage, holdAll, matchesFilter, release, selectedPairs } from './dlq-reader.js';
import { maskText } from './masking.js';
import type { DeadLetterFilter, QueuePair } from './types.js';

/** The class of the Adyen items past a batch's first 100: renormalised only when asked for by name (see below). */
export const BATCH_TOO_LARGE = 'batch_too_large';

/** The reason ingest parks a validly signed empty body with (`receive-webhook.ts`). */
const EMPTY_BODY_REASON = 'validly signed, but the body is empty';

/** How the Adyen adapter prefixes an item's reason with the item's place in its batch. */
const ITEM_PLACE = /^notificationItems\[\d+\]: /;

/** A parked webhook read back from its message: its exact bytes and what ingest knew of the request. */
export interface ParkedWebhook {
  readonly gateway: GatewayName;
  readonly errorClass: string;
  readonly errorMessage: string;
  /** The exact bytes parked (base64 decoded where the message carries them so). */
  readonly bytes: Buffer;
  /** The diagnostic headers ingest kept (never a signature header). */
  readonly headers: Readonly<Record<string, string>>;
  readonly receivedAt: Date;
  readonly requestId: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The parked webhook an `unparseable-webhook` message body holds (version 1, as `intake/unparseable-webhook.ts`
 * writes it), or why it cannot be read: such a message is left where it is, for a human.
 */
export function readParkedWebhook(body: string | undefined): ParkedWebhook | { readonly problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(body ?? '');
  } catch {
    return { problem: 'the message body is not JSON' };
  }
  if (!isRecord(value) || value.messageType !== 'unparseable-webhook') {
    return { problem: 'the message body is not a parked webhook' };
  }
  if (value.version !== 1) {
    return {
      problem: `parked webhook version ${JSON.stringify(value.version)} is not one this payhook reads`,
    };
  }
  const { gateway, payload, payloadEncoding, headers = {}, receivedAt, requestId } = value;
  if (!isGatewayName(gateway)) return { problem: `no adapter for gateway ${JSON.stringify(gateway)}` };
  if (typeof payload !== 'string' || (payloadEncoding !== 'utf8' && payloadEncoding !== 'base64')) {
    return { problem: 'the parked payload or its encoding is missing' };
  }
  const bytes = Buffer.from(payload, payloadEncoding);
  // Node's base64 decoder skips what is not base64: only a payload that re-encodes to itself is the exact bytes.
  if (payloadEncoding === 'base64' && bytes.toString('base64') !== payload) {
    return { problem: 'the parked payload is not valid base64' };
  }
  if (!isRecord(headers) || !Object.values(headers).every((header) => typeof header === 'string')) {
    return { problem: 'the parked headers are not a JSON object of strings' };
  }
  const received = typeof receivedAt === 'string' ? new Date(receivedAt) : undefined;
  if (received === undefined || Number.isNaN(received.getTime())) {
    return { problem: 'the parked webhook has no valid receivedAt' };
  }
  if (typeof requestId !== 'string') return { problem: 'the parked webhook has no requestId' };
  return {
    gateway,
    errorClass: typeof value.errorClass === 'string' ? value.errorClass : 'unparseable_payload',
    errorMessage: typeof value.errorMessage === 'string' ? value.errorMessage : '',
    bytes,
    headers: headers as Record<string, string>,
    receivedAt: received,
    requestId,
  };
}

/**
 * The body the Adyen adapter reads for one parked notification item. Ingest parks a batch's unreadable items one by
 * one, each as the item with the batch's `live` flag (`{"live":...,"NotificationRequestItem":{...}}`), which is not
 * itself a notification; it goes back into a batch of one (`{"live":...,"notificationItems":[{...}]}`), so the
 * adapter writes the same item text as it would have. Values are kept exactly (lossless-json). Anything else
 * (a whole body, or one that does not parse) is read as it is.
 */
function adyenBody(bytes: Buffer): Buffer {
  let value: Record<string, unknown>;
  try {
    value = parseJsonObject(bytes);
  } catch {
    return bytes;
  }
  if (Object.hasOwn(value, 'notificationItems') || !isObject(value.NotificationRequestItem)) return bytes;
  const { live, ...item } = value;
  const batch = stringify({ ...(live !== undefined && { live }), notificationItems: [item] });
  return batch === undefined ? bytes : Buffer.from(batch, 'utf8');
}

/** The request ingest received, as far as it was kept: the parked bytes, the diagnostic headers, time and id. */
function requestOf(parked: ParkedWebhook, body: Buffer = parked.bytes): WebhookRequest {
  return { headers: parked.headers, body, receivedAt: parked.receivedAt, requestId: parked.requestId };
}

/** What ingest's `normaliseOrPark` does: whatever stops the adapter, the body is kept with the reason. */
function normalised(
  parked: ParkedWebhook,
  request: WebhookRequest,
  settings: SettingsByGateway,
): NormalisedBatch {
  if (request.body.length === 0) {
    return { events: [], unparseable: [{ reason: EMPTY_BODY_REASON, payload: parked.bytes }] };
  }
  try {
    return ADAPTERS[parked.gateway].normalise(request, settings[parked.gateway]);
  } catch (error) {
    const known = error instanceof UnparseablePayloadError || error instanceof InvalidAmountError;
    const reason = known
      ? (error as Error).message
      : `unexpected ${(error as Error).name}: ${(error as Error).message}`;
    return { events: [], unparseable: [{ reason, payload: request.body }] };
  }
}

/** What renormalising one parked webhook comes to. */
export type RenormalisePlan =
  /** Queue `events` (possibly none), park `repark` (each with its reason), then delete the parked message. */
  | {
      readonly action: 'queue';
      readonly events: readonly WebhookEvent[];
      readonly repark: readonly UnparseableItem[];
    }
  /** Still unparseable, for the same reason, with the same bytes: the message stays as it is. */
  | { readonly action: 'unchanged'; readonly reason: string }
  /** Left as it is for a reason that is not the body's (the settings refuse it now). */
  | { readonly action: 'held'; readonly reason: string };

function sameBytes(payload: string | Buffer, bytes: Buffer): boolean {
  return Buffer.from(payload).equals(bytes);
}

/**
 * Runs one parked webhook through the current adapter, as ingest does after verifying: pure, no I/O.
 *
 * Flutterwave: ingest takes a body verified by `verif-hash` alone as an unverified claim (nothing binds that hash to
 * the body), and a parked webhook does not say which scheme verified it, so every renormalised Flutterwave event is
 * such a claim: confirmed with the gateway before it counts. A body its HMAC had bound loses nothing but time.
 */
export function planRenormalise(parked: ParkedWebhook, settings: SettingsByGateway): RenormalisePlan {
  const adapter = ADAPTERS[parked.gateway];
  const gatewaySettings = settings[parked.gateway];
  if (!gatewaySettings.enabled) {
    return { action: 'held', reason: `${adapter.displayName} is not enabled in these gateway settings` };
  }
  const body = parked.gateway === 'adyen' ? adyenBody(parked.bytes) : parked.bytes;
  const request = requestOf(parked, body);
  const batch = parkOversizeKeys(normalised(parked, request, settings));
  const events = parked.gateway === 'flutterwave' ? batch.events.map(asUnverifiedClaim) : batch.events;
  if (!gatewaySettings.acceptTestMode && events.some((event) => event.mode === 'test')) {
    return {
      action: 'held',
      reason: `it normalises to test-mode events, and these gateway settings refuse test mode for ${adapter.displayName}`,
    };
  }
  // What is parked again is the parked bytes where the adapter failed on the whole body, not a batch made up above;
  // and an Adyen item's reason keeps its place in the request it came in (`notificationItems[7]: ...`), not its
  // place in the batch of one it was read in.
  const place = body === parked.bytes ? undefined : ITEM_PLACE.exec(parked.errorMessage)?.[0];
  const repark = batch.unparseable.map((item) => ({
    ...item,
    ...(item.payload === body && { payload: parked.bytes }),
    ...(place !== undefined && { reason: item.reason.replace(ITEM_PLACE, place) }),
  }));
  const [only] = repark;
  if (
    events.length === 0 &&
    repark.length === 1 &&
    only !== undefined &&
    (only.errorClass ?? 'unparseable_payload') === parked.errorClass &&
    only.reason === parked.errorMessage &&
    sameBytes(only.payload, parked.bytes)
  ) {
    return { action: 'unchanged', reason: only.reason };
  }
  return { action: 'queue', events, repark };
}

/** The gateway settings to normalise with, and where they came from (shown, so a wrong guess is visible). */
export interface SettingsChoice {
  readonly settings: SettingsByGateway;
  /** `PAYHOOK_GATEWAY_SETTINGS`, or `defaults` when it is not set. */
  readonly source: 'PAYHOOK_GATEWAY_SETTINGS' | 'defaults';
}

/**
 * The deployment's gateway settings, read as ingest reads them: `PAYHOOK_GATEWAY_SETTINGS` (and
 * `PAYHOOK_ACCEPT_TEST_MODE`) from the environment when set, else the defaults. A {@link CliError} when they do not
 * parse: renormalising with settings ingest would refuse to start with would queue what ingest never would.
 */
export function gatewaySettingsFromEnv(env: Readonly<Record<string, string | undefined>>): SettingsChoice {
  const json = env[INTAKE_ENV.gatewaySettings];
  try {
    const settings = parseGatewaySettings(json, {
      acceptTestMode: booleanEnv(env, INTAKE_ENV.acceptTestMode, true),
    });
    return { settings, source: json?.trim() ? 'PAYHOOK_GATEWAY_SETTINGS' : 'defaults' };
  } catch (error) {
    const name =
      error instanceof MissingConfigurationError ? INTAKE_ENV.acceptTestMode : INTAKE_ENV.gatewaySettings;
    throw new CliError(`${name}: ${(error as Error).message}`);
  }
}

/** One event a renormalised webhook (would) put on a queue. */
export interface RenormalisedEvent {
  readonly eventType: string;
  readonly eventId: string;
  readonly kind: string;
  readonly priority: Priority;
}

/**
 * - `queued`: its events were queued and whatever still fails parked again with the new reason (`parked`); the
 *   parked message was deleted. A webhook that now normalises to no event at all is queued with none, as ingest
 *   would have accepted it.
 * - `reparked`: nothing queued, but the reason changed: parked again with the new reason(s), the old one deleted.
 * - `unchanged`: still unparseable for the same reason: left in place as it is.
 * - `held`: left in place as it is, because of the settings (gateway disabled, test mode refused) or because its
 *   message could not be read.
 * - `failed`: a send or the delete failed; left in place (see `note`).
 * In a dry run, each says what a real run would do; nothing is changed.
 */
export type RenormaliseOutcome = 'queued' | 'reparked' | 'unchanged' | 'held' | 'failed';

export interface RenormalisedMessage {
  readonly messageId: string;
  /** The dead-letter queue it is parked on (`low` for everything ingest parks). */
  readonly queue: Priority;
  readonly gateway?: string;
  readonly requestId?: string;
  readonly receivedAt?: string;
  /** The class it was parked with. */
  readonly errorClass: string;
  readonly outcome: RenormaliseOutcome;
  /** What is (or would be) queued, in the adapter's order. */
  readonly events: readonly RenormalisedEvent[];
  /** What stays (or would stay) parked, with the current adapter's reason (masked: it can quote the body). */
  readonly parked: readonly { readonly errorClass: string; readonly reason: string }[];
  /** Why it was held, or what failed. */
  readonly note?: string;
}

export interface RenormaliseSkipped {
  /** Read, but not matching a filter. */
  readonly notMatching: number;
  /** Matching, but not a parked webhook (a consumer's dead letter: `dlq redrive` is for those). */
  readonly notParked: number;
  /** Parked `batch_too_large` items, renormalised only with `errorClass: 'batch_too_large'` (`--error`). */
  readonly batchTooLarge: number;
  /** Past the limit. */
  readonly pastLimit: number;
  /** Not reached: the run stopped early, or another reader took the message. */
  readonly notReached: number;
}

export interface RenormaliseResult {
  readonly dryRun: boolean;
  /** One per parked webhook looked at, oldest first. */
  readonly messages: readonly RenormalisedMessage[];
  readonly counts: Readonly<Record<RenormaliseOutcome, number>>;
  /** Events queued (in a dry run: that would be). */
  readonly queuedEvents: number;
  readonly skipped: RenormaliseSkipped;
  /** Why the run stopped before the end, if it did. */
  readonly stoppedEarly?: string;
}

export interface RenormaliseOptions {
  readonly settings: SettingsByGateway;
  /** Change nothing; report what would happen to each message. */
  readonly dryRun?: boolean;
  /** At most this many parked webhooks, oldest first. @default all that match */
  readonly limit?: number;
  /** Called after each parked webhook is handled. */
  onProgress?(done: number, total: number): void;
}

function eventsOf(events: readonly WebhookEvent[]): RenormalisedEvent[] {
  return events.map((event) => ({
    eventType: event.eventType,
    eventId: event.eventId,
    kind: event.kind,
    priority: event.priority,
  }));
}

function parkedOf(items: readonly UnparseableItem[]): { errorClass: string; reason: string }[] {
  return items.map((item) => ({
    errorClass: item.errorClass ?? 'unparseable_payload',
    reason: maskText(item.reason),
  }));
}

/**
 * Renormalises the matching parked webhooks (`unparseable-webhook` messages) of the selected dead-letter queues,
 * oldest first. The usual filters apply (queue, gateway, error class, since); messages that are not parked webhooks
 * are skipped and counted. Parked `batch_too_large` items (an Adyen request's items past its first 100 distinct ones)
 * are renormalised only when the filter names that class: the runbook asks who sent such a batch before anything is
 * done with them, so a run for a fixed adapter does not queue them by the way.
 *
 * For each: its events are sent to the queues of their priorities, then whatever still fails is parked again on the
 * dead-letter queue it came from (with its new reason, the original request id and time), and only then is the
 * parked message deleted. Nothing queued and the same reason: it is left in place untouched (same message id, same
 * age), so a run after a fix that did not help changes nothing.
 */
export async function renormalise(
  sqs: SQSClient,
  queues: readonly QueuePair[],
  filter: DeadLetterFilter,
  options: RenormaliseOptions,
): Promise<RenormaliseResult> {
  const limit = checkLimit(options.limit);
  const held = await holdAll(sqs, selectedPairs(queues, filter), new Date());
  const pending = new Set(held);
  const messages: RenormalisedMessage[] = [];
  const counts: Record<RenormaliseOutcome, number> = {
    queued: 0,
    reparked: 0,
    unchanged: 0,
    held: 0,
    failed: 0,
  };
  let queuedEvents = 0;
  let stoppedEarly: string | undefined;
  const record = (message: RenormalisedMessage) => {
    messages.push(message);
    counts[message.outcome] += 1;
  };
  try {
    const matching = held.filter((item) => matchesFilter(item.letter, filter));
    const parked = matching.filter(isParkedWebhook);
    const wantsBatches = filter.errorClass === BATCH_TOO_LARGE;
    const eligible = parked.filter((item) => wantsBatches || item.letter.errorClass !== BATCH_TOO_LARGE);
    const planned = eligible.slice(0, limit);
    const plannedSet = new Set(planned);
    const letGo = held.filter((item) => !plannedSet.has(item) || options.dryRun);
    await release(sqs, letGo);
    for (const item of letGo) pending.delete(item);
    const skipped = (notReached: number): RenormaliseSkipped => ({
      notMatching: held.length - matching.length,
      notParked: matching.length - parked.length,
      batchTooLarge: parked.length - eligible.length,
      pastLimit: eligible.length - planned.length,
      notReached,
    });

    const queueUrls = Object.fromEntries(queues.map((pair) => [pair.priority, pair.queueUrl])) as Record<
      Priority,
      string
    >;
    const hold = new Hold(sqs);
    let consecutiveFailures = 0;
    let tried = 0;
    for (const item of planned) {
      if (consecutiveFailures >= MAX_CONSECUTIVE_FAILURES) {
        stoppedEarly = `stopped after ${consecutiveFailures} failures in a row; the rest were left in the dead-letter queue`;
        break;
      }
      if (!options.dryRun) {
        for (const lost of await hold.keep([...pending])) {
          for (const candidate of pending) if (candidate.letter.messageId === lost) pending.delete(candidate);
        }
        if (!pending.has(item)) continue;
      }
      tried += 1;
      const result = await renormaliseOne(sqs, item, queueUrls, options);
      pending.delete(item);
      if (result.outcome === 'failed' || result.outcome === 'held' || result.outcome === 'unchanged') {
        // Visible again in the dead-letter queue at once, where the next run or a human finds it.
        if (!options.dryRun) await release(sqs, [item]);
      }
      consecutiveFailures = result.outcome === 'failed' ? consecutiveFailures + 1 : 0;
      if (result.outcome === 'queued') queuedEvents += result.events.length;
      record(result);
      options.onProgress?.(tried, planned.length);
    }
    return {
      dryRun: options.dryRun === true,
      messages,
      counts,
      queuedEvents,
      skipped: skipped(planned.length - tried),
      ...(stoppedEarly !== undefined && { stoppedEarly }),
    };
  } finally {
    await release(sqs, [...pending]);
  }
}

/** One parked webhook: planned, then (unless a dry run) queued, parked again and deleted, in that order. */
async function renormaliseOne(
  sqs: SQSClient,
  item: HeldMessage,
  queueUrls: Readonly<Record<Priority, string>>,
  options: RenormaliseOptions,
): Promise<RenormalisedMessage> {
  const base = {
    messageId: item.letter.messageId,
    queue: item.pair.priority,
    errorClass: item.letter.errorClass,
    ...(item.letter.gateway !== undefined && { gateway: item.letter.gateway }),
  };
  const parked = readParkedWebhook(item.message.Body);
  if ('problem' in parked) return { ...base, outcome: 'held', events: [], parked: [], note: parked.problem };
  const described = {
    ...base,
    gateway: parked.gateway,
    requestId: parked.requestId,
    receivedAt: parked.receivedAt.toISOString(),
  };
  const plan = planRenormalise(parked, options.settings);
  if (plan.action === 'held') {
    return { ...described, outcome: 'held', events: [], parked: [], note: maskText(plan.reason) };
  }
  if (plan.action === 'unchanged') {
    return {
      ...described,
      outcome: 'unchanged',
      events: [],
      parked: [{ errorClass: parked.errorClass, reason: maskText(plan.reason) }],
    };
  }
  const planned = {
    ...described,
    outcome: plan.events.length === 0 && plan.repark.length > 0 ? ('reparked' as const) : ('queued' as const),
    events: eventsOf(plan.events),
    parked: parkedOf(plan.repark),
  };
  if (options.dryRun) return planned;

  const failed = (note: string): RenormalisedMessage => ({ ...planned, outcome: 'failed', note });
  const queue = new SqsEventQueue(sqs, { queues: queueUrls, parking: item.pair.deadLetterQueueUrl });
  try {
    await queue.enqueue(plan.events);
  } catch (error) {
    return failed(
      `not queued (${describeError(error)}); left in place (some of its events may be queued: running again queues them again, and the consumer's dedupe absorbs the copies)`,
    );
  }
  try {
    for (const each of plan.repark)
      await queue.park(unparseableWebhook(parked.gateway, requestOf(parked), each));
  } catch (error) {
    return failed(
      `queued, but not parked again (${describeError(error)}); left in place (running again queues its events again, and the consumer's dedupe absorbs the copies)`,
    );
  }
  try {
    await sqs.send(
      new DeleteMessageCommand({
        QueueUrl: item.pair.deadLetterQueueUrl,
        ReceiptHandle: item.message.ReceiptHandle,
      }),
    );
  } catch (error) {
    const twice = plan.repark.length > 0 ? ', and parks what still fails a second time' : '';
    return failed(
      `queued, but not deleted (${describeError(error)}): it is still parked, and running again queues its events again (the consumer's dedupe absorbs the copies)${twice}`,
    );
  }
  return planned;
}
