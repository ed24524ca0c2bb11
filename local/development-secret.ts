/**
 * The secret the local stack signs deliveries with when the secrets file names none for a destination, and that
 * `payhook listen` verifies with by default: `destinations._default` of the secrets file, else the FAKE one in
 * `events/dev-secrets.json`. Kept out of `deliveries.ts` so the CLI reads it without loading the delivery function.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEV_SECRETS_FILE } from '../events/index.js';
import { signStandardWebhook } from '../lambdas/delivery/standard-webhooks.js';
import { DESTINATIONS_SECRETS_KEY } from '../lambdas/secrets/gateway-secrets.js';

/**
 * The key, under the secrets file's `destinations`, of the secret that signs for every destination the file does
 * not list. Never a destination's name: those start with a letter.
 */
export const DEVELOPMENT_SECRET_KEY = '_default';

export interface DevelopmentSigningSecret {
  readonly secret: string;
  /** The file it was read from. */
  readonly file: string;
  /** It is the FAKE one in `events/dev-secrets.json`, which may be shown. */
  readonly fake: boolean;
}

const WHERE = `${DESTINATIONS_SECRETS_KEY}.${DEVELOPMENT_SECRET_KEY}`;

/** The current (first) `_default` secret of a secrets file; `undefined` when the file has none or cannot be read. */
function defaultSecretIn(file: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    // A secrets file that cannot be read fails the gateways' verification, which says so; here it has no default.
    return undefined;
  }
  const destinations = (parsed as Record<string, unknown> | null)?.[DESTINATIONS_SECRETS_KEY];
  const entry = (destinations as Record<string, unknown> | null | undefined)?.[DEVELOPMENT_SECRET_KEY];
  if (entry === undefined) return undefined;
  const first = (entry as { secrets?: unknown } | null)?.secrets;
  const secret = Array.isArray(first) ? first[0] : undefined;
  if (typeof secret !== 'string' || secret === '') {
    throw new Error(`${WHERE} in ${file} must be {"secrets": ["whsec_..."]}`);
  }
  return secret;
}

/**
 * The development signing secret for `secretsFile` (the local stack's, `PAYHOOK_SECRETS_FILE`): its own `_default`,
 * else the FAKE one. Checked here, so a malformed one stops the stack at start rather than failing every delivery;
 * the message never quotes it.
 */
export function developmentSigningSecret(secretsFile: string = DEV_SECRETS_FILE): DevelopmentSigningSecret {
  const own = defaultSecretIn(secretsFile);
  const file = own === undefined ? DEV_SECRETS_FILE : secretsFile;
  const secret = own ?? defaultSecretIn(DEV_SECRETS_FILE);
  if (secret === undefined) throw new Error(`${DEV_SECRETS_FILE} has no ${WHERE} secret`);
  try {
    signStandardWebhook({ id: 'check', timestamp: new Date(), body: '', secrets: [secret] });
  } catch (error) {
    throw new Error(`${WHERE} in ${file}: ${(error as Error).message}`);
  }
  return { secret, file, fake: resolve(file) === resolve(DEV_SECRETS_FILE) };
}
