import type { SQSRecord } from 'aws-lambda';
import type { StructuredLog } from '../common/log.js';
import { errorClassOf } from '../common/log.js';
import { admit, type BreakerState, type Outcome, record } from '../domain/circuit-breaker.js';
import type { BreakerStates, RateLimiter, VersionedBreakerState } from '../ports/deliveries.js';
import { breakerSettingsOf, type DestinationSettings } from './destinations.js';

/**
 * Which of a batch's records are attempted now, and which wait on the queue: a destination's circuit breaker (open:
 * none; half-open: one probe) and its rate limit (`rateLimitPerSecond`, shared by every invocation). What waits goes
 * back as delayed copies, never failed or dead-lettered for it.
 */

/**
 * Records to put back on the queue, how long each waits, and why (the metric's outcome): `held` (the destination
 * stopped), `paused` (its breaker open), `throttled` (its rate reached).
 */
export interface Held {
  readonly records: readonly SQSRecord[];
  readonly delaySeconds: (index: number) => number;
  readonly outcome: 'held' | 'paused' | 'throttled';
  /** Each record holds a token reserved for when its delay is over: its copy is let through then without asking. */
  readonly reserved?: true;
}

/**
 * The attribute of a held copy whose token is reserved (`Held.reserved`): `<due epoch ms>/<rate per second>`, when
 * its delay ends and at what rate the token was reserved.
 */
export const RATE_RESERVED_ATTRIBUTE = 'rateReserved';

/**
 * How late a reserved copy may arrive and still use its token. A token is a slot in time: a copy that comes much
 * later (the function throttled, the endpoint slow, the event source disabled) would otherwise use a slot long gone,
 * and a pile of such copies would all go at once. Past this it asks like any other record (a token lost only ever
 * sends less than the rate). SQS hands a delayed message to the event source as its delay ends, well within it.
 */
export const RESERVATION_LATE_MS = 1000;

/** The attribute's value for a copy due at `dueAtMs` holding a token of `ratePerSecond`. */
export function reservationAttribute(dueAtMs: number, ratePerSecond: number): string {
  return `${Math.round(dueAtMs)}/${ratePerSecond}`;
}

/**
 * A held copy arriving for the token reserved for it: let through without asking. Only on its first receive (a copy
 * that failed and came back takes a token like any other, so a reservation is used once), only around its due time
 * (see {@link RESERVATION_LATE_MS}; a second early for clocks that differ between instances) and only at the rate it
 * was reserved at (a lowered rate is not overrun by reservations made at the old one).
 */
function holdsReservation(record: SQSRecord, ratePerSecond: number, nowMs: number): boolean {
  const value = record.messageAttributes?.[RATE_RESERVED_ATTRIBUTE]?.stringValue;
  if (value === undefined || Number(record.attributes.ApproximateReceiveCount) !== 1) return false;
  const [due, rate] = value.split('/').map(Number);
  if (due === undefined || !Number.isFinite(due) || rate !== ratePerSecond) return false;
  return nowMs >= due - 1000 && nowMs <= due + RESERVATION_LATE_MS;
}

export interface Admitted {
  readonly attempt: readonly SQSRecord[];
  readonly held: readonly Held[];
  /** The breaker as this batch left it (after admitting a probe), for recording the attempts' outcomes. */
  readonly breaker?: VersionedBreakerState;
}

export interface AdmissionDependencies {
  readonly breakers?: BreakerStates;
  readonly rateLimiter?: RateLimiter;
  readonly now: () => Date;
  readonly log: StructuredLog;
}

const fixed = (seconds: number) => () => Math.max(1, Math.min(900, Math.ceil(seconds)));

