import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAYMENTS_TABLE_OUTPUT } from '../../cli/deployed-payments.js';
import { runCli } from '../../cli/program.js';
import type { PaymentView, QueuesView } from '../../local/contract.js';
import type { LocalStack } from '../../local/stack.js';
import { tableNames } from '../../local/tables.js';
import { runPayhook, runPayhookWith } from '../support/cli.js';
import { startTestStack, stopTestStack } from '../support/local-stack.js';
import { createStackWithOutputs, hasMotoServer, type MotoServer, startMotoServer } from '../support/moto.js';

// The newcomer's path from the README, against the real local stack: `payhook send`, then `payhook payments show`,
// with nothing but the shared data dir to find the stack.
const dataDir = mkdtempSync(join(tmpdir(), 'payhook-cli-e2e-'));
let stack: LocalStack;

const cli = (...args: string[]) => runPayhook(dataDir, ...args);

async function showJson(
  gateway: string,
  identifier: string,
  status: string,
  run: typeof cli = cli,
): Promise<PaymentView> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const shown = await run('payments', 'show', gateway, identifier, '--json');
    if (shown.code === 0) {
      const view = JSON.parse(shown.stdout) as PaymentView;
      // The history item is written just after the payment: a status an event set waits for its entry too.
      if (view.status === status && (status === 'pending' || view.history.length > 0)) return view;
    }
    if (Date.now() > deadline)
      throw new Error(`payments show ${gateway} ${identifier}: ${shown.stdout}${shown.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

beforeAll(async () => {
  stack = await startTestStack(dataDir);
});

afterAll(async () => {
  await stopTestStack(stack);
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
        announced: [{ type: 'money_in', id: '4975361', state: 'received' }],
      }),
    ]);
    expect(view.moneyIn).toEqual([
      {
        id: '4975361',
        amount: expect.objectContaining({ amount: '7500.50', currency: 'NGN' }),
        state: 'received',
        eventIds: ['charge.completed:4975361:successful'],
      },
    ]);
    expect([view.refunds, view.disputes, view.attempts]).toEqual([[], [], []]);
    const human = await cli('payments', 'show', 'flutterwave', 'ORDER-2001');
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('7500.50 NGN');
    expect(human.stdout).toMatch(
      /\nmoney in \(1\):\n {2}id +amount +state +event ids\n {2}4975361 +7500\.50 NGN +received +charge\.completed:4975361:successful\n/,
    );
    expect(human.stdout).not.toContain('refunds (');
    expect(human.stdout).toMatch(/charge\.completed .*\(new\) -> succeeded; money_in 4975361 received\n/);
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

  it('keeps an event that names no payment and lists it with unmatched list, as text and JSON', async () => {
    const sent = await cli('send', 'paystack', 'subscription.expiring_cards');
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toMatch(/\b200\b/);
    const deadline = Date.now() + 15_000;
    let json = await cli('unmatched', 'list', '--json');
    for (;;) {
      expect(json.code, json.stderr).toBe(0);
      if ((JSON.parse(json.stdout) as { total: number }).total > 0) break;
      if (Date.now() > deadline) throw new Error(`nothing unmatched: ${json.stdout}`);
      await new Promise((resolve) => setTimeout(resolve, 150));
      json = await cli('unmatched', 'list', '--json');
    }
    const listed = JSON.parse(json.stdout) as {
      target: string;
      total: number;
      truncated: string[];
      events: { eventId: string; eventType: string; kind: string; money: unknown; requestId: string }[];
    };
    expect(listed).toMatchObject({ target: `local stack at ${stack.url}`, total: 1, truncated: [] });
    const [event] = listed.events;
    expect(event).toMatchObject({
      gateway: 'paystack',
      eventType: 'subscription.expiring_cards',
      kind: 'other',
      money: null,
      occurredAt: null,
    });
    expect(event?.eventId).toMatch(/^sha256:[0-9a-f]{64}$/);
    // Customer data never reaches the listing.
    expect(json.stdout).not.toContain('example.com');

    const text = await cli('unmatched', 'list', '--gateway', 'paystack', '--since', '10m');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('1 unmatched event(s)');
    expect(text.stdout).toContain('paystack subscription.expiring_cards: 1');
    expect(text.stdout).toMatch(
      new RegExp(
        `  \\S+Z  paystack  subscription\\.expiring_cards  ${event?.eventId}  request ${event?.requestId}  other  -\\n`,
      ),
    );
    // Nothing became a payment, and nothing was dead-lettered or parked.
    expect((await cli('payments', 'show', 'paystack', event?.eventId ?? '')).code).not.toBe(0);
    const { queues } = (await (await fetch(`${stack.url}/local/queues`)).json()) as QueuesView;
    expect(queues.map((queue) => queue.deadLetter.visible + queue.deadLetter.inFlight)).toEqual([0, 0, 0]);

    const none = await cli('unmatched', 'list', '--gateway', 'stripe');
    expect(none.code).toBe(0);
    expect(none.stdout).toMatch(
      /^local stack at \S+: 0 unmatched event\(s\) since \S+Z \(events that named no payment\)\n$/,
    );
    const bad = await cli('unmatched', 'list', '--gateway', 'paypal');
    expect(bad.code).not.toBe(0);
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

// `payments show --stack`: the deployed stack found by its CloudFormation outputs (as `payhook dlq --stack` finds it),
// its payments table read with the consumers' own store. Here the "deployed" table is the one a local stack keeps at
// moto, so the same payment can be shown both ways and compared.
describe.runIf(hasMotoServer)('payhook payments show --stack against a deployed stack (moto_server)', () => {
  let moto: MotoServer;
  let deployed: LocalStack;
  const deployedDir = mkdtempSync(join(tmpdir(), 'payhook-cli-deployed-'));
  const local = (...args: string[]) => runPayhook(deployedDir, ...args);
  /** `payhook <args> --stack NAME`, with the AWS endpoint at moto and no local stack to fall back on. */
  function remote(...args: string[]) {
    return runPayhookWith(
      {
        PAYHOOK_DATA_DIR: mkdtempSync(join(tmpdir(), 'payhook-no-stack-')),
        PAYHOOK_AWS_ENDPOINT_URL: moto.endpoint,
      },
      ...args,
    );
  }

  beforeAll(async () => {
    moto = await startMotoServer();
    deployed = await startTestStack(deployedDir, { externalEndpoint: moto.endpoint });
    await createStackWithOutputs(moto, 'shop-prod', { [PAYMENTS_TABLE_OUTPUT]: tableNames().payments });
    await createStackWithOutputs(moto, 'not-payhook', {});
  });

  afterAll(async () => {
    await stopTestStack(deployed);
    await moto?.stop();
  });

  it('prints the same JSON and text as the local route, facts and history included', async () => {
    expect((await local('send', 'paystack')).code).toBe(0);
    expect((await local('send', 'paystack', 'refund.processed')).code).toBe(0);
    await showJson('paystack', 'ORDER-1001', 'partially_refunded', local);
    const fromRoute = await local('payments', 'show', 'paystack', 'ORDER-1001', '--json');
    for (const identifier of ['ORDER-1001', '302961']) {
      const fromStack = await remote(
        'payments',
        'show',
        'paystack',
        identifier,
        '--json',
        '--stack',
        'shop-prod',
        '--region',
        'us-east-1',
      );
      expect(fromStack.stderr).toBe('');
      expect(fromStack.code).toBe(0);
      expect(fromStack.stdout).toBe(fromRoute.stdout);
    }
    const view = JSON.parse(fromRoute.stdout) as PaymentView;
    expect(view.moneyIn.map((fact) => [fact.id, fact.amount?.amount, fact.state])).toEqual([
      ['302961', '2500.00', 'received'],
    ]);
    expect(view.refunds.map((fact) => [fact.id, fact.amount?.amount, fact.state, fact.eventIds])).toEqual([
      ['RFD-1001-1', '1000.00', 'succeeded', ['refund.processed:RFD-1001-1']],
    ]);
    const text = await remote('payments', 'show', 'paystack', 'ORDER-1001', '--stack', 'shop-prod');
    expect(text.code).toBe(0);
    expect(text.stdout).toBe((await local('payments', 'show', 'paystack', 'ORDER-1001')).stdout);
    expect(text.stdout).toContain('\nrefunds (1):\n');
    expect(text.stdout).toMatch(/succeeded -> partially_refunded; refund RFD-1001-1 succeeded\n/);
  });

  it('lists the unmatched events of a deployed stack as the local stack lists them', async () => {
    expect((await local('send', 'paystack', 'subscription.expiring_cards')).code).toBe(0);
    const deadline = Date.now() + 15_000;
    let fromLocal = await local('unmatched', 'list', '--json', '--since', '1h');
    while ((JSON.parse(fromLocal.stdout) as { total: number }).total === 0) {
      if (Date.now() > deadline) throw new Error(`nothing unmatched: ${fromLocal.stdout}${fromLocal.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 150));
      fromLocal = await local('unmatched', 'list', '--json', '--since', '1h');
    }
    const since = (JSON.parse(fromLocal.stdout) as { since: string }).since;
    const fromStack = await remote(
      'unmatched',
      'list',
      '--json',
      '--since',
      since,
      '--stack',
      'shop-prod',
      '--region',
      'us-east-1',
    );
    expect(fromStack.stderr).toBe('');
    expect(fromStack.code).toBe(0);
    const { target: localTarget, ...localList } = JSON.parse(fromLocal.stdout) as Record<string, unknown>;
    const { target, ...stackList } = JSON.parse(fromStack.stdout) as Record<string, unknown>;
    expect([localTarget, target]).toEqual([`local stack at ${deployed.url}`, 'stack shop-prod']);
    expect(stackList).toEqual(localList);
    expect(stackList).toMatchObject({
      total: 1,
      events: [{ gateway: 'paystack', eventType: 'subscription.expiring_cards' }],
    });

    const foreign = await remote('unmatched', 'list', '--stack', 'not-payhook');
    expect([foreign.code, foreign.stderr]).toEqual([
      1,
      `error: stack not-payhook has no ${PAYMENTS_TABLE_OUTPUT} output: is it a payhook stack?\n`,
    ]);
  });

  it('fails clearly for a payment the stack does not have, a stack that is not payhook, and no stack', async () => {
    const missing = await remote('payments', 'show', 'paystack', 'NO-SUCH-ORDER', '--stack', 'shop-prod');
    expect([missing.code, missing.stdout]).toEqual([1, '']);
    expect(missing.stderr).toBe(
      'error: payment not found: no paystack payment with reference or id "NO-SUCH-ORDER" in stack shop-prod\n',
    );
    const foreign = await remote('payments', 'show', 'paystack', 'ORDER-1001', '--stack', 'not-payhook');
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toBe(
      `error: stack not-payhook has no ${PAYMENTS_TABLE_OUTPUT} output: is it a payhook stack?\n`,
    );
    const absent = await remote(
      'payments',
      'show',
      'paystack',
      'ORDER-1001',
      '--stack',
      'nowhere',
      '--region',
      'us-east-1',
    );
    expect(absent.code).toBe(1);
    expect(absent.stderr).toMatch(/^error: cannot read stack nowhere in us-east-1: /);
  });
});
