import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Environment } from '../lambdas/common/config.js';
import type { StructuredLog } from '../lambdas/common/log.js';
import { EmfMetrics } from '../lambdas/common/metrics.js';
import { createLogger } from '../lambdas/common/powertools.js';
import type { ClientRole } from '../lambdas/composition/client-settings.js';
import type { AwsClient } from '../lambdas/composition/clients.js';
import { Container } from '../lambdas/composition/container.js';
import { deliveryDependencies } from '../lambdas/composition/delivery.js';
import { intakeDependencies } from '../lambdas/composition/intake.js';
import { consumerDependencies } from '../lambdas/composition/processing.js';
import { reconcileDependencies } from '../lambdas/composition/reconciliation.js';
import { registrationDependencies } from '../lambdas/composition/registration.js';
import {
  EVENT_BUS_ENV,
  IDEMPOTENCY_TABLE_ENV,
  INTAKE_ENV,
  PAYMENTS_TABLE_ENV,
  PRIORITIES,
  PRIORITY_QUEUES,
  type Priority,
  QUEUES_ENV,
  RECONCILER_ENV,
  REJECTS_TABLE_ENV,
  SECRETS_ENV,
} from '../lambdas/definitions.js';
import { type GatewayName, isGatewayName } from '../lambdas/domain/webhook-event.js';
import { createIngestHandler } from '../lambdas/intake/api-gateway.js';
import type { PaymentEventPublisher } from '../lambdas/ports/payment-event-publisher.js';
import { createConsumer } from '../lambdas/processing/consumer.js';
import { handleRegistration } from '../lambdas/processing/registration-http.js';
import { readPublishedEvents } from '../lambdas/publishing/file-publisher.js';
import { type ReconcileReport, reconcile } from '../lambdas/reconciliation/reconcile.js';
import { readStackInfo, type StackInfo, stackInfoPath } from './contract.js';
import {
  createDeliveryQueues,
  type DestinationsOption,
  deliveryEnvironment,
  type LocalDestination,
  localDestinations,
  startDeliveryPollers,
} from './deliveries.js';
import { DeliveryFanOut } from './delivery-fan-out.js';
import { type DevelopmentSigningSecret, developmentSigningSecret } from './development-secret.js';
import { startEmulators } from './emulators.js';
import {
  type GatewaySandbox,
  SANDBOX_GATEWAYS,
  type SandboxGateway,
  type SandboxPayment,
  startGatewaySandbox,
} from './gateway-sandbox.js';
import { createLocalServer } from './http-server.js';
import { lambdaContext } from './lambda-context.js';
import { ConsumerPrecedence } from './precedence.js';
import { createPipelineQueues, type PipelineQueueUrls, queueCounts } from './queues.js';
import { EventSourceSwitches, pollOnce } from './sqs-event-source.js';
import { createTables, type TableNames, tableNames } from './tables.js';
import { paymentView } from './views.js';

