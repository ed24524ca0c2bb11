import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The import rules of `lambdas/` (README, "Import rules"): which layer may import which. A layer may always import its
 * own files. `handlers` (the `lambdas/*.ts` entry files) and `composition` (`lambdas/composition/`, the one composition
 * root, where every client, store and setting of a function is built) wire everything together and may import
 * anything.
 */
const RULES = {
  domain: [],
  ports: ['domain'],
  gateways: ['domain', 'definitions'],
  messages: ['domain', 'gateways', 'definitions'],
  intake: ['domain', 'gateways', 'messages', 'ports', 'common', 'definitions'],
  processing: ['domain', 'gateways', 'messages', 'ports', 'common', 'definitions'],
  reconciliation: ['domain', 'gateways', 'messages', 'ports', 'common', 'definitions'],
  delivery: ['domain', 'messages', 'ports', 'common', 'definitions'],
  store: ['domain', 'ports', 'common', 'definitions'],
  publishing: ['domain', 'ports', 'common', 'definitions'],
  secrets: ['domain', 'ports', 'common', 'definitions'],
  common: ['domain', 'definitions'],
  definitions: ['domain'],
  handlers: 'anything',
  composition: 'anything',
} as const satisfies Record<string, readonly string[] | 'anything'>;

type Layer = keyof typeof RULES;

const LAMBDAS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'lambdas');

/** Every `.ts` file under `lambdas/`, as a posix path relative to it (`intake/claims.ts`). */
function sourceFiles(dir: string = LAMBDAS): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [relative(LAMBDAS, path).split(sep).join('/')] : [];
  });
}

/**
 * The relative modules a file imports: static `import ... from '...'` and `export ... from '...'` (type-only ones
 * included), side-effect `import '...'`, and `import('...')` (dynamic, or a type written inline), resolved to files
 * under `lambdas/` (`.js` specifiers name the `.ts` source).
 */
function relativeImports(file: string, source: string): string[] {
  const patterns = [
    /^\s*(?:import|export)\s[^'";]*?\sfrom\s*['"](\.{1,2}\/[^'"]+)['"]/gm,
    /^\s*import\s*['"](\.{1,2}\/[^'"]+)['"]/gm,
    /\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g,
  ];
  const specifiers = patterns.flatMap((pattern) =>
    [...source.matchAll(pattern)].map((match) => match[1] ?? ''),
  );
  return [...new Set(specifiers)].map((specifier) =>
    posix.normalize(posix.join(posix.dirname(file), specifier)).replace(/\.js$/, '.ts'),
  );
}

/** The layer a file belongs to; `undefined` for a file no rule covers (the test then fails, naming it). */
function layerOf(file: string): Layer | undefined {
  if (file === 'definitions.ts') return 'definitions';
  if (!file.includes('/')) return 'handlers';
  const folder = file.slice(0, file.indexOf('/'));
  return folder in RULES && folder !== 'handlers' ? (folder as Layer) : undefined;
}

function mayImport(from: Layer, to: Layer): boolean {
  const allowed = RULES[from];
  return from === to || allowed === 'anything' || (allowed as readonly string[]).includes(to);
}

/**
 * Every import cycle between files: one per group of files that reach each other (a strongly connected component),
 * each as the path that closes it (`a.ts -> b.ts -> a.ts`).
 */
function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  // Tarjan's algorithm, then one concrete cycle through each component of more than one file (or a self-import).
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const components: string[][] = [];
  const connect = (file: string): void => {
    index.set(file, index.size);
    low.set(file, index.get(file) ?? 0);
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (!index.has(next)) {
        connect(next);
        low.set(file, Math.min(low.get(file) ?? 0, low.get(next) ?? 0));
      } else if (stack.includes(next)) {
        low.set(file, Math.min(low.get(file) ?? 0, index.get(next) ?? 0));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    for (let member = stack.pop(); member !== undefined; member = stack.pop()) {
      component.push(member);
      if (member === file) break;
    }
    if (component.length > 1 || graph.get(file)?.includes(file)) components.push(component.sort());
  };
  for (const file of [...graph.keys()].sort()) if (!index.has(file)) connect(file);
  return components.map((component) => cycleWithin(graph, new Set(component)));
}

