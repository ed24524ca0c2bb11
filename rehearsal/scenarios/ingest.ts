import { readFileSync } from 'node:fs';
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import {
  DEFAULT_SAMPLES,
  DEV_SECRETS_FILE,
  devSecret,
  listSamples,
  readSample,
  SIGNERS,
  signWithDevSecret,
} from '../../events/index.js';
import { type GatewayName, isGatewayName } from '../../lambdas/domain/webhook-event.js';
import type { FunctionProcess } from '../function-process.js';
import { httpApiEvent } from '../lambda-events.js';
import type { Stage, StagedFunction } from '../stage.js';
import { referencedId, resourcesOfType } from '../template.js';

/**
 * Ingest, on the events the HTTP API's routes deliver: first with the secrets exactly as the stack creates them
 * (nothing configured: 503 and nothing queued), then, in a new execution environment after the development secrets
 * are put in, each gateway's sample plain and base64-encoded, a forged one and an unparseable one.
 */

interface Answer {
  readonly statusCode?: number;
  readonly body?: string;
}

/** The gateways the template routes to ingest, by route key (`POST /webhooks/paystack`). */
export function webhookRoutes(stage: Stage): Map<GatewayName, string> {
  const routes = new Map<GatewayName, string>();
  for (const [, route] of resourcesOfType(stage.output.template, 'AWS::ApiGatewayV2::Route')) {
    const key = route.Properties?.RouteKey;
    const gateway = typeof key === 'string' ? /^POST \/webhooks\/([a-z]+)$/.exec(key)?.[1] : undefined;
    if (typeof key === 'string' && isGatewayName(gateway)) routes.set(gateway, key);
  }
  return routes;
}

async function queued(stage: Stage): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const [logicalId] of resourcesOfType(stage.output.template, 'AWS::SQS::Queue')) {
    const { Attributes } = await stage.account.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: stage.ref(logicalId),
        AttributeNames: ['ApproximateNumberOfMessages'],
      }),
    );
    counts[stage.ref(logicalId, 'QueueName')] = Number(Attributes?.ApproximateNumberOfMessages ?? 0);
  }
  return counts;
}

function total(counts: Record<string, number>): number {
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}

/** Which queues grew between two counts, `name+N`. */
function growth(before: Record<string, number>, after: Record<string, number>): string[] {
  return Object.entries(after)
    .filter(([name, count]) => count > (before[name] ?? 0))
    .map(([name, count]) => `${name}+${count - (before[name] ?? 0)}`);
}

async function post(
  instance: FunctionProcess,
  route: string,
  body: string,
  headers: Record<string, string>,
  base64 = false,
) {
  const result = await instance.invoke(httpApiEvent({ routeKey: route, body, headers, base64 }));
  if (!result.ok)
    throw new Error(`the function failed: ${result.error.errorType}: ${result.error.errorMessage}`);
  return result.value as Answer;
}

function expectStatus(answer: Answer, status: number, what: string): void {
  if (answer.statusCode !== status) {
    throw new Error(`${what}: expected ${status}, got ${answer.statusCode} ${answer.body ?? ''}`.trim());
  }
}

/** The development secrets (events/dev-secrets.json), put into each gateway's secret as an operator would. */
export async function fillSecrets(stage: Stage): Promise<void> {
  const dev = JSON.parse(readFileSync(DEV_SECRETS_FILE, 'utf8')) as Record<string, unknown>;
  for (const [logicalId, resource] of resourcesOfType(stage.output.template, 'AWS::SecretsManager::Secret')) {
    const gateway =
      String(resource.Properties?.Name ?? '')
        .split('/')
        .pop() ?? '';
    if (!isGatewayName(gateway) || dev[gateway] === undefined) continue;
    await stage.account.secrets.send(
      new PutSecretValueCommand({
        SecretId: stage.ref(logicalId),
        SecretString: JSON.stringify(dev[gateway]),
      }),
    );
  }
}

async function unconfigured(stage: Stage, fn: StagedFunction, routes: Map<GatewayName, string>) {
  const instance = await stage.start(fn);
  try {
    await stage.scenario(fn, 'secrets as the stack creates them: 503, nothing queued', async () => {
      const before = await queued(stage);
      for (const [gateway, route] of routes) {
        const signed = signWithDevSecret(gateway, readSample(gateway, DEFAULT_SAMPLES[gateway]));
        expectStatus(await post(instance, route, signed.body, { ...signed.headers }), 503, gateway);
      }
      const after = await queued(stage);
      if (total(after) !== total(before))
        throw new Error(`queued anyway: ${growth(before, after).join(' ')}`);
      return `${routes.size} gateways answered 503 (not configured)`;
    });
  } finally {
    await instance.stop();
  }
}

