/**
 * `payhook send <gateway> [sample]`: signs a sample webhook the way the gateway would and posts it, once or many
 * times, to the running local stack (or any payhook URL), printing what came back and which payment it was about.
 */
import { randomBytes } from 'node:crypto';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { freshCopy } from '../events/fresh-copy.js';
import { DEFAULT_SAMPLES, listSamples, type SignedWebhook, signWithDevSecret } from '../events/index.js';
import { formatMajor } from '../lambdas/domain/money.js';
import { paymentKeyOf } from '../lambdas/domain/payment.js';
import { GATEWAYS, type GatewayName, type WebhookEvent } from '../lambdas/domain/webhook-event.js';
import { dataDirFromEnv } from '../local/contract.js';
import { CliError, type CliIo } from './io.js';
import { connectToLocalStack, type HttpAnswer, PayhookClient, RequestFailedError } from './local-client.js';
import { safe } from './terminal-safe.js';
import {
  gatewayArgument,
  identify,
  normaliseSigned,
  sampleArgument,
  settingsFromEnv,
  type WebhookIdentity,
} from './webhook.js';

const MAX_COUNT = 100_000;
const MAX_CONCURRENCY = 256;
const DEFAULT_CONCURRENCY = 4;
/** Response bodies are echoed for a glance, not a dump: longer ones are cut. */
const MAX_BODY_CHARS = 300;

function wholeNumber(max: number) {
  return (text: string): number => {
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < 1 || value > max) {
      throw new InvalidArgumentError(`expected a whole number from 1 to ${max}`);
    }
    return value;
  };
}

/** An absolute http(s) URL, checked before anything is signed or sent. */
function httpUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidArgumentError('expected an absolute URL such as http://127.0.0.1:3000');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidArgumentError(`expected an http or https URL, not ${url.protocol}`);
  }
  return text;
}

interface SendOptions {
  readonly url?: string;
  readonly count?: number;
  readonly concurrency: number;
  readonly duplicate?: boolean;
  readonly fresh?: boolean;
  readonly lost?: boolean;
}

/** How the N webhooks relate to each other, which decides what payhook does with them. */
type Mode = 'as-is' | 'fresh' | 'duplicate';

/** One request's outcome: an HTTP answer, or why there was none. */
type Outcome = HttpAnswer | { readonly failure: string };

interface Result {
  readonly outcome: Outcome;
  readonly identities: readonly WebhookIdentity[] | string;
}

/** Runs `task` for 0..count-1 with at most `limit` in flight; results in index order. */
async function inPool<T>(count: number, limit: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      results[index] = await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  return results;
}

function oneLine(body: string): string {
  const flat = body.replace(/\s*\n\s*/g, ' ').trim();
  if (flat === '') return '(empty body)';
  return flat.length > MAX_BODY_CHARS ? `${flat.slice(0, MAX_BODY_CHARS)}…` : flat;
}

function isAccepted(outcome: Outcome): boolean {
  return 'status' in outcome && outcome.status >= 200 && outcome.status < 300;
}

function statusText(outcome: Outcome): string {
  return 'status' in outcome ? String(outcome.status) : 'error';
}

function describeIdentities(identities: Result['identities']): string {
  if (typeof identities === 'string') return safe`payment ?  event ? (${identities})`;
  const keys = [...new Set(identities.map((identity) => identity.paymentKey ?? '-'))];
  const events = identities.map((identity) => identity.eventId);
  return safe`payment ${keys.join(',') || '-'}  event ${events.join(',') || '-'}`;
}

/** `200 x 3, 401 x 1`, statuses in the order first seen. */
function summary(results: readonly Result[]): string {
  const counts = new Map<string, number>();
  for (const { outcome } of results) {
    const key = statusText(outcome);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([status, count]) => `${status} x ${count}`).join(', ');
}

function modeOf(options: SendOptions): Mode {
  if (options.duplicate === true) return 'duplicate';
  return options.count !== undefined || options.fresh === true ? 'fresh' : 'as-is';
}

const MODE_NOTE: Readonly<Record<Mode, string>> = {
  'as-is': 'the sample as it is',
  fresh: 'each with fresh ids',
  duplicate: 'the same signed webhook each time',
};

/** The word each gateway's verify API uses for a paid payment, as the sandbox answers it. */
const PAID_WORD: Readonly<Partial<Record<GatewayName, string>>> = {
  paystack: 'success',
  flutterwave: 'successful',
  razorpay: 'captured',
  oxapay: 'Paid',
  stripe: 'succeeded',
};

/** The word each gateway's verify API uses for a payment still under way. */
const PENDING_WORD: Readonly<Partial<Record<GatewayName, string>>> = {
  paystack: 'ongoing',
  flutterwave: 'pending',
  razorpay: 'created',
  oxapay: 'Waiting',
  stripe: 'processing',
};

/** Gateways that count amounts in major units in their APIs. */
const MAJOR_UNIT_APIS: ReadonlySet<GatewayName> = new Set(['flutterwave', 'oxapay']);

