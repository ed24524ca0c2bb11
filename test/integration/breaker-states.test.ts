import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../lambdas/common/aws-clients.js';
import {
  admit,
  type BreakerState,
  DEFAULT_BREAKER_SETTINGS,
  INITIAL_BREAKER_STATE,
  record,
} from '../../lambdas/domain/circuit-breaker.js';
import { DynamoBreakerStates } from '../../lambdas/store/dynamodb-breaker-states.js';
import { DynamoDestinationStates } from '../../lambdas/store/dynamodb-destination-states.js';
import { type DynamoEmulator, startDynamoEmulator } from '../support/dynamodb-emulator.js';

// Breaker states in the payments table, on dynalite: the item's keys (the delivery function's grant covers
// DESTINATION# only), the round trip of every kind of state, and the optimistic write that concurrent invocations of
// the delivery function rely on: a lost race is `false`, never an overwrite.

const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);

let dynamo: DynamoEmulator;
let table: string;
let breakers: DynamoBreakerStates;
let destinationCount = 0;
const newDestination = () => `breaker-test-${++destinationCount}`;

beforeAll(async () => {
  dynamo = await startDynamoEmulator();
  table = (await dynamo.createTables('breaker-states-test')).payments;
  breakers = new DynamoBreakerStates(createDocumentClient(dynamo.client), table);
});

afterAll(async () => {
  await dynamo?.stop();
});

const open: BreakerState = {
  kind: 'open',
  openedAtMs: T0,
  untilMs: T0 + 60_000,
  opens: 1,
  reason: '20 consecutive failures',
};

describe('DynamoBreakerStates', () => {
  it('reads a destination never written as closed at version 0', async () => {
    expect(await breakers.get(newDestination())).toEqual({ state: INITIAL_BREAKER_STATE, version: 0 });
  });

  it.each<[string, BreakerState]>([
    [
      'closed with counts',
      { kind: 'closed', consecutiveFailures: 3, window: { startMs: T0, attempts: 7, failures: 4 } },
    ],
    ['open', open],
    ['half-open', { kind: 'half-open', probeStartedAtMs: T0 + 60_000, opens: 2, reason: 'why' }],
  ])('round-trips a %s state, one version up per write', async (_, state) => {
    const destination = newDestination();
    expect(await breakers.put(destination, state, 0)).toBe(true);
    expect(await breakers.get(destination)).toEqual({ state, version: 1 });
    const next = record(state, 'success', T0 + 61_000, DEFAULT_BREAKER_SETTINGS);
    expect(await breakers.put(destination, next, 1)).toBe(true);
    expect(await breakers.get(destination)).toEqual({ state: next, version: 2 });
  });

  it('stores the item at DESTINATION#<name> / BREAKER, beside the stop state and not over it', async () => {
    const destination = newDestination();
    const documents = createDocumentClient(dynamo.client);
    const stops = new DynamoDestinationStates(documents, table);
    await stops.stop(destination, '410 Gone', new Date(T0));
    expect(await breakers.put(destination, open, 0)).toBe(true);
    const { Item } = await documents.send(
      new GetCommand({ TableName: table, Key: { pk: `DESTINATION#${destination}`, sk: 'BREAKER' } }),
    );
    expect(Item).toMatchObject({ version: 1, state: open });
    expect(await stops.get(destination)).toMatchObject({ stopped: true, reason: '410 Gone' });
  });

  it('refuses a write at a stale version and keeps the winner: the loser gets false, re-reads and holds', async () => {
    const destination = newDestination();
    await breakers.put(destination, { ...open, untilMs: T0 }, 0);
    // Two invocations read version 1 at once; both find the pause over and both want to send the probe.
    const [first, second] = await Promise.all([breakers.get(destination), breakers.get(destination)]);
    const a = admit(first.state, T0, DEFAULT_BREAKER_SETTINGS);
    const b = admit(second.state, T0 + 1, DEFAULT_BREAKER_SETTINGS);
    expect([a.admit, b.admit]).toEqual(['probe', 'probe']);
    expect(await breakers.put(destination, a.next, first.version)).toBe(true);
    expect(await breakers.put(destination, b.next, second.version)).toBe(false);
    const reread = await breakers.get(destination);
    expect(reread).toEqual({ state: a.next, version: 2 });
    // Decided again on what the winner wrote: its probe is in flight, so this one sends nothing.
    expect(admit(reread.state, T0 + 2, DEFAULT_BREAKER_SETTINGS).admit).toBe('none');
  });

  it('lets exactly one of concurrent first writes win', async () => {
    const destination = newDestination();
    const states = [1, 2, 3, 4].map<BreakerState>((opens) => ({ ...open, opens }));
    const results = await Promise.all(states.map((state) => breakers.put(destination, state, 0)));
    expect(results.filter(Boolean)).toHaveLength(1);
    const stored = await breakers.get(destination);
    expect(stored.version).toBe(1);
    expect(stored.state).toEqual(states[results.indexOf(true)]);
  });

  it('refuses a write that expects a version ahead of the stored one', async () => {
    const destination = newDestination();
    await breakers.put(destination, open, 0);
    expect(await breakers.put(destination, INITIAL_BREAKER_STATE, 5)).toBe(false);
    expect(await breakers.get(destination)).toEqual({ state: open, version: 1 });
  });

  it('reads a damaged item as closed at its version, so the next write replaces it instead of holding deliveries', async () => {
    const destination = newDestination();
    const documents = createDocumentClient(dynamo.client);
    await documents.send(
      new PutCommand({
        TableName: table,
        Item: { pk: `DESTINATION#${destination}`, sk: 'BREAKER', version: 4, state: { kind: 'ajar' } },
      }),
    );
    const damaged = await breakers.get(destination);
    expect(damaged).toEqual({ state: INITIAL_BREAKER_STATE, version: 4 });
    expect(await breakers.put(destination, open, damaged.version)).toBe(true);
    expect(await breakers.get(destination)).toEqual({ state: open, version: 5 });
  });
});
