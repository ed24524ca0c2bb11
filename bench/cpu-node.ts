/**
 * Section 1 (CPU per event) in a process of its own, for `bench/run.ts --node24 <node>`: run under that binary as
 * `<node> --import tsx bench/cpu-node.ts --iterations N --rounds R --warmup W`, it measures exactly what `measureCpu`
 * measures in the bench's own process and prints the results as one line of JSON on stdout (progress on stderr).
 */
import { parseArgs } from 'node:util';
import { type CpuOnNode, measureCpu } from './cpu.js';

function count(name: string, value: string | undefined): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new Error(`--${name} must be a whole number`);
  return parsed;
}

const { values } = parseArgs({
  options: {
    iterations: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2000' },
  },
});
const results = measureCpu(
  {
    iterations: count('iterations', values.iterations),
    rounds: count('rounds', values.rounds),
    warmup: count('warmup', values.warmup),
  },
  (line) => process.stderr.write(`[${process.version}] ${line}\n`),
);
const onNode: CpuOnNode = {
  node: process.version,
  options: results.options,
  ingest: results.ingest,
  consumer: results.consumer,
};
process.stdout.write(`${JSON.stringify(onNode)}\n`);
