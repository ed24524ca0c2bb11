import { type BreakerSettings, DEFAULT_BREAKER_SETTINGS } from '../domain/circuit-breaker.js';
import { PAYMENT_STATUSES } from '../domain/payment.js';
import { GATEWAYS, type GatewayName, isGatewayName } from '../domain/webhook-event.js';

/**
 * Where payhook delivers payment events besides its bus: the merchant's own endpoints. One definition, read by the
 * stack (the CDK context's `destinations`), the local stack (`PAYHOOK_DESTINATIONS`) and the delivery function (its
 * environment): the same JSON, name -> settings, checked here once with a clear error per field.
 */

/**
 * How a delivery's body is written: `payment-event`, payhook's payment events signed with Standard Webhooks; or
 * `original`, each webhook payhook accepted, as the gateway sent it (its bytes, its signature headers and content
 * type), for an existing handler that verifies the gateway's own signature.
 */
export const DELIVERY_FORMATS = ['payment-event', 'original'] as const;
export type DeliveryFormat = (typeof DELIVERY_FORMATS)[number];

/** The payment events a destination can ask for: `payment.<status>`, as on the bus. */
export const PAYMENT_DETAIL_TYPES: readonly string[] = PAYMENT_STATUSES.map((status) => `payment.${status}`);

export interface DestinationSettings {
  /** HTTPS (http only where `allowHttp`: the local stack). */
  readonly url: string;
  readonly format: DeliveryFormat;
  /** Detail-types it wants (`payment.succeeded`, ...); `undefined`: all. `payment-event` only. */
  readonly detailTypes?: readonly string[];
  /** Gateways whose payments it wants; `undefined`: all. */
  readonly gateways?: readonly GatewayName[];
  /** One attempt's limit, connect to the answer's first bytes. */
  readonly timeoutSeconds: number;
  /** How long an event is retried, from when it was queued for this destination. */
  readonly retryHours: number;
  /** Concurrent deliveries to it (its event source mapping's maximum concurrency, at least 2). */
  readonly maxConcurrency: number;
  /** Let the URL resolve to private addresses (a VPC endpoint of the merchant's own); never to link-local. */
  readonly allowPrivateNetwork: boolean;
  /** Deliveries per second it can take, held across concurrent invocations; beyond it events wait on the queue. */
  readonly rateLimitPerSecond?: number;
  /** When its circuit breaker opens (defaults: `DEFAULT_BREAKER_SETTINGS`); only what differs is kept. */
  readonly circuitBreaker?: Partial<Pick<BreakerSettings, BreakerKey>>;
}

/** The breaker settings a destination may change. */
type BreakerKey =
  | 'consecutiveFailures'
  | 'failureRatePercent'
  | 'minimumAttempts'
  | 'windowSeconds'
  | 'openSeconds';

const BREAKER_LIMITS: Readonly<Record<BreakerKey, readonly [number, number]>> = {
  consecutiveFailures: [1, 1000],
  failureRatePercent: [1, 100],
  minimumAttempts: [1, 100_000],
  windowSeconds: [10, 3600],
  openSeconds: [10, 900],
};

function breakerOverrides(raw: unknown, where: string): DestinationSettings['circuitBreaker'] {
  if (raw === undefined) return undefined;
  if (!isRecord(raw)) throw new InvalidDestinationError(`${where}.circuitBreaker must be an object`);
  const overrides: Partial<Record<BreakerKey, number>> = {};
  for (const key of Object.keys(raw)) {
    const limits = BREAKER_LIMITS[key as BreakerKey];
    if (limits === undefined) {
      throw new InvalidDestinationError(
        `${where}.circuitBreaker.${key} is not a setting (known: ${Object.keys(BREAKER_LIMITS).join(', ')})`,
      );
    }
    overrides[key as BreakerKey] = integer(raw, key, `${where}.circuitBreaker`, limits[0], limits[1], 0);
  }
  return overrides;
}

/** A destination's breaker settings: the defaults with its overrides. */
export function breakerSettingsOf(settings: DestinationSettings): BreakerSettings {
  return { ...DEFAULT_BREAKER_SETTINGS, ...settings.circuitBreaker };
}

export const DESTINATION_DEFAULTS = {
  format: 'payment-event',
  timeoutSeconds: 10,
  retryHours: 24,
  maxConcurrency: 2,
  allowPrivateNetwork: false,
} as const satisfies Partial<DestinationSettings>;

/** Limits of the settings: an attempt within the function's timeout; retries within the queue's 14-day retention. */
export const DESTINATION_LIMITS = {
  maxTimeoutSeconds: 30,
  maxRetryHours: 14 * 24 - 1,
  maxConcurrency: 1000,
  maxDestinations: 20,
} as const;

/** A name that is safe in resource names, metric dimensions and a CLI argument. */
const NAME = /^[a-z][a-z0-9-]{0,31}$/;

export class InvalidDestinationError extends Error {
  override readonly name = 'InvalidDestinationError';
}

type Raw = Record<string, unknown>;

function isRecord(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function integer(raw: Raw, field: string, where: string, min: number, max: number, fallback: number): number {
  const value = raw[field] ?? fallback;
  if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max) {
    throw new InvalidDestinationError(`${where}.${field} must be a whole number from ${min} to ${max}`);
  }
  return value as number;
}

function stringList(
  raw: Raw,
  field: string,
  where: string,
  allowed: readonly string[],
): string[] | undefined {
  const value = raw[field];
  if (value === undefined) return undefined;
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    !value.every((item) => allowed.includes(item as string))
  ) {
    throw new InvalidDestinationError(`${where}.${field} must be a non-empty list of: ${allowed.join(', ')}`);
  }
  return [...new Set(value as string[])];
}

