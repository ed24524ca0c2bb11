/**
 * Fuzzing the edge at volume: the property tests of `test/property` (arbitrary bodies, headers, encodings and
 * signature timestamps thrown at the real ingest handler: never an unhandled error, never a queued event without a
 * valid signature) run with PAYHOOK_FUZZ_RUNS cases per property instead of the test suite's 150.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GATEWAYS } from '../lambdas/domain/webhook-event.js';

export interface FuzzOptions {
  readonly runsPerProperty: number;
}

export interface FuzzProperty {
  readonly name: string;
  readonly status: string;
  readonly durationMs: number;
  /** What fast-check reported when it failed (the shrunk counterexample), cut short. */
  readonly failure?: string;
}

export interface FuzzResults {
  readonly options: FuzzOptions;
  readonly properties: readonly FuzzProperty[];
  /** Cases run against each gateway (every property naming it, times the runs per property). */
  readonly casesPerGateway: Readonly<Record<string, number>>;
  readonly passed: number;
  readonly failed: number;
  readonly seconds: number;
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

interface VitestJson {
  readonly testResults: readonly {
    readonly assertionResults: readonly {
      readonly fullName: string;
      readonly status: string;
      readonly duration?: number;
      readonly failureMessages?: readonly string[];
    }[];
  }[];
}

export function measureFuzz(
  options: FuzzOptions,
  log: (line: string) => void = () => undefined,
): FuzzResults {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'payhook-fuzz-'));
  const output = join(dir, 'vitest.json');
  try {
    const run = spawnSync(
      join(ROOT, 'node_modules', '.bin', 'vitest'),
      ['run', 'test/property', '--reporter=json', `--outputFile=${output}`, '--testTimeout=1800000'],
      {
        cwd: ROOT,
        env: { ...process.env, PAYHOOK_FUZZ_RUNS: String(options.runsPerProperty) },
        encoding: 'utf8',
        maxBuffer: 64 * 2 ** 20,
      },
    );
    let report: VitestJson;
    try {
      report = JSON.parse(readFileSync(output, 'utf8')) as VitestJson;
    } catch {
      throw new Error(`vitest wrote no report (exit ${run.status}): ${(run.stderr ?? '').slice(-500)}`);
    }
    const properties = report.testResults.flatMap((file) =>
      file.assertionResults.map((result) => ({
        name: result.fullName,
        status: result.status,
        durationMs: result.duration ?? 0,
        ...(result.status !== 'passed' && {
          failure: (result.failureMessages ?? []).join('\n').slice(0, 600),
        }),
      })),
    );
    const casesPerGateway: Record<string, number> = {};
    for (const property of properties) {
      for (const gateway of GATEWAYS) {
        if (new RegExp(`\\b${gateway}\\b`).test(property.name)) {
          casesPerGateway[gateway] = (casesPerGateway[gateway] ?? 0) + options.runsPerProperty;
        }
      }
    }
    const results: FuzzResults = {
      options,
      properties,
      casesPerGateway,
      passed: properties.filter((property) => property.status === 'passed').length,
      failed: properties.filter((property) => property.status !== 'passed').length,
      seconds: (Date.now() - started) / 1000,
    };
    log(
      `fuzz: ${properties.length} properties × ${options.runsPerProperty.toLocaleString('en')} cases, ` +
        `${results.failed} failed, ${results.seconds.toFixed(0)} s`,
    );
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
