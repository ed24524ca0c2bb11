/**
 * Profiles the bench's ingest loop for one gateway, so a change to an adapter starts from where the time goes rather
 * than from a guess. Runs the same subject (or floor) as `bench/cpu.ts` in a tight loop under the inspector's
 * sampling profiler and prints self time by function, heaviest first.
 *
 *   npx tsx bench/cpu-profile.ts <gateway> [--calls 200000] [--floor] [--top 30] [--out file.cpuprofile]
 *   npx tsx bench/cpu-profile.ts <gateway> --step verify|normalise   (one half of the subject alone)
 *   npx tsx bench/cpu-profile.ts <gateway|all> --ratio      (no profiler: subject vs floor, as section 1 times them)
 *
 * The `.cpuprofile` written with `--out` opens in Chrome DevTools (Performance) or speedscope.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { parseArgs } from 'node:util';
import { GATEWAYS, type GatewayName } from '../lambdas/domain/webhook-event.js';
import { compareOne, type IngestCase, ingestCase } from './cpu.js';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
  readonly hitCount?: number;
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
}

function post<T>(session: Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => {
    session.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result as T)));
  });
}

/** Self time per function (name and file:line), as a share of all samples. */
export function selfTimes(profile: Profile): { name: string; share: number }[] {
  const totals = new Map<string, number>();
  let all = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.replace(/^.*\/(node_modules\/|work\/main\/)/, '');
    const name = `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : ''}`.trim();
    totals.set(name, (totals.get(name) ?? 0) + hits);
    all += hits;
  }
  return [...totals.entries()]
    .map(([name, hits]) => ({ name, share: hits / all }))
    .sort((a, b) => b.share - a.share);
}

/**
 * Subject and floor rounds interleaved, the fastest of 9 rounds of each: on a shared machine the fastest round is the
 * one least disturbed, a steadier quick look than section 1's median (which stays the reported figure).
 */
function ratioOf(gateway: GatewayName, iterations: number): void {
  const bench = ingestCase(gateway);
  const subject: number[] = [];
  const floor: number[] = [];
  for (let round = 0; round < 9; round += 1) {
    const one = compareOne(bench, { iterations, rounds: 1, warmup: round === 0 ? 2000 : 0 });
    subject.push(one.subject);
    floor.push(one.reference);
  }
  const best = Math.min(...subject);
  const reference = Math.min(...floor);
  console.log(
    `${gateway.padEnd(12)} ${best.toFixed(2)} us vs ${reference.toFixed(2)} us: ${(best / reference).toFixed(2)}x`,
  );
}

/** The subject, or one of its halves (`normalise` alone then parses the body itself, as no `verify` kept it). */
function stepOf(bench: IngestCase, step: string | undefined): () => unknown {
  if (step === 'verify') return bench.verify;
  if (step === 'normalise') return bench.normalise;
  return bench.subject;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      calls: { type: 'string', default: '200000' },
      floor: { type: 'boolean', default: false },
      top: { type: 'string', default: '30' },
      out: { type: 'string' },
      ratio: { type: 'boolean', default: false },
      step: { type: 'string', default: 'both' },
    },
  });
  if (values.ratio) {
    const chosen = positionals[0] === 'all' ? GATEWAYS : [positionals[0] as GatewayName];
    for (const name of chosen) ratioOf(name, Number(values.calls) / 10);
    return;
  }
  const gateway = positionals[0] as GatewayName;
  if (!GATEWAYS.includes(gateway)) throw new Error(`usage: cpu-profile.ts <${GATEWAYS.join('|')}>`);
  const bench = ingestCase(gateway);
  const fn = values.floor ? bench.floor : stepOf(bench, values.step);
  const calls = Number(values.calls);
  let sink: unknown;
  for (let i = 0; i < 2000; i += 1) sink = fn();

  const session = new Session();
  session.connect();
  await post(session, 'Profiler.enable');
  await post(session, 'Profiler.setSamplingInterval', { interval: 50 });
  await post(session, 'Profiler.start');
  const start = performance.now();
  for (let i = 0; i < calls; i += 1) sink = fn();
  const micros = ((performance.now() - start) * 1000) / calls;
  const { profile } = await post<{ profile: Profile }>(session, 'Profiler.stop');
  session.disconnect();
  if (values.out) writeFileSync(values.out, JSON.stringify(profile));

  console.log(`${gateway} ${values.floor ? 'floor' : 'subject'}: ${micros.toFixed(2)} us/call (profiled)`);
  for (const { name, share } of selfTimes(profile).slice(0, Number(values.top))) {
    console.log(`${(share * 100).toFixed(1).padStart(5)}%  ${name}`);
  }
  if (sink === Symbol.for('never')) console.log('');
}

await main();
