/**
 * `payhook payments show <gateway> <identifier>`: one payment as the running local stack has it, with its history,
 * read from the local-only `GET /local/payments/:gateway/:identifier` route.
 */
import type { Command } from 'commander';
import { GATEWAYS, type GatewayName } from '../lambdas/domain/webhook-event.js';
import { ADAPTERS } from '../lambdas/gateways/registry.js';
import { dataDirFromEnv, type HistoryView, type MoneyView, type PaymentView } from '../local/contract.js';
import { CliError, type CliIo } from './io.js';
import { connectToLocalStack } from './local-client.js';
import { gatewayArgument } from './webhook.js';

interface ShowOptions {
  readonly json?: boolean;
}

function money(view: MoneyView | null): string {
  return view === null ? '-' : `${view.amount} ${view.currency}`;
}

function transitionOrNote(entry: HistoryView): string {
  if (entry.transition !== null) return `${entry.transition.from ?? '(new)'} -> ${entry.transition.to}`;
  return entry.note ?? '-';
}

/** Rows of cells as left-aligned columns two spaces apart (the last column is not padded). */
function columns(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, index) => {
      widths[index] = Math.max(widths[index] ?? 0, cell.length);
    });
  }
  return rows.map((row) =>
    row
      .map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

/** The readable form: the payment's fields, then one line per history entry, oldest first as the route sends them. */
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
  if (view.pendingSince !== null) fields.push(['pending since', view.pendingSince]);
  // The request id is ingest's (API Gateway's): the key to that webhook's log lines, from ingest to consumer.
  const history = columns([
    ['received', 'event type', 'event id', 'change', 'request id'],
    ...view.history.map((entry) => [
      entry.receivedAt,
      entry.eventType,
      entry.eventId,
      transitionOrNote(entry),
      entry.requestId,
    ]),
  ]);
  const count = view.history.length;
  return [
    `${ADAPTERS[gateway].displayName} payment ${view.paymentKey}`,
    ...columns(fields).map((line) => `  ${line}`),
    `history (${count} ${count === 1 ? 'event' : 'events'}):`,
    ...history.map((line) => `  ${line}`),
    '',
  ].join('\n');
}

async function show(io: CliIo, gatewayName: string, identifier: string, options: ShowOptions): Promise<void> {
  const gateway = gatewayArgument(gatewayName);
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
    `${answer.status === 201 ? 'registered' : 'already known; expectation recorded'}: ${gateway} ${reference} ` +
      `${expected ? `${expected.amount} ${expected.currency} ` : ''}(status ${String(body.status)})\n`,
  );
}

/** Adds `payments` (and its `show` subcommand) to the program. */
export function registerPayments(program: Command, io: CliIo): void {
  const payments = program
    .command('payments')
    .description('Read payments from the running local stack')
    .summary('read payments from the running local stack');
  payments
    .command('show')
    .summary('show one payment and its history')
    .description(
      'Show one payment of the running local stack: status, amount, identifiers, mode and times, then one line ' +
        'per event in its history: time received, event type, event id, status change (or why nothing changed) ' +
        'and request id.',
    )
    .argument('<gateway>', `one of ${GATEWAYS.join(', ')}`)
    .argument(
      '<identifier>',
      "the merchant's reference or the gateway's payment id (what `payhook send` prints as `payment`)",
    )
    .option('--json', 'print the payment exactly as the local route returns it (one JSON object)')
    .action((gateway: string, identifier: string, options: ShowOptions) =>
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