/** Every sample of every routed gateway (so each priority's queue gets events), or only each one's main sample. */
function webhooks(routes: Map<GatewayName, string>, every: boolean) {
  return [...routes].flatMap(([gateway, route]) =>
    (every ? listSamples(gateway) : [DEFAULT_SAMPLES[gateway]]).map((sample) => ({
      what: `${gateway} ${sample}`,
      route,
      signed: signWithDevSecret(gateway, readSample(gateway, sample)),
    })),
  );
}

async function samples(
  stage: Stage,
  fn: StagedFunction,
  instance: FunctionProcess,
  routes: Map<GatewayName, string>,
) {
  for (const base64 of [false, true]) {
    const name = base64 ? 'each gateway sample, isBase64Encoded' : 'every sample of each gateway, plain body';
    await stage.scenario(fn, name, async () => {
      const before = await queued(stage);
      const sent = webhooks(routes, !base64);
      for (const { what, route, signed } of sent) {
        expectStatus(await post(instance, route, signed.body, { ...signed.headers }, base64), 200, what);
      }
      const after = await queued(stage);
      if (total(after) - total(before) < routes.size) {
        throw new Error(
          `expected at least ${routes.size} queued, saw ${growth(before, after).join(' ') || 'none'}`,
        );
      }
      return `200 x${sent.length}; queued ${growth(before, after).join(' ')}`;
    });
  }
}

async function hostile(
  stage: Stage,
  fn: StagedFunction,
  instance: FunctionProcess,
  routes: Map<GatewayName, string>,
) {
  const route = routes.get('paystack');
  if (route === undefined) throw new Error('the template has no Paystack route');
  const refusals = stage.ref(referencedId(fn.environment.PAYHOOK_REJECTS_TABLE) ?? '', 'Arn');
  await stage.scenario(fn, 'forged signature: 401, nothing queued, refusal recorded', async () => {
    const before = await queued(stage);
    const calls = stage.callsOf(fn.name).length;
    const forged = SIGNERS.paystack(readSample('paystack', 'charge.success'), {
      secret: 'sk_test_not_the_secret',
    });
    expectStatus(await post(instance, route, forged.body, { ...forged.headers }), 401, 'forged');
    const after = await queued(stage);
    if (total(after) !== total(before))
      throw new Error(`a forged webhook was queued: ${growth(before, after)}`);
    const recorded = stage
      .callsOf(fn.name)
      .slice(calls)
      .some(
        (call) =>
          call.status === 200 &&
          call.permissions.some((p) => p.action === 'dynamodb:PutItem' && p.resource === refusals),
      );
    if (!recorded) throw new Error('the refusal was not written to the refused-requests table');
    return '401; refused request written';
  });
  await stage.scenario(fn, 'signed but unparseable body: parked, not lost', async () => {
    const before = await queued(stage);
    const signed = SIGNERS.paystack('{"event": "charge.success", "data": ', {
      secret: devSecret('paystack'),
    });
    const answer = await post(instance, route, signed.body, { ...signed.headers });
    // 200: the gateway must not retry what can never parse; it is kept for a fix and a redrive.
    expectStatus(answer, 200, 'unparseable');
    const after = await queued(stage);
    const grew = growth(before, after);
    if (!grew.some((entry) => entry.includes('dlq'))) {
      throw new Error(
        `expected it parked on a dead-letter queue; answer ${answer.statusCode}, queued ${grew}`,
      );
    }
    return `${answer.statusCode}; parked ${grew.join(' ')}`;
  });
}

export async function rehearseIngest(stage: Stage): Promise<void> {
  const fn = stage.fn(/Ingest$/);
  const routes = webhookRoutes(stage);
  await unconfigured(stage, fn, routes);
  await fillSecrets(stage);
  // A new execution environment: the running one keeps the secret it fetched for its cache's lifetime.
  const instance = await stage.start(fn);
  try {
    await samples(stage, fn, instance, routes);
    await hostile(stage, fn, instance, routes);
  } finally {
    await instance.stop();
  }
}
