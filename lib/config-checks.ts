import { PRIORITIES, type Priority, RECONCILER_MIN_INTERVAL_MINUTES } from '../lambdas/definitions.js';
import { GATEWAYS, type GatewayName, isGatewayName } from '../lambdas/domain/webhook-event.js';
import { InvalidSettingsError, parseGatewaySettings } from '../lambdas/gateways/settings.js';

/**
 * The checks the settings table (`config.ts`) applies to the `payhook` context value: each takes the key (dotted, for
 * nested values) and the raw value, throws {@link InvalidConfigError} naming the key at fault, and returns the value
 * typed. The table's config type is read from what they return.
 */
export type Check<T> = (key: string, value: unknown) => T;

export class InvalidConfigError extends Error {
  override readonly name = 'InvalidConfigError';
}

export function fail(key: string, message: string): never {
  throw new InvalidConfigError(`cdk.json context payhook.${key}: ${message}`);
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export interface Throttle {
  /** Steady-state requests per second. */
  readonly rateLimit: number;
  /** Requests allowed in a burst. */
  readonly burstLimit: number;
}

export interface CustomDomainSetting {
  readonly domainName: string;
  /** A regional ACM certificate for that name, in the stack's region. */
  readonly certificateArn: string;
}

/** CloudWatch Logs accepts only these retention periods. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

export const positiveInteger: Check<number> = (key, value) => {
  if (!Number.isSafeInteger(value) || (value as number) <= 0)
    fail(key, `expected a positive whole number, got ${JSON.stringify(value)}`);
  return value as number;
};

export const wholeNumber: Check<number> = (key, value) => {
  if (!Number.isSafeInteger(value) || (value as number) < 0) fail(key, 'expected a whole number, 0 or more');
  return value as number;
};

/** A positive whole number of minutes, at most a day (CloudWatch's longest alarm evaluation range). */
export const minutesUpToADay: Check<number> = (key, value) => {
  const minutes = positiveInteger(key, value);
  if (minutes > 1440) fail(key, 'at most 1440 (one day)');
  return minutes;
};

/**
 * The reconciler's interval in whole minutes, at least {@link RECONCILER_MIN_INTERVAL_MINUTES}: its timeout is kept a
 * minute short of the interval so that runs never overlap (`reconcilerTimeoutSeconds` in `lambdas/definitions.ts`).
 */
export const reconcileInterval: Check<number> = (key, value) => {
  const minutes = positiveInteger(key, value);
  if (minutes < RECONCILER_MIN_INTERVAL_MINUTES)
    fail(
      key,
      `at least ${RECONCILER_MIN_INTERVAL_MINUTES}: a run's timeout is kept 60 s short of the interval`,
    );
  return minutes;
};

export const boolean: Check<boolean> = (key, value) => {
  if (typeof value !== 'boolean') fail(key, 'expected true or false');
  return value;
};

export const jsonObject: Check<Readonly<Record<string, unknown>>> = (key, value) => {
  if (!isObject(value)) fail(key, 'expected an object');
  return value;
};

export const throttle: Check<Throttle> = (key, value) => {
  if (!isObject(value)) fail(key, 'expected { "rateLimit": n, "burstLimit": n }');
  positiveInteger(`${key}.rateLimit`, value.rateLimit);
  positiveInteger(`${key}.burstLimit`, value.burstLimit);
  return value as unknown as Throttle;
};

export const gatewayList: Check<readonly GatewayName[]> = (key, value) => {
  if (!Array.isArray(value) || value.length === 0) fail(key, 'expected a non-empty list');
  for (const gateway of value) {
    if (!isGatewayName(gateway))
      fail(key, `unknown gateway ${JSON.stringify(gateway)} (known: ${GATEWAYS.join(', ')})`);
  }
  return value as GatewayName[];
};

/** An object keyed by gateway, each entry checked by `check`. */
export function gatewayMap<T>(check: Check<T>): Check<Readonly<Partial<Record<GatewayName, T>>>> {
  return (key, value) => {
    if (!isObject(value)) fail(key, 'expected an object keyed by gateway');
    for (const [gateway, entry] of Object.entries(value)) {
      if (!isGatewayName(gateway)) fail(key, `unknown gateway "${gateway}" (known: ${GATEWAYS.join(', ')})`);
      check(`${key}.${gateway}`, entry);
    }
    return value as Partial<Record<GatewayName, T>>;
  };
}

/** An object keyed by priority, each entry checked by `check`. */
export function priorityMap<T>(check: Check<T>): Check<Readonly<Partial<Record<Priority, T>>>> {
  return (key, value) => {
    if (!isObject(value)) fail(key, 'expected an object keyed by priority');
    for (const [priority, entry] of Object.entries(value)) {
      if (!(PRIORITIES as readonly string[]).includes(priority)) fail(key, `unknown priority "${priority}"`);
      check(`${key}.${priority}`, entry);
    }
    return value as Partial<Record<Priority, T>>;
  };
}

export const secretName: Check<string> = (key, value) => {
  if (typeof value !== 'string' || value.length === 0) fail(key, 'expected a secret name');
  return value;
};

export const snsTopicArn: Check<string> = (key, value) => {
  if (typeof value !== 'string' || !value.startsWith('arn:')) fail(key, 'expected an SNS topic ARN');
  return value;
};

export const logRetentionDays: Check<number> = (key, value) => {
  if (!LOG_RETENTION_DAYS.includes(value as number))
    fail(key, `expected one of ${LOG_RETENTION_DAYS.join(', ')}`);
  return value as number;
};

export const customDomain: Check<CustomDomainSetting> = (key, value) => {
  if (!isObject(value) || typeof value.domainName !== 'string' || typeof value.certificateArn !== 'string') {
    fail(key, 'expected { "domainName": "...", "certificateArn": "arn:aws:acm:..." }');
  }
  return value as unknown as CustomDomainSetting;
};

/** More than `threshold` events within `minutes` (at most a day). */
export interface AlarmWindow {
  readonly threshold: number;
  readonly minutes: number;
}

export const alarmWindow: Check<AlarmWindow> = (key, value) => {
  if (!isObject(value)) fail(key, 'expected { "threshold": n, "minutes": n }');
  positiveInteger(`${key}.threshold`, value.threshold);
  minutesUpToADay(`${key}.minutes`, value.minutes);
  return value as unknown as AlarmWindow;
};

/**
 * Ingest's per-gateway settings, checked as ingest checks them at cold start, so a typo fails `cdk synth` instead.
 * `enabled` is left out: the stack sets it from `gateways`.
 */
export const ingestGatewaySettings: Check<Readonly<Record<string, unknown>>> = (key, value) => {
  const settings = jsonObject(key, value);
  try {
    parseGatewaySettings(JSON.stringify({ ...settings, enabled: undefined }));
  } catch (error) {
    if (!(error instanceof InvalidSettingsError)) throw error;
    fail(key, error.message.replace(/^gateway settings /, ''));
  }
  return settings;
};