export interface LocalStackOptions {
  /** Where `stack.json` lives (so the CLI finds the stack), and DynamoDB's files unless `inMemory`. */
  readonly dataDir: string;
  /** Keep DynamoDB in memory; nothing is written to the data dir but `stack.json`. @default false */
  readonly inMemory?: boolean;
  /** HTTP port; 0 picks a free one. @default 3000 */
  readonly port?: number;
  /** @default 127.0.0.1 */
  readonly host?: string;
  /** The gateway secrets file (the same shape as the AWS secrets). */
  readonly secretsFile: string;
  /** `PAYHOOK_GATEWAY_SETTINGS` JSON. */
  readonly gatewaySettings?: string;
  /** `PAYHOOK_DEDUPE_WINDOWS` JSON. */
  readonly dedupeWindows?: string;
  /** An existing DynamoDB/SQS endpoint (LocalStack, moto) used instead of the embedded emulators. */
  readonly externalEndpoint?: string;
  /**
   * Another stack's emulators (its `endpoints`), used instead of starting any: this stack then shares its queues,
   * tables and (with `eventsFile`) its events. The benchmark runs the consumers on a thread of their own this way.
   */
  readonly emulatorEndpoints?: { readonly sqs: string; readonly dynamodb: string };
  /**
   * The events file to append payment events to (another stack's `info.eventsFile`, to share it); left in place on
   * stop. @default `payment-events.jsonl` in `dataDir`, or a temporary file with `inMemory`
   */
  readonly eventsFile?: string;
  /** Pollers per queue, within the queue's `maxConcurrency`; a laptop needs few. @default 2 */
  readonly workersPerQueue?: number;
  /** Long-poll wait of an idle poller. @default 1 */
  readonly pollWaitSeconds?: number;
  /** Where what the stack does is reported; the handlers keep their own structured logs. */
  readonly report?: (line: string) => void;
  /** Gateway API base URLs (`PAYHOOK_<GATEWAY>_API_URL`); the others are served by the built-in sandbox. */
  readonly gatewayApiUrls?: Readonly<Partial<Record<GatewayName, string>>>;
  /**
   * Seconds between reconciler runs; 0 turns both reconciler timers off (`payhook reconcile --now` still works, and
   * works off the claims awaiting confirmation too). @default 60
   */
  readonly reconcileIntervalSeconds?: number;
  /** Seconds between confirmations-only runs (claims awaiting confirmation; a minute on AWS). @default 5 */
  readonly confirmIntervalSeconds?: number;
  /** Seconds a payment stays pending before the reconciler asks about it. @default 600 */
  readonly reconcileGraceSeconds?: number;
  /**
   * Where payment events are delivered (`PAYHOOK_DESTINATIONS`: its JSON text, or the object), name -> settings as in
   * `lambdas/delivery/destinations.ts`; plain http is allowed here, and loopback addresses. Each gets a queue
   * `deliveries-<name>` and a dead-letter queue `deliveries-<name>-dlq`, fed by the local stand-in for its delivery
   * rule and read by the real delivery function. Signed with the secrets file's `destinations.<name>`, else its
   * `destinations._default`, else the FAKE development secret. @default none
   */
  readonly destinations?: DestinationsOption;
  /** Seams for the soak (injected faults) and the benchmark (counting); the real parts run inside them. */
  readonly hooks?: LocalStackHooks;
}

export type ConsumerHandler = ReturnType<typeof createConsumer>;
export type IngestHandler = ReturnType<typeof createIngestHandler>;

export interface LocalStackHooks {
  /**
   * Each AWS client the stack builds, before its first call (to add SDK middleware): the functions' clients, which
   * the composition builds with their role's settings (`ingest`, `refusals`, `consumer`, `reconciler`,
   * `registration`), and the `pipeline` clients of the stack's own parts (the pollers, which play the SQS event
   * source mapping, the set-up and the `/local` views).
   */
  readonly awsClient?: (client: AwsClient, role: ClientRole | 'pipeline') => void;
  /** Wraps the domain-event publisher (the stand-in for EventBridge, delivery rules included). */
  readonly publisher?: (inner: PaymentEventPublisher) => PaymentEventPublisher;
  /** Wraps each poller's consumer, as the Lambda runtime would invoke it. */
  readonly consumer?: (priority: Priority, handler: ConsumerHandler) => ConsumerHandler;
  /** Wraps the ingest handler behind the HTTP server. */
  readonly ingest?: (handler: IngestHandler) => IngestHandler;
}

