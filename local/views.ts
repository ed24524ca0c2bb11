import { formatMajor, type Money } from '../lambdas/domain/money.js';
import {
  disputeState,
  type Payment,
  paidTotal,
  refundedTotalMinor,
  refundState,
} from '../lambdas/domain/payment.js';
import type { HistoryEntry } from '../lambdas/ports/payment-store.js';
import type { FactView, HistoryView, MoneyView, PaymentView } from './contract.js';

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
    announced: (entry.announced ?? []).map((fact) => ({ type: fact.type, id: fact.id, state: fact.state })),
    note: entry.note ?? null,
  };
}

function factView(
  fact: { readonly id: string; readonly money?: Money; readonly eventIds: readonly string[] },
  state: string,
): FactView {
  return { id: fact.id, amount: moneyView(fact.money), state, eventIds: [...fact.eventIds] };
}

/** A payment and its history as the local routes (and `payhook payments show --json`) print them. */
export function paymentView(payment: Payment, history: readonly HistoryEntry[]): PaymentView {
  const paid = paidTotal(payment);
  const money = moneyView(paid);
  const refundedMinor = refundedTotalMinor(payment);
  const currency = paid ?? payment.moneyIn.find((fact) => fact.money)?.money;
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
    refunded: refundedMinor > 0n && currency ? moneyView({ ...currency, amountMinor: refundedMinor }) : null,
    refundedFloor: moneyView(payment.refundedFloor),
    moneyIn: payment.moneyIn.map((fact) => factView(fact, 'received')),
    refunds: payment.refunds.map((fact) => factView(fact, refundState(fact))),
    disputes: payment.disputes.map((fact) => factView(fact, disputeState(fact))),
    attempts: payment.attempts.map((fact) => factView(fact, fact.states.join(','))),
    mode: payment.mode,
    createdAt: payment.createdAt,
    updatedAt: payment.updatedAt,
    pendingSince: payment.pendingSince ?? null,
    history: history.map(historyView),
  };
}
