import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../lambdas/common/aws-clients.js';
import { formatMajor, moneyFromMajor } from '../../lambdas/domain/money.js';
import { awaitingConfirmation, decide } from '../../lambdas/domain/payment.js';
import { applyRegistration, parseRegistration } from '../../lambdas/domain/registration.js';
import type { WebhookEvent } from '../../lambdas/domain/webhook-event.js';
import {
  DEFAULT_RECONCILE_SETTINGS,
  type ReconcileDependencies,
  type ReconcileSettings,
  reconcile,
} from '../../lambdas/reconciliation/reconcile.js';
import { VERIFIERS } from '../../lambdas/reconciliation/verifiers/index.js';
import { DynamoPaymentStore } from '../../lambdas/store/dynamodb-payment-store.js';
import { type GatewaySandbox, startGatewaySandbox } from '../../local/gateway-sandbox.js';
import { recordingLog } from '../support/api-gateway.js';
import { type DynamoEmulator, startDynamoEmulator } from '../support/dynamodb-emulator.js';
import { RecordingQueue } from '../support/fakes.js';

// Claims awaiting confirmation (Flutterwave verif-hash bodies) are confirmed out of line: the reconciler works them off
// first in each run, without a grace period, a capped number per gateway, and stops asking a gateway that pushes back.
let dynamo: DynamoEmulator;
let sandbox: GatewaySandbox;
let store: DynamoPaymentStore;
let table = 0;
const now = new Date('2030-01-01T10:00:00Z');
const claimedAt = new Date(now.getTime() - 1000);

beforeAll(async () => {
  dynamo = await startDynamoEmulator();
  sandbox = await startGatewaySandbox();
});

beforeEach(async () => {
  table += 1;
  const tables = await dynamo.createTables(`confirmations-${table}`);
  store = new DynamoPaymentStore(createDocumentClient(dynamo.client), {
    tableName: tables.payments,
    historyRetentionDays: 30,
  });
  sandbox.reset();
});

afterAll(async () => {
  await sandbox?.stop();
  await dynamo?.stop();
});

function claimEvent(reference: string, amount: string, transactionId: string): WebhookEvent {
  return {
    gateway: 'flutterwave',
    eventId: `payhook:claim:sha256:${reference}`,
    eventType: 'charge.completed',
    kind: 'payment.authorized',
    needsConfirmation: true,
    reference,
    gatewayPaymentId: transactionId,
    money: moneyFromMajor(amount, 'NGN'),
    mode: 'unknown',
    receivedAt: claimedAt.toISOString(),
    priority: 'high',
    requestId: `request-${reference}`,
    payload: '{}',
  };
}

/** A claim as the consumer records it: folded into the payment (registered or not) and saved. */
async function claim(
  reference: string,
  amount = '100.00',
  transactionId = `9${reference.length}`,
): Promise<void> {
  const current = await store.get('flutterwave', reference);
  const next = decide(current, claimEvent(reference, amount, transactionId), claimedAt).next;
  if (!next) throw new Error(`the claim on ${reference} changed nothing`);
  await store.save(next);
}

async function register(reference: string, amount: string): Promise<void> {
  const registration = parseRegistration({ gateway: 'flutterwave', reference, amount, currency: 'NGN' });
  const { next } = applyRegistration(undefined, registration, new Date(now.getTime() - 3_600_000));
  if (!next) throw new Error('no registration');
  await store.save(next);
}

function deps(queue: RecordingQueue, settings: Partial<ReconcileSettings> = {}): ReconcileDependencies {
  return {
    store,
    verifiers: VERIFIERS,
    credentials: async () => ({ apiKey: 'FLWSECK_TEST-x' }),
    baseUrls: { flutterwave: sandbox.url('flutterwave') },
    queue,
    settings: { ...DEFAULT_RECONCILE_SETTINGS, ...settings },
    now: () => now,
    log: recordingLog(),
  };
}

const asked = () =>
  sandbox
    .requests('flutterwave')
    .map((request) => new URL(request.path, 'http://x').searchParams.get('tx_ref'));