/** A shortest path from the component's first file back to itself, through files of the component only. */
function cycleWithin(
  graph: ReadonlyMap<string, readonly string[]>,
  component: ReadonlySet<string>,
): string[] {
  const [start = ''] = component;
  const cameFrom = new Map<string, string>();
  const queue = [start];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    for (const next of graph.get(file) ?? []) {
      if (!component.has(next) || cameFrom.has(next)) continue;
      cameFrom.set(next, file);
      if (next === start) queue.length = 0;
      else queue.push(next);
    }
  }
  const path = [start];
  for (let file = cameFrom.get(start); file !== undefined && file !== start; file = cameFrom.get(file)) {
    path.unshift(file);
  }
  return [start, ...path];
}

const files = sourceFiles().sort();
const graph = new Map(
  files.map((file) => [file, relativeImports(file, readFileSync(join(LAMBDAS, file), 'utf8'))] as const),
);

describe('the import rules of lambdas/', () => {
  it('reads the sources and their imports', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(graph.get('intake/api-gateway.ts')).toContain('intake/receive-webhook.ts');
    // Imports written over several lines, and type-only ones, are read too.
    expect(
      relativeImports('a/b.ts', "import type {\n  X,\n  Y,\n} from '../c/d.js';\nexport * from './e.js';"),
    ).toEqual(['c/d.ts', 'a/e.ts']);
  });

  it('puts every file in a layer', () => {
    expect(files.filter((file) => layerOf(file) === undefined)).toEqual([]);
  });

  it('imports only files that exist', () => {
    const missing = [...graph].flatMap(([file, imports]) =>
      imports.filter((target) => !graph.has(target)).map((target) => `${file} -> ${target}`),
    );
    expect(missing).toEqual([]);
  });

  it('has every import allowed by the rules', () => {
    const offending = [...graph].flatMap(([file, imports]) =>
      imports
        .filter((target) => {
          const from = layerOf(file);
          const to = layerOf(target);
          return from !== undefined && to !== undefined && !mayImport(from, to);
        })
        .map((target) => `${file} (${layerOf(file)}) -> ${target} (${layerOf(target)})`),
    );
    expect(offending, `imports the rules forbid:\n${offending.join('\n')}`).toEqual([]);
  });

  it('has no import cycle between files', () => {
    const cycles = findCycles(graph).map((cycle) => cycle.join(' -> '));
    expect(cycles, `import cycles:\n${cycles.join('\n')}`).toEqual([]);
  });

  it('finds cycles and forbidden imports when there are some', () => {
    const graphOf = (edges: Record<string, string[]>) => new Map(Object.entries(edges));
    expect(findCycles(graphOf({ 'a.ts': ['b.ts'], 'b.ts': ['c.ts'], 'c.ts': ['b.ts'] }))).toEqual([
      ['b.ts', 'c.ts', 'b.ts'],
    ]);
    expect(
      findCycles(graphOf({ 'a.ts': ['b.ts', 'a.ts'], 'b.ts': ['c.ts'], 'c.ts': ['d.ts'], 'd.ts': ['b.ts'] })),
    ).toEqual([
      ['b.ts', 'c.ts', 'd.ts', 'b.ts'],
      ['a.ts', 'a.ts'],
    ]);
    expect(findCycles(graphOf({ 'a.ts': ['b.ts'], 'b.ts': [] }))).toEqual([]);
    expect(mayImport('domain', 'definitions')).toBe(false);
    expect(mayImport('store', 'intake')).toBe(false);
    expect(mayImport('processing', 'reconciliation')).toBe(false);
    expect(mayImport('ports', 'gateways')).toBe(false);
    expect(mayImport('composition', 'store')).toBe(true);
    expect(layerOf('composition/container.ts')).toBe('composition');
    expect(layerOf('intake/dependencies.ts')).toBe('intake');
    expect(layerOf('ingest.ts')).toBe('handlers');
    expect(layerOf('elsewhere/thing.ts')).toBeUndefined();
  });
});