/**
 * How the gateway's verify API would describe the payment a webhook announces (paid or still under way), for the
 * local sandbox; `undefined` for events the sandbox need not know (refunds, disputes, gateways without a verify API).
 */
export function sandboxRecordOf(
  gateway: GatewayName,
  event: WebhookEvent,
): Record<string, unknown> | undefined {
  const word =
    event.kind === 'payment.succeeded'
      ? PAID_WORD[gateway]
      : event.kind === 'payment.pending'
        ? PENDING_WORD[gateway]
        : undefined;
  if (word === undefined || !event.money) return undefined;
  const reference = event.reference ?? event.gatewayPaymentId;
  const amount = MAJOR_UNIT_APIS.has(gateway) ? formatMajor(event.money) : event.money.amountMinor.toString();
  const record = {
    status: word,
    amount,
    currency: event.money.currency,
    ...(reference !== undefined && { reference }),
  };
  if (gateway !== 'razorpay')
    return { ...record, ...(event.gatewayPaymentId !== undefined && { id: event.gatewayPaymentId }) };
  // Razorpay payments are looked up by order: the order lists its payment attempts.
  if (!event.gatewayPaymentId?.startsWith('order_')) return { ...record, id: event.gatewayPaymentId };
  return {
    ...record,
    status: word === 'captured' ? 'paid' : 'attempted',
    id: event.gatewayPaymentId,
    payments: [{ ...record, id: `pay_${randomBytes(7).toString('hex')}` }],
  };
}

function normalisedEvents(
  gateway: GatewayName,
  webhook: SignedWebhook,
  env: Readonly<Record<string, string | undefined>>,
): WebhookEvent[] {
  return normaliseSigned(gateway, webhook, settingsFromEnv(gateway, env));
}

/**
 * `--lost`: a payment the customer paid but whose webhook never arrives. It is registered as expected (pending) and
 * put, paid, into the local gateway sandbox; the webhook is not sent. The reconciler then has something to settle.
 */
async function sendLost(
  io: CliIo,
  gateway: GatewayName,
  sample: { name: string; payload: string },
): Promise<void> {
  const paidWord = PAID_WORD[gateway];
  if (paidWord === undefined) {
    throw new CliError(`${gateway} has no verify API payhook can ask: its pending payments can only expire`);
  }
  const env = io.env ?? process.env;
  const client = await connectToLocalStack(dataDirFromEnv(env));
  const copy = freshCopy(gateway, sample.payload, `lost:${randomBytes(6).toString('hex')}`);
  const webhook = signWithDevSecret(gateway, copy.payload, copy.eventId);
  const [event] = normalisedEvents(gateway, webhook, env);
  const sandboxPayment = event ? sandboxRecordOf(gateway, event) : undefined;
  if (
    !event?.money ||
    sandboxPayment === undefined ||
    (event.reference === undefined && event.gatewayPaymentId === undefined)
  ) {
    throw new CliError(
      `sample ${sample.name} names no payment with an amount; pick a payment success sample`,
    );
  }
  const reference = event.reference ?? event.gatewayPaymentId ?? '';
  const registered = await client.postJson('/payments', {
    gateway,
    reference,
    ...(event.gatewayPaymentId !== undefined && { gatewayPaymentId: event.gatewayPaymentId }),
    amount: formatMajor(event.money),
    currency: event.money.currency,
  });
  if (registered.status >= 400)
    throw new CliError(`could not register the payment: ${registered.body.slice(0, 300)}`);
  const stored = await client.postJson(`/local/sandbox/${gateway}`, sandboxPayment);
  if (stored.status >= 400)
    throw new CliError(`the local gateway sandbox refused the payment: ${stored.body.slice(0, 300)}`);
  io.stdout(
    safe`lost webhook: ${gateway} payment ${paymentKeyOf(event) ?? reference} (${formatMajor(event.money)} ${event.money.currency}) ` +
      'is registered as pending, and the gateway sandbox says it is paid; no webhook was sent.\n' +
      'Settle it with:  npx payhook reconcile --now --grace 0\n',
  );
}

function safeEvents(
  gateway: GatewayName,
  webhook: SignedWebhook,
  env: Readonly<Record<string, string | undefined>>,
): WebhookEvent[] {
  try {
    return normalisedEvents(gateway, webhook, env);
  } catch {
    return [];
  }
}