async function breakerGate(
  deps: AdmissionDependencies,
  name: string,
  settings: DestinationSettings,
  records: readonly SQSRecord[],
): Promise<{ pass: readonly SQSRecord[]; held?: Held; breaker?: VersionedBreakerState }> {
  if (!deps.breakers) return { pass: records };
  const read = await deps.breakers.get(name);
  const admission = admit(read.state, deps.now().getTime(), breakerSettingsOf(settings));
  if (admission.admit === 'all') return { pass: records, breaker: read };
  const wait = fixed(admission.waitSeconds ?? 60);
  if (admission.admit === 'none')
    return { pass: [], held: { records, delaySeconds: wait, outcome: 'paused' } };
  // A probe: only the invocation whose write wins sends it, so concurrent batches do not all probe at once.
  const won = await deps.breakers.put(name, admission.next, read.version);
  if (!won) return { pass: [], held: { records, delaySeconds: wait, outcome: 'paused' } };
  const [probe, ...rest] = records;
  return {
    pass: probe ? [probe] : [],
    held: { records: rest, delaySeconds: wait, outcome: 'paused' },
    breaker: { state: admission.next, version: read.version + 1 },
  };
}

export async function admitBatch(
  deps: AdmissionDependencies,
  name: string,
  settings: DestinationSettings,
  records: readonly SQSRecord[],
): Promise<Admitted> {
  const gate = await breakerGate(deps, name, settings, records);
  const held: Held[] = gate.held ? [gate.held] : [];
  const rate = settings.rateLimitPerSecond;
  if (rate === undefined || !deps.rateLimiter || gate.pass.length === 0) {
    return { attempt: gate.pass, held, ...(gate.breaker && { breaker: gate.breaker }) };
  }
  const nowMs = deps.now().getTime();
  const reserved = gate.pass.filter((record) => holdsReservation(record, rate, nowMs));
  const asking = gate.pass.filter((record) => !reserved.includes(record));
  if (asking.length === 0) return { attempt: reserved, held, ...(gate.breaker && { breaker: gate.breaker }) };
  const grant = await deps.rateLimiter.acquire(name, rate, asking.length);
  const later = asking.slice(grant.granted);
  const delays = grant.reservedDelaySeconds ?? [];
  if (delays.length > 0) {
    // Each waits once, for its own token: a backlog over the rate is copied once per record, not once a second.
    held.push({
      records: later.slice(0, delays.length),
      delaySeconds: (index) => fixed(delays[index] ?? grant.waitSeconds)(),
      outcome: 'throttled',
      reserved: true,
    });
  }
  const unreserved = later.slice(delays.length);
  if (unreserved.length > 0) {
    // No reservation left (or a limiter that makes none): spread over the seconds the rate needs (the first `rate`
    // of them in a second, the next in two, ...), at least as long as the limiter says, so they do not all come back
    // at once.
    held.push({
      records: unreserved,
      delaySeconds: (index) => fixed(Math.max(grant.waitSeconds, Math.ceil((index + 1) / rate)))(),
      outcome: 'throttled',
    });
  }
  return {
    attempt: [...reserved, ...asking.slice(0, grant.granted)],
    held,
    ...(gate.breaker && { breaker: gate.breaker }),
  };
}

/**
 * Folds the batch's outcomes into the breaker and writes it if it changed; on a lost race (another invocation wrote)
 * it re-reads and folds again, a few times, then gives up (the next batch counts its own).
 */
export async function recordOutcomes(
  deps: AdmissionDependencies,
  name: string,
  settings: DestinationSettings,
  read: VersionedBreakerState,
  outcomes: readonly Outcome[],
): Promise<BreakerState | undefined> {
  if (!deps.breakers || outcomes.length === 0) return undefined;
  const breakerSettings = breakerSettingsOf(settings);
  // The batch's deliveries are done: recording their outcomes must never fail it (that would send them again).
  try {
    let current = read;
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const now = deps.now().getTime();
      const next = outcomes.reduce(
        (state, outcome) => record(state, outcome, now, breakerSettings),
        current.state,
      );
      if (next === current.state) return next;
      if (await deps.breakers.put(name, next, current.version)) return next;
      current = await deps.breakers.get(name);
    }
  } catch (error) {
    deps.log.warn('circuit breaker not updated', { destination: name, error: errorClassOf(error) });
  }
  return undefined;
}
