import { describe, expect, it } from 'vitest';
import type { BenchResults } from '../../../bench/report.js';
import { targetRows } from '../../../bench/targets.js';

const machine = {
  cores: 2,
  model: 'cpu',
  node: 'v20',
  platform: 'linux x64',
  memoryGiB: 4,
  date: '2026-11-30T00:00:00.000Z',
  loadAverageAtStart: 0,
};

/** Only the fields targetRows reads, cast: the sections' full shapes are the bench's own business. */
function results(partial: Record<string, unknown>): BenchResults {
  return { machine, durationSeconds: 1, notRun: {}, ...partial } as unknown as BenchResults;
}

const cpuRows = (ratios: number[]) => ratios.map((ratio) => ({ ratio }));

describe('targetRows (issue #20)', () => {
  it('says "not measured" for every target a run left out, and claims nothing for it', () => {
    const rows = targetRows(results({}));
    expect(rows).toHaveLength(6);
    for (const row of rows) {
      expect(row.figure).toBe('not measured');
      expect(row.met).toBeUndefined();
    }
  });

  it('meets each target only within its goal, the worst gateway or function deciding', () => {
    const rows = targetRows(
      results({
        throughput: { cost: { totalWithHttpApi: 6.4 }, appliedPerSecond: 300, acceptedPerSecond: 470 },
        fixedMonthly: { target: 10, total: 9.84 },
        cpu: { ingest: cpuRows([1.9, 2.5]), node24: { ingest: cpuRows([1.8, 3.1]) } },
        bundles: {
          targets: { initRatioToFloor: 1.5, ingestBytes: 350_000 },
          rows: [
            { entry: 'lambdas/ingest.ts', bytes: 334_000, floorRatio: 1.4 },
            { entry: 'lambdas/process.ts', bytes: 420_000, floorRatio: 1.2 },
          ],
        },
        priority: {
          idle: { p95: 13 },
          loaded: { p95: 38 },
          idleApplied: 200,
          loadedApplied: 200,
          lowQueuedBeforeProbes: 9_950,
        },
      }),
    );
    expect(rows.map((row) => row.met)).toEqual([false, true, false, true, true, true]);
    expect(rows[2]?.figure).toBe('Node 20 1.9-2.5×; Node 24 1.8-3.1×');
    expect(rows[4]?.figure).toBe('0.64 (300 of 470/s)');
  });

  it('does not count a priority run with fewer probes or a smaller backlog than the issue asks, nor a slower ingest', () => {
    const rows = targetRows(
      results({
        throughput: { cost: { totalWithHttpApi: 5 }, appliedPerSecond: 300, acceptedPerSecond: 450 },
        priority: {
          idle: { p95: 13 },
          loaded: { p95: 20 },
          idleApplied: 50,
          loadedApplied: 50,
          lowQueuedBeforeProbes: 7_300,
        },
      }),
    );
    expect(rows[0]?.met).toBe(true);
    // 0.67 of answered, but answered below the baseline of 463/s.
    expect(rows[4]?.met).toBe(false);
    expect(rows[5]?.met).toBe(false);
  });

  it("shows the consumers' thread runs in target 5's figure, and judges the target on the main run alone", () => {
    const rows = targetRows(
      results({
        throughput: {
          cost: { totalWithHttpApi: 5 },
          appliedPerSecond: 200,
          acceptedPerSecond: 480,
          consumersThread: [
            { workersPerQueue: 2, answeredPerSecond: 440, appliedPerSecond: 230 },
            { workersPerQueue: 20, answeredPerSecond: 470, appliedPerSecond: 290 },
          ],
        },
      }),
    );
    expect(rows[4]?.figure).toBe(
      '0.42 (200 of 480/s); consumers on a thread of their own: 0.52 (230 of 440/s) with up to 2 pollers a queue, 0.62 (290 of 470/s) with up to 20 pollers a queue',
    );
    expect(rows[4]?.met).toBe(false);
  });
});
