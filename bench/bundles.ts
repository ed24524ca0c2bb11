/**
 * Bundle size and module-init time of each Lambda entry, built with the esbuild JS API and the settings of
 * `lib/payhook-function.ts`. Init is timed by importing the bundle in a fresh `node` child process: a stand-in for
 * Lambda's init phase on this machine's Node, not a Lambda cold start.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

/** The same bundling as `PayhookFunction` (lib/payhook-function.ts). */
export const BANNER = "import{createRequire}from'module';const require=createRequire(import.meta.url);";

export const ENTRIES = [
  'lambdas/ingest.ts',
  'lambdas/process.ts',
  'lambdas/reconcile.ts',
  'lambdas/register-payment.ts',
] as const;

export interface BundleOptions {
  /** Child processes per bundle; the median is reported. */
  readonly initRuns: number;
}

export interface BundleRow {
  readonly entry: string;
  readonly bytes: number;
  readonly sourceMapBytes: number;
  /** Median import time of the bundle, milliseconds. */
  readonly initMs: number;
  /** Median import time of a hello-world module timed the same way, milliseconds. */
  readonly referenceInitMs: number;
  readonly ratio: number;
  readonly initRunsMs: readonly number[];
}

export interface BundleResults {
  readonly esbuildTarget: string;
  readonly settings: string;
  readonly helloWorldRunsMs: readonly number[];
  readonly rows: readonly BundleRow[];
}

const MARKER = 'BENCH_INIT_MS ';

/** Imports the module named on the command line and prints how long the import took. */
const TIMER = `import { performance } from 'node:perf_hooks';
const start = performance.now();
const module = await import(process.argv[2]);
const ms = performance.now() - start;
if (typeof module.handler !== 'function') throw new Error('no handler export');
process.stdout.write('\\n${MARKER}' + ms + '\\n');
`;

const HELLO_WORLD = `export const handler = async () => ({ statusCode: 200, body: 'hello' });\n`;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** Dummy values for everything the handlers read at their top level, so the import does not throw. */
function dummyEnvironment(dir: string): Record<string, string> {
  const queue = (name: string) => `https://sqs.eu-west-1.amazonaws.com/123456789012/${name}`;
  return {
    PATH: process.env.PATH ?? '',
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    POWERTOOLS_SERVICE_NAME: 'payhook-bench',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    PAYHOOK_QUEUE_URL_HIGH: queue('payhook-high'),
    PAYHOOK_QUEUE_URL_NORMAL: queue('payhook-normal'),
    PAYHOOK_QUEUE_URL_LOW: queue('payhook-low'),
    PAYHOOK_DLQ_URL_HIGH: queue('payhook-high-dlq'),
    PAYHOOK_DLQ_URL_NORMAL: queue('payhook-normal-dlq'),
    PAYHOOK_DLQ_URL_LOW: queue('payhook-low-dlq'),
    PAYHOOK_SECRETS_FILE: resolve('events/dev-secrets.json'),
    PAYHOOK_PRIORITY: 'high',
    PAYHOOK_QUEUE_URL: queue('payhook-high'),
    PAYHOOK_DLQ_URL: queue('payhook-high-dlq'),
    PAYHOOK_PAYMENTS_TABLE: 'payhook-payments',
    PAYHOOK_IDEMPOTENCY_TABLE: 'payhook-idempotency',
    PAYHOOK_EVENTS_FILE: join(dir, 'payment-events.jsonl'),
  };
}

function timeImport(timer: string, modulePath: string, env: Record<string, string>): number {
  const child = spawnSync(process.execPath, [timer, pathToFileURL(modulePath).href], {
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  const line = child.stdout
    ?.split('\n')
    .find((text) => text.startsWith(MARKER))
    ?.slice(MARKER.length);
  if (child.status !== 0 || line === undefined) {
    throw new Error(`importing ${modulePath} failed (exit ${child.status}): ${child.stderr.slice(0, 2000)}`);
  }
  return Number(line);
}

async function bundle(entry: string, outfile: string, target: string): Promise<void> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target,
    minify: true,
    sourcemap: 'external',
    mainFields: ['module', 'main'],
    banner: { js: BANNER },
    logLevel: 'silent',
  });
}

export async function measureBundles(
  options: BundleOptions,
  log: (line: string) => void = () => undefined,
): Promise<BundleResults> {
  const dir = mkdtempSync(join(tmpdir(), 'payhook-bench-bundles-'));
  const outDir = join(dir, 'out');
  mkdirSync(outDir);
  const timer = join(dir, 'timer.mjs');
  writeFileSync(timer, TIMER);
  const hello = join(outDir, 'hello-world.mjs');
  writeFileSync(hello, HELLO_WORLD);
  const env = dummyEnvironment(dir);

  let target = 'node24';
  const built: { entry: string; file: string }[] = [];
  for (const entry of ENTRIES) {
    const name = entry.replace(/^lambdas\//, '').replace(/\.ts$/, '');
    const file = join(outDir, `${name}.mjs`);
    try {
      await bundle(entry, file, target);
    } catch (error) {
      if (target !== 'node24') throw error;
      log(`esbuild refused node24 (${(error as Error).message.split('\n')[0]}); using node20`);
      target = 'node20';
      await bundle(entry, file, target);
    }
    built.push({ entry, file });
  }

  // One untimed import of each first: the OS file cache is warm for every timed run alike.
  timeImport(timer, hello, env);
  for (const { file } of built) timeImport(timer, file, env);

  const helloWorldRunsMs: number[] = [];
  const runs = new Map<string, number[]>(built.map(({ entry }) => [entry, []]));
  // Interleaved: run i of every bundle and of the hello world are close together in time.
  for (let run = 0; run < options.initRuns; run += 1) {
    helloWorldRunsMs.push(timeImport(timer, hello, env));
    for (const { entry, file } of built) runs.get(entry)?.push(timeImport(timer, file, env));
  }
  const referenceInitMs = median(helloWorldRunsMs);
  const rows = built.map(({ entry, file }): BundleRow => {
    const initRunsMs = runs.get(entry) ?? [];
    const initMs = median(initRunsMs);
    const row = {
      entry,
      bytes: statSync(file).size,
      sourceMapBytes: statSync(`${file}.map`).size,
      initMs,
      referenceInitMs,
      ratio: initMs / referenceInitMs,
      initRunsMs,
    };
    log(`bundle ${entry}: ${row.bytes} B, init ${initMs.toFixed(1)} ms vs ${referenceInitMs.toFixed(1)} ms`);
    return row;
  });
  return {
    esbuildTarget: target,
    settings: `esbuild ESM, bundle, minify, sourcemap external, platform node, target ${target}, mainFields module,main, createRequire banner`,
    helloWorldRunsMs,
    rows,
  };
}
