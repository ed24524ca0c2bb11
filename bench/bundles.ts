/**
 * Bundle size and module-init time of each Lambda entry, built with the esbuild JS API and the settings of
 * `lib/payhook-function.ts` (`FUNCTION_BUNDLING`). Init is timed by importing the bundle in a fresh `node` child
 * process: a stand-in for Lambda's init phase on this machine's Node, not a Lambda cold start.
 *
 * Each function is compared with its floor, built in the same run with the same settings: a bundle holding only the
 * AWS SDK clients the function's bundle holds (read from its esbuild metafile, so the list cannot drift from the
 * code), whose top level constructs each of them with the function's client settings. What the function adds to that
 * floor is payhook's own code and its other dependencies.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { type ClientRole, sdkClientConfig } from '../lambdas/composition/client-settings.js';
import { FUNCTION_BUNDLING } from '../lib/payhook-function.js';

/** The same bundling as `PayhookFunction` (lib/payhook-function.ts). */
export const BANNER = FUNCTION_BUNDLING.banner;

/** Each function's entry and the role its AWS clients are built for (`lambdas/composition/client-settings.ts`). */
export const FUNCTIONS = [
  { entry: 'lambdas/ingest.ts', role: 'ingest' },
  { entry: 'lambdas/process.ts', role: 'consumer' },
  { entry: 'lambdas/reconcile.ts', role: 'reconciler' },
  { entry: 'lambdas/register-payment.ts', role: 'registration' },
  // Deployed when delivery destinations are configured (lib/deliveries.ts).
  { entry: 'lambdas/deliver.ts', role: 'delivery' },
] as const satisfies readonly { entry: string; role: ClientRole }[];

export const ENTRIES = FUNCTIONS.map(({ entry }) => entry);

/** Issue #20's targets: init within this multiple of the function's floor, and ingest's bundle at most this size. */
export const TARGETS = { initRatioToFloor: 1.5, ingestBytes: 350_000 } as const;

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
  /** `initMs / referenceInitMs` (against the hello world). */
  readonly ratio: number;
  readonly initRunsMs: readonly number[];
  /** The `@aws-sdk/client-*` packages in the function's bundle: what its floor holds. */
  readonly floorClients: readonly string[];
  /** Bytes of the floor bundle (those clients only, constructed at its top level). */
  readonly floorBytes: number;
  /** Median import time of the floor bundle, milliseconds. */
  readonly floorInitMs: number;
  readonly floorInitRunsMs: readonly number[];
  /**
   * The same imports' CPU time (user + system, `process.cpuUsage`), medians, and their ratio: on a machine shared with
   * other work the wall-clock figures above swing with the load, the CPU time far less.
   */
  readonly initCpuMs: number;
  readonly floorInitCpuMs: number;
  readonly floorCpuRatio: number;
  /** `initMs / floorInitMs`: the figure the target is about. */
  readonly floorRatio: number;
  /** The largest contributors to the bundle by package (or `lambdas/<folder>`), from the esbuild metafile. */
  readonly largest: readonly { readonly name: string; readonly bytes: number }[];
}

export interface BundleResults {
  readonly esbuildTarget: string;
  readonly settings: string;
  readonly helloWorldRunsMs: readonly number[];
  readonly targets: typeof TARGETS;
  readonly rows: readonly BundleRow[];
}

const MARKER = 'BENCH_INIT_MS ';

/** Imports the module named on the command line and prints how long the import took: wall clock, then CPU time. */
const TIMER = `import { performance } from 'node:perf_hooks';
const cpu = process.cpuUsage();
const start = performance.now();
const module = await import(process.argv[2]);
const ms = performance.now() - start;
const used = process.cpuUsage(cpu);
if (typeof module.handler !== 'function') throw new Error('no handler export');
process.stdout.write('\\n${MARKER}' + ms + ' ' + (used.user + used.system) / 1000 + '\\n');
`;

/** One import's wall-clock and CPU milliseconds. */
interface Timing {
  readonly ms: number;
  readonly cpuMs: number;
}

const HELLO_WORLD = `export const handler = async () => ({ statusCode: 200, body: 'hello' });\n`;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/**
 * Dummy values for everything the handlers read at their top level, shaped as the stack sets them on AWS (Secrets
 * Manager secret ids, the EventBridge bus, the refused-requests table, a delivery destination), so each function builds
 * the clients it builds on AWS. No network call is made at import.
 */
