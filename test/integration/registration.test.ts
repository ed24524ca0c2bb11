import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../lambdas/common/aws-clients.js';
import { moneyFromMinor } from '../../lambdas/domain/money.js';
import type { PaymentEvent } from '../../lambdas/domain/payment-event.js';
import type { PaymentEventPublisher } from '../../lambdas/ports/payment-event-publisher.js';
import { handleRegistration } from '../../lambdas/processing/registration-http.js';
import { DynamoPaymentStore } from '../../lambdas/store/dynamodb-payment-store.js';
import { type DynamoEmulator, startDynamoEmulator } from '../support/dynamodb-emulator.js';

let dynamo: DynamoEmulator;
let store: DynamoPaymentStore;
const published: PaymentEvent[] = [];
const publisher: PaymentEventPublisher = {
  async publish(event) {
    published.push(event);
  },
};
const NOW = new Date('2026-11-30T10:00:00Z');

beforeAll(async () => {
  dynamo = await startDynamoEmulator();
  const tables = await dynamo.createTables('registration-test');
  store = new DynamoPaymentStore(createDocumentClient(dynamo.client), {
    tableName: tables.payments,
    historyRetentionDays: 30,
  });
});

afterAll(async () => {
  await dynamo?.stop();
});

const register = (body: Record<string, unknown>) =>
  handleRegistration(JSON.stringify(body), store, publisher, NOW);

describe('POST /payments: registration never overwrites (dynalite)', () => {
  it('answers 409 naming the amount when registered again with another amount, and keeps the original', async () => {
    const first = { gateway: 'paystack', reference: 'ORDER-409', amount: '2500.00', currency: 'NGN' };
    expect((await register(first)).status).toBe(201);
    expect((await register(first)).status).toBe(200);
    const again = await register({ ...first, amount: '1.00' });
    expect(again).toMatchObject({ status: 409, body: { error: 'registration_conflict', field: 'amount' } });
    expect((await register({ ...first, currency: 'GHS' })).body).toMatchObject({ field: 'currency' });
    expect((await store.get('paystack', 'ORDER-409'))?.expected).toEqual(moneyFromMinor('250000', 'NGN'));
  });

  it('never lets one registration change another payment, whatever identifiers it gives', async () => {
    await register({
      gateway: 'stripe',
      reference: 'REF-A',
      gatewayPaymentId: 'pi_A',
      amount: '10.00',
      currency: 'USD',
    });
    await register({ gateway: 'paystack', reference: 'ORDER-A', amount: '25.00', currency: 'NGN' });
    const before = [await store.get('stripe', 'pi_A'), await store.get('paystack', 'ORDER-A')];
    // B names A's PaymentIntent under its own reference: refused, A untouched.
    const stripeB = await register({
      gateway: 'stripe',
      reference: 'REF-B',
      gatewayPaymentId: 'pi_A',
      amount: '1.00',
      currency: 'USD',
    });
    expect(stripeB).toMatchObject({ status: 409, body: { field: 'reference' } });
    // B's gateway id equals A's reference: B is its own payment, A untouched.
    const paystackB = await register({
      gateway: 'paystack',
      reference: 'ORDER-B',
      gatewayPaymentId: 'ORDER-A',
      amount: '1.00',
      currency: 'NGN',
    });
    expect(paystackB.status).toBe(201);
    expect([await store.get('stripe', 'pi_A'), await store.get('paystack', 'ORDER-A')]).toEqual(before);
    expect(published).toEqual([]);
  });
});
