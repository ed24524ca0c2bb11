import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { writeBenchmarksSection } from '../bench/benchmarks-file.js';
import { FAULT_PROFILES, type FaultProfileName } from './faults.js';
import { formatReport, passed, soakMarkdown } from './report.js';
import { DEFAULT_SEED, DEFAULT_WEBHOOKS, runSoak } from './soak.js';

/**
 * `npm run soak -- [--webhooks N] [--seed S] [--faults none|ci|full] [--concurrency C] [--destination on|off]
 * [--verbose] [--dry]`: exits 1 unless nothing is lost or doubled (and, with the destination, every payment event was
 * delivered); writes the result into BENCHMARKS.md unless `--dry`.
 */
const { values } = parseArgs({
  options: {
    webhooks: { type: 'string', default: String(DEFAULT_WEBHOOKS) },
    seed: { type: 'string', default: String(DEFAULT_SEED) },
    faults: { type: 'string', default: 'full' },
    concurrency: { type: 'string', default: '16' },
    destination: { type: 'string', default: 'on' },
    verbose: { type: 'boolean', default: false },
    dry: { type: 'boolean', default: false },
  },
});

const webhooks = Number(values.webhooks);
const seed = Number(values.seed);
const concurrency = Number(values.concurrency);
if (
  !Number.isInteger(webhooks) ||
  webhooks < 1 ||
  !Number.isInteger(seed) ||
  !Number.isInteger(concurrency) ||
  !['on', 'off'].includes(values.destination)
) {
  process.stderr.write(
    'usage: soak/run.ts [--webhooks N] [--seed S] [--faults none|ci|full] [--concurrency C] [--destination on|off]\n',
  );
  process.exit(2);
}
if (!Object.hasOwn(FAULT_PROFILES, values.faults)) {
  process.stderr.write(`--faults must be one of ${Object.keys(FAULT_PROFILES).join(', ')}\n`);
  process.exit(2);
}

// The handlers' structured logs go to stdout; keep the soak's output readable unless asked.
const write = process.stdout.write.bind(process.stdout);
const writeError = process.stderr.write.bind(process.stderr);
if (!values.verbose) {
  process.stdout.write = (() => true) as typeof process.stdout.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  console.log = () => undefined;
  console.info = () => undefined;
  console.warn = () => undefined;
  console.error = () => undefined;
}
const progress = (line: string) => writeError(`${line}\n`);

try {
  const result = await runSoak({
    webhooks,
    seed,
    concurrency,
    faults: values.faults as FaultProfileName,
    destination: values.destination === 'on',
    progress,
  });
  write(`${formatReport(result)}\n`);
  if (!values.dry) {
    const [cpu] = cpus();
    writeBenchmarksSection(
      'soak',
      soakMarkdown(
        result,
        `${cpus().length} × ${cpu?.model.trim() ?? 'unknown CPU'}, Node ${process.version}`,
      ),
    );
    writeError('wrote the soak section of BENCHMARKS.md\n');
  }
  process.exit(passed(result) ? 0 : 1);
} catch (error) {
  writeError(`soak failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
}
