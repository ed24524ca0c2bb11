/**
 * The subset of a structured logger the handlers' core code uses. Powertools' Logger satisfies it; tests pass a
 * recorder, so what is (and is never) logged can be asserted.
 */
export interface StructuredLog {
  info(message: string, fields: Record<string, unknown>): void;
  warn(message: string, fields: Record<string, unknown>): void;
  error(message: string, fields: Record<string, unknown>): void;
}
