import { ScanCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { RECONCILER_ENV } from '../../lambdas/definitions.js';
import { SANDBOX_GATEWAYS, startGatewaySandbox } from '../../local/gateway-sandbox.js';
import type { FunctionProcess } from '../function-process.js';
import { httpApiEvent, schedulerEvent } from '../lambda-events.js';
import type { Stage, StagedFunction } from '../stage.js';
import { referencedId, resourcesOfType } from '../template.js';

/**
 * Registration, on the `AWS_IAM` route's payload 2.0 event; then the reconciler on each of its schedules' input:
 * with the secrets as the stack creates them (it must skip the gateways, not fail), and with them filled in, asking
 * a stand-in for the gateways' APIs. That stand-in's URL (`PAYHOOK_<GATEWAY>_API_URL`) is the one variable the
 * rehearsal adds to a template's environment: there is no network here.
 */

/** One payment per gateway with a verify API, as a checkout registers them; what each gateway will answer. */
export const REGISTERED = [
  { gateway: 'paystack', reference: 'REHEARSAL-PAYSTACK-1', amount: '2500.00', currency: 'NGN' },
  { gateway: 'flutterwave', reference: 'REHEARSAL-FLW-1', amount: '7500.50', currency: 'NGN' },
  {
    gateway: 'stripe',
    reference: 'REHEARSAL-STRIPE-1',
    gatewayPaymentId: 'pi_rehearsal1',
    amount: '10.00',
    currency: 'USD',
  },
  {
    gateway: 'razorpay',
    reference: 'REHEARSAL-RZP-1',
    gatewayPaymentId: 'order_rehearsal1',
    amount: '100.00',
    currency: 'INR',
  },
  {
    gateway: 'oxapay',
    reference: 'REHEARSAL-OXA-1',
    gatewayPaymentId: '18736154',
    amount: '10.5',
    currency: 'USD',
  },
] as const;

/** What the stand-in gateways answer: paid, failed, paid, and two still pending (an order with no attempt yet). */
const GATEWAY_ANSWERS = {
  paystack: {
    status: 'success',
    amount: '250000',
    currency: 'NGN',
    reference: 'REHEARSAL-PAYSTACK-1',
    id: '880001',
  },
  flutterwave: {
    status: 'failed',
    amount: '7500.50',
    currency: 'NGN',
    reference: 'REHEARSAL-FLW-1',
    id: '880002',
  },
  stripe: {
    status: 'succeeded',
    amount: '1000',
    currency: 'USD',
    reference: 'REHEARSAL-STRIPE-1',
    id: 'pi_rehearsal1',
  },
  razorpay: { status: 'created', amount: '10000', currency: 'INR', id: 'order_rehearsal1', payments: [] },
  oxapay: {
    status: 'Waiting',
    amount: '10.5',
    currency: 'USD',
    reference: 'REHEARSAL-OXA-1',
    id: '18736154',
  },
} as const;

function registerRoute(stage: Stage): string {
  for (const [, route] of resourcesOfType(stage.output.template, 'AWS::ApiGatewayV2::Route')) {
    if (route.Properties?.AuthorizationType === 'AWS_IAM') return String(route.Properties.RouteKey);
  }
  throw new Error('the template has no IAM-authorised route');
}

/** Posts a registration the way the `AWS_IAM` route delivers it; returns the status and the body. */
function registrar(instance: FunctionProcess, route: string) {
  return async (body: unknown) => {
    const result = await instance.invoke(
      httpApiEvent({
        routeKey: route,
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
        iamCaller: 'arn:aws:sts::123456789012:assumed-role/checkout/rehearsal',
      }),
    );
    if (!result.ok) {
      throw new Error(`the function failed: ${result.error.errorType}: ${result.error.errorMessage}`);
    }
    const answer = result.value as { statusCode?: number; body?: string };
    return { status: answer.statusCode, body: answer.body ?? '' };
  };
}

/** Before any webhook: one payment per gateway with a verify API, registered, repeated, then changed. */
export async function rehearseRegistration(stage: Stage): Promise<void> {
  const fn = stage.fn(/Register$/);
  const route = registerRoute(stage);
  const instance = await stage.start(fn);
  const post = registrar(instance, route);
  try {
    await stage.scenario(fn, `${route}, IAM-authorised: 201 each, again 200, changed 409`, async () => {
      const statuses = [];
      for (const registration of REGISTERED) statuses.push((await post(registration)).status);
      statuses.push((await post(REGISTERED[0])).status);
      statuses.push((await post({ ...REGISTERED[0], amount: '9999.00' })).status);
      const expected = [...REGISTERED.map(() => 201), 200, 409].join(',');
      if (statuses.join(',') !== expected)
        throw new Error(`answered ${statuses.join(',')}, expected ${expected}`);
      return statuses.join(', ');
    });
  } finally {
    await instance.stop();
  }
}

/**
 * After the webhooks: a payment the Paystack sample paid (`ORDER-1001`, 2500.00 NGN) registered late with another
 * amount is found through its reference and the mismatch is announced.
 */
export async function rehearseLateRegistration(stage: Stage): Promise<void> {
  const fn = stage.fn(/Register$/);
  const instance = await stage.start(fn);
  const post = registrar(instance, registerRoute(stage));
  try {
    await stage.scenario(
      fn,
      'registered after its webhook, another amount: found, mismatch announced',
      async () => {
        const before = stage.callsOf(fn.name).filter((call) => call.service === 'events').length;
        const answer = await post({
          gateway: 'paystack',
          reference: 'ORDER-1001',
          amount: '2600.00',
          currency: 'NGN',
        });
        const published = stage.callsOf(fn.name).filter((call) => call.service === 'events').length - before;
        if (answer.status !== 200 || published < 1) {
          throw new Error(`answered ${answer.status} ${answer.body}, ${published} announcement(s)`);
        }
        return `${answer.status}, ${published} announcement(s)`;
      },
    );
  } finally {
    await instance.stop();
  }
}

/** The registered payments, pending for an hour: past any grace period, as after a lost webhook. */
async function agePending(stage: Stage, tableLogicalId: string): Promise<number> {
  const table = stage.ref(tableLogicalId);
  const { Items = [] } = await stage.account.dynamodb.send(new ScanCommand({ TableName: table }));
  const pending = Items.filter((item) => item.sk?.S === 'PAYMENT' && item.pendingSince?.S !== undefined);
  const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
  for (const item of pending) {
    await stage.account.dynamodb.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { pk: item.pk ?? { S: '' }, sk: item.sk ?? { S: '' } },
        UpdateExpression: 'SET pendingSince = :since',
        ExpressionAttributeValues: { ':since': { S: hourAgo } },
      }),
    );
  }
  return pending.length;
}

