import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it, vi } from 'vitest';
import { ConsumerPrecedence } from '../../../local/precedence.js';
import { EventSourceSwitches } from '../../../local/sqs-event-source.js';

/** A client whose calls never leave the process: each waits until `finish` is called, and counts while it waits. */
function heldClient() {
  const client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  const held: (() => void)[] = [];
  client.middlewareStack.add(
    () => async () => {
      await new Promise<void>((resolve) => held.push(resolve));
      return { output: { $metadata: {} }, response: {} };
    },
    { step: 'finalizeRequest', name: 'holdCall' },
  );
  const call = () => client.send(new GetItemCommand({ TableName: 't', Key: { id: { S: 'x' } } }));
  const finish = () => held.shift()?.();
  return { client, call, held, finish };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
/** Until `count()` calls are held, then a moment more, so that one held past the limit would show. */
async function heldReach(count: () => number, expected: number): Promise<void> {
  await vi.waitFor(() => expect(count()).toBe(expected), { timeout: 5000, interval: 5 });
  await settle();
}

describe('ConsumerPrecedence', () => {
  it("keeps the other queues' calls to 16 outstanding, and 2 while a high-priority invocation runs", async () => {
    const precedence = new ConsumerPrecedence();
    const { client, call, held, finish } = heldClient();
    precedence.attach(client);

    const low = precedence.invoke('low', () => Promise.all(Array.from({ length: 20 }, call)));
    await heldReach(() => held.length, 16);
    expect(held.length).toBe(16);

    let highDone = false;
    const high = precedence.invoke('high', async () => {
      const results = await Promise.all([call(), call(), call()]);
      highDone = true;
      return results;
    });
    // The high invocation's calls go at once, past the limit.
    await heldReach(() => held.length, 19);
    // The 16 first low calls finish while high runs: of the 4 low calls waiting, 2 at most go.
    for (let i = 0; i < 16; i += 1) finish();
    await vi.waitFor(() => expect(held.length).toBeGreaterThanOrEqual(4), { timeout: 5000, interval: 5 });
    await settle();
    expect(held.length - 3).toBeGreaterThanOrEqual(1);
    expect(held.length - 3).toBeLessThanOrEqual(2);
    for (let i = 0; i < 3; i += 1) finish();
    await high;
    expect(highDone).toBe(true);
    // High finished: the waiting low calls go (16 at most outstanding).
    let lowDone = false;
    void low.then(() => {
      lowDone = true;
    });
    while (!lowDone) {
      finish();
      await settle();
    }
    client.destroy();
  });

  it('leaves calls made outside any invocation alone', async () => {
    const precedence = new ConsumerPrecedence();
    const { client, call, held, finish } = heldClient();
    precedence.attach(client);
    const calls = Promise.all(Array.from({ length: 30 }, call));
    await heldReach(() => held.length, 30);
    while (held.length > 0) finish();
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
});
