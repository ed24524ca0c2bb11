/**
 * `payhook payments show <gateway> <identifier>`: one payment with its facts and history, as the running local stack
 * has it (read from the local-only `GET /local/payments/:gateway/:identifier` route), or as a deployed stack has it
 * (`--stack`: read from its payments table and rendered by the same view).
 */
import type { Command } from 'commander';
import { GATEWAYS, type GatewayName } from '../lambdas/domain/webhook-event.js';
import { ADAPTERS } from '../lambdas/gateways/registry.js';
import {
  dataDirFromEnv,
  type FactView,
  type HistoryView,
  type MoneyView,
  type PaymentView,
} from '../local/contract.js';
import { deployedPaymentView } from './deployed-payments.js';
import { CliError, type CliIo } from './io.js';
import { connectToLocalStack } from './local-client.js';
import { deployedStackOf, type TargetOptions, withStackOptions } from './oncall/options.js';
import { columns, safe } from './terminal-safe.js';
import { gatewayArgument } from './webhook.js';

interface ShowOptions extends TargetOptions {
  readonly json?: boolean;
}

function money(view: MoneyView | null): string {
  return view === null ? '-' : `${view.amount} ${view.currency}`;
}

/**
 * What one event did: the status change (`pending -> succeeded`, or `succeeded (unchanged)` when it added facts
 * without moving the status), then each fact it announced (`money_in pi_1 received`), then why nothing moved.
 */
export function changeOf(entry: HistoryView): string {
  const parts: string[] = [];
  const { transition } = entry;
  if (transition !== null) {
    parts.push(
      transition.from === transition.to
        ? `${transition.to} (unchanged)`
        : `${transition.from ?? '(new)'} -> ${transition.to}`,
    );
  }
  // `?? []`: a local stack started from an older payhook sends no facts; it still prints.
  for (const fact of entry.announced ?? []) parts.push(`${fact.type} ${fact.id} ${fact.state}`);
  if (entry.note) parts.push(entry.note);
  return parts.length > 0 ? parts.join('; ') : '-';
}

/** The lists of facts, in the order they are shown, each with its heading. */
const FACT_SECTIONS = [
  ['money in', 'moneyIn'],
  ['refunds', 'refunds'],
  ['disputes', 'disputes'],
  ['attempts', 'attempts'],
] as const satisfies readonly (readonly [string, keyof PaymentView])[];

/** One section per non-empty list of facts: a heading with the count, then id, amount, state and event ids. */
export function formatFacts(view: PaymentView): string[] {
  const lines: string[] = [];
  for (const [heading, key] of FACT_SECTIONS) {
    const facts: readonly FactView[] = view[key] ?? [];
    if (facts.length === 0) continue;
    lines.push(`${heading} (${facts.length}):`);
    const table = columns([
      ['id', 'amount', 'state', 'event ids'],
      ...facts.map((fact) => [fact.id, money(fact.amount), fact.state, fact.eventIds.join(', ') || '-']),
    ]);
    lines.push(...table.map((line) => `  ${line}`));
  }
  return lines;
}

/**
 * The readable form: the payment's fields, then a section per non-empty list of facts (money in, refunds, disputes,
 * attempts), then one line per history entry, oldest first as the route sends them.
 */
export function formatPayment(gateway: GatewayName, view: PaymentView): string {
  const fields: [string, string][] = [
    ['status', view.status],
    ['amount', view.amount === null ? '-' : `${view.amount} ${view.currency ?? ''}`.trimEnd()],
    ['reference', view.reference ?? '-'],
    ['gateway id', view.gatewayPaymentId ?? '-'],
    ['mode', view.mode],
    ['created', view.createdAt],
    ['updated', view.updatedAt],
  ];
  // Shown only when they say something, to keep the common case short.
  if (view.expected !== null) fields.push(['expected', money(view.expected)]);
  if (view.refunded !== null) fields.push(['refunded', money(view.refunded)]);
  // The running total a gateway reported (Stripe `amount_refunded`): the refunded total is at least this.
  if ((view.refundedFloor ?? null) !== null) fields.push(['refunded floor', money(view.refundedFloor)]);
  if (view.pendingSince !== null) fields.push(['pending since', view.pendingSince]);
  // The request id is ingest's (API Gateway's): the key to that webhook's log lines, from ingest to consumer.
  // The change comes last: it is the one cell that can be long, and a wrapped last cell keeps the columns straight.
  const history = columns([
    ['received', 'event type', 'event id', 'request id', 'change'],
    ...view.history.map((entry) => [
      entry.receivedAt,
      entry.eventType,
      entry.eventId,
      entry.requestId,
      changeOf(entry),
    ]),
  ]);
  const count = view.history.length;
  return [
    safe`${ADAPTERS[gateway].displayName} payment ${view.paymentKey}`,
    ...columns(fields).map((line) => `  ${line}`),
    ...formatFacts(view),
    `history (${count} ${count === 1 ? 'event' : 'events'}):`,
    ...history.map((line) => `  ${line}`),
    '',
  ].join('\n');
}

