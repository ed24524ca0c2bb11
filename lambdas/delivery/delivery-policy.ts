/**
 * What to do with a delivery message after one attempt to POST it to the merchant's endpoint. Pure: the caller turns
 * the decision into an SQS visibility change (`retry`), a delete (`delivered`), a dead-letter copy, or a paused
 * destination (`stop`).
 */
export type AttemptResult =
  | { kind: 'answered'; status: number; retryAfter?: string; answerStart: string; latencyMs: number }
  | { kind: 'timeout'; latencyMs: number }
  | { kind: 'connection-error'; code: string; latencyMs: number }
  | { kind: 'refused-address'; reason: string };

export interface DeliveryLimits {
  /** How long after it was first queued a message is still retried; past it, it is dead-lettered. */
  readonly retryPeriodSeconds: number;
  /** Back-off ceiling after the first failed attempt; doubled after each further one. */
  readonly baseBackoffSeconds: number;
  readonly maxBackoffSeconds: number;
}

export type DeliveryDecision =
  | { action: 'delivered' }
  | { action: 'retry'; afterSeconds: number; reason: string }
  /** 410 Gone: the destination stops; this message is kept. */
  | { action: 'stop'; reason: string }
  | {
      action: 'dead-letter';
      errorClass: 'permanent_status' | 'retries_exhausted' | 'refused_address';
      reason: string;
      status?: number;
      answerStart?: string;
    };

/**
 * A day of retries covers an endpoint down overnight or through a deploy gone wrong; back-off from 30 s to an hour
 * keeps a struggling endpoint from being hammered while still delivering within the hour once it is back.
 */
export const DEFAULT_DELIVERY_LIMITS: DeliveryLimits = Object.freeze({
  retryPeriodSeconds: 24 * 3600,
  baseBackoffSeconds: 30,
  maxBackoffSeconds: 3600,
});

/** SQS's maximum visibility timeout: the longest a message can be put aside, whatever an endpoint asks. */
export const MAX_RETRY_AFTER_SECONDS = 43_200;

/**
 * Statuses that say "not now" rather than "never": Request Timeout, Too Early, Too Many Requests, and every 5xx.
 * Everything else that is not 2xx or 410 is permanent: 1xx and 3xx are not acknowledgements (no redirect is
 * followed, so a moved endpoint must be reconfigured, not guessed), and a 4xx will not change on a retry.
 */
function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || (status >= 500 && status <= 599);
}

/**
 * At most `max` bytes of an answer as printable ASCII, every other byte (and the backslash, so the text stays
 * unambiguous) as `\xNN`: safe in an SQS message attribute, a log line and a terminal, whatever the endpoint sent.
 */
