import type { BenchResults } from './report.js';

/**
 * Issue #20's six targets, each figure next to its target, read from one run's results (`bench/results.json`): what
 * BENCHMARKS.md opens with. A figure the run did not measure says so; nothing here is measured, only compared.
 */
export interface TargetRow {
  readonly target: string;
  readonly goal: string;
  readonly figure: string;
  /** `undefined`: not measured in this run. */
  readonly met: boolean | undefined;
}

const COST_PER_MILLION_TARGET = 6;
const CPU_RATIO_TARGET = 3;
export const APPLIED_TO_ANSWERED_TARGET = 0.6;
/** Issue #20's baseline for webhooks answered per second (main at d99c9a5, same machine). */
export const ANSWERED_BASELINE = 463;
const PRIORITY_RATIO_TARGET = 3;
const PRIORITY_PROBES = 200;
const PRIORITY_BACKLOG = 10_000;

const worst = (ratios: readonly number[]) => Math.max(...ratios);
const range = (ratios: readonly number[], digits = 1) =>
  `${Math.min(...ratios).toFixed(digits)}-${worst(ratios).toFixed(digits)}×`;

/** The second layout's runs (consumers on a thread of their own), for target 5's figure: each a ratio and its rates. */
function consumersThreadFigure(throughput: NonNullable<BenchResults['throughput']>): string {
  const runs = throughput.consumersThread ?? [];
  if (runs.length === 0) return '';
  const each = runs.map(
    (run) =>
      `${(run.appliedPerSecond / run.answeredPerSecond).toFixed(2)} (${run.appliedPerSecond.toFixed(0)} of ${run.answeredPerSecond.toFixed(0)}/s) with up to ${run.workersPerQueue} pollers a queue`,
  );
  return `; consumers on a thread of their own: ${each.join(', ')}`;
}

export function targetRows(results: BenchResults): TargetRow[] {
  const { cpu, bundles, throughput, priority, fixedMonthly } = results;
  const rows: TargetRow[] = [];
  const cost = throughput?.cost.totalWithHttpApi;
  rows.push({
    target: '1. cost per million webhooks, HTTP API (section 4)',
    goal: `at most $${COST_PER_MILLION_TARGET.toFixed(2)}`,
    figure: cost === undefined ? 'not measured' : `$${cost.toFixed(2)}`,
    met: cost === undefined ? undefined : cost <= COST_PER_MILLION_TARGET,
  });
  rows.push({
    target: '2. fixed monthly cost when idle, two gateways (section 8)',
    goal: fixedMonthly ? `at most $${fixedMonthly.target.toFixed(2)}` : 'at most $10.00',
    figure: fixedMonthly ? `$${fixedMonthly.total.toFixed(2)}` : 'not measured',
    met: fixedMonthly ? fixedMonthly.total <= fixedMonthly.target : undefined,
  });
  const node20 = cpu?.ingest.map((row) => row.ratio) ?? [];
  const node24 = cpu?.node24?.ingest.map((row) => row.ratio) ?? [];
  rows.push({
    target: '3. ingest CPU per gateway, to the HMAC + compare + parse floor (section 1)',
    goal: `at most ${CPU_RATIO_TARGET}× for every gateway, Node 20 and 24`,
    figure:
      node20.length === 0
        ? 'not measured'
        : `Node 20 ${range(node20)}; ${node24.length > 0 ? `Node 24 ${range(node24)}` : 'Node 24 not measured (`--node24`)'}`,
    met:
      node20.length === 0
        ? undefined
        : worst(node20) <= CPU_RATIO_TARGET &&
          (node24.length === 0 ? undefined : worst(node24) <= CPU_RATIO_TARGET),
  });
  const floorRatios = (bundles?.rows ?? []).flatMap((row) =>
    row.floorRatio === undefined ? [] : [row.floorRatio],
  );
  const ingest = bundles?.rows.find((row) => row.entry === 'lambdas/ingest.ts');
  const initTarget = bundles?.targets?.initRatioToFloor ?? 1.5;
  const bytesTarget = bundles?.targets?.ingestBytes ?? 350_000;
  rows.push({
    target: "4. cold start: init to a bundle of the function's SDK clients alone; ingest bundle (section 2)",
    goal: `at most ${initTarget}× for every function; ingest at most ${bytesTarget.toLocaleString('en')} bytes`,
    figure:
      floorRatios.length === 0 || !ingest
        ? 'not measured'
        : `${range(floorRatios, 2)}; ingest ${ingest.bytes.toLocaleString('en')} bytes`,
    met:
      floorRatios.length === 0 || !ingest
        ? undefined
        : worst(floorRatios) <= initTarget && ingest.bytes <= bytesTarget,
  });
  const keepUp = throughput ? throughput.appliedPerSecond / throughput.acceptedPerSecond : undefined;
  rows.push({
    target: '5. consumers keep up, 10,000 webhooks locally (section 3)',
    goal: `applied/s at least ${APPLIED_TO_ANSWERED_TARGET} of answered/s, answered at least ${ANSWERED_BASELINE}/s`,
    figure:
      throughput && keepUp !== undefined
        ? `${keepUp.toFixed(2)} (${throughput.appliedPerSecond.toFixed(0)} of ${throughput.acceptedPerSecond.toFixed(0)}/s)${
            throughput.cpu ? `; the CPU bound on this machine: ${throughput.cpu.ratioBound.toFixed(2)}` : ''
          }${consumersThreadFigure(throughput)}`
        : 'not measured',
    met:
      throughput && keepUp !== undefined
        ? keepUp >= APPLIED_TO_ANSWERED_TARGET && throughput.acceptedPerSecond >= ANSWERED_BASELINE
        : undefined,
  });
  const idleP95 = priority?.idle?.p95;
  const loadedP95 = priority?.loaded?.p95;
  const measured = priority && idleP95 !== undefined && loadedP95 !== undefined;
  const honest =
    measured &&
    priority.idleApplied >= PRIORITY_PROBES &&
    priority.loadedApplied >= PRIORITY_PROBES &&
    (priority.lowQueuedBeforeProbes ?? 0) >= PRIORITY_BACKLOG * 0.95;
  rows.push({
    target: '6. priority: high-priority p95 behind a 10,000-message low backlog, to idle (section 5)',
    goal: `at most ${PRIORITY_RATIO_TARGET}×, ${PRIORITY_PROBES} probes each`,
    figure: measured
      ? `${(loadedP95 / idleP95).toFixed(2)}× (${loadedP95.toFixed(1)} ms / ${idleP95.toFixed(1)} ms; ${priority.loadedApplied} and ${priority.idleApplied} probes, ${(priority.lowQueuedBeforeProbes ?? 0).toLocaleString('en')} queued)`
      : 'not measured',
    met: measured ? honest && loadedP95 / idleP95 <= PRIORITY_RATIO_TARGET : undefined,
  });
  return rows;
}

export function targetsSection(results: BenchResults): string[] {
  const verdict = (met: boolean | undefined) => (met === undefined ? '—' : met ? 'met' : '**not met**');
  return [
    '## Issue #20: every target against its figure',
    '',
    'From the sections below (one run unless a section says it was kept from an earlier one).',
    '',
    '| target | goal | this run | |',
    '|---|---|---|---|',
    ...targetRows(results).map(
      (row) => `| ${row.target} | ${row.goal} | ${row.figure} | ${verdict(row.met)} |`,
    ),
    '',
  ];
}
