import { isPriority, type Priority } from '../definitions.js';
import { type EventKind, GATEWAYS, type GatewayName, isEventKind } from '../domain/webhook-event.js';
import { NO_PUBLISHED_LIST, PUBLISHED_SOURCE_IPS, parseCidr } from './source-ips.js';

export type FlutterwaveScheme = 'verif-hash' | 'flutterwave-signature';
export const FLUTTERWAVE_SCHEMES: readonly FlutterwaveScheme[] = ['verif-hash', 'flutterwave-signature'];

/** Standard Webhooks carry no payload schema; this says where payhook finds each field (dotted JSON paths). */
export interface StandardWebhooksMapping {
  readonly type: string;
  readonly reference: string;
  readonly gatewayPaymentId: string;
  readonly amount: string;
  /** Whether `amount` holds minor units (an integer) or major units (a decimal). */
  readonly amountUnit: 'minor' | 'major';
  readonly currency: string;
  readonly occurredAt: string;
  /** Where a refund event names its refund, so one refund told twice counts once. */
  readonly refundId: string;
  /** Where a dispute event names its dispute. */
  readonly disputeId: string;
  /** A path to a boolean "live" flag, if the sender has one. */
  readonly live?: string;
  /** The sender's event type names and what they mean, merged over the defaults; unlisted types are `other`. */
  readonly kinds: Readonly<Record<string, EventKind>>;
}

export const DEFAULT_STANDARD_MAPPING: StandardWebhooksMapping = {
  type: 'type',
  reference: 'data.reference',
  gatewayPaymentId: 'data.id',
  amount: 'data.amount',
  amountUnit: 'minor',
  currency: 'data.currency',
  occurredAt: 'timestamp',
  refundId: 'data.refund_id',
  disputeId: 'data.dispute_id',
  kinds: {
    'payment.succeeded': 'payment.succeeded',
    'payment.failed': 'payment.failed',
    'payment.pending': 'payment.pending',
    'refund.succeeded': 'refund.succeeded',
  },
};

/**
 * `log`: a request from outside the list is counted (`WebhookSourceNotAllowed`) and logged, and handled as usual.
 * `enforce`: it is refused with 403 `source_not_allowed` before any secret is read.
 */
export type SourceIpMode = 'log' | 'enforce';
export const SOURCE_IP_MODES: readonly SourceIpMode[] = ['log', 'enforce'];

/** Where a gateway's webhooks may come from (the front door's source address). */
export interface SourceIpAllowList {
  /** @default 'log' */
  readonly mode: SourceIpMode;
  /** IPv4 and IPv6 addresses and CIDR blocks. @default - the gateway's shipped list (`gateways/source-ips.ts`) */
  readonly cidrs: readonly string[];
}

/** Everything an adapter may be configured with. Fields named after one gateway are read by that gateway only. */
export interface GatewaySettings {
  /** A disabled gateway answers 404 as if it did not exist. @default true */
  readonly enabled: boolean;
  /** `false` refuses events the gateway marks as test mode (production deployments). @default true */
  readonly acceptTestMode: boolean;
  /** Largest signed-timestamp skew accepted, either direction (Stripe, Standard Webhooks). @default 300 */
  readonly toleranceSeconds: number;
  /** Priority per raw event type or per kind, winning over the adapter's table. @default {} */
  readonly priorityOverrides: Readonly<Record<string, Priority>>;
  /** Exponent per currency where the default (ISO 4217, or the crypto table) is wrong for a sender. @default {} */
  readonly currencyExponents: Readonly<Record<string, number>>;
  /** Flutterwave: which schemes are accepted. @default both */
  readonly flutterwaveSchemes: readonly FlutterwaveScheme[];
  /** Adyen: automatic capture makes a successful AUTHORISATION the money-arrived event; manual makes CAPTURE it. */
  readonly adyenCaptureMode: 'automatic' | 'manual';
  /** Stripe: metadata keys that may hold the merchant's reference, first found wins. */
  readonly stripeReferenceMetadataKeys: readonly string[];
  readonly standardMapping: StandardWebhooksMapping;
  /** Checked by the front door before anything else. @default - none: requests are taken from any address */
  readonly sourceIps?: SourceIpAllowList;
}

export const DEFAULT_GATEWAY_SETTINGS: GatewaySettings = {
  enabled: true,
  acceptTestMode: true,
  toleranceSeconds: 300,
  priorityOverrides: {},
  currencyExponents: {},
  flutterwaveSchemes: FLUTTERWAVE_SCHEMES,
  adyenCaptureMode: 'automatic',
  stripeReferenceMetadataKeys: ['reference', 'order_id'],
  standardMapping: DEFAULT_STANDARD_MAPPING,
};

export class InvalidSettingsError extends Error {
  override readonly name = 'InvalidSettingsError';
}

type RawObject = Record<string, unknown>;

