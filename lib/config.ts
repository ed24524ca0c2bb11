import type { Priority } from '../lambdas/definitions.js';
import { GATEWAYS, type GatewayName, isGatewayName } from '../lambdas/domain/webhook-event.js';
import type { Throttle } from './webhook-api.js';

/**
 * Everything a team configures, under the `payhook` key of cdk.json's context (or `-c payhook='{...}'`). Every key is
 * optional; the README lists the defaults.
 */
export interface PayhookConfig {
  /** Gateways with a route, a secret and settings. @default all seven */
  readonly gateways?: readonly GatewayName[];
  /** Whole-API throttle. @default { rateLimit: 500, burstLimit: 1000 } */
  readonly throttle?: Throttle;
  /** Per-gateway route throttle. @default { rateLimit: 100, burstLimit: 200 } */
  readonly gatewayThrottle?: Throttle;
  readonly gatewayThrottleOverrides?: Readonly<Partial<Record<GatewayName, Throttle>>>;
  /** Per-gateway ingest settings, as `PAYHOOK_GATEWAY_SETTINGS` (tolerance, priorities, Adyen capture mode, ...). */
  readonly gatewaySettings?: Readonly<Record<string, unknown>>;
  /** `false` refuses test-mode events. @default true */
  readonly acceptTestMode?: boolean;
  /** Secrets that already exist, by name, per gateway. @default - created empty, to be filled */
  readonly existingSecretNames?: Readonly<Partial<Record<GatewayName, string>>>;
  /** SNS topic for alarm notifications. @default - none */
  readonly alarmTopicArn?: string;
  /** @default 90 */
  readonly archiveRetentionDays?: number;
  /** Function and access log retention, in days (a CloudWatch Logs retention value). @default 30 */
  readonly logRetentionDays?: number;
  /** @default 400 */
  readonly historyRetentionDays?: number;
  /** @default false */
  readonly historyKeepsPayload?: boolean;
  /** Dedupe window per gateway in seconds. @default - see the README */
  readonly dedupeWindows?: Readonly<Partial<Record<GatewayName, number>>>;
  /**
   * `false` deletes the payment and idempotency tables with the stack (test deployments). The refused-requests table
   * is diagnostic and always deleted with the stack. @default true
   */
  readonly retainData?: boolean;
  /** A custom domain for the webhook URL: `{ "domainName": "hooks.example.com", "certificateArn": "arn:..." }`. */
  readonly customDomain?: { readonly domainName: string; readonly certificateArn: string };
  /** Oldest-message age alarm thresholds in seconds. @default { high: 300, normal: 900, low: 3600 } */
  readonly oldestMessageAgeSeconds?: Readonly<Partial<Record<Priority, number>>>;
  /** Minutes between reconciler runs. @default 5 */
  readonly reconcileIntervalMinutes?: number;
  /** Seconds a payment stays pending before the reconciler asks about it. @default 600 */
  readonly reconcileGraceSeconds?: number;
  /** Seconds after which a pending payment without a registered expiry expires. @default 86400 */
  readonly pendingExpirySeconds?: number;
  /**
   * Alarm when one gateway's invalid signatures exceed `threshold` within `minutes` (a wrong secret after a rotation).
   * @default { threshold: 10, minutes: 5 }
   */
  readonly signatureFailureAlarm?: { readonly threshold: number; readonly minutes: number };
  /** Alarm when a gateway sends no accepted webhook for this many minutes (1-1440), per gateway. @default - none */
  readonly quietMinutes?: Readonly<Partial<Record<GatewayName, number>>>;
  /** Alarm when the high-priority queue's p95 delay exceeds this many seconds. @default 60 */
  readonly highQueueDelaySeconds?: number;
  /** Alarm when the reconciler finds more payments paid than this in an hour that no webhook announced. @default 0 */
  readonly lostWebhooksPerHour?: number;
  /** Days a refused webhook request is kept for diagnosis (`payhook rejects list`). @default 7 */
  readonly rejectsTtlDays?: number;
  /**
   * Refused requests recorded per gateway per minute by one ingest instance; past it they are only logged, so a flood
   * of forged requests cannot run up the bill. @default 60
   */
  readonly rejectsPerMinute?: number;
}

const KEYS = [
  'gateways',
  'throttle',
  'gatewayThrottle',
  'gatewayThrottleOverrides',
  'gatewaySettings',
  'acceptTestMode',
  'existingSecretNames',
  'alarmTopicArn',
  'archiveRetentionDays',
  'logRetentionDays',
  'historyRetentionDays',
  'historyKeepsPayload',
  'dedupeWindows',
  'retainData',
  'customDomain',
  'oldestMessageAgeSeconds',
  'reconcileIntervalMinutes',
  'reconcileGraceSeconds',
  'pendingExpirySeconds',
  'signatureFailureAlarm',
  'quietMinutes',
  'highQueueDelaySeconds',
  'lostWebhooksPerHour',
  'rejectsTtlDays',
  'rejectsPerMinute',
] as const;