export function sanitiseAnswerStart(bytes: Buffer, max = 256): string {
  let text = '';
  for (const byte of bytes.subarray(0, Math.max(0, Math.floor(max)))) {
    const printable = byte >= 0x20 && byte <= 0x7e && byte !== 0x5c;
    text += printable ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return text;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const LONG_WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

interface DateParts {
  readonly weekday: number;
  readonly day: number;
  readonly month: number;
  readonly year: number;
  readonly time: string;
}

/** The instant the parts name, or `undefined` when they name none (31 Feb, 25:00, a weekday that does not match). */
function instantOf(parts: DateParts): number | undefined {
  const [hour = 0, minute = 0, second = 0] = parts.time.split(':').map(Number);
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const date = new Date(Date.UTC(parts.year, parts.month, parts.day, hour, minute, second));
  const real =
    date.getUTCFullYear() === parts.year &&
    date.getUTCMonth() === parts.month &&
    date.getUTCDate() === parts.day &&
    date.getUTCDay() === parts.weekday;
  return real ? date.getTime() : undefined;
}

const MONTH = `(${MONTHS.join('|')})`;
const TIME = '(\\d{2}:\\d{2}:\\d{2})';
const IMF_FIXDATE = new RegExp(`^(${WEEKDAYS.join('|')}), (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`);
const RFC_850 = new RegExp(`^(${LONG_WEEKDAYS.join('|')}), (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`);
const ASCTIME = new RegExp(`^(${WEEKDAYS.join('|')}) ${MONTH} ([ \\d]\\d) ${TIME} (\\d{4})$`);

/**
 * An HTTP-date in any of the three forms RFC 9110 §5.6.7 says a recipient must accept (IMF-fixdate, and the obsolete
 * RFC 850 and asctime forms), exactly: no other text, no other zone, no lenient `Date.parse` guessing.
 */
function parseHttpDate(text: string, now: Date): number | undefined {
  const fixdate = IMF_FIXDATE.exec(text);
  if (fixdate) {
    const [, weekday = '', day = '', month = '', year = '', time = ''] = fixdate;
    const monthIndex = MONTHS.indexOf(month);
    return instantOf({ weekday: WEEKDAYS.indexOf(weekday), day: +day, month: monthIndex, year: +year, time });
  }
  const rfc850 = RFC_850.exec(text);
  if (rfc850) {
    const [, weekday = '', day = '', month = '', twoDigits = '', time = ''] = rfc850;
    // RFC 9110: a two-digit year more than 50 years ahead is the most recent past year with those digits.
    const thisYear = now.getUTCFullYear();
    const candidate = thisYear - (thisYear % 100) + Number(twoDigits);
    const year = candidate > thisYear + 50 ? candidate - 100 : candidate;
    const weekdayIndex = LONG_WEEKDAYS.indexOf(weekday);
    return instantOf({ weekday: weekdayIndex, day: +day, month: MONTHS.indexOf(month), year, time });
  }
  const asctime = ASCTIME.exec(text);
  if (asctime) {
    const [, weekday = '', month = '', day = '', time = '', year = ''] = asctime;
    const monthIndex = MONTHS.indexOf(month);
    return instantOf({ weekday: WEEKDAYS.indexOf(weekday), day: +day, month: monthIndex, year: +year, time });
  }
  return undefined;
}

/**
 * The wait a `Retry-After` value asks for, in whole seconds, capped at {@link MAX_RETRY_AFTER_SECONDS}: delta-seconds
 * (digits only) or an HTTP-date (a date in the past asks for no wait). `undefined` for anything else, which is
 * ignored rather than guessed at: a garbled header must not park a message for hours.
 */
export function retryAfterSeconds(value: string | undefined, now: Date): number | undefined {
  if (value === undefined) return undefined;
  // Optional whitespace around a field value is not part of it (RFC 9110 §5.5).
  const text = value.trim();
  if (/^\d+$/.test(text)) return Math.min(Number(text), MAX_RETRY_AFTER_SECONDS);
  const instant = parseHttpDate(text, now);
  if (instant === undefined) return undefined;
  const seconds = Math.ceil((instant - now.getTime()) / 1000);
  return Math.min(Math.max(seconds, 0), MAX_RETRY_AFTER_SECONDS);
}

/**
 * Exponential back-off with equal jitter: the ceiling is `base * 2^(receiveCount - 1)` capped at the maximum, and
 * the wait is drawn uniformly from [ceiling / 2, ceiling] (rounded up to whole seconds, as SQS takes them). Equal
 * rather than full jitter: full jitter can draw a wait near zero, which would retry an endpoint that just failed at
 * once; half the ceiling is always kept, and the other half still spreads messages that failed together.
 */
export function backoffSeconds(receiveCount: number, limits: DeliveryLimits, random: () => number): number {
  // SQS's ApproximateReceiveCount is 1 on the first attempt; anything lower is read as a first attempt.
  const failures = Math.max(1, Math.floor(receiveCount));
  // The exponent is bounded so a large count cannot overflow to Infinity * 0 = NaN when the base is 0.
  const exponential = limits.baseBackoffSeconds * 2 ** Math.min(failures - 1, 60);
  const ceiling = Math.min(limits.maxBackoffSeconds, exponential);
  const draw = random();
  const unit = Number.isFinite(draw) ? Math.min(Math.max(draw, 0), 1) : 1;
  return Math.min(Math.ceil(ceiling / 2 + (ceiling / 2) * unit), Math.ceil(ceiling));
}

function duration(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

interface Failure {
  readonly reason: string;
  readonly status?: number;
  readonly answerStart?: string;
  readonly retryAfterSeconds?: number;
}

interface Attempt {
  /** SQS's ApproximateReceiveCount of the message: 1 on the first attempt. */
  readonly receiveCount: number;
  /** Seconds since the message was first queued (SQS's SentTimestamp), which bounds the retry period. */
  readonly ageSeconds: number;
  /** When the attempt was answered, to read a `Retry-After` HTTP-date against. @default now */
  readonly now?: Date;
}

/** A retry after back-off (or the endpoint's `Retry-After`, if longer), unless that would outlast the retry period. */
function retryOrExhaust(
  failure: Failure,
  attempt: Attempt,
  limits: DeliveryLimits,
  random: () => number,
): DeliveryDecision {
  const backoff = backoffSeconds(attempt.receiveCount, limits, random);
  const afterSeconds = Math.min(Math.max(backoff, failure.retryAfterSeconds ?? 0), MAX_RETRY_AFTER_SECONDS);
  if (attempt.ageSeconds + afterSeconds > limits.retryPeriodSeconds) {
    const attempts = Math.max(1, Math.floor(attempt.receiveCount));
    return {
      action: 'dead-letter',
      errorClass: 'retries_exhausted',
      reason: `gave up after ${attempts} attempt(s) over ${duration(attempt.ageSeconds)}; last: ${failure.reason}`,
      ...(failure.status === undefined ? {} : { status: failure.status }),
      ...(failure.answerStart === undefined ? {} : { answerStart: failure.answerStart }),
    };
  }
  const honoured = failure.retryAfterSeconds !== undefined && failure.retryAfterSeconds > backoff;
  return {
    action: 'retry',
    afterSeconds,
    reason: honoured ? `${failure.reason} (Retry-After)` : failure.reason,
  };
}

function statusReason(status: number): string {
  if (status >= 300 && status <= 399) return `HTTP ${status} (redirects are not followed)`;
  if (status >= 100 && status <= 199) return `HTTP ${status} (not a final answer)`;
  return `HTTP ${status}`;
}

function answeredDecision(
  result: Extract<AttemptResult, { kind: 'answered' }>,
  attempt: Attempt,
  limits: DeliveryLimits,
  random: () => number,
): DeliveryDecision {
  const { status, answerStart } = result;
  if (status >= 200 && status <= 299) return { action: 'delivered' };
  if (status === 410)
    return { action: 'stop', reason: 'HTTP 410 Gone: the endpoint asks for no more deliveries' };
  if (!isRetryableStatus(status)) {
    return {
      action: 'dead-letter',
      errorClass: 'permanent_status',
      reason: statusReason(status),
      status,
      answerStart,
    };
  }
  const retryAfter = retryAfterSeconds(result.retryAfter, attempt.now ?? new Date());
  const failure = { reason: statusReason(status), status, answerStart };
  return retryOrExhaust(
    retryAfter === undefined ? failure : { ...failure, retryAfterSeconds: retryAfter },
    attempt,
    limits,
    random,
  );
}

/**
 * The decision after one attempt. `attempt.now` is only read for a `Retry-After` HTTP-date; `random` draws the
 * jitter (injected by tests).
 */
export function deliveryDecision(
  result: AttemptResult,
  attempt: Attempt,
  limits: DeliveryLimits,
  random: () => number = Math.random,
): DeliveryDecision {
  switch (result.kind) {
    case 'answered':
      return answeredDecision(result, attempt, limits, random);
    case 'timeout':
      return retryOrExhaust({ reason: `timed out after ${result.latencyMs} ms` }, attempt, limits, random);
    case 'connection-error': {
      // The code comes from the network stack; sanitised anyway, as it ends up in a DLQ attribute.
      const code = sanitiseAnswerStart(Buffer.from(result.code, 'utf8'), 64);
      return retryOrExhaust({ reason: `connection error ${code}` }, attempt, limits, random);
    }
    case 'refused-address':
      return {
        action: 'dead-letter',
        errorClass: 'refused_address',
        reason: `refused address: ${result.reason}`,
      };
  }
}