async function send(
  io: CliIo,
  gatewayName: string,
  sampleName: string | undefined,
  options: SendOptions,
): Promise<void> {
  const gateway = gatewayArgument(gatewayName);
  const sample = sampleArgument(gateway, sampleName);
  if (options.lost) return sendLost(io, gateway, sample);
  const env = io.env ?? process.env;
  const settings = settingsFromEnv(gateway, env);
  const client =
    options.url === undefined
      ? await connectToLocalStack(dataDirFromEnv(env))
      : new PayhookClient(options.url);
  const count = options.count ?? 1;
  const mode = modeOf(options);
  io.stdout(
    safe`POST ${client.webhookUrl(gateway)}: ${sample.name} x ${count}, ${MODE_NOTE[mode]}` +
      (count > 1 ? ` (concurrency ${Math.min(options.concurrency, count)})\n` : '\n'),
  );

  const runId = randomBytes(6).toString('hex');
  // A duplicate is signed once: a gateway retrying resends the very same bytes and headers.
  const duplicate = mode === 'duplicate' ? signWithDevSecret(gateway, sample.payload) : undefined;
  // Every other webhook is signed just before it is sent, so a long run's timestamps stay within tolerance.
  const webhookFor = (index: number): SignedWebhook => {
    if (duplicate !== undefined) return duplicate;
    if (mode === 'as-is') return signWithDevSecret(gateway, sample.payload);
    const copy = freshCopy(gateway, sample.payload, `${runId}:${index}`);
    return signWithDevSecret(gateway, copy.payload, copy.eventId);
  };

  let done = 0;
  const results = await inPool(count, options.concurrency, async (index): Promise<Result> => {
    const webhook = webhookFor(index);
    let identities: Result['identities'];
    try {
      identities = identify(gateway, webhook, settings);
    } catch (error) {
      identities = `payhook could not read it: ${(error as Error).message}`;
    }
    let outcome: Outcome;
    try {
      outcome = await client.postWebhook(gateway, webhook);
    } catch (error) {
      if (!(error instanceof RequestFailedError)) throw error;
      outcome = { failure: error.reason };
    }
    done += 1;
    // The local gateway sandbox learns the payment too, so the reconciler asking about it hears what the webhook said.
    if (options.url === undefined && 'status' in outcome && outcome.status < 300) {
      for (const event of safeEvents(gateway, webhook, env)) {
        const record = sandboxRecordOf(gateway, event);
        if (record) await client.postJson(`/local/sandbox/${gateway}`, record).catch(() => undefined);
      }
    }
    const answer = 'status' in outcome ? oneLine(outcome.body) : outcome.failure;
    // The answer is whatever the URL sent back (`--url` can be any server).
    io.stdout(
      `[${done}/${count}] ${statusText(outcome)}  ${describeIdentities(identities)}  -> ${safe`${answer}`}\n`,
    );
    return { outcome, identities };
  });

  io.stdout(`sent ${count}: ${summary(results)}\n`);
  const refused = results.filter((result) => !isAccepted(result.outcome)).length;
  if (refused > 0)
    throw new CliError(`${refused} of ${count} webhooks were not accepted (non-2xx or no answer)`);
}

function samplesHelp(): string {
  const lines = GATEWAYS.map((gateway: GatewayName) => {
    const samples = listSamples(gateway).map((name) =>
      name === DEFAULT_SAMPLES[gateway] ? `${name}*` : name,
    );
    return `  ${gateway.padEnd(12)} ${samples.join(', ')}`;
  });
  return `\nGateways and their samples (* = the default):\n${lines.join('\n')}\n`;
}

/** Adds `send` to the program. */
export function registerSend(program: Command, io: CliIo): void {
  program
    .command('send')
    .summary('sign a sample webhook as the gateway would and post it to payhook')
    .description(
      'Sign a sample webhook with the local development secret, exactly as the gateway would (timestamped now ' +
        'where the scheme signs a time), and post it to payhook.\n\n' +
        'Prints one line per request: the HTTP status, the payment to give `payhook payments show`, the event id ' +
        'and the response body; then a summary. Exits non-zero if any request got no 2xx answer.\n\n' +
        'Without --count or --fresh the sample is sent as it is, so sending it again is a retry that payhook ' +
        'deduplicates; with --count each webhook is a new event about a new payment.',
    )
    .argument('<gateway>', `one of ${GATEWAYS.join(', ')}`)
    .argument(
      '[sample]',
      "a sample name (default: the gateway's main success event) or a path to a .json file",
    )
    .option(
      '--url <url>',
      "payhook's base URL (default: the running local stack's, from <data dir>/stack.json)",
      httpUrl,
    )
    .option(
      '-n, --count <n>',
      'send n webhooks, each a new event about a new payment (fresh ids) unless --duplicate (default: 1)',
      wholeNumber(MAX_COUNT),
    )
    .option(
      '-c, --concurrency <c>',
      'at most c requests in flight',
      wholeNumber(MAX_CONCURRENCY),
      DEFAULT_CONCURRENCY,
    )
    .addOption(
      new Option(
        '--duplicate',
        'send the same signed webhook every time, as a gateway retrying would',
      ).conflicts('fresh'),
    )
    .option('--fresh', 'give the webhook fresh event and payment ids even without --count')
    .option(
      '--lost',
      'do not send it: register the payment as expected and mark it paid at the local gateway sandbox, ' +
        'as if the webhook were lost (then run `payhook reconcile --now --grace 0`)',
    )
    .addHelpText('after', samplesHelp())
    .action((gateway: string, sample: string | undefined, options: SendOptions) =>
      send(io, gateway, sample, options),
    );
}