function schedulesOf(stage: Stage, fn: StagedFunction): Array<{ name: string; input: unknown }> {
  return resourcesOfType(stage.output.template, 'AWS::Scheduler::Schedule')
    .filter(
      ([, schedule]) =>
        referencedId((schedule.Properties?.Target as { Arn?: unknown })?.Arn) === fn.logicalId,
    )
    .map(([logicalId, schedule]) => ({
      name: String(schedule.Properties?.ScheduleExpression ?? logicalId),
      input: (schedule.Properties?.Target as { Input?: unknown } | undefined)?.Input,
    }));
}

interface Report {
  readonly scope?: string;
  readonly confirmationsByGateway?: Record<string, number>;
  readonly skipped?: Record<string, string>;
  readonly queued?: Record<string, number>;
  readonly checked?: number;
  readonly errors?: Record<string, unknown>;
}

/** A run's report, which must be of the schedule's scope and name no gateway error. */
function checkedReport(value: unknown, input: unknown): Report {
  const report = value as Report;
  const scope = input === undefined ? 'all' : 'confirmations';
  if (report.scope !== scope) throw new Error(`a ${report.scope} run for the ${scope} schedule`);
  if (Object.keys(report.errors ?? {}).length > 0)
    throw new Error(`gateway errors: ${JSON.stringify(report.errors)}`);
  return report;
}

