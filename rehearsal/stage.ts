import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Account } from './aws-requests.js';
import {
  deployResources,
  type EmulatedAccount,
  REHEARSAL_ACCOUNT,
  REHEARSAL_REGION,
  startEmulatedAccount,
} from './emulated-account.js';
import { FunctionProcess } from './function-process.js';
import { type Statement, statementsOfRole } from './iam.js';
import { type ResolvedResource, resolve, type TemplateContext } from './intrinsics.js';
import {
  type Caller,
  type RecordedCall,
  type RecordingProxy,
  startRecordingProxy,
} from './recording-proxy.js';
import {
  functionsOf,
  referencedId,
  resourcesOfType,
  type SynthOutput,
  type TemplateFunction,
} from './template.js';

/**
 * The rehearsal's stage: the emulated account with the template's resources, the recording proxy in front of it,
 * and the functions as the template deploys them, each runnable in its own process on the runtime's Node. Scenarios
 * are run through `scenario`, which records the outcome and the AWS calls made meanwhile.
 */

export interface ScenarioResult {
  readonly functionId: string;
  readonly scenario: string;
  readonly ok: boolean;
  readonly detail: string;
  readonly calls: number;
  readonly denied: number;
}

export interface StagedFunction extends TemplateFunction {
  /** The role's statements with every reference resolved to the emulated resources. */
  readonly statements: readonly Statement[];
  /** What could not be checked (managed policies): reported, and a failed run if any. */
  readonly unsupported: readonly string[];
  readonly accessKeyId: string;
}

/** The services the functions may call: each `AWS_ENDPOINT_URL_<SERVICE>` the SDK reads points at the proxy. */
const ENDPOINT_SERVICES = [
  'DYNAMODB',
  'SQS',
  'SECRETS_MANAGER',
  'EVENTBRIDGE',
  'CLOUDWATCH',
  'STS',
  'SSM',
  'KMS',
];

function asString(value: unknown, name: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new Error(`environment variable ${name} does not resolve to a string`);
}

export class Stage {
  readonly results: ScenarioResult[] = [];
  /** Each function's first cold start: the Node it ran on and its init time. */
  readonly coldStarts = new Map<string, { readonly node: string; readonly initMs: number }>();
  readonly functions: readonly StagedFunction[];

  /** Where each bundle is copied (its /var/task) and the empty AWS config files live: outside the repository. */
  private readonly workDir = mkdtempSync(join(tmpdir(), 'payhook-rehearsal-'));
  /** The resource policies of what the functions call (queue policies), by resource ARN: their Deny statements count. */
  private readonly resourcePolicies: ReadonlyMap<string, readonly Statement[]>;

  private constructor(
    readonly output: SynthOutput,
    readonly account: EmulatedAccount,
    readonly proxy: RecordingProxy,
    readonly resources: ReadonlyMap<string, ResolvedResource>,
    private readonly context: TemplateContext,
    readonly nodeBinary: string,
  ) {
    writeFileSync(join(this.workDir, 'aws-config'), '');
    this.functions = functionsOf(output).map((fn, index) => {
      const { statements, unsupported } = statementsOfRole(output.template, fn.roleLogicalId);
      // A copy outside the repository, as /var/task is on Lambda: nothing the bundle left external can resolve from
      // the repository's node_modules.
      const taskRoot = join(this.workDir, fn.logicalId);
      cpSync(fn.assetDir, taskRoot, { recursive: true });
      return {
        ...fn,
        assetDir: taskRoot,
        statements: resolve(statements, context) as Statement[],
        unsupported,
        accessKeyId: `ASIAREHEARSAL${String(index).padStart(4, '0')}`,
      };
    });
    this.resourcePolicies = this.readResourcePolicies();
  }