function destinationUrl(value: unknown, where: string, allowHttp: boolean): string {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new InvalidDestinationError(`${where}.url must be an absolute URL`);
  }
  const schemes = allowHttp ? ['https:', 'http:'] : ['https:'];
  if (!schemes.includes(url.protocol)) {
    throw new InvalidDestinationError(
      `${where}.url must be ${allowHttp ? 'http(s)' : 'https'}, not ${url.protocol}`,
    );
  }
  // Credentials in a URL end up in logs and the CLI's output; a receiver authenticates payhook by the signature.
  if (url.username !== '' || url.password !== '') {
    throw new InvalidDestinationError(`${where}.url must not carry a user name or password`);
  }
  return url.href;
}

function destinationSettings(raw: unknown, where: string, allowHttp: boolean): DestinationSettings {
  if (!isRecord(raw)) throw new InvalidDestinationError(`${where} must be an object with at least "url"`);
  const format = raw.format ?? DESTINATION_DEFAULTS.format;
  if (!DELIVERY_FORMATS.includes(format as DeliveryFormat)) {
    throw new InvalidDestinationError(`${where}.format must be one of: ${DELIVERY_FORMATS.join(', ')}`);
  }
  if (raw.allowPrivateNetwork !== undefined && typeof raw.allowPrivateNetwork !== 'boolean') {
    throw new InvalidDestinationError(`${where}.allowPrivateNetwork must be true or false`);
  }
  const detailTypes = stringList(raw, 'detailTypes', where, PAYMENT_DETAIL_TYPES);
  if (format === 'original' && detailTypes !== undefined) {
    throw new InvalidDestinationError(
      `${where}.detailTypes is for payment events: an original destination gets every webhook of its gateways`,
    );
  }
  const gateways = stringList(raw, 'gateways', where, GATEWAYS) as GatewayName[] | undefined;
  const rate = raw.rateLimitPerSecond;
  return {
    url: destinationUrl(raw.url, where, allowHttp),
    format: format as DeliveryFormat,
    ...(detailTypes && { detailTypes }),
    ...(gateways && { gateways: gateways.filter(isGatewayName) }),
    timeoutSeconds: integer(raw, 'timeoutSeconds', where, 1, DESTINATION_LIMITS.maxTimeoutSeconds, 10),
    retryHours: integer(raw, 'retryHours', where, 1, DESTINATION_LIMITS.maxRetryHours, 24),
    maxConcurrency: integer(raw, 'maxConcurrency', where, 2, DESTINATION_LIMITS.maxConcurrency, 2),
    allowPrivateNetwork: raw.allowPrivateNetwork === true,
    ...(rate !== undefined && {
      rateLimitPerSecond: integer(raw, 'rateLimitPerSecond', where, 1, 10_000, 1),
    }),
    ...(raw.circuitBreaker !== undefined && { circuitBreaker: breakerOverrides(raw.circuitBreaker, where) }),
  };
}

/**
 * Parses destinations (name -> settings). `where` names the source in errors (`PAYHOOK_DESTINATIONS`, the CDK
 * context key); `allowHttp` is for the local stack only.
 */
export function parseDestinations(
  value: unknown,
  where: string,
  options: { readonly allowHttp: boolean },
): Record<string, DestinationSettings> {
  if (value === undefined) return {};
  if (!isRecord(value)) throw new InvalidDestinationError(`${where} must be an object of name -> settings`);
  const entries = Object.entries(value);
  if (entries.length > DESTINATION_LIMITS.maxDestinations) {
    throw new InvalidDestinationError(`${where}: at most ${DESTINATION_LIMITS.maxDestinations} destinations`);
  }
  const destinations: Record<string, DestinationSettings> = {};
  for (const [name, raw] of entries) {
    if (!NAME.test(name)) {
      throw new InvalidDestinationError(
        `${where}: destination name "${name}" must be lower-case letters, digits and dashes, starting with a letter (at most 32)`,
      );
    }
    destinations[name] = destinationSettings(raw, `${where}.${name}`, options.allowHttp);
  }
  return destinations;
}

/** Parses the JSON text of `PAYHOOK_DESTINATIONS`. */
export function parseDestinationsJson(
  text: string | undefined,
  where: string,
  options: { readonly allowHttp: boolean },
): Record<string, DestinationSettings> {
  if (text === undefined || text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidDestinationError(`${where} must be JSON: an object of name -> settings`);
  }
  return parseDestinations(value, where, options);
}

/** Whether a destination wants a payment event (the EventBridge rule's filter on AWS; the local fan-out's locally). */
export function wants(
  settings: DestinationSettings,
  event: { detailType: string; gateway: string },
): boolean {
  return (
    settings.format === 'payment-event' &&
    (settings.detailTypes === undefined || settings.detailTypes.includes(event.detailType)) &&
    (settings.gateways === undefined || (settings.gateways as readonly string[]).includes(event.gateway))
  );
}

/** The gateways whose webhooks some `original` destination wants: what ingest queues with their originals. */
export function originalGatewaysOf(
  destinations: Readonly<Record<string, DestinationSettings>>,
): GatewayName[] {
  const originals = Object.values(destinations).filter((settings) => settings.format === 'original');
  return GATEWAYS.filter((gateway) =>
    originals.some((settings) => settings.gateways === undefined || settings.gateways.includes(gateway)),
  );
}
