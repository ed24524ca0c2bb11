import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type MessageAttributeValue, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../../cli/io.js';
import { runCli } from '../../../cli/program.js';
import {
  columns,
  escapeField,
  escapeOutput,
  hasUnsafeCharacters,
  safe,
  terminalSafeIo,
} from '../../../cli/terminal-safe.js';
import { createDocumentClient } from '../../../lambdas/common/aws-clients.js';
import { moneyFromMinor } from '../../../lambdas/domain/money.js';
import { DynamoRefusedRequestStore } from '../../../lambdas/store/dynamodb-refused-requests.js';
import { DynamoUnmatchedEventStore } from '../../../lambdas/store/dynamodb-unmatched-events.js';
import { type PaymentView, type StackInfo, stackInfoPath } from '../../../local/contract.js';
import { type DynamoEmulator, startDynamoEmulator } from '../../support/dynamodb-emulator.js';
import { createPipelineQueues, type SqsEmulator, startSqsEmulator } from '../../support/sqs-emulator.js';
import { capturingIo, type FakeStack, startFakeStack } from './fake-stack.js';

/**
 * What an attacker can put into a signed reference, an event type or an unauthenticated request: a colour change
 * (SGR), a window-title change ended by BEL (OSC), a carriage return that overwrites the line, and a right-to-left
 * override that shows what follows reversed.
 */
const HOSTILE = 'ORD\x1b[31m-1\x1b]0;title\x07\rFAKE\u202e4321';
/** The same as printed: every control written as its escape, the visible text as it is. */
const HOSTILE_SHOWN = String.raw`ORD\u001b[31m-1\u001b]0;title\u0007\rFAKE\u202e4321`;

/** Raw characters a terminal would act on or that disguise text; the newline is where lines end. */
const RAW_UNSAFE_CLASS =
  '\\u0000-\\u0009\\u000b-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069';
const RAW_UNSAFE = new RegExp(`[${RAW_UNSAFE_CLASS}]`);

function expectTerminalSafe(text: string): void {
  const raw = RAW_UNSAFE.exec(text);
  expect(
    raw,
    raw ? `raw U+${raw[0].codePointAt(0)?.toString(16)} at ${raw.index} in ${JSON.stringify(text)}` : '',
  ).toBeNull();
}

describe('terminal-safe: escaping what is printed', () => {
  it('escapes C0 controls, DEL, C1 controls, bidi controls and invisible characters in a value, newlines included', () => {
    expect(escapeField(HOSTILE)).toBe(HOSTILE_SHOWN);
    expect(escapeField('a\nb\tc\u0000d\u007fe\u009bf\u0085g')).toBe(
      String.raw`a\nb\tc\u0000d\u007fe\u009bf\u0085g`,
    );
    expect(escapeField('\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c')).toBe(
      String.raw`\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c`,
    );
    expect(escapeField('\u2028\u2029\u200b\u2060\ufeff')).toBe(String.raw`\u2028\u2029\u200b\u2060\ufeff`);
  });

  it('leaves ordinary text as it is: accents, scripts, emoji, no-break spaces, backslashes', () => {
    const ordinary = 'Jöhn Ǆ 山田 ₦2,500.00 🙂 a\u00a0b C:\\path \\u001b';
    expect(escapeField(ordinary)).toBe(ordinary);
    expect(hasUnsafeCharacters(ordinary)).toBe(false);
    expect(hasUnsafeCharacters(HOSTILE)).toBe(true);
  });

  it('safe`...` escapes the interpolated values and keeps the literal text, line breaks included', () => {
    expect(safe`reference ${'A\nB'} at ${3}\n`).toBe('reference A\\nB at 3\n');
    expect(safe`${undefined} ${null} ${true}`).toBe('undefined null true');
  });

  it('columns escapes each cell before measuring it, so a hostile cell is one cell and the columns stay aligned', () => {
    expect(
      columns([
        ['id', 'type'],
        ['a\rb', 'x'],
        ['long-id', 'y\nz'],
      ]),
    ).toEqual(['id       type', 'a\\rb     x', 'long-id  y\\nz']);
  });

  it('escapeOutput keeps the lines and changes JSON only into escapes that parse back to the same values', () => {
    const value = { reference: HOSTILE, c1: '\u009b2J', bidi: '\u2066x\u2069', separator: '\u2028' };
    const json = JSON.stringify(value, null, 2);
    const written = escapeOutput(`${json}\n`);
    expectTerminalSafe(written);
    expect(written.split('\n')).toHaveLength(json.split('\n').length + 1);
    expect(JSON.parse(written)).toEqual(value);
  });

  it('terminalSafeIo escapes both streams but keeps the carriage return that starts a progress bar redraw', () => {
    let out = '';
    let err = '';
    const io: CliIo = terminalSafeIo({ stdout: (text) => (out += text), stderr: (text) => (err += text) });
    io.stdout(`line ${HOSTILE}\n`);
    io.stderr('\r[####------] 4/10');
    io.stderr(`error: ${HOSTILE}\n`);
    expect(out).toBe(`line ${HOSTILE_SHOWN}\n`);
    expect(err).toBe(`\r[####------] 4/10error: ${HOSTILE_SHOWN}\n`);
    // Wrapping twice changes nothing: escaped text has nothing left to escape.
    let twice = '';
    terminalSafeIo(terminalSafeIo({ stdout: (text) => (twice += text), stderr: () => {} })).stdout(HOSTILE);
    expect(twice).toBe(HOSTILE_SHOWN);
  });
});

