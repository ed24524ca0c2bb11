/**
 * The rehearsal's stand-in for the Lambda Node.js runtime, run by the Lambda runtime's Node major (tools/node24) in
 * a child process whose environment is exactly what the template gives the function plus Lambda's reserved
 * variables. Plain JavaScript with no imports but node's own, so nothing of the project leaks into the function's
 * process: what runs is the bundle from cdk.out and nothing else.
 *
 * Like the runtime, it resolves `_HANDLER` (`index.handler`) against `LAMBDA_TASK_ROOT` (index.mjs, then .js, .cjs),
 * imports the module once (the init phase, timed), then calls the exported function with each event and a context.
 * nodejs24.x has no callback-style handlers, so the handler's returned promise is the answer. The parent sends
 * invocations over the IPC channel (`{type:'invoke', id, event, requestId, timeoutMs}`) and gets `{type:'result'}`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const taskRoot = process.env.LAMBDA_TASK_ROOT;
const [moduleName, ...exportPath] = (process.env._HANDLER ?? '').split('.');

function send(message) {
  process.send?.(message);
}

function errorJson(error) {
  return error instanceof Error
    ? { errorType: error.name, errorMessage: error.message, stack: String(error.stack ?? '').split('\n') }
    : { errorType: typeof error, errorMessage: String(error) };
}

async function loadHandler() {
  const file = ['.mjs', '.js', '.cjs']
    .map((suffix) => join(taskRoot, `${moduleName}${suffix}`))
    .find(existsSync);
  if (!file) throw new Error(`Runtime.ImportModuleError: Cannot find module '${moduleName}' in ${taskRoot}`);
  const module = await import(pathToFileURL(file).href);
  let handler = module;
  for (const name of exportPath) handler = handler?.[name];
  if (typeof handler !== 'function') {
    throw new Error(`Runtime.HandlerNotFound: ${process.env._HANDLER} is undefined or not exported`);
  }
  return handler;
}

function contextFor(invocation) {
  const deadline = Date.now() + invocation.timeoutMs;
  const region = process.env.AWS_REGION;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: `arn:aws:lambda:${region}:${invocation.accountId}:function:${process.env.AWS_LAMBDA_FUNCTION_NAME}`,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: invocation.requestId,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

const started = performance.now();
let handler;
try {
  handler = await loadHandler();
  send({ type: 'ready', initMs: Math.round(performance.now() - started), node: process.version });
} catch (error) {
  send({ type: 'init-error', error: errorJson(error), node: process.version });
  process.exitCode = 1;
  process.disconnect?.();
}

process.on('message', async (invocation) => {
  if (invocation?.type !== 'invoke' || !handler) return;
  const began = performance.now();
  try {
    const returned = await handler(invocation.event, contextFor(invocation));
    // Lambda answers with the result JSON-serialised (toJSON, no Map, no BigInt: those fail there), not a clone.
    const value = returned === undefined ? null : JSON.parse(JSON.stringify(returned));
    send({ type: 'result', id: invocation.id, ok: true, value, ms: Math.round(performance.now() - began) });
  } catch (error) {
    send({ type: 'result', id: invocation.id, ok: false, error: errorJson(error) });
  }
});
