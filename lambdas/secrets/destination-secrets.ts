import { readFile } from 'node:fs/promises';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { errorClassOf } from '../common/log.js';
import { InvalidSigningSecretError, type SigningSecrets } from '../ports/deliveries.js';
import { DESTINATIONS_SECRETS_KEY } from './gateway-secrets.js';
import { SecretValues, secretText } from './secret-values.js';

/**
 * A destination's signing secrets: `{"secrets": ["whsec_...", ...]}`, current first (during a rotation each signs),
 * or `{"secret": "..."}`, the shape the stack generates at deploy (a random base64 key). Errors name the destination
 * and never a secret, nor where it is stored.
 */
export function parseSigningSecrets(destination: string, value: unknown): readonly string[] {
  const shape = `the ${destination} signing secret must be {"secrets": ["whsec_..."]}`;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new InvalidSigningSecretError(shape);
  const record = value as Record<string, unknown>;
  const list = record.secrets ?? (record.secret === undefined ? undefined : [record.secret]);
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    !list.every((item) => typeof item === 'string' && item !== '')
  ) {
    throw new InvalidSigningSecretError(shape);
  }
  return list as string[];
}

function parseJson(destination: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidSigningSecretError(`the ${destination} signing secret is not JSON`);
  }
}

/** From Secrets Manager, one secret per destination, cached per container (5 minutes). */
export class SecretsManagerSigningSecrets implements SigningSecrets {
  private readonly values: SecretValues;

  constructor(
    private readonly secretIds: Readonly<Record<string, string>>,
    client?: SecretsManagerClient,
  ) {
    this.values = new SecretValues(client ? { client } : {});
  }

  async current(destination: string): Promise<readonly string[]> {
    const secretId = this.secretIds[destination];
    if (secretId === undefined)
      throw new InvalidSigningSecretError(`no signing secret is set for ${destination}`);
    let value: string | Uint8Array | undefined;
    try {
      ({ value } = await this.values.get(secretId));
    } catch (error) {
      // Only class names: the SDK's message can name the secret's ARN.
      throw new InvalidSigningSecretError(
        `cannot fetch the ${destination} signing secret (${errorClassOf(error)})`,
      );
    }
    if (value === undefined)
      throw new InvalidSigningSecretError(`the ${destination} signing secret is empty`);
    return parseSigningSecrets(destination, parseJson(destination, secretText(value)));
  }
}

/**
 * From the local secrets file's `destinations` key (`{"destinations": {"shop": {"secrets": ["whsec_..."]}}}`),
 * read on each call (the file is small and edited by hand while the stack runs); `fallback` signs for a destination
 * the file does not list (the local stack's development secret).
 */
export class FileSigningSecrets implements SigningSecrets {
  constructor(
    private readonly path: string | undefined,
    private readonly fallback: string,
  ) {}

  async current(destination: string): Promise<readonly string[]> {
    if (this.path === undefined) return [this.fallback];
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      throw new InvalidSigningSecretError(`cannot read the secrets file (${errorClassOf(error)})`);
    }
    const file = parseJson(destination, text) as Record<string, unknown> | null;
    const destinations = file?.[DESTINATIONS_SECRETS_KEY] as Record<string, unknown> | undefined;
    const own = destinations?.[destination];
    return own === undefined ? [this.fallback] : parseSigningSecrets(destination, own);
  }
}
