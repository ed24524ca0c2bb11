/** Reading configuration from the environment, once, at load time: a missing value fails the cold start loudly. */

export type Environment = Readonly<Record<string, string | undefined>>;

export class MissingConfigurationError extends Error {
  override readonly name = 'MissingConfigurationError';
}

export function requireEnv(env: Environment, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new MissingConfigurationError(`environment variable ${name} is required`);
  }
  return value;
}

export function optionalEnv(env: Environment, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}

export function booleanEnv(env: Environment, name: string, fallback: boolean): boolean {
  const value = optionalEnv(env, name)?.toLowerCase();
  if (value === undefined) return fallback;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new MissingConfigurationError(`environment variable ${name} must be true or false, got "${value}"`);
}

export function positiveIntegerEnv(env: Environment, name: string, fallback: number): number {
  const value = optionalEnv(env, name);
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed <= 0) {
    throw new MissingConfigurationError(
      `environment variable ${name} must be a positive integer, got "${value}"`,
    );
  }
  return parsed;
}

/** A JSON object of string values, e.g. `PAYHOOK_GATEWAY_SECRET_IDS`. */
export function stringMapEnv(env: Environment, name: string): Record<string, string> | undefined {
  const value = optionalEnv(env, name);
  if (value === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new MissingConfigurationError(`environment variable ${name} must be a JSON object`);
  }
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    Array.isArray(parsed) ||
    !Object.values(parsed).every((item) => typeof item === 'string')
  ) {
    throw new MissingConfigurationError(`environment variable ${name} must be a JSON object of strings`);
  }
  return parsed as Record<string, string>;
}
