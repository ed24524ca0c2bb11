/**
 * `npm start`: the whole payhook pipeline on this machine, on embedded emulators, with the same handler code as on
 * AWS. Environment: PORT (3000), PAYHOOK_DATA_DIR (.payhook), PAYHOOK_SECRETS_FILE (the fake development secrets),
 * PAYHOOK_IN_MEMORY=true or --in-memory (keep DynamoDB in memory), AWS_ENDPOINT_URL (use LocalStack or moto instead
 * of the embedded emulators), PAYHOOK_GATEWAY_SETTINGS, PAYHOOK_DEDUPE_WINDOWS, PAYHOOK_DESTINATIONS (JSON name -> settings:
 * where payment events are delivered, e.g. `{"shop": {"url": "http://127.0.0.1:4000/hooks"}}`).
 */
import { relative } from 'node:path';
import { DEV_SECRETS_FILE } from '../events/index.js';
import { apiBaseUrlsFromEnv } from '../lambdas/composition/reconciliation.js';
import { GATEWAYS } from '../lambdas/domain/webhook-event.js';
import { dataDirFromEnv } from './contract.js';
import { deliveryQueueName } from './deliveries.js';
import { type LocalStack, StackAlreadyRunningError, startLocalStack } from './stack.js';

const env = process.env;
const dataDir = dataDirFromEnv(env);
const inMemory = process.argv.includes('--in-memory') || env.PAYHOOK_IN_MEMORY === 'true';
const secretsFile = env.PAYHOOK_SECRETS_FILE?.trim() || DEV_SECRETS_FILE;
const port = env.PORT ? Number(env.PORT) : 3000;
const external = env.AWS_ENDPOINT_URL?.trim() || undefined;
const shown = (path: string) => relative(process.cwd(), path) || '.';

function print(line = ''): void {
  process.stdout.write(`${line}\n`);
}

let stack: LocalStack;
try {
  stack = await startLocalStack({
    dataDir,
    inMemory,
    port,
    secretsFile,
    ...(env.PAYHOOK_GATEWAY_SETTINGS && { gatewaySettings: env.PAYHOOK_GATEWAY_SETTINGS }),
    ...(env.PAYHOOK_DEDUPE_WINDOWS && { dedupeWindows: env.PAYHOOK_DEDUPE_WINDOWS }),
    ...(env.PAYHOOK_DESTINATIONS && { destinations: env.PAYHOOK_DESTINATIONS }),
    ...(external && { externalEndpoint: external }),
    gatewayApiUrls: apiBaseUrlsFromEnv(env),
    ...(env.PAYHOOK_RECONCILE_INTERVAL && {
      reconcileIntervalSeconds: Number(env.PAYHOOK_RECONCILE_INTERVAL),
    }),
    ...(env.PAYHOOK_RECONCILE_GRACE && { reconcileGraceSeconds: Number(env.PAYHOOK_RECONCILE_GRACE) }),
    report: (line) => process.stderr.write(`payhook: ${line}\n`),
  });
} catch (error) {
  const message =
    error instanceof StackAlreadyRunningError
      ? error.message
      : `could not start: ${(error as Error).message}`;
  process.stderr.write(`payhook: ${message}\n`);
  process.exit(1);
}

print('payhook local stack ready');
print(`  webhooks  POST ${stack.url}/webhooks/<gateway>   (${GATEWAYS.join(', ')})`);
print(`  health    GET  ${stack.url}/health`);
print(`  inspect   GET  ${stack.url}/local/payments/<gateway>/<reference>  /local/queues  /local/events`);
print(`  register  POST ${stack.url}/payments   (open here; IAM-authorised on AWS)`);
print(
  `  reconcile every ${env.PAYHOOK_RECONCILE_INTERVAL ?? 60} s against the gateway sandbox; \`npx payhook reconcile --now\` runs it at once`,
);
print(
  `  data dir  ${shown(dataDir)}${inMemory ? ' (DynamoDB in memory: nothing persists)' : ' (DynamoDB persists here across restarts)'}`,
);
print(`  events    ${stack.info.eventsFile} (payment events, one JSON line each)`);
print(
  `  secrets   ${shown(secretsFile)}${secretsFile === DEV_SECRETS_FILE ? ' (FAKE development secrets)' : ''}`,
);
print(
  external
    ? `  AWS APIs  ${external} (external endpoint; tables and queues created there)`
    : `  emulators DynamoDB ${stack.endpoints.dynamodb} (dynalite), SQS ${stack.endpoints.sqs} (fauxqs, in memory)`,
);
printDeliveries();
print();
print('Try it:  npx payhook send paystack');
print('         npx payhook payments show paystack <reference printed by send>');
print(
  'Ctrl-C stops cleanly after draining what is queued. A hard kill loses what is still queued: SQS here is in memory.',
);

/** Where payment events are delivered, and the secret that signs them when the secrets file names none. */
function printDeliveries(): void {
  const destinations = Object.entries(stack.deliveries.destinations);
  if (destinations.length === 0) {
    print(
      '  deliver   no destinations (PAYHOOK_DESTINATIONS=\'{"shop":{"url":"http://127.0.0.1:4000/hooks"}}\' and `npx payhook listen` to try)',
    );
    return;
  }
  for (const [name, { settings }] of destinations) {
    const filters = [
      settings.format === 'original'
        ? 'every webhook as the gateway sent it'
        : settings.detailTypes
          ? settings.detailTypes.join(',')
          : 'every payment event',
      ...(settings.gateways ? [`from ${settings.gateways.join(',')}`] : []),
    ];
    print(
      `  deliver   ${name}: ${filters.join(' ')} -> POST ${settings.url}  (queue ${deliveryQueueName(name)})`,
    );
  }
  const { signingSecret } = stack.deliveries;
  print(
    signingSecret.fake
      ? `  signing   ${signingSecret.secret} (FAKE development secret; \`npx payhook listen\` verifies with it) unless the secrets file's destinations.<name> says otherwise`
      : `  signing   destinations._default of ${shown(signingSecret.file)} unless destinations.<name> says otherwise`,
  );
}

let stoppingSince: number | undefined;
async function shutdown(signal: string): Promise<void> {
  if (stoppingSince !== undefined) {
    // Ctrl-C reaches this process twice (from the terminal's process group and relayed by tsx): only a later,
    // deliberate second press forces the exit.
    if (Date.now() - stoppingSince < 1500) return;
    process.stderr.write('payhook: stopping now without draining\n');
    process.exit(1);
  }
  stoppingSince = Date.now();
  process.stderr.write(
    `payhook: ${signal}: no new webhooks; draining what is queued (Ctrl-C again to force)\n`,
  );
  const { leftInQueues } = await stack.stop();
  if (leftInQueues > 0)
    process.stderr.write(`payhook: stopped with ${leftInQueues} message(s) still queued; they are lost\n`);
  process.stderr.write('payhook: stopped\n');
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
