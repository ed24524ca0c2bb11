/**
 * CPU per event, measured in-process: each gateway adapter's `verify` + `normalise` on its signed main sample, against
 * the floor for the same bytes (the HMAC and constant-time compare alone, plus `JSON.parse`); and the consumer's pure
 * core (`decide`) against `JSON.parse` of the queue message. No queue, no table, no network.
 */
import { spawnSync } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { DEFAULT_SAMPLES, DEV_SECRETS_FILE, readSample, SIGNERS } from '../events/index.js';
import { decide } from '../lambdas/domain/payment.js';
import { GATEWAYS, type GatewayName } from '../lambdas/domain/webhook-event.js';
import { ADAPTERS } from '../lambdas/gateways/registry.js';
import { parseGatewaySettings } from '../lambdas/gateways/settings.js';
import type { GatewayAdapter, WebhookRequest } from '../lambdas/gateways/types.js';
import {
  readWebhookEventMessage,
  writeWebhookEventMessage,
} from '../lambdas/messages/webhook-event-message.js';
import { parseGatewaySecret } from '../lambdas/secrets/gateway-secrets.js';

export interface CpuOptions {
  /** Calls per round. */
  readonly iterations: number;
  /** Rounds; the median round is reported. */
  readonly rounds: number;
  /** Calls before the first timed round. */
  readonly warmup: number;
}

export interface CpuRow {
  readonly name: string;
  /** What is measured. */
  readonly subject: string;
  /** What it is compared with. */
  readonly reference: string;
  readonly bodyBytes: number;
  /** Median over the rounds, microseconds per event. */
  readonly microsPerEvent: number;
  readonly referenceMicrosPerEvent: number;
  /** microsPerEvent / referenceMicrosPerEvent. */
  readonly ratio: number;
  /** Every round, microseconds per event, subject then reference. */
  readonly rounds: { readonly subject: readonly number[]; readonly reference: readonly number[] };
}

export interface CpuResults {
  readonly options: CpuOptions;
  readonly ingest: readonly CpuRow[];
  readonly consumer: readonly CpuRow[];
  /** The same rows measured under Node 24 in a child process (`--node24`); absent when not asked for. */
  readonly node24?: CpuOnNode;
}

/** Section 1 measured under another Node binary: its rows, and that binary's `process.version`. */
export type CpuOnNode = Omit<CpuResults, 'node24'> & { readonly node: string };

/** Keeps results alive so the optimiser cannot drop the work. */
let sink: unknown;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

function timeRound(fn: () => unknown, iterations: number): number {
  const start = performance.now();
  for (let i = 0; i < iterations; i += 1) sink = fn();
  return ((performance.now() - start) * 1000) / iterations;
}

/** Subject and reference rounds interleaved, so drift (turbo, another process) hits both alike. */
function compare(
  subject: () => unknown,
  reference: () => unknown,
  options: CpuOptions,
): { subject: number[]; reference: number[] } {
  for (let i = 0; i < options.warmup; i += 1) {
    sink = subject();
    sink = reference();
  }
  const result = { subject: [] as number[], reference: [] as number[] };
  for (let round = 0; round < options.rounds; round += 1) {
    result.subject.push(timeRound(subject, options.iterations));
    result.reference.push(timeRound(reference, options.iterations));
  }
  return result;
}

/** One case's subject and floor compared as section 1 does: median microseconds per call of each. */
export function compareOne(
  bench: Pick<IngestCase, 'subject' | 'floor'>,
  options: CpuOptions,
): { subject: number; reference: number } {
  const rounds = compare(bench.subject, bench.floor, options);
  return { subject: median(rounds.subject), reference: median(rounds.reference) };
}

function row(
  name: string,
  subject: string,
  reference: string,
  bodyBytes: number,
  rounds: { subject: number[]; reference: number[] },
): CpuRow {
  const microsPerEvent = median(rounds.subject);
  const referenceMicrosPerEvent = median(rounds.reference);
  return {
    name,
    subject,
    reference,
    bodyBytes,
    microsPerEvent,
    referenceMicrosPerEvent,
    ratio: microsPerEvent / referenceMicrosPerEvent,
    rounds,
  };
}

function rawSecrets(): Record<string, unknown> {
  return JSON.parse(readFileSync(DEV_SECRETS_FILE, 'utf8')) as Record<string, unknown>;
}

