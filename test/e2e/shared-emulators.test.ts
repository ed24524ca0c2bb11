import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drive, prepare, startConsumersThread, waitUntilApplied } from '../../bench/throughput.js';
import { PRIORITIES } from '../../lambdas/definitions.js';
import type { LocalStack } from '../../local/stack.js';
import { startTestStack, stopTestStack } from '../support/local-stack.js';

const dir = (name: string) => mkdtempSync(join(tmpdir(), `payhook-shared-${name}-`));

/** Sends `count` signed webhooks of fresh payments to `stack`; true once each one's `payment.succeeded` is published. */
async function sendAndWaitApplied(stack: LocalStack, seed: string, count = 3): Promise<boolean> {
  const prepared = prepare(count, seed);
  const { sent } = await drive((p) => `${stack.url}/webhooks/${p.gateway}`, prepared, 1);
  expect(sent.map((s) => s.status)).toEqual(prepared.map(() => 200));
  const wanted = new Set(prepared.flatMap((p) => p.eventIds));
  const applied = await waitUntilApplied(stack.info.eventsFile, wanted, 15_000);
  return applied.size === wanted.size;
}

// The benchmark's second layout (section 3): a second stack on the first one's emulators and events file consumes
// what the first one's ingest queued, so the consumers can run on a thread of their own.
describe("A local stack on another stack's emulators", () => {
  let first: LocalStack | undefined;
  let second: LocalStack | undefined;

  beforeAll(async () => {
    first = await startTestStack(dir('first'));
    for (const priority of PRIORITIES) first.eventSources.disable(priority);
    second = await startTestStack(dir('second'), {
      emulatorEndpoints: first.endpoints,
      eventsFile: first.info.eventsFile,
    });
  });

  afterAll(async () => {
    await stopTestStack(second);
    await stopTestStack(first);
  });

  it("starts no emulators of its own, applies what the first stack queued and appends to the first stack's events", async () => {
    const [one, two] = [first as LocalStack, second as LocalStack];
    expect(two.endpoints).toEqual(one.endpoints);
    expect(two.info.eventsFile).toBe(one.info.eventsFile);
    // Only the second stack's pollers are enabled: the events are in the first stack's file because they applied them.
    expect(await sendAndWaitApplied(one, 'shared')).toBe(true);
  });

  it('leaves a shared events file in place when it stops: the file is its owner stack to remove', async () => {
    await stopTestStack(second);
    second = undefined;
    expect(existsSync((first as LocalStack).info.eventsFile)).toBe(true);
  });
});

describe("The benchmark's consumers' thread (startConsumersThread)", () => {
  let stack: LocalStack | undefined;

  beforeAll(async () => {
    stack = await startTestStack(dir('thread'));
  });

  afterAll(async () => {
    await stopTestStack(stack);
  });

  it("applies, on a worker thread, what the stack's ingest queued while the stack's own pollers are disabled", async () => {
    const running = stack as LocalStack;
    const consumers = await startConsumersThread(running, 1);
    try {
      expect(await sendAndWaitApplied(running, 'thread')).toBe(true);
    } finally {
      await consumers.stop();
    }
  });
});
