/**
 * The consumers' thread of section 3's second layout (`startConsumersThread` in throughput.ts starts it): a second
 * local stack on the first stack's emulators and events file, whose pollers are the only ones enabled. The consumers
 * then take a core of their own when there is one, as their Lambda instances would, and the ingest handler keeps the
 * main thread to itself and the client. The handlers are the same; only the thread they run on differs.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { DEV_SECRETS_FILE } from '../events/index.js';
import { startLocalStack } from '../local/stack.js';

export interface ConsumersThreadData {
  readonly emulatorEndpoints: { readonly sqs: string; readonly dynamodb: string };
  readonly eventsFile: string;
  readonly workersPerQueue: number;
}

const port = parentPort;
if (!port) throw new Error('consumers-thread.ts runs on a worker thread (startConsumersThread)');
const data = workerData as ConsumersThreadData;

// The handlers' log lines are dropped, as the main thread drops its own: written, formatted, not printed.
process.stdout.write = (() => true) as typeof process.stdout.write;

const stack = await startLocalStack({
  dataDir: mkdtempSync(join(tmpdir(), 'payhook-bench-consumers-')),
  inMemory: true,
  port: 0,
  secretsFile: DEV_SECRETS_FILE,
  emulatorEndpoints: data.emulatorEndpoints,
  eventsFile: data.eventsFile,
  workersPerQueue: data.workersPerQueue,
  pollWaitSeconds: 1,
  reconcileIntervalSeconds: 0,
});
port.once('message', async () => {
  try {
    await stack.stop({ drainTimeoutMs: 5000 });
    port.postMessage('stopped');
  } catch (error) {
    port.postMessage(`stop failed: ${(error as Error).message}`);
  } finally {
    port.close();
  }
});
port.postMessage('ready');
