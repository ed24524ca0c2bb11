import { fileURLToPath } from 'node:url';
import { type Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { SETTING_DEFAULTS } from './config.js';
import { metricsNamespace } from './payhook-metrics.js';

/**
 * The esbuild settings of every function's bundle, in one place: `PayhookFunction` builds with them and
 * `bench/bundles.ts` measures with them (and builds its AWS-SDK-only floor with them), so the bench measures what is
 * deployed.
 */
export const FUNCTION_BUNDLING = {
  target: 'node24',
  mainFields: ['module', 'main'],
  // Some bundled dependencies still call require(); ESM output needs it defined.
  banner: "import{createRequire}from'module';const require=createRequire(import.meta.url);",
  /**
   * Modules replaced in the bundle by what payhook's functions can use of them (each module's comment says why). The
   * SDK's default credential chain becomes the part of it a Lambda function can use (environment variables, then a
   * container endpoint): the rest (SSO, profiles, web identity, EC2 metadata, with their nested STS/SSO clients) never
   * applies in Lambda and was ~90 KB of every bundle. Event-stream serialisation, for operations payhook never calls,
   * was ~15 KB more.
   */
  alias: {
    '@aws-sdk/credential-provider-node': fileURLToPath(
      new URL('../lambdas/composition/lambda-credentials.ts', import.meta.url),
    ),
    // Event-stream serialisation, for operations none of payhook's calls is (see the module's comment): ~15 KB.
    '@smithy/core/event-streams': fileURLToPath(
      new URL('../lambdas/composition/no-event-streams.ts', import.meta.url),
    ),
  },
} as const;

/**
 * Lambda's own log records (`platform.start`, `platform.report`: about 550 bytes an invocation, one invocation per
 * webhook for ingest) are not sent at WARN. Errors and timeouts stay counted by Lambda's `Errors` metric (the
 * function-errors alarms read it), as do duration, throttles and concurrency; an instance's first line says `cold_start`. What
 * is given up: the per-invocation report line (billed duration, max memory used, init duration) in the log group.
 * `bench/cost.ts` counts these records at INFO.
 */
export const SYSTEM_LOG_LEVEL = lambda.SystemLogLevel.WARN;

export interface PayhookFunctionProps {
  /** The handler module, e.g. `lambdas/ingest.ts` (its `handler` export). */
  readonly entry: string;
  /** Powertools service name: how the function's log lines identify it. */
  readonly serviceName: string;
  readonly timeout: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default - the `logRetentionDays` setting's default (30 days) */
  readonly logRetention?: logs.RetentionDays;
  /** Powertools log level. @default 'INFO' */
  readonly logLevel?: string;
  readonly description?: string;
}

/**
 * One payhook Lambda function with the defaults set once: arm64, Node.js 24, an ESM bundle built locally by esbuild
 * (minified, source maps, the AWS SDK bundled rather than loaded from the runtime, which cold-starts faster), its own
 * log group with retention, and a role that can write to that log group and nothing else until granted more.
 *
 * Resources bind themselves to it (`store.bindPaymentItems(fn)`, `events.bindPublisher(fn)`, ...): each sets the
 * environment variables its handler reads and grants exactly what that handler does, together.
 */
export class PayhookFunction extends Construct implements iam.IGrantable {
  public readonly function: NodejsFunction;
  public readonly logGroup: logs.LogGroup;
  public readonly role: iam.Role;
  public readonly grantPrincipal: iam.IPrincipal;

  constructor(scope: Construct, id: string, props: PayhookFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? (SETTING_DEFAULTS.logRetentionDays as logs.RetentionDays),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // No AWSLambdaBasicExecutionRole: it lets the function write to any log group in the account.
    this.role = new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    this.logGroup.grantWrite(this.role);
    this.grantPrincipal = this.role;
    this.function = new NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      systemLogLevelV2: SYSTEM_LOG_LEVEL,
      ...(props.description && { description: props.description }),
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_LOG_LEVEL: props.logLevel ?? 'INFO',
        // Custom metrics (embedded metric format, written to stdout) land in this CloudWatch namespace.
        POWERTOOLS_METRICS_NAMESPACE: metricsNamespace(Stack.of(this).stackName),
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        format: OutputFormat.ESM,
        target: FUNCTION_BUNDLING.target,
        minify: true,
        sourceMap: true,
        bundleAwsSDK: true,
        mainFields: [...FUNCTION_BUNDLING.mainFields],
        banner: FUNCTION_BUNDLING.banner,
        esbuildArgs: {
          '--alias': Object.entries(FUNCTION_BUNDLING.alias).map(([module, path]) => `${module}=${path}`),
        },
      },
    });
  }

  /** Sets environment variables of the function (the settings and resources it reads). */
  public addEnvironment(variables: Readonly<Record<string, string>>): void {
    for (const [name, value] of Object.entries(variables)) this.function.addEnvironment(name, value);
  }
}