function isRawObject(value: unknown): value is RawObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(where: string, message: string): never {
  throw new InvalidSettingsError(`gateway settings ${where}: ${message}`);
}

function onlyKeys(where: string, value: RawObject, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) fail(where, `unknown key "${key}" (allowed: ${allowed.join(', ')})`);
  }
}

function readBoolean(where: string, value: unknown): boolean {
  if (typeof value !== 'boolean') fail(where, `expected true or false, got ${JSON.stringify(value)}`);
  return value;
}

function readStringList(where: string, value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    fail(where, 'expected a list of strings');
  }
  return value;
}

function readPriorities(where: string, value: unknown): Record<string, Priority> {
  if (!isRawObject(value)) fail(where, 'expected an object of event type or kind to priority');
  for (const [key, priority] of Object.entries(value)) {
    if (!isPriority(priority))
      fail(`${where}.${key}`, `expected high, normal or low, got ${JSON.stringify(priority)}`);
  }
  return value as Record<string, Priority>;
}

function readExponents(where: string, value: unknown): Record<string, number> {
  if (!isRawObject(value)) fail(where, 'expected an object of currency code to exponent');
  const exponents: Record<string, number> = {};
  for (const [code, exponent] of Object.entries(value)) {
    if (!Number.isInteger(exponent) || (exponent as number) < 0 || (exponent as number) > 30) {
      fail(`${where}.${code}`, `expected an integer from 0 to 30, got ${JSON.stringify(exponent)}`);
    }
    exponents[code.toUpperCase()] = exponent as number;
  }
  return exponents;
}

const MAPPING_PATH_KEYS = [
  'type',
  'reference',
  'gatewayPaymentId',
  'amount',
  'currency',
  'occurredAt',
  'refundId',
  'disputeId',
  'live',
] as const;

function readMapping(where: string, value: unknown): StandardWebhooksMapping {
  if (!isRawObject(value)) fail(where, 'expected an object');
  onlyKeys(where, value, [...MAPPING_PATH_KEYS, 'amountUnit', 'kinds']);
  const mapping: Record<string, unknown> = { ...DEFAULT_STANDARD_MAPPING };
  for (const key of MAPPING_PATH_KEYS) {
    const path = value[key];
    if (path === undefined) continue;
    if (typeof path !== 'string' || path.length === 0) fail(`${where}.${key}`, 'expected a dotted JSON path');
    mapping[key] = path;
  }
  if (value.amountUnit !== undefined) {
    if (value.amountUnit !== 'minor' && value.amountUnit !== 'major')
      fail(`${where}.amountUnit`, 'expected minor or major');
    mapping.amountUnit = value.amountUnit;
  }
  if (value.kinds !== undefined) {
    if (!isRawObject(value.kinds)) fail(`${where}.kinds`, 'expected an object of event type to kind');
    for (const [type, kind] of Object.entries(value.kinds)) {
      if (!isEventKind(kind)) fail(`${where}.kinds.${type}`, `unknown kind ${JSON.stringify(kind)}`);
    }
    // Added to the default kinds, not replacing them; map a default type to `other` to switch it off.
    mapping.kinds = { ...DEFAULT_STANDARD_MAPPING.kinds, ...value.kinds };
  }
  return mapping as unknown as StandardWebhooksMapping;
}

function readSourceIps(gateway: GatewayName, where: string, value: unknown): SourceIpAllowList {
  if (!isRawObject(value))
    fail(where, 'expected an object such as {"mode": "enforce", "cidrs": ["192.0.2.0/24"]}');
  onlyKeys(where, value, ['mode', 'cidrs']);
  const mode = value.mode === undefined ? 'log' : value.mode;
  if (!(SOURCE_IP_MODES as readonly unknown[]).includes(mode)) {
    fail(`${where}.mode`, `expected ${SOURCE_IP_MODES.join(' or ')}, got ${JSON.stringify(mode)}`);
  }
  if (value.cidrs === undefined) {
    const published = PUBLISHED_SOURCE_IPS[gateway];
    if (!published)
      fail(`${where}.cidrs`, NO_PUBLISHED_LIST[gateway] ?? 'payhook ships no list for this gateway');
    return { mode: mode as SourceIpMode, cidrs: published.cidrs };
  }
  const cidrs = readStringList(`${where}.cidrs`, value.cidrs);
  if (cidrs.length === 0) fail(`${where}.cidrs`, 'expected at least one address or CIDR block');
  cidrs.forEach((entry, index) => {
    const parsed = parseCidr(entry);
    if (typeof parsed === 'string') {
      fail(
        `${where}.cidrs[${index}]`,
        `${JSON.stringify(entry.slice(0, 60))} is not an IPv4 or IPv6 address or CIDR block (${parsed})`,
      );
    }
  });
  return { mode: mode as SourceIpMode, cidrs };
}

