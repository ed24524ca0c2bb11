import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readPaymentView } from '../../../cli/deployed-payments.js';
import { changeOf, formatFacts, formatPayment } from '../../../cli/payments.js';
import { runCli } from '../../../cli/program.js';
import { createDocumentClient } from '../../../lambdas/common/aws-clients.js';
import { moneyFromMinor } from '../../../lambdas/domain/money.js';
import type { PaymentEvent } from '../../../lambdas/domain/payment-event.js';
import { defaultPriority, type EventKind, type WebhookEvent } from '../../../lambdas/domain/webhook-event.js';
import { DynamoEventRecords } from '../../../lambdas/store/dynamodb-event-records.js';
import { DynamoPaymentStore } from '../../../lambdas/store/dynamodb-payment-store.js';
import { DynamoUnmatchedEventStore } from '../../../lambdas/store/dynamodb-unmatched-events.js';
import type { FactView, HistoryView, PaymentView } from '../../../local/contract.js';
import { paymentView } from '../../../local/views.js';
import { type DynamoEmulator, startDynamoEmulator } from '../../support/dynamodb-emulator.js';
import { idempotentApply } from '../../support/event-records.js';
import { capturingIo, emptyDataDir, type FakeStack, startFakeStack } from './fake-stack.js';

const NGN = (amount: string, amountMinor: string) => ({ amount, currency: 'NGN', amountMinor, exponent: 2 });

const PAYMENT: PaymentView = {
  gateway: 'paystack',
  paymentKey: 'ORDER-1001',
  reference: 'ORDER-1001',
  gatewayPaymentId: '302961',
  status: 'partially_refunded',
  amount: '2500.00',
  currency: 'NGN',
  money: NGN('2500.00', '250000'),
  expected: null,
  refunded: NGN('1000.00', '100000'),
  refundedFloor: null,
  moneyIn: [
    {
      id: '302961',
      amount: NGN('2500.00', '250000'),
      state: 'received',
      eventIds: ['charge.success:302961', 'charge.success:302961:replay'],
    },
  ],
  refunds: [
    {
      id: 'RFD-1001-1',
      amount: NGN('1000.00', '100000'),
      state: 'succeeded',
      eventIds: ['refund.processed:RFD-1001-1'],
    },
  ],
  disputes: [],
  attempts: [],
  mode: 'test',
  createdAt: '2026-11-20T10:15:20.000Z',
  updatedAt: '2026-11-21T08:00:03.000Z',
  pendingSince: null,
  history: [
    {
      eventId: 'charge.success:302961',
      eventType: 'charge.success',
      kind: 'payment.succeeded',
      receivedAt: '2026-11-20T10:15:20.000Z',
      occurredAt: '2026-11-20T10:15:19.000Z',
      requestId: 'req-aaa',
      money: NGN('2500.00', '250000'),
      transition: { from: null, to: 'succeeded' },
      announced: [{ type: 'money_in', id: '302961', state: 'received' }],
      note: null,
    },
    {
      eventId: 'charge.success:302961:replay',
      eventType: 'charge.success',
      kind: 'payment.succeeded',
      receivedAt: '2026-11-20T10:16:00.000Z',
      occurredAt: null,
      requestId: 'req-bbb',
      money: NGN('2500.00', '250000'),
      transition: null,
      announced: [],
      note: 'nothing new: every fact in it is already recorded',
    },
    {
      eventId: 'refund.processed:RFD-1001-1',
      eventType: 'refund.processed',
      kind: 'refund.succeeded',
      receivedAt: '2026-11-21T08:00:03.000Z',
      occurredAt: null,
      requestId: 'req-ccc',
      money: NGN('1000.00', '100000'),
      transition: { from: 'succeeded', to: 'partially_refunded' },
      announced: [{ type: 'refund', id: 'RFD-1001-1', state: 'succeeded' }],
      note: null,
    },
  ],
};

