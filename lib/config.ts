import {
  DEFAULT_HISTORY_RETENTION_DAYS,
  IDEMPOTENCY_TABLE_ENV,
  INTAKE_ENV,
  PAYMENTS_TABLE_ENV,
  PRIORITIES,
  type Priority,
  RECONCILER_ENV,
  REJECTS_TABLE,
  REJECTS_TABLE_ENV,
} from '../lambdas/definitions.js';
import {
  type DestinationSettings,
  InvalidDestinationError,
  parseDestinations,
} from '../lambdas/delivery/destinations.js';
import { GATEWAYS, type GatewayName } from '../lambdas/domain/webhook-event.js';
import { DEFAULT_RECONCILE_SETTINGS } from '../lambdas/reconciliation/reconcile.js';
import {
  alarmWindow,
  boolean,
  type Check,
  customDomain,
  fail,
  gatewayList,
  gatewayMap,
  InvalidConfigError,
  ingestGatewaySettings,
  isObject,
  logRetentionDays,
  minutesUpToADay,
  positiveInteger,
  priorityMap,
  reconcileInterval,
  secretName,
  snsTopicArn,
  throttle,
  wholeNumber,
} from './config-checks.js';
import { SIGNATURE_FAILURE_OUTCOMES } from './payhook-metrics.js';

export {
  type AlarmWindow,
  type CustomDomainSetting,
  InvalidConfigError,
  LOG_RETENTION_DAYS,
  type Throttle,
} from './config-checks.js';

/** The functions a setting can reach through their environment (`consumers`: one per priority). */
export type FunctionRole = 'ingest' | 'consumers' | 'reconciler' | 'register';

/** What a setting's environment value may depend on besides the setting itself. */
export interface EnvironmentContext {
  /** The enabled gateways (the `gateways` setting, resolved). */
  readonly gateways: readonly GatewayName[];
}

/**
 * One setting of the table: how its configured value is checked, what it is when not configured, how it reaches a
 * function (if it does), and its line in the README's "Default settings" table. Methods rather than function
 * properties, so that every setting fits `Setting<unknown, unknown>` when the table is walked.
 */
export interface Setting<Configured, Resolved> {
  /** Checks the value under the `payhook` context key, naming the key at fault; returns it typed. */
  check(key: string, value: unknown): Configured;
  /** The value the stack uses: the configured one, or the default. */
  resolve(configured: Configured | undefined): Resolved;
  readonly env?: SettingEnvironment<Resolved>;
  readonly docs: SettingDocs<Resolved>;
}

export interface SettingEnvironment<Resolved> {
  /** The variable its handlers read it from (named in `lambdas/definitions.ts`). */
  readonly variable: string;
  readonly functions: readonly FunctionRole[];
  /**
   * `when configured`: only when the key is configured; unset, the handler falls back to the same default, which the
   * table imports from the handler's side. `always`: the resolved value, default included.
   */
  readonly written: 'when configured' | 'always';
  /** The variable's value; `undefined` leaves it unset. @default JSON for objects, else `String(value)` */
  encode?(value: Resolved, context: EnvironmentContext): string | undefined;
}

export interface SettingDocs<Resolved> {
  /** Its row in the README's "Default settings" table; keys sharing a row are listed together, in table order. */
  readonly row: string;
  /**
   * How its default reads in that row (pieces of one row are joined by "; "): a function of the default, or a fixed
   * text for a setting that is off or empty unless configured. Absent, it adds nothing to the row's text.
   */
  readonly reads?: string | ((value: Resolved) => string);
  /** An example value, shown after the key. */
  readonly example?: string;
}

type Spec<Configured, Resolved> = Omit<Setting<Configured, Resolved>, 'check' | 'resolve'> & {
  readonly check: Check<Configured>;
};

/** A setting the stack always has a value for. */
function withDefault<T>(spec: Spec<T, T> & { readonly default: T }): Setting<T, T> {
  const { default: fallback, ...rest } = spec;
  return { ...rest, resolve: (configured) => configured ?? fallback };
}

/** A setting that is off (or empty) unless configured. */
function withoutDefault<T>(spec: Spec<T, T | undefined>): Setting<T, T | undefined> {
  return { ...spec, resolve: (configured) => configured };
}

