import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../../cli/program.js';
import type { PaymentView } from '../../../local/contract.js';
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
      note: 'already succeeded',
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

  it('prints a readable summary and one aligned line per history entry', async () => {
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
        'history (3 events):',
        '  received                  event type        event id                      change                           request id',
        '  2026-11-20T10:15:20.000Z  charge.success    charge.success:302961         (new) -> succeeded               req-aaa',
        '  2026-11-20T10:16:00.000Z  charge.success    charge.success:302961:replay  already succeeded                req-bbb',
        '  2026-11-21T08:00:03.000Z  refund.processed  refund.processed:RFD-1001-1   succeeded -> partially_refunded  req-ccc',
        '',
      ].join('\n'),
    );
    expect(io.err()).toBe('');
  });

  it('--json prints the route JSON as received: one object with exact amount strings', async () => {
    expect(await show('paystack', '302961', '--json')).toBe(0);
    expect(io.out()).toBe(`${JSON.stringify(PAYMENT)}\n`);
    const printed = JSON.parse(io.out()) as PaymentView;
    expect(printed.amount).toBe('2500.00');
    expect(printed.history.map((entry) => [entry.eventId, entry.eventType, entry.requestId])).toEqual([
      ['charge.success:302961', 'charge.success', 'req-aaa'],
      ['charge.success:302961:replay', 'charge.success', 'req-bbb'],
      ['refund.processed:RFD-1001-1', 'refund.processed', 'req-ccc'],
    ]);
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