export interface LocalStack {
  readonly url: string;
  readonly info: StackInfo;
  readonly queues: PipelineQueueUrls;
  readonly tables: TableNames;
  readonly endpoints: { readonly sqs: string; readonly dynamodb: string };
  /** The stand-in for the gateways' verify APIs (tests and `payhook send --lost` put payments there). */
  readonly sandbox: GatewaySandbox;
  readonly deliveries: LocalDeliveries;
  /**
   * Each priority's event source mapping, as `update-event-source-mapping --enabled/--no-enabled` would set it: while
   * disabled, its pollers receive nothing and its queue fills (the benchmark builds a backlog this way). Stopping
   * the stack enables them all, to drain.
   */
  readonly eventSources: Pick<EventSourceSwitches<Priority>, 'enable' | 'disable'>;
  /** Runs the reconciler once, now (what the timer and `payhook reconcile --now` do). */
  reconcileNow(graceSeconds?: number): Promise<ReconcileReport>;
  /**
   * Stops cleanly: no new webhooks (503), then waits until what is queued and in flight is processed (up to
   * `drainTimeoutMs`), then stops the pollers, the server and the emulators.
   */
  stop(options?: { readonly drainTimeoutMs?: number }): Promise<{ readonly leftInQueues: number }>;
}

/** The delivery destinations and the secret that signs for those the secrets file names none for. */
export interface LocalDeliveries {
  readonly destinations: Readonly<Record<string, LocalDestination>>;
  readonly signingSecret: DevelopmentSigningSecret;
}

/** The emulators accept any credentials; these keep the SDK from looking for real ones on a laptop that has none. */
const LOCAL_CREDENTIALS = { accessKeyId: 'payhook-local', secretAccessKey: 'payhook-local' };
const REGION = process.env.AWS_REGION ?? 'us-east-1';

export class StackAlreadyRunningError extends Error {
  override readonly name = 'StackAlreadyRunningError';
}

async function isHealthy(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
    return response.ok;
  } catch {
    return false;
  }
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The environment the local functions read, as the stack gives the deployed ones theirs: the emulators' queues and
 * tables, the secrets and events files, the gateway settings and dedupe windows, and each gateway's verify API (the
 * sandbox's unless `gatewayApiUrls` names another).
 */
function localEnvironment(
  options: LocalStackOptions,
  parts: {
    readonly queues: PipelineQueueUrls;
    readonly tables: TableNames;
    readonly eventsFile: string;
    readonly sandbox: GatewaySandbox;
  },
): Environment {
  const { queues, tables } = parts;
  const env: Record<string, string | undefined> = {
    [SECRETS_ENV.secretsFile]: options.secretsFile,
    [INTAKE_ENV.gatewaySettings]: options.gatewaySettings,
    [IDEMPOTENCY_TABLE_ENV.dedupeWindows]: options.dedupeWindows,
    [IDEMPOTENCY_TABLE_ENV.tableName]: tables.idempotency,
    [PAYMENTS_TABLE_ENV.tableName]: tables.payments,
    [REJECTS_TABLE_ENV.tableName]: tables.rejects,
    [EVENT_BUS_ENV.eventsFile]: parts.eventsFile,
    [QUEUES_ENV.deadLetterQueueUrl('low')]: queues.deadLetterQueues.low,
  };
  for (const priority of PRIORITIES) env[QUEUES_ENV.queueUrl(priority)] = queues.queues[priority];
  for (const gateway of SANDBOX_GATEWAYS) {
    env[RECONCILER_ENV.apiUrl(gateway)] = options.gatewayApiUrls?.[gateway] ?? parts.sandbox.url(gateway);
  }
  return env;
}