/** An object setting whose configured entries are laid over the default's, key by key. */
function mergedOver<T extends object>(
  spec: Spec<Partial<T>, T> & { readonly default: T },
): Setting<Partial<T>, T> {
  const { default: fallback, ...rest } = spec;
  return { ...rest, resolve: (configured) => ({ ...fallback, ...configured }) };
}

const number = (value: number) => value.toLocaleString('en-US');
const COUNTS = ['no', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];
const rate = (limits: { rateLimit: number; burstLimit: number }) =>
  `${number(limits.rateLimit)} rps, burst ${number(limits.burstLimit)}`;
/**
 * Delivery destinations, checked by the parser the delivery function and the local stack use (`https` only here), so
 * a destination the function would refuse at cold start fails `cdk synth` with the same message, prefixed as every
 * other setting's is (`cdk.json context payhook.destinations.shop.url must be https, not http:`).
 */
const destinations: Check<Readonly<Record<string, DestinationSettings>>> = (key, value) => {
  try {
    return parseDestinations(value, key, { allowHttp: false });
  } catch (error) {
    if (!(error instanceof InvalidDestinationError)) throw error;
    throw new InvalidConfigError(`cdk.json context payhook.${error.message}`);
  }
};

const codeList = (names: readonly string[]) =>
  `${names
    .slice(0, -1)
    .map((name) => `\`${name}\``)
    .join(', ')} and \`${names.at(-1)}\``;

/**
 * Everything a team configures, under the `payhook` key of cdk.json's context (or `-c payhook='{...}'`): one entry
 * per key, every key optional. The config type ({@link PayhookConfig}), its validation ({@link parsePayhookConfig}),
 * the defaults ({@link resolveSettings}), the functions' environment ({@link settingsEnvironment}) and the README's
 * "Default settings" table (checked by `test/infra/config.test.ts`) are all read from here. In README order.
 */