function dummyEnvironment(): Record<string, string> {
  const queue = (name: string) => `https://sqs.eu-west-1.amazonaws.com/123456789012/${name}`;
  const secret = (name: string) => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}-AbCdEf`;
  return {
    PATH: process.env.PATH ?? '',
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_SESSION_TOKEN: 'bench',
    POWERTOOLS_SERVICE_NAME: 'payhook-bench',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    PAYHOOK_QUEUE_URL_HIGH: queue('payhook-high'),
    PAYHOOK_QUEUE_URL_NORMAL: queue('payhook-normal'),
    PAYHOOK_QUEUE_URL_LOW: queue('payhook-low'),
    PAYHOOK_DLQ_URL_HIGH: queue('payhook-high-dlq'),
    PAYHOOK_DLQ_URL_NORMAL: queue('payhook-normal-dlq'),
    PAYHOOK_DLQ_URL_LOW: queue('payhook-low-dlq'),
    PAYHOOK_GATEWAY_SECRET_IDS: JSON.stringify({ stripe: secret('payhook/stripe') }),
    PAYHOOK_REJECTS_TABLE: 'payhook-rejects',
    PAYHOOK_PRIORITY: 'high',
    PAYHOOK_QUEUE_URL: queue('payhook-high'),
    PAYHOOK_DLQ_URL: queue('payhook-high-dlq'),
    PAYHOOK_PAYMENTS_TABLE: 'payhook-payments',
    PAYHOOK_IDEMPOTENCY_TABLE: 'payhook-idempotency',
    PAYHOOK_EVENT_BUS_NAME: 'payhook-payments',
    PAYHOOK_DESTINATIONS: JSON.stringify({ shop: { url: 'https://shop.example.com/payhook' } }),
    PAYHOOK_DELIVERY_TARGETS: JSON.stringify({
      shop: {
        queueUrl: queue('payhook-deliver-shop'),
        deadLetterQueueUrl: queue('payhook-deliver-shop-dlq'),
        secretId: secret('payhook/deliver/shop'),
      },
    }),
  };
}

function timeImport(timer: string, modulePath: string, env: Record<string, string>): Timing {
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
  const [ms, cpuMs] = line.split(' ').map(Number);
  return { ms: ms ?? Number.NaN, cpuMs: cpuMs ?? Number.NaN };
}

type Input =
  | { readonly entryPoints: string[] }
  | { readonly stdin: { contents: string; resolveDir: string } };

/** One bundle with the functions' settings; its metafile says what went into it. */
async function bundle(input: Input, outfile: string, target: string): Promise<Metafile> {
  const result = await build({
    ...input,
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target,
    minify: true,
    sourcemap: 'external',
    mainFields: [...FUNCTION_BUNDLING.mainFields],
    banner: { js: FUNCTION_BUNDLING.banner },
    alias: FUNCTION_BUNDLING.alias,
    metafile: true,
    logLevel: 'silent',
  });
  return result.metafile;
}

/** The `@aws-sdk/client-*` packages whose code is in the bundle. */
function sdkClientsIn(metafile: Metafile): string[] {
  const names = Object.keys(metafile.inputs).flatMap(
    (path) => /node_modules\/(@aws-sdk\/client-[a-z0-9-]+)\//.exec(path)?.[1] ?? [],
  );
  return [...new Set(names)].sort();
}

/** Output bytes by package (`@smithy/core`, `lossless-json`) or payhook folder (`lambdas/gateways`), largest first. */
function largestContributors(metafile: Metafile, top = 12): { name: string; bytes: number }[] {
  const output = Object.entries(metafile.outputs).find(([path]) => path.endsWith('.mjs'))?.[1];
  const totals = new Map<string, number>();
  for (const [path, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const name =
      /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? path.split('/').slice(0, 2).join('/');
    totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
  }
  return [...totals]
    .map(([name, bytes]) => ({ name, bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, top);
}

/** The client class a package exports (`SQSClient` from `@aws-sdk/client-sqs`). */
async function clientClassOf(pkg: string): Promise<string> {
  const names = Object.keys(await import(pkg)).filter((name) => /^[A-Z][A-Za-z0-9]*Client$/.test(name));
  if (names.length !== 1)
    throw new Error(`${pkg} exports ${names.length} client classes: ${names.join(', ')}`);
  return names[0] as string;
}

/**
 * The floor's module: each client imported by name (so the rest of its package is shaken out, as in the function)
 * and constructed at the top level with the role's settings, as the function's composition does at load.
 */
async function floorSource(clients: readonly string[], role: ClientRole): Promise<string> {
  const lines = [`const config = ${JSON.stringify(sdkClientConfig(role))};`];
  const built: string[] = [];
  for (const [index, pkg] of clients.entries()) {
    lines.unshift(`import { ${await clientClassOf(pkg)} as Client${index} } from '${pkg}';`);
    built.push(`new Client${index}(config)`);
  }
  lines.push(`export const clients = [${built.join(', ')}];`);
  lines.push('export const handler = async () => clients.length;');
  return `${lines.join('\n')}\n`;
}

interface Built {
  readonly entry: string;
  readonly file: string;
  readonly floorFile: string;
  readonly floorClients: readonly string[];
  readonly largest: readonly { name: string; bytes: number }[];
}

/** Builds the function's bundle, then its floor from the clients its metafile names. */
async function buildWithFloor(
  fn: (typeof FUNCTIONS)[number],
  outDir: string,
  target: string,
): Promise<Built> {
  const name = fn.entry.replace(/^lambdas\//, '').replace(/\.ts$/, '');
  const file = join(outDir, `${name}.mjs`);
  const metafile = await bundle({ entryPoints: [fn.entry] }, file, target);
  const floorClients = sdkClientsIn(metafile);
  const floorFile = join(outDir, `${name}.floor.mjs`);
  const contents = await floorSource(floorClients, fn.role);
  await bundle({ stdin: { contents, resolveDir: resolve('.') } }, floorFile, target);
  return { entry: fn.entry, file, floorFile, floorClients, largest: largestContributors(metafile) };
}

async function buildAll(
  outDir: string,
  log: (line: string) => void,
): Promise<{ target: string; built: Built[] }> {
  let target = 'node24';
  const built: Built[] = [];
  for (const fn of FUNCTIONS) {
    try {
      built.push(await buildWithFloor(fn, outDir, target));
    } catch (error) {
      if (target !== 'node24') throw error;
      log(`esbuild refused node24 (${(error as Error).message.split('\n')[0]}); using node20`);
      target = 'node20';
      built.push(await buildWithFloor(fn, outDir, target));
    }
  }
  return { target, built };
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
  const env = dummyEnvironment();
  const { target, built } = await buildAll(outDir, log);

  // One untimed import of each first: the OS file cache is warm for every timed run alike.
  timeImport(timer, hello, env);
  for (const { file, floorFile } of built) {
    timeImport(timer, file, env);
    timeImport(timer, floorFile, env);
  }

  const helloWorldRunsMs: number[] = [];
  const runs = new Map<string, Timing[]>(
    built.flatMap(({ file, floorFile }) => [
      [file, []],
      [floorFile, []],
    ]),
  );
  // Interleaved: run i of every bundle, its floor and the hello world are close together in time.
  for (let run = 0; run < options.initRuns; run += 1) {
    helloWorldRunsMs.push(timeImport(timer, hello, env).ms);
    for (const { file, floorFile } of built) {
      runs.get(file)?.push(timeImport(timer, file, env));
      runs.get(floorFile)?.push(timeImport(timer, floorFile, env));
    }
  }
  const referenceInitMs = median(helloWorldRunsMs);
  const rows = built.map((one): BundleRow => {
    const own = runs.get(one.file) ?? [];
    const floor = runs.get(one.floorFile) ?? [];
    const initRunsMs = own.map((timing) => timing.ms);
    const floorInitRunsMs = floor.map((timing) => timing.ms);
    const initMs = median(initRunsMs);
    const floorInitMs = median(floorInitRunsMs);
    const initCpuMs = median(own.map((timing) => timing.cpuMs));
    const floorInitCpuMs = median(floor.map((timing) => timing.cpuMs));
    const row = {
      entry: one.entry,
      bytes: statSync(one.file).size,
      sourceMapBytes: statSync(`${one.file}.map`).size,
      initMs,
      referenceInitMs,
      ratio: initMs / referenceInitMs,
      initRunsMs,
      floorClients: one.floorClients,
      floorBytes: statSync(one.floorFile).size,
      floorInitMs,
      floorInitRunsMs,
      floorRatio: initMs / floorInitMs,
      initCpuMs,
      floorInitCpuMs,
      floorCpuRatio: initCpuMs / floorInitCpuMs,
      largest: one.largest,
    };
    log(
      `bundle ${row.entry}: ${row.bytes} B (floor ${row.floorBytes} B), init ${initMs.toFixed(1)} ms vs floor ${floorInitMs.toFixed(1)} ms (${row.floorRatio.toFixed(2)}x); CPU ${initCpuMs.toFixed(1)} vs ${floorInitCpuMs.toFixed(1)} ms (${row.floorCpuRatio.toFixed(2)}x)`,
    );
    return row;
  });
  return {
    esbuildTarget: target,
    settings: `esbuild ESM, bundle, minify, sourcemap external, platform node, target ${target}, mainFields module,main, createRequire banner, alias ${Object.keys(FUNCTION_BUNDLING.alias).join(', ')} (Lambda credential chain)`,
    helloWorldRunsMs,
    targets: TARGETS,
    rows,
  };
}
