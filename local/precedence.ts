/**
 * Precedence for the high queue's consumers over the other queues' consumers, on the local stack's one event loop.
 *
 * On AWS each queue's consumers run in Lambda instances of their own, and DynamoDB serves a call without queueing it
 * behind other functions' calls: a low-priority backlog being worked through takes nothing from a high-priority
 * payment. Locally every consumer shares one event loop, and one emulator thread that serves calls in the order they
 * arrive, so a low-priority batch of 50 records (its ~100 calls outstanding at once) put every call of a high-priority
 * payment at the back of both queues: p95 430 ms behind a backlog against 19 ms idle.
 *
 * So the other queues' consumers (their own clients, as each queue's consumer is a function of its own on AWS) share a
 * few outstanding AWS calls: 8 at most, which keeps the emulator's queue short in front of a high-priority call (with
 * 16, the p95 behind a backlog was 1.6-3.0x idle from run to run; with 8, 1.7-1.9x) (a batch's records still run concurrently, as Powertools runs them; a call past
 * the limit waits to be sent), and 2 while a high-priority invocation is running. That changes when their calls go,
 * never what they do (the same calls, through the same clients, to the same emulators), and they keep going at a
 * reduced rate rather than stopping, so a steady high-priority load cannot starve them. It models the separate
 * instances for the high queue; it slows the other queues' consumers more than AWS would (with 2 cores shared by
 * everything, the low queue drained a 10,000 backlog at about two thirds of its unlimited rate while high-priority
 * payments were being applied).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AwsClient } from '../lambdas/composition/clients.js';

/** AWS calls the other queues' consumers may have outstanding at once, and while a high-priority invocation runs. */
const OTHERS_OUTSTANDING = 8;
const OTHERS_OUTSTANDING_WHILE_HIGH = 2;

export class ConsumerPrecedence {
  private highInvocations = 0;
  private othersOutstanding = 0;
  private waiting: (() => void)[] = [];

  /** Runs one invocation of the high queue's consumer (what its pollers wrap each handler call in). */
  async whileHigh<T>(invocation: () => Promise<T>): Promise<T> {
    this.highInvocations += 1;
    try {
      return await invocation();
    } finally {
      this.highInvocations -= 1;
      if (this.highInvocations === 0) this.releaseAll();
    }
  }

  /**
   * Makes a client of another queue's consumer wait its turn for each call. Known by the client, not by the
   * invocation's asynchronous context: `AsyncLocalStorage` would turn on promise hooks for the whole process, which
   * cost ingest about 15% of its requests per second here.
   */
  gate(client: AwsClient): void {
    // One cast for the union of clients, as bench/aws-usage.ts does: the middleware reads no service-specific type.
    (client.middlewareStack as DynamoDBClient['middlewareStack']).add(
      (next) => async (args) => {
        await this.turn();
        try {
          return await next(args);
        } finally {
          this.othersOutstanding -= 1;
          this.waiting.shift()?.();
        }
      },
      { step: 'initialize', name: 'localConsumerPrecedence' },
    );
  }

  /** Takes a slot for one call from another queue's invocation, waiting while they are all taken. */
  private async turn(): Promise<void> {
    while (
      this.othersOutstanding >=
      (this.highInvocations > 0 ? OTHERS_OUTSTANDING_WHILE_HIGH : OTHERS_OUTSTANDING)
    ) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.othersOutstanding += 1;
  }

  private releaseAll(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const resolve of waiting) resolve();
  }
}