/** Compares two equal-length texts in constant time, as the adapters do (false on a length mismatch). */
function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * The floor for one gateway: the signature computation the scheme requires over the same bytes, one constant-time
 * compare with the header value, and `JSON.parse` of the body. Nothing else (no header parsing beyond a split, no
 * timestamp check, no normalisation).
 */
function floorFor(gateway: GatewayName, request: WebhookRequest, secret: string): () => unknown {
  const body = request.body;
  const h = request.headers;
  switch (gateway) {
    case 'paystack':
      return () =>
        sameText(createHmac('sha512', secret).update(body).digest('hex'), h['x-paystack-signature'] ?? '') &&
        JSON.parse(body.toString('utf8'));
    case 'oxapay':
      return () =>
        sameText(createHmac('sha512', secret).update(body).digest('hex'), h.hmac ?? '') &&
        JSON.parse(body.toString('utf8'));
    case 'razorpay':
      return () =>
        sameText(createHmac('sha256', secret).update(body).digest('hex'), h['x-razorpay-signature'] ?? '') &&
        JSON.parse(body.toString('utf8'));
    case 'flutterwave':
      return () =>
        sameText(
          createHmac('sha256', secret).update(body).digest('base64'),
          h['flutterwave-signature'] ?? '',
        ) && JSON.parse(body.toString('utf8'));
    case 'stripe':
      return () => {
        const header = h['stripe-signature'] ?? '';
        const t = header.slice(2, header.indexOf(','));
        const v1 = header.slice(header.indexOf('v1=') + 3);
        const expected = createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex');
        return sameText(expected, v1) && JSON.parse(body.toString('utf8'));
      };
    case 'standard':
      return () => {
        const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
        const expected = createHmac('sha256', key)
          .update(`${h['webhook-id']}.${h['webhook-timestamp']}.`)
          .update(body)
          .digest('base64');
        return (
          sameText(expected, (h['webhook-signature'] ?? '').slice(3)) && JSON.parse(body.toString('utf8'))
        );
      };
    case 'adyen':
      return () => {
        // Adyen signs fields inside each item: parse first, then one HMAC per item over its signed fields.
        const parsed = JSON.parse(body.toString('utf8')) as {
          notificationItems: { NotificationRequestItem: Record<string, unknown> }[];
        };
        const key = Buffer.from(secret, 'hex');
        let ok = true;
        for (const { NotificationRequestItem: item } of parsed.notificationItems) {
          const amount = (item.amount ?? {}) as Record<string, unknown>;
          const data = [
            item.pspReference,
            item.originalReference,
            item.merchantAccountCode,
            item.merchantReference,
            amount.value,
            amount.currency,
            item.eventCode,
            item.success,
          ]
            .map((value) => (value === undefined || value === null ? '' : String(value)))
            .join(':');
          const expected = createHmac('sha256', key).update(data).digest('base64');
          const signature = (item.additionalData as Record<string, string> | undefined)?.hmacSignature ?? '';
          ok = sameText(expected, signature) && ok;
        }
        return ok && parsed;
      };
  }
}

export interface IngestCase {
  readonly request: WebhookRequest;
  /** `adapter.verify` then `adapter.normalise`, as the ingest Lambda calls them. */
  readonly subject: () => unknown;
  readonly verify: () => unknown;
  readonly normalise: () => unknown;
  readonly floor: () => unknown;
  readonly batch: ReturnType<GatewayAdapter['normalise']>;
}

/**
 * One gateway's measured case: its main sample signed with the first dev secret, the subject and the floor, both
 * checked to accept it (the measured path is the accepting one, not an early refusal).
 */
export function ingestCase(
  gateway: GatewayName,
  secrets: Record<string, unknown> = rawSecrets(),
): IngestCase {
  const settings = parseGatewaySettings(undefined);
  const adapter = ADAPTERS[gateway];
  const secret = parseGatewaySecret(gateway, secrets[gateway]);
  const now = new Date();
  const signed = SIGNERS[gateway](readSample(gateway, DEFAULT_SAMPLES[gateway]), {
    secret: secret.secrets[0] ?? '',
    timestamp: now,
  });
  const headers = Object.fromEntries(
    Object.entries(signed.headers).map(([name, value]) => [name.toLowerCase(), value]),
  );
  const request: WebhookRequest = {
    headers,
    body: Buffer.from(signed.body, 'utf8'),
    // The same instant as the signature: timestamped schemes stay inside their tolerance for the whole run.
    receivedAt: now,
    requestId: 'bench',
  };
  const gatewaySettings = settings[gateway];
  const verification = adapter.verify(request, secret, gatewaySettings);
  if (!verification.ok)
    throw new Error(`${gateway}: the signed sample does not verify (${verification.reason})`);
  const batch = adapter.normalise(request, gatewaySettings);
  if (batch.events.length === 0) throw new Error(`${gateway}: the main sample normalises to no event`);
  const floor = floorFor(gateway, request, secret.secrets[0] ?? '');
  if (!floor()) throw new Error(`${gateway}: the floor does not accept the signed sample`);
  return {
    request,
    subject: () =>
      adapter.verify(request, secret, gatewaySettings).ok && adapter.normalise(request, gatewaySettings),
    verify: () => adapter.verify(request, secret, gatewaySettings),
    normalise: () => adapter.normalise(request, gatewaySettings),
    floor,
    batch,
  };
}

