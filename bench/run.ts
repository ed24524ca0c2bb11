/**
 * `npm run bench`: runs the benchmarks and writes `BENCHMARKS.md` and `bench/results.json`.
 *
 *   npx tsx bench/run.ts [--only cpu,bundles,throughput,priority,fuzz] [--iterations 20000] [--rounds 5]
 *                        [--init-runs 5] [--webhooks 10000] [--concurrency 32] [--workers 2] [--backlog 10000]
 *                        [--fuzz-runs 10000]
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeBenchmarksSection } from './benchmarks-file.js';
import { type BundleResults, measureBundles } from './bundles.js';
import { type CpuResults, measureCpu } from './cpu.js';
import { type FuzzResults, measureFuzz } from './fuzz.js';
import { measurePriority, type PriorityResults } from './priority.js';
import { type BenchResults, describeMachine, markdown, resultsJson } from './report.js';
import { measureThroughput, type ThroughputResults } from './throughput.js';

const SECTIONS = ['cpu', 'bundles', 'throughput', 'priority', 'fuzz'] as const;
type Section = (typeof SECTIONS)[number];

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

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
    },
  });
  const only = (values.only?.split(',').map((s) => s.trim()) ?? [...SECTIONS]) as Section[];
  for (const section of only) {
    if (!SECTIONS.includes(section)) throw new Error(`unknown section "${section}" (${SECTIONS.join(', ')})`);
  }
  // Progress on stderr: stdout is where the handlers' log lines go.
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const started = Date.now();
  const machine = describeMachine();
  log(`payhook bench on ${machine.cores} × ${machine.model}, Node ${machine.node}`);

  const notRun: Record<string, string> = {};
  let cpu: CpuResults | undefined;
  let bundles: BundleResults | undefined;
  let throughput: ThroughputResults | undefined;
  let priority: PriorityResults | undefined;
  let fuzz: FuzzResults | undefined;
  for (const section of SECTIONS) {
    if (!only.includes(section)) {
      notRun[section] = 'left out with --only';
      continue;
    }
    try {
      if (section === 'cpu') {
        cpu = measureCpu(
          {
            iterations: positiveInteger('iterations', values.iterations, 20_000),
            rounds: positiveInteger('rounds', values.rounds, 5),
            warmup: 2_000,
          },
          log,
        );
      } else if (section === 'bundles') {
        bundles = await measureBundles(
          { initRuns: positiveInteger('init-runs', values['init-runs'], 5) },
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
            probes: 50,
            concurrency: positiveInteger('concurrency', values.concurrency, 32),
            workersPerQueue: positiveInteger('workers', values.workers, 2),
          },
          log,
        );
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
    ...(cpu && { cpu }),
    ...(bundles && { bundles }),
    ...(throughput && { throughput }),
    ...(priority && { priority }),
    ...(fuzz && { fuzz }),
    notRun,
  };
  const resultsFile = join(ROOT, 'bench', 'results.json');
  writeFileSync(resultsFile, resultsJson(results));
  // In the repo's JSON style, so `npm run lint` stays clean after a run.
  spawnSync(join(ROOT, 'node_modules', '.bin', 'biome'), ['format', '--write', resultsFile], { cwd: ROOT });
  writeBenchmarksSection('bench', markdown(results));
  log(`wrote BENCHMARKS.md and bench/results.json in ${results.durationSeconds.toFixed(0)} s`);
  if (Object.values(notRun).some((reason) => reason.startsWith('failed'))) process.exitCode = 1;
}

await main();