const GATEWAY_KEYS = [
  'enabled',
  'acceptTestMode',
  'toleranceSeconds',
  'priorities',
  'currencyExponents',
  'schemes',
  'captureMode',
  'referenceMetadataKeys',
  'mapping',
  'sourceIps',
] as const;

function readGateway(gateway: GatewayName, value: unknown, base: GatewaySettings): GatewaySettings {
  const where = gateway;
  if (!isRawObject(value)) fail(where, 'expected an object');
  onlyKeys(where, value, GATEWAY_KEYS);
  const settings: { -readonly [K in keyof GatewaySettings]: GatewaySettings[K] } = { ...base };
  if (value.enabled !== undefined) settings.enabled = readBoolean(`${where}.enabled`, value.enabled);
  if (value.acceptTestMode !== undefined) {
    settings.acceptTestMode = readBoolean(`${where}.acceptTestMode`, value.acceptTestMode);
  }
  if (value.toleranceSeconds !== undefined) {
    const tolerance = value.toleranceSeconds;
    if (
      typeof tolerance !== 'number' ||
      !Number.isInteger(tolerance) ||
      tolerance < 1 ||
      tolerance > 86_400
    ) {
      fail(`${where}.toleranceSeconds`, 'expected whole seconds from 1 to 86400');
    }
    settings.toleranceSeconds = tolerance;
  }
  if (value.priorities !== undefined)
    settings.priorityOverrides = readPriorities(`${where}.priorities`, value.priorities);
  if (value.currencyExponents !== undefined) {
    settings.currencyExponents = readExponents(`${where}.currencyExponents`, value.currencyExponents);
  }
  if (value.schemes !== undefined) {
    const schemes = readStringList(`${where}.schemes`, value.schemes);
    if (
      schemes.length === 0 ||
      !schemes.every((s) => (FLUTTERWAVE_SCHEMES as readonly string[]).includes(s))
    ) {
      fail(`${where}.schemes`, `expected a non-empty list of ${FLUTTERWAVE_SCHEMES.join(', ')}`);
    }
    settings.flutterwaveSchemes = schemes as FlutterwaveScheme[];
  }
  if (value.captureMode !== undefined) {
    if (value.captureMode !== 'automatic' && value.captureMode !== 'manual') {
      fail(`${where}.captureMode`, 'expected automatic or manual');
    }
    settings.adyenCaptureMode = value.captureMode;
  }
  if (value.referenceMetadataKeys !== undefined) {
    settings.stripeReferenceMetadataKeys = readStringList(
      `${where}.referenceMetadataKeys`,
      value.referenceMetadataKeys,
    );
  }
  if (value.mapping !== undefined) settings.standardMapping = readMapping(`${where}.mapping`, value.mapping);
  if (value.sourceIps !== undefined)
    settings.sourceIps = readSourceIps(gateway, `${where}.sourceIps`, value.sourceIps);
  return settings;
}

export type SettingsByGateway = Readonly<Record<GatewayName, GatewaySettings>>;

/**
 * Builds every gateway's settings from the JSON in `PAYHOOK_GATEWAY_SETTINGS` (absent: all defaults).
 * Shape: `{ "enabled": ["paystack", ...]?, "acceptTestMode": false?, "<gateway>": { ...per-gateway keys } }`.
 * Throws {@link InvalidSettingsError} naming the bad key, so a typo fails the deployment's first cold start loudly
 * instead of silently running with defaults.
 */
export function parseGatewaySettings(
  json: string | undefined,
  options: { acceptTestMode?: boolean } = {},
): SettingsByGateway {
  let raw: unknown = {};
  if (json !== undefined && json.trim().length > 0) {
    try {
      raw = JSON.parse(json);
    } catch (error) {
      fail('', `not JSON (${(error as Error).message})`);
    }
  }
  if (!isRawObject(raw)) fail('', 'expected a JSON object');
  onlyKeys('', raw, ['enabled', 'acceptTestMode', ...GATEWAYS]);
  const enabledList = raw.enabled === undefined ? undefined : readStringList('enabled', raw.enabled);
  for (const name of enabledList ?? []) {
    if (!(GATEWAYS as readonly string[]).includes(name)) fail('enabled', `unknown gateway "${name}"`);
  }
  const acceptTestMode =
    raw.acceptTestMode === undefined
      ? (options.acceptTestMode ?? DEFAULT_GATEWAY_SETTINGS.acceptTestMode)
      : readBoolean('acceptTestMode', raw.acceptTestMode);
  const result = {} as Record<GatewayName, GatewaySettings>;
  for (const gateway of GATEWAYS) {
    const base: GatewaySettings = {
      ...DEFAULT_GATEWAY_SETTINGS,
      enabled: enabledList === undefined || enabledList.includes(gateway),
      acceptTestMode,
    };
    result[gateway] = raw[gateway] === undefined ? base : readGateway(gateway, raw[gateway], base);
  }
  return result;
}
