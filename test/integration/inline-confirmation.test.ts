import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../lambdas/common/aws-clients.js';
import { moneyFromMajor } from '../../lambdas/domain/money.js';
import { awaitingConfirmation, decide } from '../../lambdas/domain/payment.js';
import {
  confirmPayment,
  DEFAULT_RECONCILE_SETTINGS,
  type ReconcileDependencies,
} from '../../lambdas/reconciliation/reconcile.js';
import { VERIFIERS } from '../../lambdas/reconciliation/verifiers/index.js';
import { DynamoPaymentStore } from '../../lambdas/store/dynamodb-payment-store.js';
import { recordingLog } from '../support/api-gateway.js';
import { type DynamoEmulator, startDynamoEmulator } from '../support/dynamodb-emulator.js';
import { RecordingQueue } from '../support/fakes.js';

// A Flutterwave verify API that is rate limiting and asks for 30 s: what the consumer's inline check must not wait for.
let server: Server;
let baseUrl: string;
let requests = 0;
let dynamo: DynamoEmulator;
let store: DynamoPaymentStore;

beforeAll(async () => {
  server = createServer((request, response) => {
    requests += 1;
    request.resume();
    response.writeHead(429, { 'retry-after': '30', 'content-type': 'application/json' });
    response.end('{"message":"Too many requests"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dynamo = await startDynamoEmulator();
  const tables = await dynamo.createTables('inline-confirmation');
  store = new DynamoPaymentStore(createDocumentClient(dynamo.client), {
    tableName: tables.payments,
    historyRetentionDays: 30,
  });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await dynamo?.stop();
});

describe('Inline confirmation of an unverified claim (consumer)', () => {
  it('asks once and gives up at once on a 429 asking for 30 s, leaving the claim to the reconciler', async () => {
    const now = new Date('2030-01-01T10:00:00Z');
    const claim = decide(
      undefined,
      {
        gateway: 'flutterwave',
        eventId: 'payhook:claim:charge.completed:1:successful',
        eventType: 'charge.completed',
        kind: 'payment.authorized',
        needsConfirmation: true,
        reference: 'ORDER-CLAIM-1',
        money: moneyFromMajor('100.00', 'NGN'),
        mode: 'unknown',
        receivedAt: now.toISOString(),
        priority: 'high',
        requestId: 'r1',
        payload: '{}',
      },
      now,
    ).next;
    if (!claim) throw new Error('no claim');
    await store.save(claim);
    const queue = new RecordingQueue();
    const deps: ReconcileDependencies = {
      store,
      verifiers: VERIFIERS,
      credentials: async () => ({ apiKey: 'FLWSECK_TEST-x' }),
      baseUrls: { flutterwave: baseUrl },
      queue,
      settings: DEFAULT_RECONCILE_SETTINGS,
      now: () => now,
      log: recordingLog(),
    };
    const started = Date.now();
    await confirmPayment(deps, 'flutterwave', 'ORDER-CLAIM-1', 'confirm-test');
    expect(Date.now() - started).toBeLessThan(3_500);
    expect(requests).toBe(1);
    expect(queue.events).toEqual([]);
    const after = await store.get('flutterwave', 'ORDER-CLAIM-1');
    expect(after && awaitingConfirmation(after)).toBe(true);
  });
});
