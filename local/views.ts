import { formatMajor, type Money } from '../lambdas/domain/money.js';
import type { Payment } from '../lambdas/domain/payment.js';
import type { HistoryEntry } from '../lambdas/processing/ports.js';
import type { HistoryView, MoneyView, PaymentView } from './contract.js';

export function moneyView(money: Money | undefined): MoneyView | null {
  if (!money) return null;
  return {
    amount: formatMajor(money),
    currency: money.currency,
    amountMinor: money.amountMinor.toString(),
    exponent: money.exponent,
  };
}

function historyView(entry: HistoryEntry): HistoryView {
  return {
    eventId: entry.eventId,
    eventType: entry.eventType,
    kind: entry.kind,
    receivedAt: entry.receivedAt,
    occurredAt: entry.occurredAt ?? null,
    requestId: entry.requestId,
    money: moneyView(entry.money),
    transition: entry.transition ? { from: entry.transition.from, to: entry.transition.to } : null,
    note: entry.note ?? null,
  };
}

/** A payment and its history as the local routes (and `payhook payments show --json`) print them. */
export function paymentView(payment: Payment, history: readonly HistoryEntry[]): PaymentView {
  const money = moneyView(payment.paid ?? payment.amount);
  const refundCurrency = payment.paid ?? payment.amount;
  return {
    gateway: payment.gateway,
    paymentKey: payment.paymentKey,
    reference: payment.reference ?? null,
    gatewayPaymentId: payment.gatewayPaymentId ?? null,
    status: payment.status,
    amount: money?.amount ?? null,
    currency: money?.currency ?? null,
    money,
    expected: moneyView(payment.expected),
    refunded:
      payment.refundedMinor > 0n && refundCurrency
        ? moneyView({ ...refundCurrency, amountMinor: payment.refundedMinor })
        : null,
    mode: payment.mode,
    createdAt: payment.createdAt,
    updatedAt: payment.updatedAt,
    pendingSince: payment.pendingSince ?? null,
    history: history.map(historyView),
  };
}
