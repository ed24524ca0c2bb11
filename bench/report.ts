/** Turns one run's results into `bench/results.json` and `BENCHMARKS.md`. */
import { cpus, loadavg, totalmem } from 'node:os';
import type { BundleResults } from './bundles.js';
import { PRICES } from './cost.js';
import type { CpuResults, CpuRow } from './cpu.js';
import type { FuzzResults } from './fuzz.js';
import type { PriorityResults } from './priority.js';
import type { Percentiles, ThroughputResults } from './throughput.js';

export interface Machine {
  readonly cores: number;
  readonly model: string;
  readonly node: string;
  readonly platform: string;
  readonly memoryGiB: number;
  readonly date: string;
  /** 1-minute load average when the run started: other work on the machine skews every figure. */
  readonly loadAverageAtStart: number;
}

export interface BenchResults {
  readonly machine: Machine;
  readonly durationSeconds: number;
  readonly cpu?: CpuResults;
  readonly bundles?: BundleResults;
  readonly throughput?: ThroughputResults;
  readonly priority?: PriorityResults;
  readonly fuzz?: FuzzResults;
  /** Sections that were skipped or failed, with the reason. */
  readonly notRun: Readonly<Record<string, string>>;
}

export function describeMachine(): Machine {
  const list = cpus();
  return {
    cores: list.length,
    model: list[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    date: new Date().toISOString(),
    loadAverageAtStart: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}

/** JSON with bigint-free numbers rounded to something readable. */
export function resultsJson(results: BenchResults): string {
  return `${JSON.stringify(
    results,
    (_key, value: unknown) =>
      typeof value === 'number' && !Number.isInteger(value) ? Math.round(value * 1000) / 1000 : value,
    2,
  )}\n`;
}

const us = (value: number) => value.toFixed(1);
const ms = (value: number) => value.toFixed(1);
const ratio = (value: number) => `${value.toFixed(1)}×`;

function cpuTable(rows: readonly CpuRow[], firstColumn: string): string[] {
  return [
    `| ${firstColumn} | what is measured | body bytes | µs / event | reference µs / event | ratio |`,
    '|---|---|---:|---:|---:|---:|',
    ...rows.map(
      (row) =>
        `| ${row.name} | ${row.subject} | ${row.bodyBytes} | ${us(row.microsPerEvent)} | ${us(row.referenceMicrosPerEvent)} | ${ratio(row.ratio)} |`,
    ),
  ];
}

function percentileRow(name: string, p: Percentiles, reference?: Percentiles): string {
  const cell = (value: number, ref?: number) => (ref === undefined ? ms(value) : `${ms(value)} (${ms(ref)})`);
  return `| ${name} | ${cell(p.p50, reference?.p50)} | ${cell(p.p95, reference?.p95)} | ${cell(p.p99, reference?.p99)} | ${cell(p.max, reference?.max)} |`;
}

export function markdown(results: BenchResults): string {
  const { machine } = results;
  const lines: string[] = [
    '# payhook benchmarks',
    '',
    'What payhook costs per webhook on one machine, each figure next to a reference measured in the same run, so the',
    'ratio says how far the code is from the floor it cannot go below. These are numbers from a laptop-class machine,',
    'not from AWS: the CPU figures carry over roughly (Lambda arm64 CPUs differ), the init and throughput figures are',
    'stand-ins only.',
    '',
    'Run it with `npm run bench` (`npx tsx bench/run.ts`); it rewrites this section and `bench/results.json` (the soak',
    "section below is `npm run soak`'s). Options: `--only cpu,bundles,throughput,priority,fuzz`, `--iterations 20000`,",
    '`--rounds 5`, `--init-runs 5`, `--webhooks 10000`, `--concurrency 32`, `--workers 2`, `--backlog 10000`,',
    '`--fuzz-runs 10000`. The whole run takes about three minutes on 2 cores.',
    '',
    `Machine: ${machine.cores} × ${machine.model}, ${machine.memoryGiB} GiB, ${machine.platform}, Node ${machine.node}.`,
    `Run: ${machine.date}, ${results.durationSeconds.toFixed(0)} s, 1-minute load average ${machine.loadAverageAtStart} at the start`,
    '(the machine is shared: other work running at the same time inflates every figure, references included).',
    '',
  ];

  const { cpu, bundles, throughput } = results;
  if (cpu) {
    lines.push(
      '## 1. CPU per event',
      '',
      `Median of ${cpu.options.rounds} rounds of ${cpu.options.iterations.toLocaleString('en')} calls each, after`,
      `${cpu.options.warmup.toLocaleString('en')} warm-up calls; subject and reference rounds alternate. In-process, no I/O.`,
      '',
      '### Ingest: `adapter.verify` + `adapter.normalise` per gateway',
      '',
      "Each gateway's main success sample (`DEFAULT_SAMPLES`), signed by its signer. The reference is the floor for the",
      'same bytes: the HMAC the scheme requires, one constant-time compare with the header and `JSON.parse` of the body',
      "(Adyen: `JSON.parse`, then the HMAC over each item's signed fields). The queue call is not included.",
      '',
      ...cpuTable(cpu.ingest, 'gateway'),
      '',
      '### Consumer: the pure core',
      '',
      'The Paystack main sample normalised, as a queue message. `decide` runs with no stored record (the first event of',
      'a payment); the second row adds `readWebhookEventMessage`, i.e. all the consumer does before its first DynamoDB call.',
      '',
      ...cpuTable(cpu.consumer, 'step'),
      '',
    );
  }
  if (bundles) {
    lines.push(
      '## 2. Bundles: size and module init',
      '',
      `Each function entry built with the esbuild JS API and the settings of \`lib/payhook-function.ts\`: ${bundles.settings}.`,
      "Init is a **stand-in for Lambda's init phase on this machine's Node**, not a Lambda cold start: a fresh `node`",
      'child process imports the bundle (top level run with dummy queue URLs, table names and the dev secrets file; no',
      'network call is made at import) and reports the `import()` time; the reference is a hello-world handler module',
      `imported the same way. Median of ${bundles.rows[0]?.initRunsMs.length ?? 0} runs each, interleaved, after one`,
      'untimed import of each.',
      '',
      '| entry | bundle bytes | source map bytes | init ms | hello-world init ms | ratio |',
      '|---|---:|---:|---:|---:|---:|',
      ...bundles.rows.map(
        (row) =>
          `| \`${row.entry}\` | ${row.bytes.toLocaleString('en')} | ${row.sourceMapBytes.toLocaleString('en')} | ${ms(row.initMs)} | ${ms(row.referenceInitMs)} | ${ratio(row.ratio)} |`,
      ),
      '',
    );
  }
  if (throughput) {
    const t = throughput;
    const other = Object.entries(t.otherStatuses)
      .map(([status, count]) => `${count} × ${status}`)
      .join(', ');
    lines.push(
      '## 3. Local end to end',
      '',
      `The local stack (\`startLocalStack\`) in this process: dynalite in memory, fauxqs, the real ingest handler over`,
      `HTTP, ${t.options.workersPerQueue} poller(s) per queue into the real consumers. The client, in the same process,`,
      `sends **${t.sent.toLocaleString('en')} webhooks** (\`--webhooks\` changes it) at concurrency`,
      `${t.options.concurrency}, rotating over the seven gateways' main success samples,`,
      'each a fresh payment (`freshCopy`) and signed. 35 warm-up webhooks go first, untimed. Client, emulators, ingest',
      `and consumers share ${results.machine.cores} cores, so these are a floor for what the code does, not a forecast`,
      "of AWS. The handlers' structured log lines are written but dropped (not printed).",
      '',
      'The reference is a trivial HTTP server in the same process (reads the body, answers `{"received":true}`),',
      'driven by the same client with the same bodies.',
      '',
      '| figure | payhook | reference | ratio |',
      '|---|---:|---:|---:|',
      `| webhooks answered 200 per second | ${t.acceptedPerSecond.toFixed(0)} | ${t.referencePerSecond.toFixed(0)} | ${t.ratio.toFixed(2)} |`,
      `| payments applied per second (first send to last event published) | ${t.appliedPerSecond.toFixed(0)} | — | — |`,
      '',
      `${t.answered200} of ${t.sent} answered 200${other ? ` (${other})` : ''}; ${t.applied} reached \`succeeded\` within`,
      `${(t.options.drainTimeoutMs / 1000).toFixed(0)} s of the last answer.`,
      '',
      'Latency, milliseconds (reference in brackets):',
      '',
      '| figure | p50 | p95 | p99 | max |',
      '|---|---:|---:|---:|---:|',
      percentileRow('request round trip (send to 200)', t.requestLatencyMs, t.referenceRequestLatencyMs),
      ...(t.acceptedToAppliedMs
        ? [
            percentileRow(
              `accepted → applied under load (${t.applied} webhooks; 200 answer to \`payment.succeeded\` published)`,
              t.acceptedToAppliedMs,
            ),
          ]
        : []),
      ...(t.idleAcceptedToAppliedMs
        ? [
            percentileRow(
              `accepted → applied unloaded (${t.idleApplied} of ${t.idleWebhooks} webhooks sent one at a time)`,
              t.idleAcceptedToAppliedMs,
            ),
          ]
        : []),
      '',
      'Accepted → applied is read from the local events file (`publishedAt`, millisecond resolution, the same clock as',
      'the client); the event is published right after the payment record is written. It includes the time a message',
      'waits on the queue while the consumers catch up, so under load it grows with the backlog (ingest outran the',
      'consumers in this run): a figure of this run, not a property of one webhook. The unloaded row is that property:',
      'after the load run has drained, webhooks are sent one at a time, 50 ms apart, with the queues empty.',
      '',
    );
  }

  if (throughput) lines.push(...costSection(throughput));
  if (results.priority) lines.push(...prioritySection(results.priority));
  if (results.fuzz) lines.push(...fuzzSection(results.fuzz));

  lines.push(
    '## Not measured',
    '',
    '- Anything on real AWS: Lambda cold starts, API Gateway, SQS and DynamoDB latency, the event source',
    "  mapping's scaling. The figures above come from emulators on one machine.",
    '- Secrets Manager calls: ingest caches each secret per function instance (Powertools parameters), so they',
    '  cost per instance and hour, not per webhook; the local stack reads the secrets file instead.',
  );
  for (const [section, reason] of Object.entries(results.notRun)) {
    lines.push(`- \`${section}\` was not run in this run: ${reason}`);
  }
  lines.push('');
  return lines.join('\n');
}

const dollars = (value: number) => `$${value.toFixed(2)}`;
const units = (value: number) => (value >= 10 ? value.toFixed(1) : value.toFixed(3));

function costSection(t: ThroughputResults): string[] {
  const { usage, cost } = t;
  const sqs = Object.entries(usage.sqsRequests)
    .map(([operation, count]) => `${operation} ${(count / cost.webhooks).toFixed(3)}`)
    .join(', ');
  const dynamo = Object.entries(usage.dynamoCalls)
    .map(([operation, count]) => `${operation} ${(count / cost.webhooks).toFixed(2)}`)
    .join(', ');
  return [
    '## 4. AWS calls per webhook, and what a million cost',
    '',
    `Counted during the ${cost.webhooks.toLocaleString('en')}-webhook run of section 3, from the first timed webhook`,
    'until the queues were empty again, by SDK middleware on the same clients the handlers use (`bench/aws-usage.ts`)',
    "and by the local stack's hooks for what has no AWS client locally (the publisher standing in for EventBridge,",
    'the handlers as Lambda would invoke them). DynamoDB units are `ReturnConsumedCapacity: TOTAL` as the emulator',
    "reports them, plus the payments table's index writes and refused conditional writes, which it leaves out.",
    "Lambda duration is each invocation's wall time here, rounded up to the millisecond: against emulators on a shared",
    '2-core machine under load, so an estimate, probably high for ingest. Prices: `PRICES` in `bench/cost.ts`.',
    '',
    `- SQS requests per webhook (64 KB units, receives that returned messages): ${sqs}; plus`,
    `  ${usage.emptyReceives} empty receives over the whole run (idle polling: a cost per hour, not per webhook).`,
    `- DynamoDB calls per webhook: ${dynamo}; ${usage.dynamoFailedConditionalWrites} refused conditional writes.`,
    `- Lambda: ${usage.ingestInvocations.toLocaleString('en')} ingest invocations (${(usage.ingestBilledMs / Math.max(1, usage.ingestInvocations)).toFixed(1)} ms each),`,
    `  ${usage.consumerInvocations.toLocaleString('en')} consumer invocations of ${(usage.consumerRecords / Math.max(1, usage.consumerInvocations)).toFixed(1)} records on average`,
    `  (${(usage.consumerBilledMs / Math.max(1, usage.consumerInvocations)).toFixed(1)} ms each). Logs: ${(t.logBytes / cost.webhooks).toFixed(0)} bytes per webhook.`,
    '',
    '| item | per webhook | unit | $ per million webhooks |',
    '|---|---:|---|---:|',
    ...cost.lines.map(
      (line) =>
        `| ${line.item} | ${units(line.perWebhook)} | ${line.unit} | ${dollars(line.dollarsPerMillionWebhooks)} |`,
    ),
    `| **pipeline** | | | **${dollars(cost.pipelineDollars)}** |`,
    `| + HTTP API ($${PRICES.httpApi.perMillion.toFixed(2)}/M requests) | 1 | request | **${dollars(cost.totalWithHttpApi)}** |`,
    `| + REST API ($${PRICES.restApi.perMillion.toFixed(2)}/M requests) | 1 | request | **${dollars(cost.totalWithRestApi)}** |`,
    '',
    'Every webhook in this run is a first delivery of a new payment that succeeds (one money-in fact, one event): the',
    'expensive case. A duplicate stops at its idempotency record (one refused conditional write, no payment write, no',
    'event). Fixed monthly costs come on top: Secrets Manager ($0.40 per secret), alarms, the dashboard and idle',
    'polling.',
    '',
  ];
}

function prioritySection(p: PriorityResults): string[] {
  const row = (name: string, value: Percentiles | null, applied: number) =>
    value
      ? `| ${name} | ${applied} | ${ms(value.p50)} | ${ms(value.p95)} | ${ms(value.p99)} | ${ms(value.max)} |`
      : `| ${name} | ${applied} | — | — | — | — |`;
  const ratioOfMedians =
    p.idle && p.loaded && p.idle.p50 > 0
      ? ` (${(p.loaded.p50 / p.idle.p50).toFixed(1)}× the idle median)`
      : '';
  return [
    '## 5. Priority: high-priority latency behind a low-priority backlog',
    '',
    `${p.options.probes} high-priority webhooks (main success samples, fresh payments) sent one at a time, 100 ms apart, on`,
    `the idle local stack; then ${p.options.backlog.toLocaleString('en')} low-priority webhooks (${p.lowSamples.join(', ')}) sent at`,
    `concurrency ${p.options.concurrency} (${p.backlogAccepted.toLocaleString('en')} accepted), and the same number of high-priority webhooks sent`,
    `again at once, while ${p.lowQueuedAtStart.toLocaleString('en')} low-priority messages were still queued (${p.lowQueuedAtEnd.toLocaleString('en')} when the last`,
    `was sent). ${p.options.workersPerQueue} poller(s) per queue. Accepted → applied, milliseconds${ratioOfMedians}:`,
    '',
    '| condition | applied | p50 | p95 | p99 | max |',
    '|---|---:|---:|---:|---:|---:|',
    row('idle stack', p.idle, p.idleApplied),
    row(`${p.lowQueuedAtStart.toLocaleString('en')} low-priority queued`, p.loaded, p.loadedApplied),
    '',
    'Each priority has its own queue and consumers, so the backlog never sits in front of a payment; what remains is',
    "the machine's 2 cores shared with the low-priority consumers working through their queue.",
    '',
  ];
}

function fuzzSection(f: FuzzResults): string[] {
  return [
    '## 6. Fuzzing the edge',
    '',
    `The property tests of \`test/property\` run with **${f.options.runsPerProperty.toLocaleString('en')} cases per property** (the test suite runs 150):`,
    'arbitrary bodies (JSON, text, bytes), signature-like headers of every scheme, base64 and plain encodings, and',
    'signature timestamps inside and outside the tolerance, against the real ingest handler and adapters. A property',
    'fails on an unhandled error, a 5xx, or anything queued without a valid signature.',
    `${f.passed} passed, ${f.failed} failed, ${f.seconds.toFixed(0)} s. Cases per gateway: ${Object.entries(
      f.casesPerGateway,
    )
      .map(([gateway, cases]) => `${gateway} ${cases.toLocaleString('en')}`)
      .join(', ')}.`,
    '',
    '| property | result | seconds |',
    '|---|---|---:|',
    ...f.properties.map(
      (property) =>
        `| ${property.name.replace(/\|/g, '\\|')} | ${property.status} | ${(property.durationMs / 1000).toFixed(1)} |`,
    ),
    ...f.properties
      .filter((property) => property.failure)
      .flatMap((property) => [
        '',
        `Failure of "${property.name}":`,
        '',
        '```',
        property.failure ?? '',
        '```',
      ]),
    '',
  ];
}
