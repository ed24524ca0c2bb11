import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCHMARKS_FILE = join(dirname(fileURLToPath(import.meta.url)), '..', 'BENCHMARKS.md');

/** The commands that write BENCHMARKS.md, in the order their sections appear. */
const SECTIONS = ['bench', 'soak'] as const;
export type BenchmarksSection = (typeof SECTIONS)[number];

const begin = (name: string) => `<!-- ${name}: begin (written by npm run ${name}) -->`;
const end = (name: string) => `<!-- ${name}: end -->`;

/**
 * BENCHMARKS.md holds one section per command (`npm run bench`, `npm run soak`), each between its own markers, so
 * each command rewrites its own results and keeps the other's.
 */
export function writeBenchmarksSection(
  name: BenchmarksSection,
  content: string,
  file: string = BENCHMARKS_FILE,
): void {
  const previous = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const sections = SECTIONS.map((section) => {
    if (section === name) return content.trimEnd();
    const from = previous.indexOf(begin(section));
    const to = previous.indexOf(end(section));
    if (from < 0 || to < from) return `_\`npm run ${section}\` has not written its results yet._`;
    return previous.slice(from + begin(section).length, to).trim();
  });
  writeFileSync(
    file,
    `${SECTIONS.map((section, index) => `${begin(section)}\n${sections[index]}\n${end(section)}`).join('\n\n')}\n`,
  );
}
