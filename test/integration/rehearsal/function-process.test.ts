import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FunctionProcess } from '../../../rehearsal/function-process.js';

// The rehearsal runs each bundle the way the Lambda runtime does; these pin what that means: the handler named by
// `_HANDLER` under `LAMBDA_TASK_ROOT`, an environment with nothing but what it is given, a context, the timeout.
const root = mkdtempSync(join(tmpdir(), 'payhook-runtime-'));
writeFileSync(
  join(root, 'index.mjs'),
  `export const handler = async (event, context) => {
    if (event.sleepMs) await new Promise((resolve) => setTimeout(resolve, event.sleepMs));
    if (event.fail) throw new TypeError('asked to fail');
    return { echo: event, env: { ...process.env }, requestId: context.awsRequestId,
      functionName: context.functionName, remaining: context.getRemainingTimeInMillis() };
  };`,
);

afterAll(() => rmSync(root, { recursive: true, force: true }));

function start(env: Record<string, string>, timeoutSeconds = 3) {
  return FunctionProcess.start({
    nodeBinary: process.execPath,
    taskRoot: root,
    env: { LAMBDA_TASK_ROOT: root, AWS_LAMBDA_FUNCTION_NAME: 'fn', AWS_REGION: 'us-east-1', ...env },
    timeoutSeconds,
    accountId: '123456789012',
  });
}

describe('the rehearsal runtime', () => {
  it('calls the handler _HANDLER names with the event and a context, in an environment of only what it was given', async () => {
    const instance = await start({ _HANDLER: 'index.handler', ONLY_THIS: 'yes' });
    try {
      expect(instance.ready.node).toBe(process.version);
      const result = await instance.invoke({ hello: 'world' });
      expect(result.ok).toBe(true);
      const value = (result as { value: Record<string, unknown> }).value;
      expect(value).toMatchObject({ echo: { hello: 'world' }, functionName: 'fn' });
      expect(value.requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(value.remaining).toBeGreaterThan(2000);
      expect(value.remaining).toBeLessThanOrEqual(3000);
      const env = value.env as Record<string, string>;
      expect(env.ONLY_THIS).toBe('yes');
      // Nothing of the parent's environment leaks in (HOME, PATH, the test runner's variables).
      expect(env.HOME).toBeUndefined();
      expect(env.VITEST).toBeUndefined();
    } finally {
      await instance.stop();
    }
  });

  it('answers a thrown error as the runtime reports it, and a handler past its timeout as Sandbox.Timedout', async () => {
    const instance = await start({ _HANDLER: 'index.handler' }, 1);
    try {
      expect(await instance.invoke({ fail: true })).toMatchObject({
        ok: false,
        error: { errorType: 'TypeError', errorMessage: 'asked to fail' },
      });
      expect(await instance.invoke({ sleepMs: 1500 })).toMatchObject({
        ok: false,
        error: { errorType: 'Sandbox.Timedout' },
      });
      // The timed-out environment is gone, as on Lambda.
      expect(await instance.invoke({})).toMatchObject({
        ok: false,
        error: { errorType: 'Runtime.ExitError' },
      });
    } finally {
      await instance.stop();
    }
  });

  it('fails the cold start when the handler the template names is not exported', async () => {
    await expect(start({ _HANDLER: 'index.missing' })).rejects.toThrow(/HandlerNotFound: index.missing/);
    await expect(start({ _HANDLER: 'nothere.handler' })).rejects.toThrow(/ImportModuleError/);
  });
});