export const SETTINGS = {
  /** Gateways with a route, a secret and settings. */
  gateways: withDefault<readonly GatewayName[]>({
    check: gatewayList,
    default: GATEWAYS,
    docs: {
      row: 'gateways',
      reads: (gateways) =>
        gateways.length === GATEWAYS.length
          ? `all ${COUNTS[GATEWAYS.length] ?? GATEWAYS.length}`
          : gateways.join(', '),
    },
  }),
  /** Whole-API throttle. */
  throttle: withDefault({
    check: throttle,
    default: { rateLimit: 500, burstLimit: 1000 },
    docs: { row: 'API throttle (whole stage)', reads: rate },
  }),
  /** Per-gateway route throttle, so one noisy sender cannot starve the others. */
  gatewayThrottle: withDefault({
    check: throttle,
    default: { rateLimit: 100, burstLimit: 200 },
    docs: { row: 'per-gateway route throttle', reads: rate },
  }),
  /** Per-gateway exceptions to `gatewayThrottle`. */
  gatewayThrottleOverrides: withoutDefault({
    check: gatewayMap(throttle),
    docs: { row: 'per-gateway route throttle' },
  }),
  /** `false` refuses test-mode events (Stripe `livemode`, Adyen `live`, Paystack `domain`). */
  acceptTestMode: withDefault({
    check: boolean,
    default: true,
    env: { variable: INTAKE_ENV.acceptTestMode, functions: ['ingest'], written: 'always' },
    docs: { row: 'test-mode events', reads: (accepted) => (accepted ? 'accepted' : 'refused') },
  }),
  /**
   * Per-gateway ingest settings, as `PAYHOOK_GATEWAY_SETTINGS` (tolerance, priorities, Adyen capture mode, ...), checked
   * as ingest checks them; `enabled` is set from `gateways`.
   */
  gatewaySettings: withDefault<Readonly<Record<string, unknown>>>({
    check: ingestGatewaySettings,
    default: {},
    env: {
      variable: INTAKE_ENV.gatewaySettings,
      functions: ['ingest'],
      written: 'always',
      encode: (settings, { gateways }) => JSON.stringify({ ...settings, enabled: gateways }),
    },
    docs: { row: 'gateway settings', reads: "each gateway's defaults, see Configuration" },
  }),
  /** Secrets that already exist, by name, per gateway; the others are created empty, to be filled. */
  existingSecretNames: withoutDefault({
    check: gatewayMap(secretName),
    docs: {
      row: 'gateway secrets',
      reads: 'one per gateway, created empty (`{"secrets":[]}`) for you to fill',
    },
  }),
  /** A custom domain for the webhook URL: `{ "domainName": "hooks.example.com", "certificateArn": "arn:..." }`. */
  customDomain: withoutDefault({
    check: customDomain,
    docs: { row: 'webhook URL', reads: "the API's execute-api URL" },
  }),
  /**
   * `false` deletes the payment and idempotency tables with the stack (test deployments). The refused-requests table
   * is diagnostic and always deleted with the stack.
   */
  retainData: withDefault({
    check: boolean,
    default: true,
    docs: {
      row: 'tables',
      reads: (retain) =>
        `on demand, PITR, AWS-managed encryption, TTL, ${retain ? 'kept' : 'deleted'} when the stack is deleted`,
    },
  }),
  /** Days a payment's history items (and unmatched events) are kept. */
  historyRetentionDays: withDefault({
    check: positiveInteger,
    default: DEFAULT_HISTORY_RETENTION_DAYS,
    env: {
      variable: PAYMENTS_TABLE_ENV.historyRetentionDays,
      // Every function that writes payment history: the consumers and the registration (the reconciler only reads).
      functions: ['consumers', 'register'],
      written: 'when configured',
    },
    docs: { row: 'history items', reads: (days) => `${number(days)} days` },
  }),
  /** `true` keeps raw payloads (customer data) in the history. */
  historyKeepsPayload: withDefault({
    check: boolean,
    default: false,
    env: {
      variable: PAYMENTS_TABLE_ENV.historyKeepsPayload,
      functions: ['consumers'],
      written: 'when configured',
      encode: (keep) => (keep ? 'true' : undefined),
    },
    docs: { row: 'history items', reads: (keep) => (keep ? 'with raw payloads' : 'without raw payloads') },
  }),
  /** Dedupe window per gateway in seconds, over the per-gateway defaults. */
  dedupeWindows: withoutDefault({
    check: gatewayMap(positiveInteger),
    env: {
      variable: IDEMPOTENCY_TABLE_ENV.dedupeWindows,
      functions: ['consumers'],
      written: 'when configured',
    },
    docs: { row: 'dedupe windows', reads: 'per gateway, see above' },
  }),
  /** Days published payment events are archived for replay. */
  archiveRetentionDays: withDefault({
    check: positiveInteger,
    default: 90,
    docs: { row: 'event archive', reads: (days) => `${number(days)} days` },
  }),
  /** Function and access log retention, in days (a CloudWatch Logs retention value). */
  logRetentionDays: withDefault({
    check: logRetentionDays,
    default: 30,
    docs: { row: 'log retention (functions, API access logs)', reads: (days) => `${number(days)} days` },
  }),
  /** Minutes between reconciler runs. */
  reconcileIntervalMinutes: withDefault({
    check: reconcileInterval,
    default: 5,
    docs: { row: 'reconciler', reads: (minutes) => `every ${number(minutes)} min` },
  }),
  /** Seconds a payment stays pending before the reconciler asks about it. */
  reconcileGraceSeconds: withDefault({
    check: positiveInteger,
    default: DEFAULT_RECONCILE_SETTINGS.graceSeconds,
    env: { variable: RECONCILER_ENV.graceSeconds, functions: ['reconciler'], written: 'when configured' },
    docs: { row: 'reconciler', reads: (seconds) => `asks about payments pending over ${number(seconds)} s` },
  }),
  /** Seconds after which a pending payment without a registered expiry expires. */
  pendingExpirySeconds: withDefault({
    check: positiveInteger,
    default: DEFAULT_RECONCILE_SETTINGS.defaultExpirySeconds,
    env: {
      variable: RECONCILER_ENV.pendingExpirySeconds,
      functions: ['reconciler'],
      written: 'when configured',
    },
    docs: {
      row: 'reconciler',
      reads: (seconds) => `a pending payment without a registered expiry expires after ${number(seconds)} s`,
    },
  }),
  /** Oldest-message age alarm thresholds in seconds, per priority. */
  oldestMessageAgeSeconds: mergedOver<Readonly<Record<Priority, number>>>({
    check: priorityMap(positiveInteger),
    default: { high: 300, normal: 900, low: 3600 },
    docs: {
      row: 'alarms',
      reads: (ages) =>
        `any DLQ message; oldest message over ${PRIORITIES.map((priority) => `${number(ages[priority])} s`).join(' / ')} ` +
        `(${PRIORITIES.join(' / ')}); any function error or throttle; any API 5xx`,
    },
  }),
  /** SNS topic for alarm notifications (and back to OK); none, the alarms show on the dashboard only. */
  alarmTopicArn: withoutDefault({ check: snsTopicArn, docs: { row: 'alarms' } }),
  /** Days a refused webhook request is kept for diagnosis (`payhook rejects list`). */
  rejectsTtlDays: withDefault({
    check: positiveInteger,
    default: REJECTS_TABLE.defaultTtlDays,
    env: { variable: REJECTS_TABLE_ENV.ttlDays, functions: ['ingest'], written: 'always' },
    docs: { row: 'refused requests kept', reads: (days) => `${number(days)} days` },
  }),
  /**
   * Refused requests recorded per gateway per minute by one ingest instance; past it they are only logged, so a flood
   * of forged requests cannot run up the bill.
   */
  rejectsPerMinute: withDefault({
    check: positiveInteger,
    default: REJECTS_TABLE.defaultPerMinute,
    env: { variable: REJECTS_TABLE_ENV.perMinute, functions: ['ingest'], written: 'always' },
    docs: {
      row: 'refused requests kept',
      reads: (count) => `at most ${number(count)} per gateway per minute per ingest instance`,
    },
  }),
  /** Alarm when one gateway's failing signatures exceed `threshold` within `minutes` (a wrong secret after a rotation). */
  signatureFailureAlarm: withDefault({
    check: alarmWindow,
    default: { threshold: 10, minutes: 5 },
    docs: {
      row: 'webhook alarms',
      reads: ({ threshold, minutes }) =>
        `per gateway: over ${number(threshold)} failing signatures in ${number(minutes)} min ` +
        `(${codeList(SIGNATURE_FAILURE_OUTCOMES)} summed; not \`missing_signature\`, which every scanner produces)`,
    },
  }),
  /** Alarm when the high-priority queue's p95 delay exceeds this many seconds. */
  highQueueDelaySeconds: withDefault({
    check: positiveInteger,
    default: 60,
    docs: { row: 'webhook alarms', reads: (seconds) => `high-queue delay p95 over ${number(seconds)} s` },
  }),
  /** Alarm when the reconciler finds more payments paid than this in an hour that no webhook announced. */
  lostWebhooksPerHour: withDefault({
    check: wholeNumber,
    default: 0,
    docs: {
      row: 'webhook alarms',
      reads: (count) =>
        `${count === 0 ? 'any payment' : `over ${number(count)} payments`} only the reconciler found paid in an ` +
        'hour (no webhook came)',
    },
  }),
  /** Alarm when a gateway sends no accepted webhook for this many minutes (1-1440), per gateway. */
  quietMinutes: withoutDefault({
    check: gatewayMap(minutesUpToADay),
    docs: {
      row: 'webhook alarms',
      reads: 'per gateway, optionally, no accepted webhook for N minutes',
      example: '{"stripe": 120}',
    },
  }),
  /**
   * Merchant endpoints payment events are delivered to, by name (`lambdas/delivery/destinations.ts`): each gets its
   * queue and DLQ, an EventBridge rule on the bus and a signing secret generated at deploy; one function delivers.
   */
  destinations: withDefault<Readonly<Record<string, DestinationSettings>>>({
    check: destinations,
    default: {},
    docs: {
      row: 'deliveries to merchant endpoints',
      reads: (configured) =>
        Object.keys(configured).length === 0
          ? 'none (payment events go to the bus only); each destination gets a queue (14 days) and DLQ, an ' +
            'EventBridge rule, a signing secret generated at deploy, and its own event source on one delivery function'
          : Object.keys(configured).join(', '),
      example: '{"shop": {"url": "https://shop.example.com/payhook"}}',
    },
  }),
  /** Alarm when a destination's oldest undelivered event is older than this many seconds. */
  deliveryOldestAgeSeconds: withDefault({
    check: positiveInteger,
    default: 3600,
    docs: {
      row: 'deliveries to merchant endpoints',
      reads: (seconds) =>
        `alarms per destination: any DLQ message; stopped (410 Gone); oldest undelivered event over ${number(seconds)} s`,
    },
  }),
};

