/**
 * The subset of a structured logger the handlers' core code uses. Powertools' Logger satisfies it; tests pass a
 * recorder, so what is (and is never) logged can be asserted.
 */
export interface StructuredLog {
  info(message: string, fields: Record<string, unknown>): void;
  warn(message: string, fields: Record<string, unknown>): void;
  error(message: string, fields: Record<string, unknown>): void;
}

/**
 * The class name of an error from elsewhere (the SDK, Powertools, node:fs), for a log line: `ThrottlingException`,
 * `AccessDeniedException`. Never its message, which can quote a secret's text or name the ARN or path it lives at.
 */
export function errorClassOf(error: unknown): string {
  const name = error instanceof Error ? error.name : typeof error;
  const code = (error as { code?: unknown } | null)?.code;
  const shown = /^[A-Za-z][A-Za-z0-9_.]{0,63}$/.test(name) ? name : 'Error';
  if (typeof code !== 'string' || !/^E[A-Z0-9_]{1,30}$/.test(code)) return shown;
  return shown === 'Error' ? code : `${shown} ${code}`;
}
