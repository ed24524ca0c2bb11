import { readFile } from 'node:fs/promises';
import { errorClassOf } from '../common/log.js';
import type { GatewaySecret } from '../domain/gateway-secret.js';
import { GATEWAYS, type GatewayName, isGatewayName } from '../domain/webhook-event.js';
import {
  EmptySecretError,
  type FetchedSecret,
  InvalidSecretError,
  type SecretStore,
  SecretsUnavailableError,
} from '../ports/secret-store.js';

/** The fixed sentence every shape problem starts with: the gateway, and what the documented shape is. */
function notDocumentedShape(gateway: string, problem: string): InvalidSecretError {
  return new InvalidSecretError(
    `the ${gateway} secret is not valid JSON of the documented shape ({"secrets": ["..."]}): ${problem}`,
  );
}

function stringList(gateway: string, value: unknown, key: string): string[] {
  // A blank secret would be an HMAC key anyone can use.
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' && item.trim().length > 0)) {
    throw notDocumentedShape(gateway, `${gateway}.${key} must be a list of non-empty strings`);
  }
  return value;
}

/**
 * Checks one gateway's secret JSON: `{ "secrets": ["current", "previous"?], "payoutSecrets"?: [...] }`.
 * Other keys are allowed (API credentials the reconciler reads) and ignored here. Error messages name the key at
 * fault, never a value.
 */
export function parseGatewaySecret(gateway: string, value: unknown): GatewaySecret {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw notDocumentedShape(
      gateway,
      `it must be a JSON object with a "secrets" list, not ${jsonKind(value)}`,
    );
  }
  const record = value as Record<string, unknown>;
  const secrets = stringList(gateway, record.secrets, 'secrets');
  if (secrets.length === 0)
    throw new EmptySecretError(notDocumentedShape(gateway, `${gateway}.secrets is empty`).message);
  const api: Record<string, string> = {};
  for (const key of ['apiKey', 'keyId', 'keySecret'] as const) {
    const value = record[key];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value.trim() === '')
      throw notDocumentedShape(gateway, `${gateway}.${key} must be a non-empty string`);
    api[key] = value;
  }
  return {
    secrets,
    ...(record.payoutSecrets !== undefined && {
      payoutSecrets: stringList(gateway, record.payoutSecrets, 'payoutSecrets'),
    }),
    ...(Object.keys(api).length > 0 && { api }),
  };
}

/** What a JSON value is, in words, never what it says. */
function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'string' ? 'a string' : `a ${typeof value}`;
}

/**
 * Parses a secret's text as JSON. A parser's error quotes the text around the fault (V8: `Unexpected token 'w',
 * "whsec_abc..." is not valid JSON`), which for a secret stored as plain text is the secret itself: the error thrown
 * here says only that the text is not JSON.
 */
export function parseSecretJson(gateway: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw notDocumentedShape(gateway, 'the stored text is not JSON (a bare secret must be wrapped as shown)');
  }
}

/**
 * Local development: one JSON file with an entry per gateway in the same shape as the AWS secret. Keys starting with
 * `_` are comments. The file is re-read on refresh, so editing it rotates a secret without a restart.
 */
/** The secrets file's key for the delivery destinations' signing secrets. */
export const DESTINATIONS_SECRETS_KEY = 'destinations';

export class FileSecretStore implements SecretStore {
  private cache: { readonly secrets: Map<GatewayName, GatewaySecret>; readonly fetchedAt: Date } | undefined;

  constructor(
    private readonly path: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async get(
    gateway: GatewayName,
    options?: { readonly refresh?: boolean },
  ): Promise<FetchedSecret | undefined> {
    if (!this.cache || options?.refresh) this.cache = { secrets: await this.load(), fetchedAt: this.now() };
    const secret = this.cache.secrets.get(gateway);
    return secret ? { secret, fetchedAt: this.cache.fetchedAt } : undefined;
  }

  /**
   * Errors name neither the file (its path is where the secrets are stored, and the message reaches the 503 answer's
   * log line) nor anything in it: `PAYHOOK_SECRETS_FILE` says which file, the local stack prints it at start.
   */
  private async load(): Promise<Map<GatewayName, GatewaySecret>> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      // node:fs messages quote the path; the class and code (`ENOENT`, `EACCES`) say what went wrong.
      throw new SecretsUnavailableError(`cannot read the secrets file (${errorClassOf(error)})`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new InvalidSecretError(
        'the secrets file is not JSON: it must hold a JSON object keyed by gateway, each {"secrets": ["..."]}',
      );
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new InvalidSecretError(
        `the secrets file must hold a JSON object keyed by gateway, not ${jsonKind(parsed)}`,
      );
    }
    const secrets = new Map<GatewayName, GatewaySecret>();
    for (const [key, value] of Object.entries(parsed)) {
      // `destinations` holds the delivery signing secrets (destination-secrets.ts), not a gateway's.
      if (key.startsWith('_') || key === DESTINATIONS_SECRETS_KEY) continue;
      if (!isGatewayName(key)) {
        // The key is not quoted: a secret pasted in the wrong place would be one.
        throw new InvalidSecretError(
          `the secrets file has a key that is not a gateway name (known: ${GATEWAYS.join(', ')}; keys starting with _ are comments)`,
        );
      }
      secrets.set(key, parseGatewaySecret(key, value));
    }
    return secrets;
  }
}