/**
 * Starts the whole pipeline in this process: DynamoDB and SQS emulators (or an external endpoint), the tables and
 * queues from `lambdas/definitions.ts`, the real ingest handler behind an HTTP server, and pollers that play the SQS
 * event source mapping for each priority into the real consumer.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const report = options.report ?? (() => undefined);
  // Configuration errors first, before anything is started: a destination's field, a malformed development secret.
  const destinations = localDestinations(options.destinations);
  const signingSecret = developmentSigningSecret(options.secretsFile);
  mkdirSync(options.dataDir, { recursive: true });
  const previous = readStackInfo(options.dataDir);
  if (previous && (await isHealthy(previous.url))) {
    throw new StackAlreadyRunningError(
      `a payhook stack is already running for ${options.dataDir} at ${previous.url} (pid ${previous.pid})`,
    );
  }

  if (options.emulatorEndpoints && options.externalEndpoint) {
    throw new Error('emulatorEndpoints and externalEndpoint both name where the stack calls: give one');
  }
  const stoppers: (() => Promise<void>)[] = [];
  let endpoints: { sqs: string; dynamodb: string };
  if (options.emulatorEndpoints) {
    endpoints = { ...options.emulatorEndpoints };
  } else if (options.externalEndpoint) {
    endpoints = { sqs: options.externalEndpoint, dynamodb: options.externalEndpoint };
  } else {
    const databasePath = options.inMemory ? undefined : join(options.dataDir, 'dynamodb');
    if (databasePath) mkdirSync(databasePath, { recursive: true });
    // On a thread of their own, as the services run on machines of their own (see emulators.ts).
    const emulators = await startEmulators(databasePath ? { databasePath } : {});
    stoppers.push(() => emulators.stop());
    endpoints = { ...emulators.endpoints };
  }

  const credentials =
    options.externalEndpoint && process.env.AWS_ACCESS_KEY_ID ? undefined : LOCAL_CREDENTIALS;
  // The stack's own clients: the pollers (which play the SQS event source mapping and long-poll, which a function's
  // deadline would cut short), the set-up and the /local views. The functions' clients are the composition's, below.
  const sqs = new SQSClient({
    endpoint: endpoints.sqs,
    region: REGION,
    useQueueUrlAsEndpoint: false,
    ...(credentials && { credentials }),
  });
  const dynamo = new DynamoDBClient({
    endpoint: endpoints.dynamodb,
    region: REGION,
    ...(credentials && { credentials }),
  });
  options.hooks?.awsClient?.(sqs, 'pipeline');
  options.hooks?.awsClient?.(dynamo, 'pipeline');
  stoppers.unshift(async () => {
    sqs.destroy();
    dynamo.destroy();
  });

  const tables = tableNames();
  await createTables(dynamo, tables);
  const queues = await createPipelineQueues(sqs);
  const deliveries: LocalDeliveries = {
    destinations: await createDeliveryQueues(sqs, destinations.settings),
    signingSecret,
  };
  const eventsFile =
    options.eventsFile ??
    (options.inMemory
      ? join(tmpdir(), `payhook-events-${process.pid}-${Date.now()}.jsonl`)
      : join(options.dataDir, 'payment-events.jsonl'));
  const sandbox = await startGatewaySandbox();
  stoppers.push(() => sandbox.stop());

  // The functions' parts, built by the same composition as on AWS (each client once, with its role's settings), from
  // an environment naming the emulators' queues and tables; the hooks wrap the clients and the publisher it builds.
  const environment = {
    ...localEnvironment(options, { queues, tables, eventsFile, sandbox }),
    ...deliveryEnvironment(destinations.json, deliveries.destinations),
  };
  // The stand-in for the delivery rules wraps the events file (together they play the bus), and the hook wraps both,
  // as a failed PutEvents reaches no rule.
  const fanOutTargets = Object.entries(deliveries.destinations).map(([name, destination]) => ({
    name,
    ...destination,
  }));
  const bus = (inner: PaymentEventPublisher): PaymentEventPublisher => {
    const fanned =
      fanOutTargets.length === 0 ? inner : new DeliveryFanOut(inner, sqs, fanOutTargets, { region: REGION });
    return options.hooks?.publisher?.(fanned) ?? fanned;
  };
  const containerFor = (onClient?: (client: AwsClient, role: ClientRole) => void) => {
    const built = new Container(environment, {
      endpoints,
      region: REGION,
      ...(credentials && { credentials }),
      onClient: (client, role) => {
        onClient?.(client, role);
        options.hooks?.awsClient?.(client, role);
      },
      publisher: bus,
    });
    stoppers.unshift(async () => built.destroy());
    return built;
  };
  const container = containerFor();
  // The high queue's consumers before the others', on this one event loop (see precedence.ts). Each queue's consumer
  // has clients of its own, as each is a function of its own on AWS, so the other queues' calls can wait their turn.
  const precedence = new ConsumerPrecedence();
  const consumerContainers = Object.fromEntries(
    PRIORITIES.map((priority) => [
      priority,
      priority === 'high'
        ? container
        : containerFor((client, role) => {
            if (role === 'consumer') precedence.gate(client);
          }),
    ]),
  ) as Record<Priority, Container>;
  const ingestLog = createLogger('payhook-ingest');
  const realIngest = createIngestHandler(
    // Metrics are printed as EMF lines on stdout, exactly what CloudWatch would turn into metrics on AWS.
    { ...intakeDependencies(container, ingestLog), metrics: new EmfMetrics('payhook-ingest') },
    ingestLog,
  );
  const ingest = options.hooks?.ingest?.(realIngest) ?? realIngest;
  const consumerLog: StructuredLog = createLogger('payhook-consumer');
  // One consumer per poller, as Lambda gives each concurrent invocation its own execution environment (the clients
  // are shared, as a container's are).
  const consumerFor = (priority: Priority): ConsumerHandler => {
    const consumer = createConsumer({
      ...consumerDependencies(consumerContainers[priority], consumerLog, {
        priority,
        queueUrl: queues.queues[priority],
        deadLetterQueueUrl: queues.deadLetterQueues[priority],
      }),
      metrics: new EmfMetrics(`payhook-consumer-${priority}`),
    });
    return options.hooks?.consumer?.(priority, consumer) ?? consumer;
  };
  const registration = registrationDependencies(container);
  const { store } = registration;

  const composedReconciler = reconcileDependencies(container, createLogger('payhook-reconciler'));
  // A grace of 0 s is the local stack's own option (tests), which the environment's positive integer cannot carry.
  const reconcileSettings = {
    ...composedReconciler.settings,
    ...(options.reconcileGraceSeconds !== undefined && { graceSeconds: options.reconcileGraceSeconds }),
  };
  let reconciling: Promise<ReconcileReport> | undefined;
  const reconcileDeps = {
    ...composedReconciler,
    settings: reconcileSettings,
    metrics: new EmfMetrics('payhook-reconciler'),
  };
  const reconcileNow = (graceSeconds?: number): Promise<ReconcileReport> => {
    // One run at a time, as on AWS (the schedule does not overlap runs that finish within its interval).
    reconciling ??= reconcile(
      graceSeconds === undefined
        ? reconcileDeps
        : { ...reconcileDeps, settings: { ...reconcileSettings, graceSeconds } },
      `local-${randomUUID()}`,
    ).finally(() => {
      reconciling = undefined;
    });
    return reconciling;
  };

  let state: 'starting' | 'ready' | 'stopping' = 'starting';
  let polling = true;
  const eventSources = new EventSourceSwitches<Priority>();
  const pollers: Promise<void>[] = [];
  for (const priority of PRIORITIES) {
    const definition = PRIORITY_QUEUES[priority];
    const workers = Math.max(1, Math.min(definition.maxConcurrency, options.workersPerQueue ?? 2));
    for (let worker = 0; worker < workers; worker += 1) {
      let consumer = consumerFor(priority);
      const invoke: ConsumerHandler = (event, context) =>
        priority === 'high' ? precedence.whileHigh(() => consumer(event, context)) : consumer(event, context);
      pollers.push(
        (async () => {
          while (polling) {
            await eventSources.whenEnabled(priority);
            if (!polling) return;
            try {
              const result = await pollOnce(sqs, queues.queues[priority], invoke, {
                batchSize: definition.batchSize,
                batchingWindowSeconds: definition.maxBatchingWindowSeconds,
                waitSeconds: options.pollWaitSeconds ?? 1,
                context: (id) =>
                  lambdaContext(`payhook-consumer-${priority}`, definition.consumerTimeoutSeconds, id),
                timeoutMs: definition.consumerTimeoutSeconds * 1000,
              });
              if (result.timedOut) {
                // Lambda would stop that environment; here the abandoned invocation runs on in the background, so
                // the poller takes a fresh consumer (a new environment) rather than share state with it.
                consumer = consumerFor(priority);
                report(
                  `consumer ${priority}#${worker} timed out after ${definition.consumerTimeoutSeconds} s with ${result.received} message(s); they come back after the queue's visibility timeout`,
                );
              }
            } catch (error) {
              if (!polling) return;
              report(`poller ${priority}#${worker} failed: ${(error as Error).message}; retrying in 1 s`);
              await sleep(1000);
            }
          }
        })(),
      );
    }
  }

  if (fanOutTargets.length > 0) {
    pollers.push(
      ...startDeliveryPollers({
        sqs,
        // The same composition as the delivery Lambda's, with the local secrets and loopback http allowed.
        dependencies: deliveryDependencies(container, createLogger('payhook-deliver'), {
          local: { fallbackSecret: signingSecret.secret },
        }),
        workersPerQueue: options.workersPerQueue ?? 2,
        pollWaitSeconds: options.pollWaitSeconds ?? 1,
        report,
        polling: () => polling,
      }),
    );
  }

  const server = createLocalServer(
    {
      webhook: ingest,
      state: () => state,
      registration: (body) => handleRegistration(body, store, registration.publisher, new Date()),
      local: async (method, segments, query, body) => {
        const [resource, gateway, identifier] = segments;
        if (method === 'POST') {
          if (resource === 'reconcile' && segments.length === 1) {
            const grace = query.get('grace');
            if (grace !== null && !/^\d+$/.test(grace)) {
              return {
                status: 400,
                body: { error: 'invalid_grace', message: 'grace must be whole seconds' },
              };
            }
            return { status: 200, body: await reconcileNow(grace === null ? undefined : Number(grace)) };
          }
          if (resource === 'sandbox' && gateway !== undefined && segments.length === 2) {
            if (!(SANDBOX_GATEWAYS as readonly string[]).includes(gateway)) {
              return {
                status: 400,
                body: { error: 'no_sandbox', message: `${gateway} has no verify API sandbox` },
              };
            }
            sandbox.setPayment(gateway as SandboxGateway, JSON.parse(body) as SandboxPayment);
            return { status: 200, body: { stored: true } };
          }
          return {
            status: 404,
            body: { error: 'not_found', message: `no local route POST /local/${segments.join('/')}` },
          };
        }
        if (
          resource === 'payments' &&
          gateway !== undefined &&
          identifier !== undefined &&
          segments.length === 3
        ) {
          if (!isGatewayName(gateway)) {
            return {
              status: 400,
              body: { error: 'unknown_gateway', message: `no gateway named "${gateway}"` },
            };
          }
          const payment = await store.find(gateway, identifier);
          if (!payment) {
            return {
              status: 404,
              body: {
                error: 'payment_not_found',
                message: `no ${gateway} payment with reference or id "${identifier}"`,
              },
            };
          }
          return {
            status: 200,
            body: paymentView(payment, await store.history(gateway, payment.paymentKey)),
          };
        }
        if (resource === 'queues' && segments.length === 1) {
          const views = [];
          for (const priority of PRIORITIES) {
            views.push({
              priority,
              queue: await queueCounts(sqs, queues.queues[priority]),
              deadLetter: await queueCounts(sqs, queues.deadLetterQueues[priority]),
            });
          }
          return { status: 200, body: { queues: views } };
        }
        if (resource === 'events' && segments.length === 1) {
          const limit = Math.min(Math.max(Number(query.get('limit') ?? 50) || 50, 1), 1000);
          return { status: 200, body: { events: (await readPublishedEvents(eventsFile)).slice(-limit) } };
        }
        return {
          status: 404,
          body: { error: 'not_found', message: `no local route /local/${segments.join('/')}` },
        };
      },
    },
    (error) => report(`request failed: ${(error as Error).stack ?? String(error)}`),
  );
  const port = await listen(server, options.port ?? 3000, options.host ?? '127.0.0.1');
  const url = `http://${options.host ?? '127.0.0.1'}:${port}`;
  const info: StackInfo = {
    url,
    pid: process.pid,
    startedAt: new Date().toISOString(),
    dataDir: options.inMemory ? null : options.dataDir,
    eventsFile,
    sqs: {
      endpoint: endpoints.sqs,
      queues: Object.fromEntries(
        PRIORITIES.map((priority) => [
          priority,
          { queueUrl: queues.queues[priority], deadLetterQueueUrl: queues.deadLetterQueues[priority] },
        ]),
      ),
    },
    dynamodb: { endpoint: endpoints.dynamodb, rejectsTable: tables.rejects, paymentsTable: tables.payments },
    destinations: deliveries.destinations,
  };
  writeFileSync(stackInfoPath(options.dataDir), `${JSON.stringify(info, null, 2)}\n`);
  state = 'ready';
  const intervalSeconds = options.reconcileIntervalSeconds ?? 60;
  const confirmSeconds = options.confirmIntervalSeconds ?? 5;
  let confirming: Promise<unknown> | undefined;
  const timers =
    intervalSeconds > 0
      ? [
          setInterval(() => {
            reconcileNow().catch((error: unknown) =>
              report(`reconciler run failed: ${(error as Error).message}`),
            );
          }, intervalSeconds * 1000),
          // As the stack's second schedule does on AWS: claims awaiting confirmation, more often than the full run.
          setInterval(() => {
            confirming ??= reconcile(reconcileDeps, `local-confirm-${randomUUID()}`, 'confirmations')
              .catch((error: unknown) => report(`confirmation run failed: ${(error as Error).message}`))
              .finally(() => {
                confirming = undefined;
              });
          }, confirmSeconds * 1000),
        ]
      : [];
  for (const timer of timers) timer.unref();

  async function stop(stopOptions: { readonly drainTimeoutMs?: number } = {}) {
    state = 'stopping';
    for (const timer of timers) clearInterval(timer);
    await reconciling?.catch(() => undefined);
    await confirming?.catch(() => undefined);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    eventSources.enableForGood();
    // Drain: what is queued or in flight is processed before the pollers stop, so nothing is half-written. Deliveries
    // due now are attempted too; one waiting out a back-off (in flight, to SQS) can wait hours, so it is not waited for.
    const deadline = Date.now() + (stopOptions.drainTimeoutMs ?? 30_000);
    for (;;) {
      let left = 0;
      for (const priority of PRIORITIES) {
        const counts = await queueCounts(sqs, queues.queues[priority]);
        left += counts.visible + counts.inFlight + counts.delayed;
      }
      for (const { queueUrl } of Object.values(deliveries.destinations)) {
        const counts = await queueCounts(sqs, queueUrl);
        left += counts.visible + counts.delayed;
      }
      if (left === 0 || Date.now() >= deadline) break;
      await sleep(200);
    }
    polling = false;
    await Promise.all(pollers);
    // What is left once the pollers stopped, deliveries waiting to be retried included: SQS here is in memory.
    let left = 0;
    const allQueues = [
      ...PRIORITIES.map((priority) => queues.queues[priority]),
      ...Object.values(deliveries.destinations).map((destination) => destination.queueUrl),
    ];
    for (const queueUrl of allQueues) {
      const counts = await queueCounts(sqs, queueUrl);
      left += counts.visible + counts.inFlight + counts.delayed;
    }
    server.closeAllConnections();
    await closed;
    for (const stopper of stoppers) await stopper();
    if (existsSync(stackInfoPath(options.dataDir)) && readStackInfo(options.dataDir)?.url === url) {
      rmSync(stackInfoPath(options.dataDir));
    }
    // A shared events file is its owner's to remove.
    if (options.inMemory && options.eventsFile === undefined) rmSync(eventsFile, { force: true });
    return { leftInQueues: left };
  }

  return { url, info, queues, tables, endpoints, sandbox, deliveries, eventSources, reconcileNow, stop };
}
