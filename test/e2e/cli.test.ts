import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/program.js';
import { DEV_SECRETS_FILE } from '../../events/index.js';
import type { PaymentView } from '../../local/contract.js';
import { type LocalStack, startLocalStack } from '../../local/stack.js';
import { runPayhook } from '../support/cli.js';

// The newcomer's path from the README, against the real local stack: `payhook send`, then `payhook payments show`,
// with nothing but the shared data dir to find the stack.
const dataDir = mkdtempSync(join(tmpdir(), 'payhook-cli-e2e-'));
let stack: LocalStack;

const cli = (...args: string[]) => runPayhook(dataDir, ...args);

async function showJson(gateway: string, identifier: string, status: string): Promise<PaymentView> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const shown = await cli('payments', 'show', gateway, identifier, '--json');
    if (shown.code === 0) {
      const view = JSON.parse(shown.stdout) as PaymentView;
      if (view.status === status) return view;
    }
    if (Date.now() > deadline)
      throw new Error(`payments show ${gateway} ${identifier}: ${shown.stdout}${shown.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

beforeAll(async () => {
  stack = await startLocalStack({
    dataDir,
    inMemory: true,
    port: 0,
    secretsFile: DEV_SECRETS_FILE,
    workersPerQueue: 1,
    reconcileIntervalSeconds: 0,
  });
});

afterAll(async () => {
  await stack?.stop({ drainTimeoutMs: 5000 });
});

describe('payhook CLI against the running local stack', () => {
  it('sends the Flutterwave sample and shows the payment with an exact decimal amount and its history', async () => {
    const sent = await cli('send', 'flutterwave');
    expect(sent.code).toBe(0);
    expect(sent.stdout).toMatch(/\b200\b/);
    expect(sent.stdout).toContain('ORDER-2001');
    const view = await showJson('flutterwave', 'ORDER-2001', 'succeeded');
    expect(view).toMatchObject({
      status: 'succeeded',
      amount: '7500.50',
      currency: 'NGN',
      reference: 'ORDER-2001',
    });
    expect(view.history).toEqual([
      expect.objectContaining({
        eventId: 'charge.completed:4975361:successful',
        eventType: 'charge.completed',
        requestId: expect.any(String),
      }),
    ]);
    const human = await cli('payments', 'show', 'flutterwave', 'ORDER-2001');
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('7500.50 NGN');
    expect(human.stdout).toContain('charge.completed');
  });

  it('sends N fresh payments with --count, each ending succeeded', async () => {
    const sent = await cli('send', 'stripe', '--count', '3');
    expect(sent.code).toBe(0);
    expect(sent.stdout).toContain('sent 3: 200 x 3');
    const identifiers = [...sent.stdout.matchAll(/payment (\S+)/g)].map((match) => match[1] ?? '');
    expect(new Set(identifiers).size).toBe(3);
    for (const identifier of identifiers) {
      expect((await showJson('stripe', identifier, 'succeeded')).amount).toBe('49.99');
    }
  });

  it('tracks an expected payment and settles it with reconcile --now once the gateway says it is paid', async () => {
    const tracked = await cli(
      'payments',
      'track',
      'paystack',
      'ORDER-CLI-LOST',
      '--amount',
      '12.50',
      '--currency',
      'ngn',
    );
    expect(tracked.code).toBe(0);
    expect(tracked.stdout).toContain('registered: paystack ORDER-CLI-LOST 12.50 NGN (status pending)');
    stack.sandbox.setPayment('paystack', {
      status: 'success',
      amount: '1250',
      currency: 'NGN',
      reference: 'ORDER-CLI-LOST',
      id: '31337',
    });
    const run = await cli('reconcile', '--now', '--grace', '0');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/queued payment\.succeeded x 1/);
    expect((await showJson('paystack', 'ORDER-CLI-LOST', 'succeeded')).amount).toBe('12.50');
    const refused = await cli(
      'payments',
      'track',
      'stripe',
      'ORDER-X',
      '--amount',
      '1.00',
      '--currency',
      'USD',
    );
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/PaymentIntent.*field gatewayPaymentId/);
  });

  it.each(['paystack', 'flutterwave', 'razorpay', 'oxapay', 'stripe'])(
    'shows a lost %s webhook settled by the reconciler: send --lost, then reconcile --now',
    async (gateway) => {
      const lost = await cli('send', gateway, '--lost');
      expect(lost.code).toBe(0);
      const key = /payment (\S+) \(/.exec(lost.stdout)?.[1];
      expect(key).toBeDefined();
      const pending = await showJson(gateway, key ?? '', 'pending');
      const run = await cli('reconcile', '--now', '--grace', '0');
      expect(run.code).toBe(0);
      const settled = await showJson(gateway, key ?? '', 'succeeded');
      expect([settled.amount, settled.currency]).toEqual([
        pending.expected?.amount,
        pending.expected?.currency,
      ]);
    },
  );

  it('tells the local gateway sandbox about what it sends, so the reconciler hears the same story', async () => {
    const sent = await cli('send', 'flutterwave', 'charge.completed.pending');
    expect(sent.code).toBe(0);
    const key = /payment (\S+)/.exec(sent.stdout)?.[1] ?? '';
    await showJson('flutterwave', key, 'pending');
    const run = await cli('reconcile', '--now', '--grace', '0', '--json');
    const report = JSON.parse(run.stdout) as { errors: Record<string, Record<string, number>> };
    // Had the sandbox not known the payment, Flutterwave would have answered "not found".
    expect(report.errors.flutterwave?.not_found).toBeUndefined();
    expect((await showJson('flutterwave', key, 'pending')).status).toBe('pending');
  });

  it('fails clearly for a payment that does not exist, and when no stack runs for the data dir', async () => {
    const missing = await cli('payments', 'show', 'paystack', 'NO-SUCH-ORDER');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/payment not found/);
    let stderr = '';
    const code = await runCli(['node', 'payhook', 'send', 'paystack'], {
      stdout: () => undefined,
      stderr: (text) => {
        stderr += text;
      },
      env: { PAYHOOK_DATA_DIR: mkdtempSync(join(tmpdir(), 'payhook-nothing-')) },
    });
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/no local payhook stack is running/);
  });
});
