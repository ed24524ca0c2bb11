/** Turns one run's results into `bench/results.json` and `BENCHMARKS.md`. */
import { cpus, loadavg, totalmem } from 'node:os';
import type { BundleResults } from './bundles.js';
import type { CpuResults, CpuRow } from './cpu.js';
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
    'Run it with `npm run bench` (`npx tsx bench/run.ts`); it rewrites this file and `bench/results.json`. Options:',
    '`--only cpu,bundles,throughput`, `--iterations 20000`, `--rounds 5`, `--init-runs 5`, `--webhooks 2000`,',
    '`--concurrency 32`, `--workers 2`. The whole run takes about a minute on 2 cores.',
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
      'a payment); the second row adds `parseQueueMessage`, i.e. all the consumer does before its first DynamoDB call.',
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
      `sends **${t.sent.toLocaleString('en')} webhooks** (the default, kept small so the run stays short; \`--webhooks\``,
      `changes it) at concurrency ${t.options.concurrency}, rotating over the seven gateways' main success samples,`,
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

  lines.push(
    '## Not measured yet',
    '',
    '- AWS calls per webhook (SQS, DynamoDB, Secrets Manager, EventBridge) counted from a run, and the cost per',
    '  million webhooks computed from those counts.',
    '- The priority latency test: high-priority latency while the normal and low queues hold a backlog.',
    '- The 10,000-webhook run (this run sends the number above; `--webhooks 10000` does it, but it was not run here).',
    '- The fuzzing volume (how many arbitrary requests the property tests throw at ingest, and at what rate).',
    '- Anything on real AWS: Lambda cold starts, API Gateway and SQS latency.',
  );
  for (const [section, reason] of Object.entries(results.notRun)) {
    lines.push(`- \`${section}\` was not run in this run: ${reason}`);
  }
  lines.push('');
  return lines.join('\n');
}