export function measureCpu(options: CpuOptions, log: (line: string) => void = () => undefined): CpuResults {
  const secrets = rawSecrets();
  const ingest: CpuRow[] = [];
  let succeeded: ReturnType<(typeof ADAPTERS)['paystack']['normalise']>['events'][number] | undefined;

  for (const gateway of GATEWAYS) {
    const adapter = ADAPTERS[gateway];
    const { request, subject, floor, batch } = ingestCase(gateway, secrets);
    if (gateway === 'paystack') succeeded = batch.events[0];

    const rounds = compare(subject, floor, options);
    const result = row(
      gateway,
      `${adapter.displayName}: verify + normalise of ${DEFAULT_SAMPLES[gateway]}`,
      'HMAC + constant-time compare + JSON.parse of the same bytes',
      request.body.length,
      rounds,
    );
    log(
      `cpu ${gateway}: ${result.microsPerEvent.toFixed(2)} us vs ${result.referenceMicrosPerEvent.toFixed(2)} us`,
    );
    ingest.push(result);
  }

  if (succeeded?.kind !== 'payment.succeeded') {
    throw new Error('the paystack main sample is not a payment.succeeded');
  }
  const event = succeeded;
  const message = writeWebhookEventMessage(event).body;
  const at = new Date();
  const messageBytes = Buffer.byteLength(message);
  const consumer: CpuRow[] = [];
  const decideRounds = compare(
    () => decide(undefined, event, at),
    () => JSON.parse(message),
    options,
  );
  consumer.push(
    row(
      'decide',
      'decide(no record yet, payment.succeeded): the fold of facts and derived status alone',
      'JSON.parse of the queue message',
      messageBytes,
      decideRounds,
    ),
  );
  const parseDecideRounds = compare(
    () => decide(undefined, readWebhookEventMessage(message), at),
    () => JSON.parse(message),
    options,
  );
  consumer.push(
    row(
      'parse + decide',
      'readWebhookEventMessage + decide: all of the consumer CPU before its first I/O',
      'JSON.parse of the queue message',
      messageBytes,
      parseDecideRounds,
    ),
  );
  for (const result of consumer) {
    log(
      `cpu consumer ${result.name}: ${result.microsPerEvent.toFixed(2)} us vs ${result.referenceMicrosPerEvent.toFixed(2)} us`,
    );
  }
  if (sink === Symbol.for('never')) log('');
  return { options, ingest, consumer };
}

const CHILD_ENTRY = join(dirname(fileURLToPath(import.meta.url)), 'cpu-node.ts');

/**
 * {@link measureCpu} under another Node binary (the Lambda runtime's major, 24, where this machine runs 20): a child
 * process runs `bench/cpu-node.ts` through tsx with the same options and prints its results as JSON. Its progress
 * lines go to this process's stderr.
 */
export function measureCpuOnNode(binary: string, options: CpuOptions): CpuOnNode {
  const root = join(dirname(CHILD_ENTRY), '..');
  const child = spawnSync(
    binary,
    [
      '--import',
      'tsx',
      CHILD_ENTRY,
      '--iterations',
      String(options.iterations),
      '--rounds',
      String(options.rounds),
      '--warmup',
      String(options.warmup),
    ],
    { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 16 * 1024 * 1024 },
  );
  if (child.error) throw new Error(`cannot run ${binary}: ${child.error.message}`);
  if (child.status !== 0) throw new Error(`${binary} ${CHILD_ENTRY} exited with ${child.status}`);
  // The last line is the JSON; anything printed before it is not ours to read.
  const last = child.stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(last) as CpuOnNode;
}