/** A payment whose every field a gateway or a payer could choose carries escape sequences. */
function hostilePayment(): PaymentView {
  const money = { amount: '2500.00', currency: 'NGN', amountMinor: '250000', exponent: 2 };
  return {
    gateway: 'paystack',
    paymentKey: HOSTILE,
    reference: HOSTILE,
    gatewayPaymentId: `gw-${HOSTILE}`,
    status: 'succeeded',
    amount: '2500.00',
    currency: 'NGN',
    money,
    expected: null,
    refunded: null,
    refundedFloor: null,
    moneyIn: [{ id: `fact-${HOSTILE}`, amount: money, state: 'received', eventIds: [`event-${HOSTILE}`] }],
    refunds: [],
    disputes: [],
    attempts: [],
    mode: 'test',
    createdAt: '2026-11-20T10:15:20.000Z',
    updatedAt: '2026-11-20T10:15:20.000Z',
    pendingSince: null,
    history: [
      {
        eventId: `event-${HOSTILE}`,
        eventType: `type-${HOSTILE}`,
        kind: 'payment.succeeded',
        receivedAt: '2026-11-20T10:15:20.000Z',
        occurredAt: null,
        requestId: `req-${HOSTILE}`,
        money,
        transition: { from: null, to: 'succeeded' },
        announced: [{ type: 'money_in', id: `fact-${HOSTILE}`, state: 'received' }],
        note: 'first line\nsecond line',
      },
    ],
  };
}

/**
 * Every on-call command against one stand-in stack: the fake local stack's HTTP routes for `payments show`, fauxqs for
 * the dead-letter queues (`dlq`, `status`), dynalite for the refused requests and the unmatched events, all named in
 * one stack.json, and each holding records whose fields carry escape sequences.
 */