async function queuedOn(stage: Stage, fn: StagedFunction): Promise<number> {
  let count = 0;
  for (const [name, value] of Object.entries(stage.environmentOf(fn))) {
    if (!name.startsWith('PAYHOOK_QUEUE_URL')) continue;
    const { Attributes } = await stage.account.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: value, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    count += Number(Attributes?.ApproximateNumberOfMessages ?? 0);
  }
  return count;
}

export async function rehearseReconcilerUnconfigured(stage: Stage): Promise<void> {
  const fn = stage.fn(/Reconciler$/);
  const table = referencedId(fn.environment.PAYHOOK_PAYMENTS_TABLE);
  if (table === undefined) throw new Error('the reconciler names no payments table');
  const aged = await agePending(stage, table);
  const instance = await stage.start(fn);
  try {
    for (const schedule of schedulesOf(stage, fn)) {
      await stage.scenario(
        fn,
        `${schedule.name}, secrets as the stack creates them: skips, no failure`,
        async () => {
          const result = await instance.invoke(schedulerEvent(schedule.input));
          if (!result.ok)
            throw new Error(`the run failed: ${result.error.errorType}: ${result.error.errorMessage}`);
          const report = checkedReport(result.value, schedule.input);
          const skipped = Object.keys(report.skipped ?? {});
          // A confirmations run asks only about claims, and there are none yet: nothing to skip.
          if (schedule.input !== undefined)
            return `confirmations run, ${JSON.stringify(report.confirmationsByGateway)}`;
          if (!skipped.includes('paystack'))
            throw new Error(`expected Paystack skipped: ${JSON.stringify(report)}`);
          return `${aged} pending; skipped ${skipped.join(', ')}`;
        },
      );
    }
  } finally {
    await instance.stop();
  }
}

export async function rehearseReconcilerConfigured(stage: Stage): Promise<void> {
  const fn = stage.fn(/Reconciler$/);
  const sandbox = await startGatewaySandbox();
  for (const [gateway, answer] of Object.entries(GATEWAY_ANSWERS)) {
    sandbox.setPayment(gateway as keyof typeof GATEWAY_ANSWERS, answer);
  }
  const apiUrls = Object.fromEntries(
    SANDBOX_GATEWAYS.map((gateway) => [RECONCILER_ENV.apiUrl(gateway), sandbox.url(gateway)]),
  );
  const instance = await stage.start(fn, apiUrls);
  try {
    for (const schedule of schedulesOf(stage, fn).reverse()) {
      await stage.scenario(fn, `${schedule.name}, secrets filled in: asks the gateways`, async () => {
        const before = await queuedOn(stage, fn);
        const result = await instance.invoke(schedulerEvent(schedule.input));
        if (!result.ok)
          throw new Error(`the run failed: ${result.error.errorType}: ${result.error.errorMessage}`);
        const report = checkedReport(result.value, schedule.input);
        if (Object.keys(report.skipped ?? {}).length > 0)
          throw new Error(`skipped: ${JSON.stringify(report.skipped)}`);
        const after = await queuedOn(stage, fn);
        if (schedule.input !== undefined) return `confirmations: ${JSON.stringify(report)}`;
        const queued = report.queued ?? {};
        if (
          (queued['payment.succeeded'] ?? 0) < 2 ||
          (queued['payment.failed'] ?? 0) < 1 ||
          after < before + 3
        ) {
          throw new Error(`expected 2 succeeded and 1 failed queued: ${JSON.stringify(report)}`);
        }
        return `asked ${report.checked}; queued ${JSON.stringify(report.queued)}`;
      });
    }
  } finally {
    await instance.stop();
    await sandbox.stop();
  }
}