describe('Confirmation of unverified claims, out of line', () => {
  it('keeps a claim in a partition of its own: asked about as a confirmation, never as a pending payment', async () => {
    await claim('ORDER-C-1');
    await register('ORDER-P-1', '50.00');
    const later = new Date(now.getTime() + 86_400_000).toISOString();
    const due = await store.confirmationsDue('flutterwave', now.toISOString(), 10);
    const pending = await store.pendingPayments('flutterwave', later, 10);
    expect(due.map((payment) => payment.paymentKey)).toEqual(['ORDER-C-1']);
    expect(pending.map((payment) => payment.paymentKey)).toEqual(['ORDER-P-1']);
  });

  it('asks about a claim in the first run, with no grace period, and applies what the gateway says, not the claim', async () => {
    await claim('ORDER-C-2', '1.00', '4975002');
    sandbox.setPayment('flutterwave', {
      status: 'successful',
      amount: '2500.00',
      currency: 'NGN',
      reference: 'ORDER-C-2',
      id: '4975002',
    });
    const queue = new RecordingQueue();
    const report = await reconcile(deps(queue, { graceSeconds: 600 }), 'run-1', 'confirmations');
    expect(report).toMatchObject({
      scope: 'confirmations',
      confirmationsByGateway: { flutterwave: 1 },
      checked: 0,
    });
    expect(report.errors).toEqual({ flutterwave: { claim_differs: 1 } });
    expect(
      queue.events.map((event) => [event.kind, event.money && formatMajor(event.money), event.settlesClaims]),
    ).toEqual([['payment.succeeded', '2500.00', ['payhook:claim:sha256:ORDER-C-2']]]);
  });

  it('does not ask about pending payments in a confirmations-only run, and does in a full one', async () => {
    await register('ORDER-P-2', '50.00');
    sandbox.setPayment('flutterwave', {
      status: 'successful',
      amount: '50.00',
      currency: 'NGN',
      reference: 'ORDER-P-2',
    });
    const queue = new RecordingQueue();
    const confirmations = await reconcile(deps(queue, { graceSeconds: 60 }), 'run-1', 'confirmations');
    expect([confirmations.checked, sandbox.requests('flutterwave').length, queue.events.length]).toEqual([
      0, 0, 0,
    ]);
    const full = await reconcile(deps(queue, { graceSeconds: 60 }), 'run-2');
    expect(full.checkedByGateway).toEqual({ flutterwave: 1 });
    expect(queue.events.map((event) => event.kind)).toEqual(['payment.succeeded']);
  });

  it('asks at most confirmationsPerRun claims per gateway per run, the ones never asked first', async () => {
    const references = ['ORDER-R-1', 'ORDER-R-2', 'ORDER-R-3', 'ORDER-R-4', 'ORDER-R-5'];
    for (const reference of references) await claim(reference);
    const queue = new RecordingQueue();
    const perRun: (string | null)[][] = [];
    for (let run = 1; run <= 3; run += 1) {
      const before = asked().length;
      const report = await reconcile(deps(queue, { confirmationsPerRun: 2 }), `run-${run}`, 'confirmations');
      expect(report.confirmationsByGateway).toEqual({ flutterwave: 2 });
      perRun.push(asked().slice(before));
    }
    // The gateway knows none of them: each stays awaiting confirmation until its expiry.
    expect(queue.events).toEqual([]);
    // Two per run; every claim asked before any is asked twice.
    expect(perRun.map((references) => references.length)).toEqual([2, 2, 2]);
    expect(new Set(perRun.flat().slice(0, 5))).toEqual(new Set(references));
  });

  it('stops asking a gateway that answers 429 for the rest of the run, and asks the same claim first next run', async () => {
    for (const reference of ['ORDER-L-1', 'ORDER-L-2', 'ORDER-L-3']) await claim(reference);
    sandbox.behave('flutterwave', 'rate-limit', 1);
    const queue = new RecordingQueue();
    const settings = { concurrencyPerGateway: 1, verify: { timeoutMs: 1000, attempts: 1, backoffMs: 0 } };
    const first = await reconcile(deps(queue, settings), 'run-1', 'confirmations');
    expect(first.errors).toEqual({ flutterwave: { unavailable: 1 } });
    const [pushedBack, ...others] = asked();
    expect(others).toEqual([]);
    await reconcile(deps(queue, settings), 'run-2', 'confirmations');
    const second = asked().slice(1);
    // The one the gateway could not answer is asked first again, then the two this run had left.
    expect(second[0]).toBe(pushedBack);
    expect(new Set(second)).toEqual(new Set(['ORDER-L-1', 'ORDER-L-2', 'ORDER-L-3']));
    expect(second).toHaveLength(3);
    const payment = await store.get('flutterwave', pushedBack ?? '');
    expect(payment && awaitingConfirmation(payment)).toBe(true);
  });
});
