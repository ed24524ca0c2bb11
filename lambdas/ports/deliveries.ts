/**
 * What the delivery pipeline needs from the outside: whether a destination is stopped (a 410 Gone stops it until an
 * operator resumes it), and each destination's signing secrets.
 */

export interface DestinationState {
  readonly stopped: boolean;
  /** ISO time it stopped, and why (`410 Gone from https://...`). */
  readonly stoppedAt?: string;
  readonly reason?: string;
}

export interface DestinationStates {
  get(destination: string): Promise<DestinationState>;
  /** Stops deliveries; what is queued stays queued. Idempotent: a second stop keeps the first time and reason. */
  stop(destination: string, reason: string, at: Date): Promise<void>;
  resume(destination: string): Promise<void>;
}

/** A destination's signing secrets, current first: during a rotation each signs (one `v1,` entry each). */
export interface SigningSecrets {
  current(destination: string): Promise<readonly string[]>;
}

/** A destination's secret is missing or not in the documented shape; the message names no part of it. */
export class InvalidSigningSecretError extends Error {
  override readonly name = 'InvalidSigningSecretError';
}
