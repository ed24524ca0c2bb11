import { DEV_SECRETS_FILE } from '../../events/index.js';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '../../local/stack.js';

/**
 * The local stack as the end-to-end tests start it: DynamoDB in memory, a free port, the development secrets, one
 * poller a queue and the reconciler timers off (`payhook reconcile --now` still works). `options` adds to that, or
 * overrides it (destinations, an external endpoint).
 */
export function startTestStack(
  dataDir: string,
  options: Omit<Partial<LocalStackOptions>, 'dataDir'> = {},
): Promise<LocalStack> {
  return startLocalStack({
    dataDir,
    inMemory: true,
    port: 0,
    secretsFile: DEV_SECRETS_FILE,
    workersPerQueue: 1,
    reconcileIntervalSeconds: 0,
    ...options,
  });
}

/**
 * Stops a stack started by `startTestStack`, if it did start (a failed `beforeAll` leaves it undefined), giving what
 * is in flight `drainTimeoutMs` to finish.
 */
export async function stopTestStack(stack: LocalStack | undefined, drainTimeoutMs = 5000): Promise<void> {
  await stack?.stop({ drainTimeoutMs });
}
