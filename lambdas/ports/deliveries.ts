import type { BreakerState } from '../domain/circuit-breaker.js';

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

/** What a rate limiter grants: deliveries that may go now, and how long the others wait on the queue. */
export interface RateGrant {
  /** 0 to `wanted`. */
  readonly granted: number;
  /** 0 when all were granted; otherwise whole seconds (at least 1) to keep the others waiting on their queue. */
  readonly waitSeconds: number;
  /**
   * For the next records after the granted ones, in order: the seconds until each one's reserved token is there. Such
   * a record waits that long and is then let through without asking (see `domain/token-bucket.ts` `takeOrReserve`).
   * @default none reserved
   */
  readonly reservedDelaySeconds?: readonly number[];
}

/** A destination's rate limit, shared by every invocation of the delivery function. */
export interface RateLimiter {
  /**
   * Takes up to `wanted` deliveries of `destination`'s budget at `ratePerSecond` (at most one second of burst), and
   * reserves the next ones ahead.
   */
  acquire(destination: string, ratePerSecond: number, wanted: number): Promise<RateGrant>;
}

/** A breaker state and the version it was read at: 0 when the destination has none stored yet. */
export interface VersionedBreakerState {
  readonly state: BreakerState;
  readonly version: number;
}

/** Each destination's circuit breaker, shared by every invocation; written optimistically by version. */
export interface BreakerStates {
  get(destination: string): Promise<VersionedBreakerState>;
  /** `false` when another invocation wrote since `expectedVersion` was read: re-read and apply again. */
  put(destination: string, state: BreakerState, expectedVersion: number): Promise<boolean>;
}

/**
 * Where a consumer puts an accepted webhook for an `original` destination: that destination's queue, which the
 * delivery function drains. The message is `messages/original-webhook.ts`'s `original-webhook`.
 */
export interface OriginalQueue {
  send(queueUrl: string, messageBody: string, attributes: Readonly<Record<string, string>>): Promise<void>;
}

/** An unverified claim's original, kept until the gateway's verified answer confirms the claim. */
export interface KeptClaimOriginal {
  readonly gateway: string;
  readonly eventId: string;
  readonly receivedAt: string;
  /** The money the claim said arrived: exact minor units as text, with its currency. */
  readonly money?: { readonly amountMinor: string; readonly currency: string };
  readonly body: Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
}

/** Originals of unverified (`verif-hash`) claims, kept by the claim's event id until confirmed (or expired). */
export interface ClaimOriginals {
  keep(original: KeptClaimOriginal): Promise<void>;
  get(gateway: string, eventId: string): Promise<KeptClaimOriginal | undefined>;
}