describe('payhook payments show', () => {
  let stack: FakeStack;
  let io: ReturnType<typeof capturingIo>;
  const show = (...args: string[]) => runCli(['node', 'payhook', 'payments', 'show', ...args], io);

  beforeEach(async () => {
    stack = await startFakeStack();
    stack.payments.set('paystack/ORDER-1001', PAYMENT);
    stack.payments.set('paystack/302961', PAYMENT);
    io = capturingIo(stack.dataDir);
  });
  afterEach(() => stack.close());

  it('prints a readable summary, a section per list of facts, and one aligned line per history entry', async () => {
    expect(await show('paystack', 'ORDER-1001')).toBe(0);
    expect(io.out()).toBe(
      [
        'Paystack payment ORDER-1001',
        '  status      partially_refunded',
        '  amount      2500.00 NGN',
        '  reference   ORDER-1001',
        '  gateway id  302961',
        '  mode        test',
        '  created     2026-11-20T10:15:20.000Z',
        '  updated     2026-11-21T08:00:03.000Z',
        '  refunded    1000.00 NGN',
        'money in (1):',
        '  id      amount       state     event ids',
        '  302961  2500.00 NGN  received  charge.success:302961, charge.success:302961:replay',
        'refunds (1):',
        '  id          amount       state      event ids',
        '  RFD-1001-1  1000.00 NGN  succeeded  refund.processed:RFD-1001-1',
        'history (3 events):',
        '  received                  event type        event id                      request id  change',
        '  2026-11-20T10:15:20.000Z  charge.success    charge.success:302961         req-aaa     (new) -> succeeded; money_in 302961 received',
        '  2026-11-20T10:16:00.000Z  charge.success    charge.success:302961:replay  req-bbb     nothing new: every fact in it is already recorded',
        '  2026-11-21T08:00:03.000Z  refund.processed  refund.processed:RFD-1001-1   req-ccc     succeeded -> partially_refunded; refund RFD-1001-1 succeeded',
        '',
      ].join('\n'),
    );
    expect(io.err()).toBe('');
  });

  it('--json prints the route JSON as received: one object with exact amount strings and the facts', async () => {
    expect(await show('paystack', '302961', '--json')).toBe(0);
    expect(io.out()).toBe(`${JSON.stringify(PAYMENT)}\n`);
    const printed = JSON.parse(io.out()) as PaymentView;
    expect([printed.status, printed.amount, printed.currency, printed.refunded?.amount]).toEqual([
      'partially_refunded',
      '2500.00',
      'NGN',
      '1000.00',
    ]);
    expect(printed.moneyIn).toEqual([
      {
        id: '302961',
        amount: NGN('2500.00', '250000'),
        state: 'received',
        eventIds: ['charge.success:302961', 'charge.success:302961:replay'],
      },
    ]);
    expect(printed.refunds.map((fact) => [fact.id, fact.amount?.amount, fact.state, fact.eventIds])).toEqual([
      ['RFD-1001-1', '1000.00', 'succeeded', ['refund.processed:RFD-1001-1']],
    ]);
    expect(printed.disputes).toEqual([]);
    expect(printed.history.map((entry) => [entry.eventId, entry.eventType, entry.requestId])).toEqual([
      ['charge.success:302961', 'charge.success', 'req-aaa'],
      ['charge.success:302961:replay', 'charge.success', 'req-bbb'],
      ['refund.processed:RFD-1001-1', 'refund.processed', 'req-ccc'],
    ]);
    expect(printed.history[0]?.announced).toEqual([{ type: 'money_in', id: '302961', state: 'received' }]);
  });

  it('sends the identifier URL-encoded, so any reference reaches the route intact', async () => {
    stack.payments.set('standard/ORDER 7/2?x', {
      ...PAYMENT,
      gateway: 'standard',
      paymentKey: 'ORDER 7/2?x',
    });
    expect(await show('standard', 'ORDER 7/2?x')).toBe(0);
    expect(io.out()).toContain('Standard Webhooks payment ORDER 7/2?x\n');
  });

  it('exits 1 and says so when the payment is not found', async () => {
    expect(await show('paystack', 'ORDER-404')).toBe(1);
    expect(io.err()).toBe('error: payment not found: no payment paystack/ORDER-404\n');
    expect(io.out()).toBe('');
  });

  it('lists the gateways when the gateway is unknown', async () => {
    expect(await show('paypal', 'ORDER-1001')).toBe(1);
    expect(io.err()).toBe(
      'error: unknown gateway "paypal": expected one of paystack, flutterwave, razorpay, oxapay, stripe, standard, adyen\n',
    );
  });

  it('says how to start the stack when none is running', async () => {
    const { dataDir, remove } = emptyDataDir();
    try {
      const elsewhere = capturingIo(dataDir);
      expect(await runCli(['node', 'payhook', 'payments', 'show', 'paystack', 'ORDER-1001'], elsewhere)).toBe(
        1,
      );
      expect(elsewhere.err()).toBe(
        `error: no local payhook stack is running for data dir ${dataDir}: start it with \`npm start\`\n`,
      );
    } finally {
      remove();
    }
  });
});

