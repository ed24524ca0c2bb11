import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPayhookInProcess } from '../../cli/in-process.js';

/** Runs `payhook <args>` in-process against the stack recorded in `dataDir`, capturing what a user would see. */
export function runPayhook(dataDir: string, ...args: string[]) {
  return runPayhookWith({ PAYHOOK_DATA_DIR: dataDir }, ...args);
}

/** Runs `payhook <args>` in-process with exactly this environment, capturing what a user would see. */
export const runPayhookWith = runPayhookInProcess;

/**
 * Runs `payhook <args> --stack NAME --region us-east-1` with the AWS endpoint at `awsEndpoint` (moto), placeholder
 * credentials and a data dir of its own, so that there is no local stack to fall back on.
 */
export function runPayhookOnStack(awsEndpoint: string, stack: string, ...args: string[]) {
  return runPayhookWith(
    {
      PAYHOOK_DATA_DIR: mkdtempSync(join(tmpdir(), 'payhook-no-stack-')),
      PAYHOOK_AWS_ENDPOINT_URL: awsEndpoint,
      AWS_ACCESS_KEY_ID: 'x',
      AWS_SECRET_ACCESS_KEY: 'x',
    },
    ...args,
    '--stack',
    stack,
    '--region',
    'us-east-1',
  );
}
