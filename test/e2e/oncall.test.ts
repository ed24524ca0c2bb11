import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeleteMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redrive } from '../../cli/oncall/dead-letters.js';
import { localTarget } from '../../cli/oncall/target.js';
import { runCli } from '../../cli/program.js';
import { devSecret, readSample, SIGNERS } from '../../events/index.js';
import { MESSAGE_ATTRIBUTES } from '../../lambdas/definitions.js';
import { moneyFromMinor } from '../../lambdas/domain/money.js';
import { SqsEventQueue } from '../../lambdas/intake/sqs-event-queue.js';
import { unparseableWebhook } from '../../lambdas/intake/unparseable-webhook.js';
import { writeWebhookEventMessage } from '../../lambdas/messages/webhook-event-message.js';
import type { PaymentView, QueuesView } from '../../local/contract.js';
import type { LocalStack } from '../../local/stack.js';
import { runPayhook } from '../support/cli.js';
import { startTestStack, stopTestStack } from '../support/local-stack.js';

// The on-call path on the local stack: a poison event in the DLQ, explained, and redriven once its cause is fixed.
const dataDir = mkdtempSync(join(tmpdir(), 'payhook-oncall-e2e-'));
let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack(dataDir);
});

afterAll(async () => {
  await stopTestStack(stack);
});

const cli = (...args: string[]) => runPayhook(dataDir, ...args);

async function deadLetterCount(): Promise<number> {
  const { queues } = (await (await fetch(`${stack.url}/local/queues`)).json()) as QueuesView;
  return queues.reduce((sum, queue) => sum + queue.deadLetter.visible + queue.deadLetter.inFlight, 0);
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function paymentStatus(gateway: string, reference: string): Promise<string | undefined> {
  const response = await fetch(`${stack.url}/local/payments/${gateway}/${reference}`);
  return response.ok ? ((await response.json()) as PaymentView).status : undefined;
}

/** A message as the consumer dead-letters it after a transient failure (e.g. EventBridge down) ran out of retries. */
async function deadLetteredAfterOutage(reference: string, gateway: 'paystack' | 'stripe' = 'paystack') {
  const event = {
    gateway,
    eventId: `charge.success:${reference}`,
    eventType: 'charge.success',
    kind: 'payment.succeeded' as const,
    reference,
    money: moneyFromMinor('500000', 'NGN'),
    mode: 'test' as const,
    receivedAt: new Date().toISOString(),
    priority: 'high' as const,
    requestId: `req-${reference}`,
    payload: JSON.stringify({
      event: 'charge.success',
      data: { reference, customer: { email: 'ada@example.com' } },
    }),
  };
  const original = {
    messageType: 'webhook-event',
    gateway,
    eventType: event.eventType,
    eventId: event.eventId,
    requestId: event.requestId,
  };
  const sqs = new SQSClient({
    endpoint: stack.endpoints.sqs,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    useQueueUrlAsEndpoint: false,
  });
  const text = (value: string) => ({ DataType: 'String', StringValue: value });
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: stack.queues.deadLetterQueues.high,
      MessageBody: writeWebhookEventMessage(event).body,
      MessageAttributes: {
        [MESSAGE_ATTRIBUTES.errorClass]: text('retries_exhausted'),
        [MESSAGE_ATTRIBUTES.errorMessage]: text('InternalException: EventBridge unavailable'),
        [MESSAGE_ATTRIBUTES.firstFailedAt]: text(new Date(Date.now() - 3_600_000).toISOString()),
        [MESSAGE_ATTRIBUTES.receiveCount]: { DataType: 'Number', StringValue: '8' },
        [MESSAGE_ATTRIBUTES.originalAttributes]: text(JSON.stringify(original)),
        [MESSAGE_ATTRIBUTES.messageType]: text('webhook-event'),
        [MESSAGE_ATTRIBUTES.gateway]: text(gateway),
        [MESSAGE_ATTRIBUTES.eventType]: text(event.eventType),
        [MESSAGE_ATTRIBUTES.eventId]: text(event.eventId),
      },
    }),
  );
  sqs.destroy();
}