const USD = (amount: string, amountMinor: string) => ({ amount, currency: 'USD', amountMinor, exponent: 2 });

const entry = (overrides: Partial<HistoryView>): HistoryView => ({
  eventId: 'evt_1',
  eventType: 'charge.refunded',
  kind: 'refund.succeeded',
  receivedAt: '2026-11-21T08:00:03.000Z',
  occurredAt: null,
  requestId: 'req-1',
  money: null,
  transition: null,
  announced: [],
  note: null,
  ...overrides,
});

describe('payments show: the facts and what each event changed, as text', () => {
  it('shows the status change, then every fact the event announced, in the order announced', () => {
    expect(
      changeOf(
        entry({
          transition: { from: 'pending', to: 'succeeded' },
          announced: [{ type: 'money_in', id: 'pi_1', state: 'received' }],
        }),
      ),
    ).toBe('pending -> succeeded; money_in pi_1 received');
    expect(
      changeOf(
        entry({
          transition: { from: 'succeeded', to: 'refunded' },
          announced: [
            { type: 'refund', id: 're_1', state: 'succeeded' },
            { type: 'refund_total', id: 'ch_1', state: 'succeeded' },
          ],
        }),
      ),
    ).toBe('succeeded -> refunded; refund re_1 succeeded; refund_total ch_1 succeeded');
    expect(changeOf(entry({ transition: { from: null, to: 'pending' } }))).toBe('(new) -> pending');
  });

  it('says the status stayed when an event added facts without moving it', () => {
    expect(
      changeOf(
        entry({
          transition: { from: 'partially_refunded', to: 'partially_refunded' },
          announced: [{ type: 'refund', id: 're_2', state: 'pending' }],
        }),
      ),
    ).toBe('partially_refunded (unchanged); refund re_2 pending');
  });

  it('shows why nothing changed, and a dash when the route says nothing at all', () => {
    expect(changeOf(entry({ note: 'nothing new: every fact in it is already recorded' }))).toBe(
      'nothing new: every fact in it is already recorded',
    );
    expect(changeOf(entry({}))).toBe('-');
  });

  it('prints a section per non-empty list, each aligned on its own, with a dash for what is unknown', () => {
    const fact = (overrides: Partial<FactView>): FactView => ({
      id: 'x',
      amount: null,
      state: 'received',
      eventIds: [],
      ...overrides,
    });
    const view: PaymentView = {
      ...PAYMENT,
      moneyIn: [fact({ id: 'ch_1', amount: USD('49.99', '4999'), eventIds: ['evt_paid'] })],
      refunds: [
        fact({
          id: 're_1',
          amount: USD('10.00', '1000'),
          state: 'reversed',
          eventIds: ['evt_r1', 'evt_r1_failed'],
        }),
        fact({ id: 're_22', amount: null, state: 'pending', eventIds: [] }),
      ],
      disputes: [fact({ id: 'dp_1', amount: USD('49.99', '4999'), state: 'opened', eventIds: ['evt_dp'] })],
      attempts: [
        fact({ id: 'pi_1', amount: USD('49.99', '4999'), state: 'authorized,failed', eventIds: ['evt_a'] }),
      ],
    };
    expect(formatFacts(view)).toEqual([
      'money in (1):',
      '  id    amount     state     event ids',
      '  ch_1  49.99 USD  received  evt_paid',
      'refunds (2):',
      '  id     amount     state     event ids',
      '  re_1   10.00 USD  reversed  evt_r1, evt_r1_failed',
      '  re_22  -          pending   -',
      'disputes (1):',
      '  id    amount     state   event ids',
      '  dp_1  49.99 USD  opened  evt_dp',
      'attempts (1):',
      '  id    amount     state              event ids',
      '  pi_1  49.99 USD  authorized,failed  evt_a',
    ]);
    expect(formatFacts({ ...PAYMENT, moneyIn: [], refunds: [] })).toEqual([]);
  });

  it('shows the running refunded total a gateway reported, when there is one', () => {
    const text = formatPayment('stripe', { ...PAYMENT, refundedFloor: NGN('1000.00', '100000') });
    expect(text).toContain('\n  refunded floor  1000.00 NGN\n');
    expect(formatPayment('stripe', PAYMENT)).not.toContain('refunded floor');
  });

  it('still prints a payment from a local stack that sends no facts (an older payhook)', () => {
    const { moneyIn: _m, refunds: _r, disputes: _d, attempts: _a, refundedFloor: _f, ...older } = PAYMENT;
    const history = PAYMENT.history.map(({ announced: _announced, ...rest }) => rest);
    const text = formatPayment('paystack', { ...older, history } as unknown as PaymentView);
    expect(text).not.toContain('money in');
    expect(text).toContain('succeeded -> partially_refunded\n');
  });
});