/** CloudWatch Logs accepts only these retention periods. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

export class InvalidConfigError extends Error {
  override readonly name = 'InvalidConfigError';
}

function fail(key: string, message: string): never {
  throw new InvalidConfigError(`cdk.json context payhook.${key}: ${message}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function positiveInteger(key: string, value: unknown): void {
  if (!Number.isSafeInteger(value) || (value as number) <= 0)
    fail(key, `expected a positive whole number, got ${JSON.stringify(value)}`);
}

function throttle(key: string, value: unknown): void {
  if (!isObject(value)) fail(key, 'expected { "rateLimit": n, "burstLimit": n }');
  positiveInteger(`${key}.rateLimit`, value.rateLimit);
  positiveInteger(`${key}.burstLimit`, value.burstLimit);
}

function gatewayMap(key: string, value: unknown, check: (entryKey: string, entry: unknown) => void): void {
  if (!isObject(value)) fail(key, 'expected an object keyed by gateway');
  for (const [gateway, entry] of Object.entries(value)) {
    if (!isGatewayName(gateway)) fail(key, `unknown gateway "${gateway}" (known: ${GATEWAYS.join(', ')})`);
    check(`${key}.${gateway}`, entry);
  }
}

/** Checks the `payhook` context value; the error names the key at fault, so a typo fails `cdk synth` loudly. */
export function parsePayhookConfig(raw: unknown): PayhookConfig {
  if (raw === undefined) return {};
  const value = typeof raw === 'string' ? (JSON.parse(raw) as unknown) : raw;
  if (!isObject(value)) fail('', 'expected an object');
  for (const key of Object.keys(value)) {
    if (!(KEYS as readonly string[]).includes(key)) fail(key, `unknown key (allowed: ${KEYS.join(', ')})`);
  }
  if (value.gateways !== undefined) {
    if (!Array.isArray(value.gateways) || value.gateways.length === 0)
      fail('gateways', 'expected a non-empty list');
    for (const gateway of value.gateways) {
      if (!isGatewayName(gateway))
        fail('gateways', `unknown gateway ${JSON.stringify(gateway)} (known: ${GATEWAYS.join(', ')})`);
    }
  }
  if (value.throttle !== undefined) throttle('throttle', value.throttle);
  if (value.gatewayThrottle !== undefined) throttle('gatewayThrottle', value.gatewayThrottle);
  if (value.gatewayThrottleOverrides !== undefined)
    gatewayMap('gatewayThrottleOverrides', value.gatewayThrottleOverrides, throttle);
  if (value.gatewaySettings !== undefined && !isObject(value.gatewaySettings))
    fail('gatewaySettings', 'expected an object');
  for (const key of ['acceptTestMode', 'historyKeepsPayload', 'retainData'] as const) {
    if (value[key] !== undefined && typeof value[key] !== 'boolean') fail(key, 'expected true or false');
  }
  if (value.existingSecretNames !== undefined) {
    gatewayMap('existingSecretNames', value.existingSecretNames, (key, name) => {
      if (typeof name !== 'string' || name.length === 0) fail(key, 'expected a secret name');
    });
  }
  if (
    value.alarmTopicArn !== undefined &&
    (typeof value.alarmTopicArn !== 'string' || !value.alarmTopicArn.startsWith('arn:'))
  ) {
    fail('alarmTopicArn', 'expected an SNS topic ARN');
  }
  for (const key of [
    'archiveRetentionDays',
    'historyRetentionDays',
    'reconcileIntervalMinutes',
    'reconcileGraceSeconds',
    'pendingExpirySeconds',
    'highQueueDelaySeconds',
    'rejectsTtlDays',
    'rejectsPerMinute',
  ] as const) {
    if (value[key] !== undefined) positiveInteger(key, value[key]);
  }
  if (
    value.logRetentionDays !== undefined &&
    !LOG_RETENTION_DAYS.includes(value.logRetentionDays as number)
  ) {
    fail('logRetentionDays', `expected one of ${LOG_RETENTION_DAYS.join(', ')}`);
  }
  if (value.dedupeWindows !== undefined) gatewayMap('dedupeWindows', value.dedupeWindows, positiveInteger);
  if (value.customDomain !== undefined) {
    const domain = value.customDomain;
    if (
      !isObject(domain) ||
      typeof domain.domainName !== 'string' ||
      typeof domain.certificateArn !== 'string'
    ) {
      fail('customDomain', 'expected { "domainName": "...", "certificateArn": "arn:aws:acm:..." }');
    }
  }
  if (value.oldestMessageAgeSeconds !== undefined) {
    if (!isObject(value.oldestMessageAgeSeconds))
      fail('oldestMessageAgeSeconds', 'expected an object keyed by priority');
    for (const [priority, seconds] of Object.entries(value.oldestMessageAgeSeconds)) {
      if (!['high', 'normal', 'low'].includes(priority))
        fail('oldestMessageAgeSeconds', `unknown priority "${priority}"`);
      positiveInteger(`oldestMessageAgeSeconds.${priority}`, seconds);
    }
  }
  if (value.signatureFailureAlarm !== undefined) {
    const alarm = value.signatureFailureAlarm;
    if (!isObject(alarm)) fail('signatureFailureAlarm', 'expected { "threshold": n, "minutes": n }');
    positiveInteger('signatureFailureAlarm.threshold', alarm.threshold);
    positiveInteger('signatureFailureAlarm.minutes', alarm.minutes);
    if ((alarm.minutes as number) > 1440) fail('signatureFailureAlarm.minutes', 'at most 1440 (one day)');
  }
  if (value.quietMinutes !== undefined) {
    gatewayMap('quietMinutes', value.quietMinutes, (key, minutes) => {
      positiveInteger(key, minutes);
      if ((minutes as number) > 1440) fail(key, 'at most 1440 (one day)');
    });
  }
  if (value.lostWebhooksPerHour !== undefined) {
    if (!Number.isSafeInteger(value.lostWebhooksPerHour) || (value.lostWebhooksPerHour as number) < 0)
      fail('lostWebhooksPerHour', 'expected a whole number, 0 or more');
  }
  return value as PayhookConfig;
}
