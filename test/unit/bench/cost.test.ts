import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emptyUsage, indexWriteUnits, itemBytes } from '../../../bench/aws-usage.js';
import { writeBenchmarksSection } from '../../../bench/benchmarks-file.js';
import {
  costPerMillion,
  PLATFORM_LOG_BYTES,
  PRICES,
  platformLogBytesPerInvocation,
} from '../../../bench/cost.js';
import { PAYMENTS_TABLE } from '../../../lambdas/definitions.js';

const s = (value: string) => ({ S: value });
const { pendingIndex, referenceIndex, gatewayPaymentIdIndex } = PAYMENTS_TABLE;

describe('itemBytes', () => {
  it("follows DynamoDB's sizing: names plus values, numbers by digit pairs, maps and lists with overhead", () => {
    expect(itemBytes({ pk: s('abc') })).toBe(5);
    expect(itemBytes({ n: { N: '12345' } })).toBe(1 + 4);
    expect(itemBytes({ ok: { BOOL: true }, none: { NULL: true } })).toBe(2 + 1 + 4 + 1);
    expect(itemBytes({ m: { M: { a: s('xy') } } })).toBe(1 + 3 + 1 + 1 + 2);
    expect(itemBytes({ l: { L: [s('x'), s('yz')] } })).toBe(1 + 3 + (1 + 1) + (1 + 2));
    expect(itemBytes(undefined)).toBe(0);
  });
});

describe('indexWriteUnits (payments table)', () => {
  const base = { pk: s('stripe#pi_1'), sk: s('payment') };
  const keys = {
    [referenceIndex.partitionKey]: s('stripe#ORDER-1'),
    [gatewayPaymentIdIndex.partitionKey]: s('stripe#pi_1'),
  };
  const pending = {
    [pendingIndex.partitionKey]: s('stripe'),
    [pendingIndex.sortKey]: s('2026-11-24T00:00:00Z'),
  };
  const big = { blob: s('x'.repeat(2500)) };

  it('charges one unit per keys-only index an item enters, and nothing while its keys stay the same', () => {
    expect(indexWriteUnits(undefined, { ...base, ...keys })).toBe(2);
    expect(indexWriteUnits({ ...base, ...keys }, { ...base, ...keys, status: s('succeeded') })).toBe(0);
  });

  it("charges the whole item's size for the all-attributes pending index, entering, staying or leaving", () => {
    const item = { ...base, ...pending, ...big };
    expect(indexWriteUnits(undefined, item)).toBe(3);
    expect(indexWriteUnits(item, { ...item, status: s('pending') })).toBe(3);
    expect(indexWriteUnits(item, { ...base, ...big })).toBe(3);
  });

  it('charges a delete and a put when an index key changes', () => {
    const moved = { ...keys, [referenceIndex.partitionKey]: s('stripe#ORDER-2') };
    expect(indexWriteUnits({ ...base, ...keys }, { ...base, ...moved })).toBe(2);
  });
});

describe('costPerMillion', () => {
  it('turns counts into units per webhook and dollars per million, the API priced per request', () => {
    const usage = {
      ...emptyUsage(),
      sqsBilledRequests: { SendMessage: 1000, ReceiveMessage: 100, DeleteMessageBatch: 100 },
      dynamoReadUnits: 1000,
      dynamoWriteUnits: 4000,
      dynamoIndexWriteUnits: 2000,
      eventBridgeBilledEvents: 1000,
      ingestInvocations: 1000,
      ingestBilledMs: 10_000,
      consumerInvocations: 100,
      consumerBilledMs: 10_000,
    };
    const cost = costPerMillion(usage, 1000, 1000 * 1024);
    const line = (prefix: string) => cost.lines.find((entry) => entry.item.startsWith(prefix));
    expect(line('SQS')?.perWebhook).toBe(1.2);
    expect(line('SQS')?.dollarsPerMillionWebhooks).toBeCloseTo(1.2 * PRICES.sqsRequests.perMillion);
    expect(line('DynamoDB writes')?.perWebhook).toBe(6);
    expect(line('Lambda invocations')?.perWebhook).toBe(1.1);
    // 20 s at 0.5 GB over 1,000 webhooks: 0.01 GB-s each.
    expect(line('Lambda duration')?.perWebhook).toBeCloseTo(0.01);
    // 1 KB of logs per webhook: a million of them is about 0.95 GB, at $0.50 per GB.
    expect(line('CloudWatch Logs ingestion')?.dollarsPerMillionWebhooks).toBeCloseTo(
      (1e6 * 1024 * 0.5) / 2 ** 30,
      5,
    );
    // Lambda's start and report records are not sent at the functions' system log level (WARN).
    expect(line("CloudWatch Logs: Lambda's platform records")?.perWebhook).toBe(0);
    const sum = cost.lines.reduce((total, entry) => total + entry.dollarsPerMillionWebhooks, 0);
    expect(cost.pipelineDollars).toBeCloseTo(sum);
    expect(cost.totalWithHttpApi - cost.pipelineDollars).toBeCloseTo(1.0);
    expect(cost.totalWithRestApi - cost.pipelineDollars).toBeCloseTo(3.5);
  });
});

describe('writeBenchmarksSection', () => {
  it("rewrites one command's section and keeps the other's", () => {
    const file = join(mkdtempSync(join(tmpdir(), 'payhook-benchmarks-')), 'BENCHMARKS.md');
    writeBenchmarksSection('soak', '# Soak\nfirst', file);
    expect(readFileSync(file, 'utf8')).toContain('has not written its results yet');
    writeBenchmarksSection('bench', '# Bench\none', file);
    writeBenchmarksSection('soak', '# Soak\nsecond', file);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('# Bench\none');
    expect(text).toContain('# Soak\nsecond');
    expect(text).not.toContain('first');
    expect(text.indexOf('# Bench')).toBeLessThan(text.indexOf('# Soak'));
  });

  it('replaces a file written before the sections existed', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'payhook-benchmarks-')), 'BENCHMARKS.md');
    writeFileSync(file, '# old hand-written text\n');
    writeBenchmarksSection('bench', '# Bench', file);
    expect(readFileSync(file, 'utf8')).not.toContain('old hand-written');
  });
});

describe('itemBytes on plain values (as the document client passes them)', () => {
  it('counts a plain item as its marshalled form would', () => {
    const plain = { pk: 'abc', n: 12345, ok: true, none: null, m: { a: 'xy' }, l: ['x', 'yz'] };
    const marshalled = {
      pk: { S: 'abc' },
      n: { N: '12345' },
      ok: { BOOL: true },
      none: { NULL: true },
      m: { M: { a: { S: 'xy' } } },
      l: { L: [{ S: 'x' }, { S: 'yz' }] },
    };
    expect(itemBytes(plain)).toBe(itemBytes(marshalled));
    expect(itemBytes({ blob: 'x'.repeat(2500) })).toBe(2504);
  });
});

describe('platformLogBytesPerInvocation', () => {
  it("counts Lambda's start and report records at INFO and DEBUG, none at WARN (the functions' level)", () => {
    expect(platformLogBytesPerInvocation('INFO')).toBe(PLATFORM_LOG_BYTES);
    expect(platformLogBytesPerInvocation('DEBUG')).toBe(PLATFORM_LOG_BYTES);
    expect(platformLogBytesPerInvocation('WARN')).toBe(0);
    expect(platformLogBytesPerInvocation()).toBe(0);
  });
});