export type SettingKey = keyof typeof SETTINGS;
type ConfiguredValue<S> = S extends { check(key: string, value: unknown): infer T } ? T : never;
type ResolvedValue<S> = S extends { resolve(configured: never): infer R } ? R : never;

/** The `payhook` context value, as a team writes it: every key optional. */
export type PayhookConfig = { readonly [K in SettingKey]?: ConfiguredValue<(typeof SETTINGS)[K]> };

/** Every setting, configured or default: what the stack builds from. */
export type PayhookSettings = { readonly [K in SettingKey]: ResolvedValue<(typeof SETTINGS)[K]> };

const KEYS = Object.keys(SETTINGS) as SettingKey[];

function settingOf(key: SettingKey): Setting<unknown, unknown> {
  return SETTINGS[key] as Setting<unknown, unknown>;
}

/** Checks the `payhook` context value; the error names the key at fault, so a typo fails `cdk synth` loudly. */
export function parsePayhookConfig(raw: unknown): PayhookConfig {
  if (raw === undefined) return {};
  const value = typeof raw === 'string' ? (JSON.parse(raw) as unknown) : raw;
  if (!isObject(value)) fail('', 'expected an object');
  for (const key of Object.keys(value)) {
    if (!Object.hasOwn(SETTINGS, key)) fail(key, `unknown key (allowed: ${KEYS.join(', ')})`);
  }
  const config: Partial<Record<SettingKey, unknown>> = {};
  for (const key of KEYS) {
    if (value[key] !== undefined) config[key] = settingOf(key).check(key, value[key]);
  }
  return config as PayhookConfig;
}

