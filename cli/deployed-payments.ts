/**
 * `payhook payments show --stack NAME`: one payment read straight from a deployed stack's payments table (named by
 * the stack's `PaymentsTableName` output), through the same store the consumers write with, and rendered by the same
 * view the local route uses, so the JSON and the text are those of the local stack.
 */
import { DEFAULT_HISTORY_RETENTION_DAYS } from '../lambdas/definitions.js';
import type { GatewayName } from '../lambdas/domain/webhook-event.js';
import type { PaymentStore } from '../lambdas/ports/payment-store.js';
import { DynamoPaymentStore } from '../lambdas/store/dynamodb-payment-store.js';
import type { PaymentView } from '../local/contract.js';
import { paymentView } from '../local/views.js';
import { CliError } from './io.js';
import { type DeployedStackOptions, deployedTable, TABLE_OUTPUTS } from './oncall/target.js';

/** The CloudFormation output that names the payments table (see `lib/payhook-stack.ts`). */
export const PAYMENTS_TABLE_OUTPUT = TABLE_OUTPUTS.payments;

/**
 * The payment found by either identifier, with its history, as the local route answers it; `undefined` when there
 * is none. Reads only: GetItem on the table, Query on its history and on the reference and gateway-id indexes.
 */
export async function readPaymentView(
  store: Pick<PaymentStore, 'find' | 'history'>,
  gateway: GatewayName,
  identifier: string,
): Promise<PaymentView | undefined> {
  const payment = await store.find(gateway, identifier);
  if (!payment) return undefined;
  return paymentView(payment, await store.history(gateway, payment.paymentKey));
}

/** The payment as a deployed stack has it; a {@link CliError} when it is not there or the table cannot be read. */
export async function deployedPaymentView(
  options: DeployedStackOptions,
  gateway: GatewayName,
  identifier: string,
): Promise<PaymentView> {
  const { tableName, documents, close } = await deployedTable(options, 'payments');
  const store = new DynamoPaymentStore(documents, {
    tableName,
    historyRetentionDays: DEFAULT_HISTORY_RETENTION_DAYS, // used by writes only; this reads
  });
  let view: PaymentView | undefined;
  try {
    view = await readPaymentView(store, gateway, identifier);
  } catch (error) {
    // Access denied, a missing table or index, no credentials: the SDK's message names which.
    throw new CliError(
      `cannot read payments table ${tableName} of stack ${options.stack}: ${(error as Error).message}`,
    );
  } finally {
    close();
  }
  if (!view) {
    throw new CliError(
      `payment not found: no ${gateway} payment with reference or id "${identifier}" in stack ${options.stack}`,
    );
  }
  return view;
}