describe('On call, on the local stack', () => {
  it('explains a poison event in the DLQ with dlq list and dlq show, and counts it in status', async () => {
    const poisonDir = fileURLToPath(new URL('../../events/poison/', import.meta.url));
    for (const file of [
      'paystack-amount-changed.1-original.json',
      'paystack-amount-changed.2-replayed.json',
    ]) {
      const signed = SIGNERS.paystack(readFileSync(join(poisonDir, file), 'utf8'), {
        secret: devSecret('paystack'),
      });
      await fetch(`${stack.url}/webhooks/paystack`, {
        method: 'POST',
        headers: signed.headers,
        body: signed.body,
      });
    }
    await until(async () => (await deadLetterCount()) === 1, 'the poison message in the DLQ');

    const listed = await cli('dlq', 'list', '--json');
    const { messages } = JSON.parse(listed.stdout) as {
      messages: { messageId: string; errorClass: string; reference: string; queue: string }[];
    };
    expect(messages).toEqual([
      expect.objectContaining({ errorClass: 'payload_mismatch', reference: 'ORDER-POISON-1', queue: 'high' }),
    ]);
    const human = await cli('dlq', 'list');
    expect(human.stdout).toMatch(/payload_mismatch/);

    const shown = await cli('dlq', 'show', messages[0]?.messageId ?? '');
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/payload_mismatch/);
    expect(shown.stdout).not.toContain('bojack@horseman.com');
    expect(shown.stdout).not.toContain('ada@example.com');

    const status = JSON.parse((await cli('status', '--json')).stdout) as {
      queues: { queue: string; deadLetters: number }[];
    };
    expect(status.queues.find((row) => row.queue === 'high')?.deadLetters).toBe(1);
    expect(status.queues.reduce((sum, row) => sum + row.deadLetters, 0)).toBe(await deadLetterCount());
  });

  it('redrives only the matching messages once the cause is fixed, and they are processed; a dry run moves nothing', async () => {
    await deadLetteredAfterOutage('ORDER-OUTAGE-1');
    await deadLetteredAfterOutage('ORDER-OUTAGE-2');
    const before = await deadLetterCount();
    const dry = await cli('dlq', 'redrive', '--error', 'retries_exhausted', '--dry-run');
    expect(dry.stdout).toMatch(/would move 2/);
    expect(await deadLetterCount()).toBe(before);

    const moved = await cli('dlq', 'redrive', '--queue', 'high', '--error', 'retries_exhausted');
    expect(moved.code).toBe(0);
    expect(moved.stdout).toMatch(/moved 2, skipped 1, failed 0/);
    await until(
      async () => (await paymentStatus('paystack', 'ORDER-OUTAGE-2')) === 'succeeded',
      'the redriven events to be applied',
    );
    expect(await paymentStatus('paystack', 'ORDER-OUTAGE-1')).toBe('succeeded');
    // The poison (payload_mismatch) did not match the filter and is still there.
    expect(await deadLetterCount()).toBe(1);
  });

  it('loses nothing when a redrive is interrupted between the send and the delete', async () => {
    for (const reference of ['ORDER-CRASH-1', 'ORDER-CRASH-2', 'ORDER-CRASH-3'])
      await deadLetteredAfterOutage(reference);
    const target = localTarget(dataDir);
    let deletes = 0;
    const original = target.sqs.send.bind(target.sqs);
    // A crash after the second message was sent but before it was deleted from the DLQ.
    target.sqs.send = (async (command: unknown) => {
      if (command instanceof DeleteMessageCommand && ++deletes >= 2) throw new Error('interrupted');
      return original(command as never);
    }) as typeof target.sqs.send;
    const result = await redrive(target.sqs, target.queues, { errorClass: 'retries_exhausted' });
    expect(result.failed).toBeGreaterThan(0);
    // Every payment is applied (moved, or moved and still in the DLQ), and what was not deleted is still in the DLQ.
    for (const reference of ['ORDER-CRASH-1', 'ORDER-CRASH-2']) {
      await until(
        async () => (await paymentStatus('paystack', reference)) === 'succeeded',
        `${reference} applied`,
      );
    }
    const remaining = JSON.parse(
      (await cli('dlq', 'list', '--error', 'retries_exhausted', '--json')).stdout,
    ) as { messages: { reference: string }[] };
    const stillThere = remaining.messages.map((message) => message.reference);
    for (const reference of ['ORDER-CRASH-1', 'ORDER-CRASH-2', 'ORDER-CRASH-3']) {
      const applied = (await paymentStatus('paystack', reference)) === 'succeeded';
      expect(applied || stillThere.includes(reference)).toBe(true);
    }
  });

  it('draws a progress bar on a terminal while it redrives', async () => {
    await deadLetteredAfterOutage('ORDER-PROGRESS-1');
    let stderr = '';
    const code = await runCli(['node', 'payhook', 'dlq', 'redrive', '--error', 'retries_exhausted'], {
      stdout: () => undefined,
      stderr: (text) => {
        stderr += text;
      },
      env: { PAYHOOK_DATA_DIR: dataDir },
      interactive: true,
    });
    expect(code).toBe(0);
    // Redrawn in place as messages move, and full at the end (other tests' leftovers may be moved too).
    expect(stderr).toMatch(/\r\[#*-*\] 1\/\d+/);
    expect(stderr).toMatch(/\[#{30}\] (\d+)\/\1\n$/);
  });

  it('lists refused webhooks grouped by reason with rejects list, filtered, as text and JSON, never with a signature', async () => {
    const body = JSON.stringify({ id: 'evt_forged', type: 'payment_intent.succeeded', data: { object: {} } });
    const forged = `t=${Math.floor(Date.now() / 1000)},v1=${'b'.repeat(64)}`;
    const post = (gateway: string, headers: Record<string, string>) =>
      fetch(`${stack.url}/webhooks/${gateway}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
    expect((await post('stripe', { 'stripe-signature': forged })).status).toBe(401);
    expect((await post('stripe', { 'stripe-signature': forged })).status).toBe(401);
    expect((await post('stripe', {})).status).toBe(401);
    expect((await post('paypal', {})).status).toBe(404);

    const text = await cli('rejects', 'list', '--since', '10m');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('4 refused request(s)');
    expect(text.stdout).toMatch(/invalid_signature: 2 \(stripe 2\)/);
    expect(text.stdout).toMatch(/missing_signature: 1 \(stripe 1\)/);
    expect(text.stdout).toMatch(/unknown_gateway: 1 \(unknown 1\)/);
    expect(text.stdout).toContain('unknown (paypal)');
    expect(text.stdout).toContain('stripe-signature');
    expect(text.stdout).not.toContain('b'.repeat(16));
    expect(text.stdout).not.toContain('evt_forged');

    const json = await cli(
      'rejects',
      'list',
      '--gateway',
      'stripe',
      '--reason',
      'invalid_signature',
      '--json',
    );
    expect(json.code, json.stderr).toBe(0);
    const parsed = JSON.parse(json.stdout) as {
      total: number;
      reasons: { reason: string; count: number; requests: { requestId: string; bodySha256: string }[] }[];
    };
    expect(parsed.total).toBe(2);
    expect(parsed.reasons.map((group) => [group.reason, group.count])).toEqual([['invalid_signature', 2]]);
    expect(parsed.reasons[0]?.requests[0]?.bodySha256).toMatch(/^[0-9a-f]{64}$/);

    const none = await cli('rejects', 'list', '--gateway', 'paystack');
    expect(none.stdout).toContain('0 refused request(s)');
    const bad = await cli('rejects', 'list', '--gateway', 'paypal');
    expect(bad.code).not.toBe(0);
  });

  it('renormalises parked webhooks once the adapter reads them: a dry run first, then queued and applied', async () => {
    // Parked by ingest: validly signed, but no adapter reads it (today's reason).
    const unreadable = SIGNERS.paystack('{"event":"charge.success","data":"ORDER-RENORM-BROKEN"}', {
      secret: devSecret('paystack'),
    });
    const answer = await fetch(`${stack.url}/webhooks/paystack`, {
      method: 'POST',
      headers: unreadable.headers,
      body: unreadable.body,
    });
    expect(answer.status).toBe(200);
    // Parked by an older adapter with a bug (simulated by hand): today's adapter reads it.
    const sqs = new SQSClient({
      endpoint: stack.endpoints.sqs,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      useQueueUrlAsEndpoint: false,
    });
    const body = readSample('paystack', 'charge.success').replace('ORDER-1001', 'ORDER-RENORM-1');
    await new SqsEventQueue(sqs, {
      queues: stack.queues.queues,
      parking: stack.queues.deadLetterQueues.low,
    }).park(
      unparseableWebhook(
        'paystack',
        { headers: {}, body: Buffer.from(body), receivedAt: new Date(), requestId: 'req-renorm-fixed' },
        { reason: 'unexpected TypeError: an older adapter failed', payload: body },
      ),
    );
    sqs.destroy();
    await until(async () => (await deadLetterCount()) >= 2, 'both parked webhooks in the DLQ');
    const before = await deadLetterCount();

    const dry = await cli('dlq', 'renormalise', '--gateway', 'paystack', '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('nothing was changed');
    expect(dry.stdout).toMatch(/req-renorm-fixed\s+would queue 1 event\(s\): charge\.success \(high\)/);
    expect(dry.stdout).toMatch(
      /still unparseable for the same reason, left in place: unparseable_payload: Paystack payload has no "event" name/,
    );
    expect(await deadLetterCount()).toBe(before);
    expect(await paymentStatus('paystack', 'ORDER-RENORM-1')).toBeUndefined();

    const run = await cli('dlq', 'renormalise', '--gateway', 'paystack');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/req-renorm-fixed\s+queued 1 event\(s\): charge\.success \(high\)/);
    expect(run.stdout).toMatch(/queued 1 event\(s\) from 1 parked webhook\(s\)/);
    await until(
      async () => (await paymentStatus('paystack', 'ORDER-RENORM-1')) === 'succeeded',
      'the renormalised event to be applied',
    );
    expect(await deadLetterCount()).toBe(before - 1);
    const parked = JSON.parse(
      (await cli('dlq', 'list', '--error', 'unparseable_payload', '--json')).stdout,
    ) as {
      messages: { gateway: string; errorMessage: string }[];
    };
    expect(parked.messages).toEqual([
      expect.objectContaining({
        gateway: 'paystack',
        errorMessage: expect.stringMatching(/^Paystack payload/),
      }),
    ]);
  });

  it('refuses to purge without --confirm, and fails clearly for an unknown message or stack', async () => {
    expect((await cli('dlq', 'purge')).stderr).toMatch(/add --confirm/);
    const unknown = await cli('dlq', 'show', 'no-such-message');
    expect([unknown.code, /no dead-lettered message no-such-message/.test(unknown.stderr)]).toEqual([
      1,
      true,
    ]);
    const badQueue = await cli('dlq', 'list', '--queue', 'urgent');
    expect(badQueue.code).not.toBe(0);
  });
});