/** Checks the configuration (as {@link parsePayhookConfig}) and fills in every default. */
export function resolveSettings(config: PayhookConfig = {}): PayhookSettings {
  const checked = parsePayhookConfig(config);
  return Object.fromEntries(
    KEYS.map((key) => [key, settingOf(key).resolve(checked[key])]),
  ) as PayhookSettings;
}

/** Every default, as the constructs' own `@default`s read them. */
export const SETTING_DEFAULTS: PayhookSettings = resolveSettings();

/** The variables each function's handler reads its settings from, as the table says. */
export function settingsEnvironment(
  config: PayhookConfig,
): Readonly<Record<FunctionRole, Readonly<Record<string, string>>>> {
  const checked = parsePayhookConfig(config);
  const settings = resolveSettings(checked);
  const environment: Record<FunctionRole, Record<string, string>> = {
    ingest: {},
    consumers: {},
    reconciler: {},
    register: {},
  };
  for (const key of KEYS) {
    const { env } = settingOf(key);
    if (!env || (env.written === 'when configured' && checked[key] === undefined)) continue;
    const value: unknown = settings[key];
    if (value === undefined) continue;
    const text = env.encode
      ? env.encode(value, { gateways: settings.gateways })
      : typeof value === 'object'
        ? JSON.stringify(value)
        : String(value);
    if (text === undefined) continue;
    for (const role of env.functions) environment[role][env.variable] = text;
  }
  return environment;
}

/**
 * The rows of the README's "Default settings" table that name a context key, from the table: `[setting, default,
 * context keys]`, one per `docs.row`, in table order. (Rows of fixed facts, marked `—`, are the README's own.)
 */
export function defaultsTableRows(): [string, string, string][] {
  const rows = new Map<string, { reads: string[]; keys: string[] }>();
  for (const key of KEYS) {
    const { docs } = settingOf(key);
    const row = rows.get(docs.row) ?? { reads: [], keys: [] };
    rows.set(docs.row, row);
    const reads = typeof docs.reads === 'function' ? docs.reads(SETTING_DEFAULTS[key]) : docs.reads;
    if (reads) row.reads.push(reads);
    row.keys.push(`\`${key}\`${docs.example ? ` (e.g. \`${docs.example}\`)` : ''}`);
  }
  return [...rows].map(([name, row]) => [name, row.reads.join('; '), row.keys.join(', ')]);
}
