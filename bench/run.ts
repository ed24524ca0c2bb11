/**
 * `npm run bench`: runs the benchmarks and writes `BENCHMARKS.md` and `bench/results.json`.
 *
 *   npx tsx bench/run.ts [--only cpu,bundles,throughput,priority,fuzz,deliveries,fixed] [--iterations 20000] [--rounds 5]
 *                        [--init-runs 11] [--webhooks 10000] [--concurrency 32] [--workers 2] [--backlog 10000] [--render]
 *                        [--fuzz-runs 10000] [--deliveries 1000] [--delivery-rate 20] [--prefilled 2000]
 *                        [--node24 <path to a Node 24 binary>]   (or PAYHOOK_BENCH_NODE24: section 1 on Node 24 too)
 *
 * With `--only`, the sections left out keep their figures from the previous `bench/results.json` (marked in both files
 * with the date of the run that measured them), so one section can be re-run without losing the others.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeBenchmarksSection } from './benchmarks-file.js';
import { type BundleResults, measureBundles } from './bundles.js';
import { type CpuResults, measureCpu, measureCpuOnNode } from './cpu.js';
import { type DeliveriesResults, deliveriesFailures, measureDeliveries } from './deliveries.js';
import { type FixedMonthlyResults, measureFixedMonthly } from './fixed-cost.js';
import { type FuzzResults, measureFuzz } from './fuzz.js';
import { measurePriority, type PriorityResults } from './priority.js';
import {
  type BenchResults,
  describeMachine,
  keepSections,
  markdown,
  resultsJson,
  type SectionName,
} from './report.js';
import { measureThroughput, type ThroughputResults } from './throughput.js';

const SECTIONS = [
  'cpu',
  'bundles',
  'throughput',
  'priority',
  'fuzz',
  'deliveries',
  // Cheap (no emulators): the template synthesised in-process and list prices.
  'fixed',
] as const satisfies readonly SectionName[];
type Section = (typeof SECTIONS)[number];

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The previous run's results, if there are any that parse: the source of the sections `--only` leaves out. */
function previousResults(file: string): Partial<BenchResults> | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Partial<BenchResults>;
  } catch {
    return undefined;
  }
}

function positiveInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`--${name} must be a positive integer`);
  return parsed;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      iterations: { type: 'string' },
      rounds: { type: 'string' },
      'init-runs': { type: 'string' },
      webhooks: { type: 'string' },
      concurrency: { type: 'string' },
      workers: { type: 'string' },
      backlog: { type: 'string' },
      'fuzz-runs': { type: 'string' },
      deliveries: { type: 'string' },
      'delivery-rate': { type: 'string' },
      prefilled: { type: 'string' },
      node24: { type: 'string' },
      render: { type: 'boolean' },
    },
  });
  const resultsFile = join(ROOT, 'bench', 'results.json');
  if (values.render) {
    // The last run's figures written again, nothing measured: for a change to the report's wording alone.
    writeBenchmarksSection('bench', markdown(JSON.parse(readFileSync(resultsFile, 'utf8')) as BenchResults));
    process.stderr.write('rewrote BENCHMARKS.md from bench/results.json (nothing measured)\n');
    return;
  }
  const node24 = values.node24 ?? process.env.PAYHOOK_BENCH_NODE24;
  const only = (values.only?.split(',').map((s) => s.trim()) ?? [...SECTIONS]) as Section[];
  for (const section of only) {
    if (!SECTIONS.includes(section)) throw new Error(`unknown section "${section}" (${SECTIONS.join(', ')})`);
  }
  // Progress on stderr: stdout is where the handlers' log lines go.
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const started = Date.now();
  const machine = describeMachine();
  log(`payhook bench on ${machine.cores} × ${machine.model}, Node ${machine.node}`);

  const previous = values.only === undefined ? undefined : previousResults(resultsFile);
  // Sections left out with --only keep the previous run's figures, marked with the date they were measured.
  const { carried, carriedOver, notRun } = keepSections(
    previous,
    SECTIONS.filter((section) => !only.includes(section)),
  );
  let cpu: CpuResults | undefined;
  let bundles: BundleResults | undefined;
  let throughput: ThroughputResults | undefined;
  let priority: PriorityResults | undefined;
  let fuzz: FuzzResults | undefined;
  let deliveries: DeliveriesResults | undefined;
  let fixedMonthly: FixedMonthlyResults | undefined;
  for (const section of SECTIONS) {
    if (!only.includes(section)) continue;
    try {
      if (section === 'cpu') {
        const cpuOptions = {
          iterations: positiveInteger('iterations', values.iterations, 20_000),
          rounds: positiveInteger('rounds', values.rounds, 5),
          warmup: 2_000,
        };
        cpu = measureCpu(cpuOptions, log);
        // The Lambda runtime's major, in a child process of its own, when a binary is given.
        if (node24) cpu = { ...cpu, node24: measureCpuOnNode(node24, cpuOptions) };
      } else if (section === 'bundles') {
        bundles = await measureBundles(
          { initRuns: positiveInteger('init-runs', values['init-runs'], 11) },
          log,
        );
      } else if (section === 'throughput') {
        throughput = await measureThroughput(
          {
            webhooks: positiveInteger('webhooks', values.webhooks, 10_000),
            concurrency: positiveInteger('concurrency', values.concurrency, 32),
            workersPerQueue: positiveInteger('workers', values.workers, 2),
            drainTimeoutMs: 300_000,
          },
          log,
        );
      } else if (section === 'priority') {
        priority = await measurePriority(
          {
            backlog: positiveInteger('backlog', values.backlog, 10_000),
            probes: 200,
            concurrency: positiveInteger('concurrency', values.concurrency, 32),
            workersPerQueue: positiveInteger('workers', values.workers, 2),
          },
          log,
        );
      } else if (section === 'deliveries') {
        deliveries = await measureDeliveries(
          {
            deliveries: positiveInteger('deliveries', values.deliveries, 1000),
            ratePerSecond: positiveInteger('delivery-rate', values['delivery-rate'], 20),
            concurrency: positiveInteger('concurrency', values.concurrency, 32),
            workersPerQueue: positiveInteger('workers', values.workers, 2),
            prefilled: positiveInteger('prefilled', values.prefilled, 2000),
          },
          log,
        );
        const failures = deliveriesFailures(deliveries);
        if (failures.length > 0) notRun.deliveries = `failed: ${failures.join('; ')}`;
      } else if (section === 'fixed') {
        fixedMonthly = await measureFixedMonthly(log);
      } else {
        fuzz = measureFuzz(
          { runsPerProperty: positiveInteger('fuzz-runs', values['fuzz-runs'], 10_000) },
          log,
        );
        if (fuzz.failed > 0) notRun.fuzz = `failed: ${fuzz.failed} propert(ies) failed (see the table)`;
      }
    } catch (error) {
      notRun[section] = `failed: ${(error as Error).message.split('\n')[0]}`;
      log(`${section} failed: ${(error as Error).stack ?? String(error)}`);
    }
  }

  const results: BenchResults = {
    machine,
    durationSeconds: (Date.now() - started) / 1000,
    ...carried,
    ...(cpu && { cpu }),
    ...(bundles && { bundles }),
    ...(throughput && { throughput }),
    ...(priority && { priority }),
    ...(fuzz && { fuzz }),
    ...(deliveries && { deliveries }),
    ...(fixedMonthly && { fixedMonthly }),
    ...(Object.keys(carriedOver).length > 0 && { carriedOver }),
    notRun,
  };
  writeFileSync(resultsFile, resultsJson(results));
  // In the repo's JSON style, so `npm run lint` stays clean after a run.
  spawnSync(join(ROOT, 'node_modules', '.bin', 'biome'), ['format', '--write', resultsFile], { cwd: ROOT });
  writeBenchmarksSection('bench', markdown(results));
  log(`wrote BENCHMARKS.md and bench/results.json in ${results.durationSeconds.toFixed(0)} s`);
  // Only what this run measured decides its exit code, not a failure kept from an earlier run.
  if (only.some((section) => notRun[section]?.startsWith('failed'))) process.exitCode = 1;
}

await main();
