import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it, vi } from 'vitest';
import { ConsumerPrecedence } from '../../../local/precedence.js';
import { EventSourceSwitches } from '../../../local/sqs-event-source.js';

/** A client whose calls never leave the process: each waits in `held` (shared) until released, first in first out. */
function heldClient(held: (() => void)[]) {
  const client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  client.middlewareStack.add(
    () => async () => {
      await new Promise<void>((resolve) => held.push(resolve));
      return { output: { $metadata: {} }, response: {} };
    },
    { step: 'finalizeRequest', name: 'holdCall' },
  );
  const call = () => client.send(new GetItemCommand({ TableName: 't', Key: { id: { S: 'x' } } }));
  return { client, call };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
/** Until `count()` calls are held, then a moment more, so that one held past the limit would show. */
async function heldReach(count: () => number, expected: number): Promise<void> {
  await vi.waitFor(() => expect(count()).toBe(expected), { timeout: 5000, interval: 5 });
  await settle();
}

describe('ConsumerPrecedence', () => {
  it("keeps the other queues' calls to 8 outstanding, and 2 while a high-priority invocation runs", async () => {
    const precedence = new ConsumerPrecedence();
    const held: (() => void)[] = [];
    const finish = () => held.shift()?.();
    const low = heldClient(held);
    const high = heldClient(held);
    precedence.gate(low.client);

    const lowCalls = Promise.all(Array.from({ length: 12 }, low.call));
    await heldReach(() => held.length, 8);
    expect(held.length).toBe(8);

    let highDone = false;
    const highInvocation = precedence.whileHigh(async () => {
      const results = await Promise.all([high.call(), high.call(), high.call()]);
      highDone = true;
      return results;
    });
    // The high invocation's calls go at once, past the limit.
    await heldReach(() => held.length, 11);
    // The 8 first low calls finish while high runs: of the 4 low calls waiting, 2 at most go.
    for (let i = 0; i < 8; i += 1) finish();
    await vi.waitFor(() => expect(held.length).toBeGreaterThanOrEqual(4), { timeout: 5000, interval: 5 });
    await settle();
    expect(held.length - 3).toBeGreaterThanOrEqual(1);
    expect(held.length - 3).toBeLessThanOrEqual(2);
    for (let i = 0; i < 3; i += 1) finish();
    await highInvocation;
    expect(highDone).toBe(true);
    // High finished: the waiting low calls go (8 at most outstanding).
    let lowDone = false;
    void lowCalls.then(() => {
      lowDone = true;
    });
    while (!lowDone) {
      finish();
      await settle();
    }
    low.client.destroy();
    high.client.destroy();
  });

  it("leaves the calls of a client it does not gate alone (the high queue's, ingest's)", async () => {
    const precedence = new ConsumerPrecedence();
    const held: (() => void)[] = [];
    const { client, call } = heldClient(held);
    const calls = precedence.whileHigh(() => Promise.all(Array.from({ length: 30 }, call)));
    await heldReach(() => held.length, 30);
    while (held.length > 0) held.shift()?.();
    await calls;
    client.destroy();
  });
});

describe('EventSourceSwitches', () => {
  it('holds a disabled mapping until it is enabled again', async () => {
    const switches = new EventSourceSwitches<'low' | 'high'>();
    await switches.whenEnabled('low');
    switches.disable('low');
    let enabled = false;
    const waiting = switches.whenEnabled('low').then(() => {
      enabled = true;
    });
    await switches.whenEnabled('high');
    await settle();
    expect(enabled).toBe(false);
    switches.enableAll();
    await waiting;
    expect(enabled).toBe(true);
  });

  it('ignores a disable once the stack has enabled every mapping to stop, so its pollers can drain', async () => {
    const switches = new EventSourceSwitches<'low'>();
    switches.disable('low');
    switches.enableForGood();
    switches.disable('low');
    await expect(
      Promise.race([
        switches.whenEnabled('low').then(() => 'enabled'),
        new Promise((resolve) => setTimeout(() => resolve('waiting'), 50)),
      ]),
    ).resolves.toBe('enabled');
  });
});
