import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  drive,
  type Prepared,
  prepare,
  startConsumersThread,
  waitUntilApplied,
} from '../../bench/throughput.js';
import { PRIORITIES } from '../../lambdas/definitions.js';
import type { LocalStack } from '../../local/stack.js';
import { startTestStack, stopTestStack } from '../support/local-stack.js';

const dir = (name: string) => mkdtempSync(join(tmpdir(), `payhook-shared-${name}-`));

/** Sends `count` signed webhooks of fresh payments to `stack`, each answered 200. */
async function send(stack: LocalStack, seed: string, count = 3): Promise<Prepared[]> {
  const prepared = prepare(count, seed);
  const { sent } = await drive((p) => `${stack.url}/webhooks/${p.gateway}`, prepared, 1);
  expect(sent.map((s) => s.status)).toEqual(prepared.map(() => 200));
  return prepared;
}

/** How many of their events have had `payment.succeeded` published within `timeoutMs`, and how many there are. */
async function applied(stack: LocalStack, prepared: readonly Prepared[], timeoutMs: number) {
  const wanted = new Set(prepared.flatMap((p) => p.eventIds));
  const found = await waitUntilApplied(stack.info.eventsFile, wanted, timeoutMs);
  return { applied: found.size, of: wanted.size };
}

/**
 * Disables every event source of `stack`, then waits out a long poll already under way (the test stack's is 1 s): as
 * on AWS, a disabled mapping still hands over what a receive in flight returns.
 */
async function disableAll(stack: LocalStack): Promise<void> {
  for (const priority of PRIORITIES) stack.eventSources.disable(priority);
  await new Promise((resolve) => setTimeout(resolve, 1500));
}

// The benchmark's second layout (section 3): a second stack on the first one's emulators and events file consumes
// what the first one's ingest queued, so the consumers can run on a thread of their own.
describe("A local stack on another stack's emulators", () => {
  let first: LocalStack | undefined;
  let second: LocalStack | undefined;

  beforeAll(async () => {
    first = await startTestStack(dir('first'));
    await disableAll(first);
  });

  afterAll(async () => {
    await stopTestStack(second);
    await stopTestStack(first);
  });

  it("starts no emulators of its own, applies what the first stack queued and appends to the first stack's events", async () => {
    const one = first as LocalStack;
    const queued = await send(one, 'shared');
    // The first stack's pollers are disabled: nothing is applied until the second stack's consume.
    expect(await applied(one, queued, 1500)).toEqual({ applied: 0, of: queued.length });
    second = await startTestStack(dir('second'), {
      emulatorEndpoints: one.endpoints,
      eventsFile: one.info.eventsFile,
    });
    expect(second.endpoints).toEqual(one.endpoints);
    expect(second.info.eventsFile).toBe(one.info.eventsFile);
    expect(await applied(one, queued, 15_000)).toEqual({ applied: queued.length, of: queued.length });
  });

  it('leaves a shared events file in place when it stops: the file is its owner stack to remove', async () => {
    const eventsFile = (first as LocalStack).info.eventsFile;
    expect(existsSync(eventsFile)).toBe(true);
    await stopTestStack(second);
    second = undefined;
    expect(existsSync(eventsFile)).toBe(true);
  });

  it('refuses both emulatorEndpoints and externalEndpoint, which would each name where it calls', async () => {
    await expect(
      startTestStack(dir('both'), {
        emulatorEndpoints: (first as LocalStack).endpoints,
        externalEndpoint: 'http://127.0.0.1:1',
      }),
    ).rejects.toThrow(/give one/);
  });
});

describe("The benchmark's consumers' thread (startConsumersThread)", () => {
  let stack: LocalStack | undefined;

  beforeAll(async () => {
    stack = await startTestStack(dir('thread'));
    await disableAll(stack);
  });

  afterAll(async () => {
    await stopTestStack(stack);
  });

  it("applies, on a worker thread, what the stack's ingest queued while the stack's own pollers are disabled", async () => {
    const running = stack as LocalStack;
    const queued = await send(running, 'thread');
    expect(await applied(running, queued, 1500)).toEqual({ applied: 0, of: queued.length });
    const consumers = await startConsumersThread(running, 1);
    try {
      expect(await applied(running, queued, 15_000)).toEqual({ applied: queued.length, of: queued.length });
    } finally {
      await consumers.stop();
    }
  });
});
