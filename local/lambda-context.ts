import type { Context } from 'aws-lambda';

/**
 * A Lambda-like context for handlers run outside Lambda: the same fields, and a remaining-time clock that counts down
 * from the function's timeout (Powertools idempotency uses it to expire in-progress records).
 */
export function lambdaContext(functionName: string, timeoutSeconds: number, requestId: string): Context {
  const deadline = Date.now() + timeoutSeconds * 1000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
