import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { INGEST_TIMEOUT_SECONDS } from '../lambdas/definitions.js';
import type { GatewayName } from '../lambdas/domain/webhook-event.js';
import { SETTING_DEFAULTS, type Throttle } from './config.js';
import type { GatewaySecrets } from './gateway-secrets.js';
import { PayhookFunction } from './payhook-function.js';
import { SERVICES } from './payhook-metrics.js';
import type { PriorityPipeline } from './priority-pipeline.js';

export interface CustomDomain {
  /** e.g. `hooks.example.com`: gateway dashboards hold the URL for years, so own it. */
  readonly domainName: string;
  /** A regional ACM certificate for that name, in the stack's region. */
  readonly certificate: acm.ICertificate;
}

export interface WebhookApiProps {
  readonly pipeline: PriorityPipeline;
  readonly secrets: GatewaySecrets;
  /** The gateways with a route; any other `/webhooks/...` path is answered 404 by API Gateway itself. */
  readonly gateways: readonly GatewayName[];
  /**
   * Throttle for the whole API.
   * @default - the `throttle` setting's default: { rateLimit: 500, burstLimit: 1000 }
   */
  readonly throttle?: Throttle;
  /**
   * Throttle per gateway route, so one noisy sender cannot starve the others.
   * @default - the `gatewayThrottle` setting's default: { rateLimit: 100, burstLimit: 200 }
   */
  readonly gatewayThrottle?: Throttle;
  /** Per-gateway exceptions to `gatewayThrottle`. @default - none */
  readonly gatewayThrottleOverrides?: Readonly<Partial<Record<GatewayName, Throttle>>>;
  /** @default - the API's execute-api URL only */
  readonly customDomain?: CustomDomain;
  /**
   * Retention of the access logs and the ingest function's logs.
   * @default - the `logRetentionDays` setting's default (30 days)
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The webhook edge: an HTTP API with `POST /webhooks/<gateway>` for each enabled gateway, throttled as a whole and
 * per gateway, logging every request, in front of the ingest function. Webhooks authenticate by the gateway's own
 * signature, checked in the function over the exact body, so the routes have no authorizer. Ingest is bound to the
 * queues (every priority, and the dead-letter queue it parks on) and to the gateway secrets; its settings (gateway
 * settings, test mode) reach its environment from the settings table (`config.ts`), through the stack.
 */
export class WebhookApi extends Construct {
  public readonly api: apigwv2.HttpApi;
  public readonly stage: apigwv2.HttpStage;
  public readonly ingest: PayhookFunction;
  public readonly accessLogs: logs.LogGroup;
  public readonly domainName?: apigwv2.DomainName;
  private readonly customDomainName?: string;

  constructor(scope: Construct, id: string, props: WebhookApiProps) {
    super(scope, id);
    if (props.gateways.length === 0) throw new Error('WebhookApi needs at least one enabled gateway');
    const retention = props.logRetention ?? (SETTING_DEFAULTS.logRetentionDays as logs.RetentionDays);

    this.ingest = new PayhookFunction(this, 'Ingest', {
      entry: 'lambdas/ingest.ts',
      serviceName: SERVICES.ingest,
      // Inside the strictest gateway deadline (Razorpay: 5 s): a slow dependency becomes a 503 the gateway retries.
      timeout: Duration.seconds(INGEST_TIMEOUT_SECONDS),
      description: 'payhook: verifies, normalises and queues gateway webhooks',
      logRetention: retention,
    });
    props.pipeline.bindQueueing(this.ingest);
    props.pipeline.bindParking(this.ingest);
    props.secrets.bindReader(this.ingest);

    this.api = new apigwv2.HttpApi(this, 'Api', {
      description: 'payhook webhook ingestion',
      createDefaultStage: false,
    });
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const throttle = props.throttle ?? SETTING_DEFAULTS.throttle;
    this.stage = new apigwv2.HttpStage(this, 'Stage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            time: '$context.requestTime',
            route: '$context.routeKey',
            status: '$context.status',
            latencyMs: '$context.responseLatency',
            integrationError: '$context.integrationErrorMessage',
            bytes: '$context.responseLength',
          }),
        ),
      },
    });

    const integration = new HttpLambdaIntegration('Ingest', this.ingest.function, {
      payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
    });
    const perGateway = props.gatewayThrottle ?? SETTING_DEFAULTS.gatewayThrottle;
    const routeSettings: Record<string, { ThrottlingRateLimit: number; ThrottlingBurstLimit: number }> = {};
    for (const gateway of props.gateways) {
      const path = `/webhooks/${gateway}`;
      this.api.addRoutes({ path, methods: [apigwv2.HttpMethod.POST], integration });
      const limits = props.gatewayThrottleOverrides?.[gateway] ?? perGateway;
      routeSettings[`POST ${path}`] = {
        ThrottlingRateLimit: limits.rateLimit,
        ThrottlingBurstLimit: limits.burstLimit,
      };
    }
    // The L2 stage has no per-route settings yet; the CloudFormation stage does.
    const cfnStage = this.stage.node.defaultChild as apigwv2.CfnStage;
    cfnStage.routeSettings = routeSettings;
    for (const route of this.api.node.findAll()) {
      if (route instanceof apigwv2.HttpRoute) cfnStage.node.addDependency(route);
    }

    if (props.customDomain) {
      this.customDomainName = props.customDomain.domainName;
      this.domainName = new apigwv2.DomainName(this, 'Domain', {
        domainName: props.customDomain.domainName,
        certificate: props.customDomain.certificate,
      });
      new apigwv2.ApiMapping(this, 'Mapping', {
        api: this.api,
        domainName: this.domainName,
        stage: this.stage,
      });
    }
  }

  /** The base URL gateways post to: the custom domain when there is one. */
  public get baseUrl(): string {
    return this.customDomainName ? `https://${this.customDomainName}` : this.api.apiEndpoint;
  }
}
