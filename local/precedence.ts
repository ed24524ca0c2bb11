/**
 * Precedence for the high queue's consumers over the other queues' consumers, on the local stack's one event loop.
 *
 * On AWS each queue's consumers run in Lambda instances of their own, and DynamoDB serves a call without queueing it
 * behind other functions' calls: a low-priority backlog being worked through takes nothing from a high-priority
 * payment. Locally every consumer shares one event loop, and one emulator thread that serves calls in the order they
 * arrive, so a low-priority batch of 50 records (its ~100 calls outstanding at once) put every call of a high-priority
 * payment at the back of both queues: p95 430 ms behind a backlog against 19 ms idle.
 *
 * So the other queues' consumers share a few outstanding AWS calls: 16 at most, which keeps the emulator's queue short
 * in front of a high-priority call (a batch's records still run concurrently, as Powertools runs them; a call past
 * the limit waits to be sent), and 2 while a high-priority invocation is running. That changes when their calls go,
 * never what they do (the same calls, through the same clients, to the same emulators), and they keep going at a
 * reduced rate rather than stopping, so a steady high-priority load cannot starve them. It models the separate
 * instances for the high queue; it slows the other queues' consumers more than AWS would (with 2 cores shared by
 * everything, the low queue drained a 10,000 backlog at about two thirds of its unlimited rate while high-priority
 * payments were being applied).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AwsClient } from '../lambdas/composition/clients.js';
import type { Priority } from '../lambdas/definitions.js';

/** AWS calls the other queues' consumers may have outstanding at once, and while a high-priority invocation runs. */
const OTHERS_OUTSTANDING = 16;
const OTHERS_OUTSTANDING_WHILE_HIGH = 2;

export class ConsumerPrecedence {
  /** The queue whose consumer invocation the current asynchronous context belongs to. */
  private readonly queue = new AsyncLocalStorage<Priority>();
  private highInvocations = 0;
  private othersOutstanding = 0;
  private waiting: (() => void)[] = [];

  /** Runs one consumer invocation of `priority`'s queue (what the pollers wrap each handler call in). */
  async invoke<T>(priority: Priority, invocation: () => Promise<T>): Promise<T> {
    if (priority !== 'high') return this.queue.run(priority, invocation);
    this.highInvocations += 1;
    try {
      return await this.queue.run(priority, invocation);
    } finally {
      this.highInvocations -= 1;
      if (this.highInvocations === 0) this.releaseAll();
    }
  }

  /** Adds the precedence to a consumer client: its calls from other queues' invocations wait their turn. */
  attach(client: AwsClient): void {
    // One cast for the union of clients, as bench/aws-usage.ts does: the middleware reads no service-specific type.
    (client.middlewareStack as DynamoDBClient['middlewareStack']).add(
      (next) => async (args) => {
        const priority = this.queue.getStore();
        if (priority === undefined || priority === 'high') return next(args);
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