describe('every on-call command prints hostile fields escaped, and --json exactly', () => {
  let fake: FakeStack;
  let sqs: SqsEmulator;
  let dynamo: DynamoEmulator;
  let messageId: string;
  const now = new Date();

  /** Attribute text SQS accepts (no C0 but tab, newline and carriage return): CR, the 8-bit CSI and bidi. */
  const ATTRIBUTE_HOSTILE = 'boom\r\u009b2J\u202eFAKE\n  forged line\tend';
  const ATTRIBUTE_SHOWN = String.raw`boom\r\u009b2J\u202eFAKE\n  forged line\tend`;

  beforeAll(async () => {
    [fake, sqs, dynamo] = await Promise.all([startFakeStack(), startSqsEmulator(), startDynamoEmulator()]);
    const [queues, tables] = await Promise.all([
      createPipelineQueues(sqs.client, 'terminal-safe'),
      dynamo.createTables('terminal-safe'),
    ]);
    const info: StackInfo = {
      url: fake.url,
      pid: process.pid,
      startedAt: now.toISOString(),
      dataDir: fake.dataDir,
      eventsFile: `${fake.dataDir}/events.jsonl`,
      sqs: {
        endpoint: sqs.endpoint,
        queues: Object.fromEntries(
          (['high', 'normal', 'low'] as const).map((priority) => [
            priority,
            { queueUrl: queues.queues[priority], deadLetterQueueUrl: queues.deadLetterQueues[priority] },
          ]),
        ),
      },
      dynamodb: { endpoint: dynamo.endpoint, rejectsTable: tables.rejects, paymentsTable: tables.payments },
    };
    writeFileSync(stackInfoPath(fake.dataDir), JSON.stringify(info));

    fake.payments.set(`paystack/${HOSTILE}`, hostilePayment());

    // A dead-lettered event whose reference and event type (read from the body) carry escape sequences, and whose
    // error text (an attribute) carries what SQS lets through. SQS takes no raw ESC: the body is JSON, as ingest
    // writes it, with every character outside printable ASCII escaped.
    const body = JSON.stringify({
      messageType: 'webhook-event',
      version: 2,
      gateway: 'paystack',
      eventId: `event-${HOSTILE}`,
      eventType: `type-${HOSTILE}`,
      kind: 'payment.succeeded',
      reference: HOSTILE,
      money: { amountMinor: '250000', currency: 'NGN', exponent: 2 },
      mode: 'test',
      receivedAt: now.toISOString(),
      priority: 'high',
      requestId: `req-${HOSTILE}`,
      payload: JSON.stringify({ event: 'charge.success', data: { reference: HOSTILE } }),
    }).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    const text = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });
    const sent = await sqs.client.send(
      new SendMessageCommand({
        QueueUrl: queues.deadLetterQueues.high,
        MessageBody: body,
        MessageAttributes: {
          messageType: text('webhook-event'),
          gateway: text('paystack'),
          errorClass: text('retries_exhausted'),
          errorMessage: text(ATTRIBUTE_HOSTILE),
          firstFailedAt: text(now.toISOString()),
          receiveCount: { DataType: 'Number', StringValue: '8' },
        },
      }),
    );
    messageId = String(sent.MessageId);

    const documents = createDocumentClient(dynamo.client);
    // A request to an unknown route with hostile header names: all an unauthenticated caller chooses.
    await new DynamoRefusedRequestStore(documents, { tableName: tables.rejects }).put({
      gateway: 'unknown',
      requestedGateway: HOSTILE,
      reason: 'unknown_gateway',
      status: 404,
      at: now.toISOString(),
      requestId: `req-${HOSTILE}`,
      sourceIp: '203.0.113.7',
      bodySha256: 'a'.repeat(64),
      bodyBytes: 2,
      headerNames: ['content-type', `x-${HOSTILE}`],
    });
    await new DynamoUnmatchedEventStore(documents, {
      tableName: tables.payments,
      historyRetentionDays: 30,
    }).record({
      gateway: 'paystack',
      eventId: `event-${HOSTILE}`,
      eventType: `type-${HOSTILE}`,
      kind: 'other',
      receivedAt: now.toISOString(),
      requestId: `req-${HOSTILE}`,
      money: moneyFromMinor('500000', 'NGN'),
    });
  });

  afterAll(async () => {
    await Promise.all([fake?.close(), sqs?.stop(), dynamo?.stop()]);
  });

  async function payhook(...args: string[]): Promise<{ code: number; out: string; err: string }> {
    const io = capturingIo(fake.dataDir);
    const code = await runCli(['node', 'payhook', ...args], io);
    return { code, out: io.out(), err: io.err() };
  }

  /** Runs the command as text, expecting it to succeed and print no raw control or bidi character. */
  async function text(...args: string[]): Promise<string> {
    const { code, out, err } = await payhook(...args);
    expect(err).toBe('');
    expect(code).toBe(0);
    expectTerminalSafe(out);
    return out;
  }

  /** Runs the command with --json, expecting parseable JSON. */
  async function json(...args: string[]): Promise<unknown> {
    const { code, out, err } = await payhook(...args, '--json');
    expect(err).toBe('');
    expect(code).toBe(0);
    return JSON.parse(out);
  }

  it('payments show: the reference, ids, event type and note escaped, each on its own line', async () => {
    const out = await text('payments', 'show', 'paystack', HOSTILE);
    expect(out).toContain(`Paystack payment ${HOSTILE_SHOWN}\n`);
    expect(out).toContain(`  reference   ${HOSTILE_SHOWN}\n`);
    expect(out).toContain(`  gateway id  gw-${HOSTILE_SHOWN}\n`);
    expect(out).toContain(`fact-${HOSTILE_SHOWN}`);
    expect(out).toContain(`type-${HOSTILE_SHOWN}`);
    expect(out).toContain(String.raw`first line\nsecond line`);
    // The title, 7 fields, the money-in heading and 2 rows, the history heading and 2 rows, and the final newline:
    // no value added a line of its own.
    expect(out.split('\n')).toHaveLength(15);
  });

  it('payments show --json: parses back to the exact strings', async () => {
    const view = (await json('payments', 'show', 'paystack', HOSTILE)) as PaymentView;
    expect(view.reference).toBe(HOSTILE);
    expect(view.history[0]?.eventType).toBe(`type-${HOSTILE}`);
    expect(view.history[0]?.note).toBe('first line\nsecond line');
  });

  it('a CLI error quoting hostile input is one escaped line', async () => {
    const { code, out, err } = await payhook('payments', 'show', 'paystack', `missing${HOSTILE}\nline`);
    expect(code).toBe(1);
    expect(out).toBe('');
    expectTerminalSafe(err);
    expect(err).toMatch(/^error: payment not found: .*\n$/);
    expect(err).toContain(`missing${HOSTILE_SHOWN}\\nline`);
  });

  it('dlq list: the event type, reference and error class columns escaped', async () => {
    const out = await text('dlq', 'list');
    expect(out).toContain(`type-${HOSTILE_SHOWN}`);
    expect(out).toContain(`  ${HOSTILE_SHOWN}  retries_exhausted`);
  });

  it('dlq list --json: parses back to the exact strings', async () => {
    const listed = (await json('dlq', 'list')) as {
      messages: { reference: string; eventType: string; errorMessage: string }[];
    };
    expect(listed.messages[0]).toMatchObject({
      reference: HOSTILE,
      eventType: `type-${HOSTILE}`,
      errorMessage: ATTRIBUTE_HOSTILE,
    });
  });

  it('dlq show: the header fields and the body escaped, the error message on one line', async () => {
    const out = await text('dlq', 'show', messageId);
    expect(out).toContain(`  error        retries_exhausted: ${ATTRIBUTE_SHOWN}\n`);
    expect(out).toContain(`  reference    ${HOSTILE_SHOWN}\n`);
    expect(out).toContain(`event type-${HOSTILE_SHOWN} event-${HOSTILE_SHOWN}\n`);
    // The body is shown as JSON, whose own escapes are the same.
    expect(out).toContain(`"reference": "${HOSTILE_SHOWN}"`);
    expect(out).not.toContain('forged line\n');
  });

  it('dlq show --json: parses back to the exact strings', async () => {
    const detail = (await json('dlq', 'show', messageId)) as {
      reference: string;
      eventType: string;
      errorMessage: string;
      body: { reference: string; payload: { data: { reference: string } } };
    };
    expect(detail).toMatchObject({
      reference: HOSTILE,
      eventType: `type-${HOSTILE}`,
      errorMessage: ATTRIBUTE_HOSTILE,
      body: { reference: HOSTILE, payload: { data: { reference: HOSTILE } } },
    });
  });

  it('status: the last failure reason escaped, on one line', async () => {
    const out = await text('status');
    expect(out).toContain(`last failure ${now.toISOString().slice(0, 10)}`);
    expect(out).toContain(`retries_exhausted (${ATTRIBUTE_SHOWN})\n`);
  });

  it('status --json: parses back to the exact strings', async () => {
    const status = (await json('status')) as { queues: { recentFailures: { errorMessage?: string }[] }[] };
    expect(status.queues[0]?.recentFailures[0]?.errorMessage).toBe(ATTRIBUTE_HOSTILE);
  });

  it('rejects list: the route, request id and header names an unauthenticated caller chose, escaped', async () => {
    const out = await text('rejects', 'list');
    expect(out).toContain(`unknown (${HOSTILE_SHOWN})  404  request req-${HOSTILE_SHOWN}  from 203.0.113.7`);
    expect(out).toContain(`headers content-type,x-${HOSTILE_SHOWN}\n`);
  });

  it('rejects list --json: parses back to the exact strings', async () => {
    const listed = (await json('rejects', 'list')) as {
      reasons: { requests: { requestedGateway: string; requestId: string; headerNames: string[] }[] }[];
    };
    expect(listed.reasons[0]?.requests[0]).toMatchObject({
      requestedGateway: HOSTILE,
      requestId: `req-${HOSTILE}`,
      headerNames: ['content-type', `x-${HOSTILE}`],
    });
  });

  it('unmatched list: the event type and ids escaped, in the counts and the lines', async () => {
    const out = await text('unmatched', 'list');
    expect(out).toContain(`paystack type-${HOSTILE_SHOWN}: 1\n`);
    expect(out).toContain(
      `  paystack  type-${HOSTILE_SHOWN}  event-${HOSTILE_SHOWN}  request req-${HOSTILE_SHOWN}`,
    );
  });

  it('unmatched list --json: parses back to the exact strings', async () => {
    const listed = (await json('unmatched', 'list')) as { events: { eventType: string; eventId: string }[] };
    expect(listed.events[0]).toMatchObject({ eventType: `type-${HOSTILE}`, eventId: `event-${HOSTILE}` });
  });
});

describe('send prints what a server answered escaped', () => {
  it('a hostile answer body from --url is one escaped line', async () => {
    const server = createServer((_request, response) => {
      response.writeHead(400, { 'content-type': 'text/plain' });
      response.end(`refused ${HOSTILE}`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const io = capturingIo('/nonexistent');
      expect(await runCli(['node', 'payhook', 'send', 'paystack', '--url', url], io)).toBe(1);
      expectTerminalSafe(io.out());
      expectTerminalSafe(io.err());
      expect(io.out()).toContain(`-> refused ${HOSTILE_SHOWN}\n`);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