// What `payments show --stack` reads: the real store on a DynamoDB emulator, written by the real consumer step, and
// rendered by the local route's own view.
describe('payments show --stack: the payment read from a payments table (dynalite)', () => {
  let dynamo: DynamoEmulator;
  let store: DynamoPaymentStore;
  const published: PaymentEvent[] = [];

  const event = (kind: EventKind, eventId: string, extra: Partial<WebhookEvent>): WebhookEvent => ({
    gateway: 'stripe',
    eventId,
    eventType: kind,
    kind,
    gatewayPaymentId: 'pi_cli_1',
    reference: 'ORDER-CLI-1',
    mode: 'test',
    receivedAt: new Date().toISOString(),
    priority: defaultPriority(kind),
    requestId: `req-${eventId}`,
    payload: '{}',
    ...extra,
  });

  beforeAll(async () => {
    dynamo = await startDynamoEmulator();
    const tables = await dynamo.createTables('cli-payments');
    store = new DynamoPaymentStore(createDocumentClient(dynamo.client), {
      tableName: tables.payments,
      historyRetentionDays: 30,
    });
    const deps = {
      store,
      unmatched: new DynamoUnmatchedEventStore(createDocumentClient(dynamo.client), {
        tableName: tables.payments,
        historyRetentionDays: 30,
      }),
      publisher: { publish: async (paymentEvent: PaymentEvent) => void published.push(paymentEvent) },
      now: () => new Date(),
      keepPayload: false,
    };
    const usd = (minor: string) => moneyFromMinor(minor, 'USD');
    // As the consumers apply them: each event's history is written with its record's completion.
    const apply = idempotentApply(
      new DynamoEventRecords(createDocumentClient(dynamo.client), {
        tableName: tables.payments,
        historyRetentionDays: 30,
      }),
      deps,
    );
    await apply(event('payment.succeeded', 'evt_paid', { factId: 'ch_1', money: usd('4999') }));
    await apply(event('refund.succeeded', 'evt_refund', { factId: 're_1', money: usd('1000') }));
    await apply(event('dispute.opened', 'evt_dispute', { factId: 'dp_1', money: usd('3999') }));
  });

  afterAll(async () => {
    await dynamo?.stop();
  });

  it('finds the payment by either identifier, with its facts and history, as the local route renders it', async () => {
    const byId = await readPaymentView(store, 'stripe', 'pi_cli_1');
    const byReference = await readPaymentView(store, 'stripe', 'ORDER-CLI-1');
    expect(byReference).toEqual(byId);
    const payment = await store.find('stripe', 'ORDER-CLI-1');
    if (!payment) throw new Error('payment not stored');
    expect(byId).toEqual(paymentView(payment, await store.history('stripe', payment.paymentKey)));
    expect(byId).toMatchObject({
      status: 'disputed',
      amount: '49.99',
      currency: 'USD',
      refunded: { amount: '10.00', currency: 'USD' },
      moneyIn: [{ id: 'ch_1', amount: { amount: '49.99' }, state: 'received', eventIds: ['evt_paid'] }],
      refunds: [{ id: 're_1', amount: { amount: '10.00' }, state: 'succeeded', eventIds: ['evt_refund'] }],
      disputes: [{ id: 'dp_1', amount: { amount: '39.99' }, state: 'opened', eventIds: ['evt_dispute'] }],
      attempts: [],
    });
    expect(byId?.history.map((item) => [item.eventId, changeOf(item)])).toEqual([
      ['evt_paid', '(new) -> succeeded; money_in ch_1 received'],
      ['evt_refund', 'succeeded -> partially_refunded; refund re_1 succeeded'],
      ['evt_dispute', 'partially_refunded -> disputed; dispute dp_1 opened'],
    ]);
  });

  it('answers nothing for a payment the table does not hold', async () => {
    expect(await readPaymentView(store, 'stripe', 'pi_nowhere')).toBeUndefined();
    expect(await readPaymentView(store, 'razorpay', 'pi_cli_1')).toBeUndefined();
  });
});
