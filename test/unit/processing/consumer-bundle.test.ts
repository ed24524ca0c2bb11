import { build, type Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { FUNCTION_BUNDLING } from '../../../lib/payhook-function.js';

/** The consumer's bundle as its function is built (one ESM file), with the metafile saying who imports what, and how. */
async function consumerMetafile(): Promise<Metafile> {
  const { metafile } = await build({
    entryPoints: ['lambdas/process.ts'],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: FUNCTION_BUNDLING.target,
    write: false,
    outfile: 'process.mjs',
    mainFields: [...FUNCTION_BUNDLING.mainFields],
    alias: FUNCTION_BUNDLING.alias,
    metafile: true,
    logLevel: 'silent',
  });
  return metafile;
}

/** The modules the entry reaches through static imports alone: what runs at the function's cold start. */
function reachedStatically(metafile: Metafile, entry: string): Set<string> {
  const reached = new Set<string>([entry]);
  const queue = [entry];
  for (let path = queue.pop(); path !== undefined; path = queue.pop()) {
    for (const imported of metafile.inputs[path]?.imports ?? []) {
      if (imported.kind === 'dynamic-import' || imported.external || reached.has(imported.path)) continue;
      reached.add(imported.path);
      queue.push(imported.path);
    }
  }
  return reached;
}

// Issue #20: the consumer's init was 1.5x its SDK-only floor while it evaluated the seven gateway adapters at every
// cold start, for version 1 messages only an earlier release wrote. A static import of them anywhere the consumer
// reaches would bring that back silently (only the benchmark would show it).
describe("The consumer's bundle", () => {
  it("holds the gateways' adapters, but evaluates them only on a version 1 message (a dynamic import)", async () => {
    const metafile = await consumerMetafile();
    const bundled = Object.keys(metafile.inputs);
    const atColdStart = reachedStatically(metafile, 'lambdas/process.ts');
    expect(bundled).toContain('lambdas/gateways/registry.ts');
    expect([...atColdStart].filter((path) => path.startsWith('lambdas/gateways/'))).toEqual([]);
    expect(atColdStart.size).toBeGreaterThan(20);
  }, 60_000);
});