  /**
   * The queue policies (the stack's only resource policies on what the functions call): each queue's ARN and its
   * statements. Another kind of resource policy on a called resource would go unchecked, so it is reported.
   */
  private readResourcePolicies(): Map<string, Statement[]> {
    const policies = new Map<string, Statement[]>();
    for (const [, policy] of resourcesOfType(this.output.template, 'AWS::SQS::QueuePolicy')) {
      const document = resolve(policy.Properties?.PolicyDocument, this.context) as {
        Statement?: Statement[];
      };
      for (const queue of (policy.Properties?.Queues as unknown[] | undefined) ?? []) {
        const id = referencedId(queue);
        if (id === undefined) continue;
        const arn = this.ref(id, 'Arn');
        policies.set(arn, [...(policies.get(arn) ?? []), ...(document.Statement ?? [])]);
      }
    }
    return policies;
  }

  resourcePolicyOf(arn: string): readonly Statement[] | undefined {
    return this.resourcePolicies.get(arn);
  }

  /** An SQS client through the proxy with the function's credentials: what its event source mapping polls with. */
  eventSourceClient(fn: StagedFunction): SQSClient {
    return new SQSClient({
      region: REHEARSAL_REGION,
      endpoint: this.proxy.endpoint,
      credentials: { accessKeyId: fn.accessKeyId, secretAccessKey: 'rehearsal-secret-access-key' },
    });
  }

  static async create(output: SynthOutput, nodeBinary: string): Promise<Stage> {
    const account = await startEmulatedAccount();
    // Late-bound: the proxy needs the stage (who calls, which secret) and the stage needs the proxy's endpoint.
    const late: { stage?: Stage } = {};
    const requestAccount: Account = {
      region: REHEARSAL_REGION,
      accountId: REHEARSAL_ACCOUNT,
      partition: 'aws',
      partitionKeyOf: (table) => late.stage?.partitionKeyOf(table),
      secretArnOf: (id) => late.stage?.secretArnOf(id),
    };
    const proxy = await startRecordingProxy({
      upstreams: account.upstreams,
      account: requestAccount,
      callerOf: (key) => late.stage?.callerOf(key),
      resourcePolicyOf: (arn) => late.stage?.resourcePolicyOf(arn),
    });
    const resources = await deployResources(account, output.template);
    const context: TemplateContext = {
      region: REHEARSAL_REGION,
      accountId: REHEARSAL_ACCOUNT,
      partition: 'aws',
      urlSuffix: 'amazonaws.com',
      stackName: 'payhook',
      resources: Object.fromEntries(resources),
    };
    late.stage = new Stage(output, account, proxy, resources, context, nodeBinary);
    return late.stage;
  }

  private callerOf(accessKeyId: string): Caller | undefined {
    const fn = this.functions.find((candidate) => candidate.accessKeyId === accessKeyId);
    return fn && { functionId: fn.name, statements: fn.statements };
  }

  private partitionKeyOf(tableName: string): string | undefined {
    for (const [logicalId, resource] of this.resources) {
      if (resource.ref !== tableName) continue;
      const keys = this.output.template.Resources[logicalId]?.Properties?.KeySchema as
        | Array<{ AttributeName: string; KeyType: string }>
        | undefined;
      return keys?.find((key) => key.KeyType === 'HASH')?.AttributeName;
    }
    return undefined;
  }

  private secretArnOf(secretId: string): string | undefined {
    for (const [logicalId, resource] of this.resources) {
      if (this.output.template.Resources[logicalId]?.Type !== 'AWS::SecretsManager::Secret') continue;
      const name = this.output.template.Resources[logicalId]?.Properties?.Name;
      if (resource.ref === secretId || name === secretId) return resource.ref;
    }
    return undefined;
  }

  /** The resolved `Ref` of a logical id, or its attribute. */
  ref(logicalId: string, attribute?: string): string {
    const resource = this.resources.get(logicalId);
    const value = attribute === undefined ? resource?.ref : resource?.attributes[attribute];
    if (value === undefined) throw new Error(`no ${attribute ?? 'Ref'} for ${logicalId}`);
    return value;
  }

  /** The one function whose name (cdk path, `WebhookApi/Ingest`) matches. */
  fn(pattern: RegExp): StagedFunction {
    const found = this.functions.filter((candidate) => pattern.test(candidate.name));
    const [only] = found;
    if (only === undefined || found.length > 1) throw new Error(`${found.length} functions match ${pattern}`);
    return only;
  }