async function show(io: CliIo, gatewayName: string, identifier: string, options: ShowOptions): Promise<void> {
  const gateway = gatewayArgument(gatewayName);
  if (options.stack) {
    const view = await deployedPaymentView(
      deployedStackOf(io, { ...options, stack: options.stack }),
      gateway,
      identifier,
    );
    // The same text the local route sends (`local/http-server.ts`), so scripts read either alike.
    io.stdout(options.json === true ? `${JSON.stringify(view, null, 2)}\n` : formatPayment(gateway, view));
    return;
  }
  const dataDir = dataDirFromEnv(io.env ?? process.env);
  const client = await connectToLocalStack(dataDir);
  const lookup = await client.payment(gateway, identifier);
  if (!lookup.found) {
    // The route's message names what it looked for; a bare fallback in case a stack sends none.
    throw new CliError(`payment not found: ${lookup.message || `no ${gateway} payment "${identifier}"`}`);
  }
  if (options.json === true) {
    // As received: the route's JSON is the contract, and its amounts are exact strings already.
    io.stdout(lookup.text.endsWith('\n') ? lookup.text : `${lookup.text}\n`);
    return;
  }
  io.stdout(formatPayment(gateway, lookup.view));
}

interface TrackOptions {
  readonly amount: string;
  readonly currency: string;
  readonly gatewayPaymentId?: string;
  readonly expiresAt?: string;
}

async function track(io: CliIo, gateway: string, reference: string, options: TrackOptions): Promise<void> {
  const client = await connectToLocalStack(dataDirFromEnv(io.env ?? process.env));
  const answer = await client.postJson('/payments', {
    gateway,
    reference,
    amount: options.amount,
    currency: options.currency,
    ...(options.gatewayPaymentId !== undefined && { gatewayPaymentId: options.gatewayPaymentId }),
    ...(options.expiresAt !== undefined && { expiresAt: options.expiresAt }),
  });
  const body = JSON.parse(answer.body) as Record<string, unknown>;
  if (answer.status >= 400) {
    throw new CliError(
      `not registered: ${String(body.message ?? answer.body)}${body.field ? ` (field ${String(body.field)})` : ''}`,
    );
  }
  const expected = body.expected as { amount: string; currency: string } | null;
  io.stdout(
    `${answer.status === 201 ? 'registered' : 'already known; expectation recorded'}: ` +
      safe`${gateway} ${reference} ` +
      (expected ? safe`${expected.amount} ${expected.currency} ` : '') +
      safe`(status ${String(body.status)})\n`,
  );
}

/** Adds `payments` (and its `show` subcommand) to the program. */
export function registerPayments(program: Command, io: CliIo): void {
  const payments = program
    .command('payments')
    .description(
      'Read payments from the running local stack or a deployed one, and register expected payments',
    )
    .summary('read payments from the local stack or a deployed one');
  const showCommand = payments
    .command('show')
    .summary('show one payment, its facts and its history')
    .description(
      'Show one payment of the running local stack (or of a deployed stack with --stack): status, amount, ' +
        'identifiers, mode and times; then its facts, a section per kind that has any (money in, refunds, ' +
        'disputes, attempts: the gateway id, amount, state and the event ids that told us); then one line per ' +
        'event in its history: time received, event type, event id, request id, and what it changed (the status ' +
        'change and the facts it announced, or why nothing changed).',
    )
    .argument('<gateway>', `one of ${GATEWAYS.join(', ')}`)
    .argument(
      '<identifier>',
      "the merchant's reference or the gateway's payment id (what `payhook send` prints as `payment`)",
    )
    .option(
      '--json',
      'print the payment as one JSON object: exactly what the local route returns (with --stack, the same shape)',
    );
  withStackOptions(
    showCommand,
    'a deployed payhook stack: read its payments table (default: the local stack)',
  ).action((gateway: string, identifier: string, options: ShowOptions) =>
    show(io, gateway, identifier, options),
  );
  payments
    .command('track')
    .summary('register a payment the checkout expects, for the reconciler')
    .description(
      'Register an expected payment with the running local stack (POST /payments), as a checkout would: if its ' +
        'webhook never comes, the reconciler asks the gateway about it. Registering twice changes nothing.',
    )
    .argument('<gateway>', `one of ${GATEWAYS.join(', ')}`)
    .argument('<reference>', "the merchant's reference")
    .requiredOption('--amount <amount>', 'exact decimal in major units, e.g. 2500.00')
    .requiredOption('--currency <code>', 'currency code, e.g. NGN')
    .option(
      '--gateway-payment-id <id>',
      "the gateway's id (required for OXA Pay track_id, Stripe pi_..., Razorpay order_...)",
    )
    .option('--expires-at <time>', 'ISO 8601 time after which the payment can no longer complete')
    .action((gateway: string, reference: string, options: TrackOptions) =>
      track(io, gateway, reference, options),
    );
}
