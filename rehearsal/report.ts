import type { Grant } from './iam.js';
import type { ScenarioResult } from './stage.js';

/** The rehearsal's tables: one row per scenario, then one per function with what its role grants and nobody used. */

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

export function scenarioTable(results: readonly ScenarioResult[]): string {
  return table(
    ['function', 'scenario', 'outcome', 'calls', 'denied'],
    results.map((result) => [
      result.functionId,
      result.scenario,
      `${result.ok ? 'ok' : 'FAILED'}${result.detail ? `: ${result.detail}` : ''}`.slice(0, 160),
      String(result.calls),
      String(result.denied),
    ]),
  );
}

export interface FunctionSummary {
  readonly functionId: string;
  readonly node: string;
  readonly initMs: number;
  readonly calls: number;
  readonly denied: number;
  /** Granted and never used by any scenario, with who uses it when it is not the function's code. */
  readonly unused: ReadonlyArray<{ readonly grant: Grant; readonly usedBy?: string }>;
}

function shortResource(resource: string): string {
  return resource.replace(/^arn:aws:[^:]*:[^:]*:[^:]*:/, '');
}

export function functionTable(summaries: readonly FunctionSummary[]): string {
  return table(
    ['function', 'node', 'init ms', 'calls', 'denied', 'unused grants'],
    summaries.map((summary) => [
      summary.functionId,
      summary.node,
      String(summary.initMs),
      String(summary.calls),
      String(summary.denied),
      `${summary.unused.length} (${summary.unused.filter((entry) => entry.usedBy === undefined).length} unexplained)`,
    ]),
  );
}

/** Every grant no scenario's call used, one per line, with who else uses it or `UNUSED by anyone known`. */
export function unusedTable(summaries: readonly FunctionSummary[]): string {
  return table(
    ['function', 'granted, not used by its code', 'resource', 'used by'],
    summaries.flatMap((summary) =>
      summary.unused.map(({ grant, usedBy }) => [
        summary.functionId,
        grant.action,
        shortResource(grant.resource),
        usedBy ?? 'UNUSED by anyone known: remove it',
      ]),
    ),
  );
}