  /**
   * The function's environment on Lambda: the template's variables, resolved, plus the runtime's reserved variables
   * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime) and the
   * endpoints of the emulated account. `extra` is for what the rehearsal must add and says so (a gateway's API URL).
   */
  environmentOf(fn: StagedFunction, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
    const template = Object.fromEntries(
      Object.entries(resolve(fn.environment, this.context) as Record<string, unknown>).map(
        ([name, value]) => [name, asString(value, name)],
      ),
    );
    const logGroup = fn.logGroupLogicalId ? this.ref(fn.logGroupLogicalId) : `/aws/lambda/${fn.logicalId}`;
    const endpoints = Object.fromEntries(
      ENDPOINT_SERVICES.map((service) => [`AWS_ENDPOINT_URL_${service}`, this.proxy.endpoint]),
    );
    return {
      ...template,
      _HANDLER: fn.handler,
      AWS_REGION: REHEARSAL_REGION,
      AWS_DEFAULT_REGION: REHEARSAL_REGION,
      AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
      AWS_LAMBDA_FUNCTION_NAME: fn.logicalId,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_LOG_GROUP_NAME: logGroup,
      AWS_LAMBDA_LOG_STREAM_NAME: '2026/11/30/[$LATEST]rehearsal',
      ...(fn.logFormat !== undefined && { AWS_LAMBDA_LOG_FORMAT: fn.logFormat.toUpperCase() }),
      AWS_ACCESS_KEY_ID: fn.accessKeyId,
      AWS_SECRET_ACCESS_KEY: 'rehearsal-secret-access-key',
      AWS_SESSION_TOKEN: 'rehearsal-session-token',
      LAMBDA_TASK_ROOT: fn.assetDir,
      LAMBDA_RUNTIME_DIR: '/var/runtime',
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      PATH: '/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin',
      // Not the developer's ~/.aws: its endpoint, retry or FIPS settings would change where calls go.
      AWS_CONFIG_FILE: join(this.workDir, 'aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(this.workDir, 'aws-config'),
      // Catches any other service the bundle might call: it reaches the proxy, which refuses what it cannot name.
      AWS_ENDPOINT_URL: this.proxy.endpoint,
      ...endpoints,
      ...extra,
    };
  }

  /** A fresh execution environment (a cold start) for the function. */
  async start(fn: StagedFunction, extra: Readonly<Record<string, string>> = {}): Promise<FunctionProcess> {
    const instance = await FunctionProcess.start({
      nodeBinary: this.nodeBinary,
      taskRoot: fn.assetDir,
      env: this.environmentOf(fn, extra),
      timeoutSeconds: fn.timeoutSeconds,
      accountId: REHEARSAL_ACCOUNT,
    });
    if (!this.coldStarts.has(fn.name)) this.coldStarts.set(fn.name, instance.ready);
    return instance;
  }

  callsOf(functionId: string): RecordedCall[] {
    return this.proxy.calls.filter((call) => call.functionId === functionId);
  }

  /**
   * Runs one scenario; `body` throws (with what was wrong) when the outcome is not the expected one, and may return
   * a short description of what it saw. A call the role denies fails the scenario whatever the body says.
   */
  async scenario(fn: StagedFunction, name: string, body: () => Promise<string | undefined>): Promise<void> {
    const before = this.proxy.calls.length;
    let ok = true;
    let detail = '';
    try {
      detail = (await body()) ?? '';
    } catch (error) {
      ok = false;
      detail = error instanceof Error ? error.message : String(error);
    }
    const calls = this.proxy.calls.slice(before).filter((call) => call.functionId === fn.name);
    const denied = calls.filter((call) => call.status === 403).length;
    const strays = this.proxy.calls
      .slice(before)
      .filter((call) => call.functionId.startsWith('unknown caller'));
    if (denied > 0 || strays.length > 0) ok = false;
    this.results.push({ functionId: fn.name, scenario: name, ok, detail, calls: calls.length, denied });
  }

  async stop(): Promise<void> {
    await this.proxy.stop();
    await this.account.stop();
    rmSync(this.workDir, { recursive: true, force: true });
  }
}
