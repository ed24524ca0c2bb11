import { createHash } from 'node:crypto';
import { isLosslessNumber, LosslessNumber, parse, stringify } from 'lossless-json';
import type { GatewayName } from '../lambdas/domain/webhook-event.js';
import { DEFAULT_GATEWAY_SETTINGS, DEFAULT_STANDARD_MAPPING } from '../lambdas/gateways/settings.js';

/**
 * A sample turned into a different event about a different payment, so `payhook send --count N` exercises N
 * payments instead of one event and N - 1 deduplicated retries.
 *
 * Per gateway, every field that goes into payhook's event id (the dedupe key) and into the payment's identity
 * (merchant reference and gateway payment id) is replaced; nothing else is touched. The sample is re-serialised with
 * lossless-json, so every amount keeps its exact number text (`7500.50` stays `7500.50`) and the copy carries the same
 * money as the original. Whitespace is not kept: the copy is compact JSON, as gateways send it.
 *
 * Replacements are derived from the seed and the old value only, so the same seed gives the same copy, and a value
 * found in two places (Razorpay's `payment.order_id` and `order.id`, Adyen's `originalReference` and the
 * `pspReference` it names) is replaced by the same new value in both, keeping the copy self-consistent.
 */
export interface FreshCopy {
  /** The copy's JSON text, to be signed and sent. */
  readonly payload: string;
  /**
   * For schemes that carry the event id in a header rather than the body (Razorpay's `x-razorpay-event-id`,
   * Standard Webhooks' `webhook-id`): a new one, to pass to the signer as `eventId`.
   */
  readonly eventId?: string;
}

type Path = readonly string[];
type JsonRecord = Record<string, unknown>;

function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !isLosslessNumber(value);
}

const DIGITS = '0123456789';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const HEX = '0123456789abcdef';
const ALPHANUMERIC = DIGITS + UPPER + LOWER;
const SUFFIX_ALPHABET = DIGITS + UPPER;

/** Fewer random characters than this and an id gets a suffix instead: 10^4 values collide within a few hundred. */
const MIN_RANDOM_CHARS = 10;
/** Numeric ids get at least this many digits (still well inside a double's exact integers). */
const MIN_NUMERIC_DIGITS = 12;

/** Deterministic characters from a seed and a label: SHA-256 in counter mode, one byte per character. */
class CharStream {
  private block = Buffer.alloc(0);
  private offset = 0;
  private counter = 0;

  constructor(private readonly key: string) {}

  pick(alphabet: string): string {
    if (this.offset >= this.block.length) {
      this.block = createHash('sha256')
        .update(`${this.key}\0${this.counter++}`)
        .digest();
      this.offset = 0;
    }
    const byte = this.block[this.offset++] ?? 0;
    // The modulo bias (at most 256 % 62 over 256) does not matter for test identifiers.
    return alphabet[byte % alphabet.length] ?? alphabet.charAt(0);
  }

  take(alphabet: string, length: number): string {
    return Array.from({ length }, () => this.pick(alphabet)).join('');
  }
}

/** The alphabet a character is replaced from: same class, so an id keeps its look (case, digits, hex). */
function classOf(char: string, hexOnly: boolean): string | undefined {
  if (hexOnly) return HEX.includes(char) ? HEX : undefined;
  if (DIGITS.includes(char)) return DIGITS;
  if (UPPER.includes(char)) return UPPER;
  if (LOWER.includes(char)) return LOWER;
  return undefined;
}

/** Hands out the new value of each old one, the same one every time within a copy. */
class Renamer {
  private readonly renamed = new Map<string, string>();

  constructor(private readonly seed: string) {}

  private stream(label: string): CharStream {
    return new CharStream(`${this.seed}\0${label}`);
  }

  private once(old: string, make: (chars: CharStream) => string): string {
    const known = this.renamed.get(old);
    if (known !== undefined) return known;
    const fresh = make(this.stream(old));
    this.renamed.set(old, fresh);
    return fresh;
  }

  /** A merchant reference: the old one with a suffix, so `ORDER-1001` becomes `ORDER-1001-7K3F9Q2M`. */
  reference(old: string): string {
    return this.once(old, (chars) => `${old}-${chars.take(SUFFIX_ALPHABET, 8)}`);
  }

  /**
   * A gateway id in the old one's shape: numbers stay numeric (at least 12 digits), a `pi_`/`cs_test_` style prefix
   * is kept and the rest redrawn character by character in the same class; too short to be unique, a suffix.
   */
  id(old: string): string {
    return this.once(old, (chars) => {
      if (/^\d+$/.test(old)) {
        return chars.pick('123456789') + chars.take(DIGITS, Math.max(old.length, MIN_NUMERIC_DIGITS) - 1);
      }
      const prefix = /^(?:[A-Za-z]+_)+/.exec(old)?.[0] ?? '';
      const rest = old.slice(prefix.length);
      const hexOnly = /^[0-9a-f-]+$/.test(rest);
      let randomChars = 0;
      const redrawn = [...rest]
        .map((char) => {
          const alphabet = classOf(char, hexOnly);
          if (alphabet === undefined) return char;
          randomChars += 1;
          return chars.pick(alphabet);
        })
        .join('');
      return randomChars >= MIN_RANDOM_CHARS
        ? `${prefix}${redrawn}`
        : `${old}-${chars.take(SUFFIX_ALPHABET, 8)}`;
    });
  }

  /** A new id for a header-borne event id, e.g. `evt_` and 14 characters. */
  headerId(prefix: string, length: number): string {
    return `${prefix}${this.stream('\0header-event-id').take(ALPHANUMERIC, length)}`;
  }
}

type Style = 'id' | 'reference';

/** Replaces the string or number at `path` (if there is one), keeping its JSON type. */
function renameAt(root: unknown, path: Path, style: Style, renamer: Renamer): void {
  const parent = path
    .slice(0, -1)
    .reduce<unknown>((node, key) => (isRecord(node) ? node[key] : undefined), root);
  const key = path.at(-1);
  if (!isRecord(parent) || key === undefined || !Object.hasOwn(parent, key)) return;
  const value = parent[key];
  const old = isLosslessNumber(value) ? value.value : typeof value === 'string' ? value : undefined;
  if (old === undefined || old === '') return;
  const fresh = style === 'id' ? renamer.id(old) : renamer.reference(old);
  parent[key] = isLosslessNumber(value) ? new LosslessNumber(fresh) : fresh;
}

function renameAll(root: unknown, paths: readonly Path[], style: Style, renamer: Renamer): void {
  for (const path of paths) renameAt(root, path, style, renamer);
}

/** The elements of the array at `path`, or none. */
function elementsAt(root: unknown, path: Path): readonly unknown[] {
  const found = path.reduce<unknown>((node, key) => (isRecord(node) ? node[key] : undefined), root);
  return Array.isArray(found) ? found : [];
}

/** Changes a parsed sample in place; returns a new header-borne event id where the scheme has one. */
type Refresher = (root: unknown, renamer: Renamer) => string | undefined;

const RAZORPAY_ENTITIES = ['payment', 'order', 'refund', 'dispute'] as const;

const REFRESHERS: Readonly<Record<GatewayName, Refresher>> = {
  // Event id `<event>:<data.id>` (else refund_reference, invoice_code, ..., else the body's digest); payment: reference
  // or transaction id.
  paystack(root, renamer) {
    renameAll(
      root,
      [
        ['data', 'id'],
        ['data', 'transaction', 'id'],
        ['data', 'invoice_code'],
        ['data', 'subscription_code'],
        ['data', 'transfer_code'],
      ],
      'id',
      renamer,
    );
    renameAll(
      root,
      [
        ['data', 'reference'],
        ['data', 'transaction_reference'],
        ['data', 'transaction', 'reference'],
        ['data', 'refund_reference'],
      ],
      'reference',
      renamer,
    );
    // A `data` array (subscription.expiring_cards) names no payment; its id is the body's digest, changed by this.
    for (const item of elementsAt(root, ['data'])) {
      renameAt(item, ['subscription', 'subscription_code'], 'id', renamer);
    }
    return undefined;
  },
  // Event id `<event>:<data.id>:<status>`; payment: tx_ref (v3) or reference (v4), and data.id.
  flutterwave(root, renamer) {
    renameAt(root, ['data', 'id'], 'id', renamer);
    renameAll(
      root,
      [
        ['data', 'tx_ref'],
        ['data', 'reference'],
        ['data', 'flw_ref'],
      ],
      'reference',
      renamer,
    );
    return undefined;
  },
  // Event id from the header; payment: the order id (else the payment's), the order's receipt or notes reference.
  razorpay(root, renamer) {
    for (const name of RAZORPAY_ENTITIES) {
      const entity = ['payload', name, 'entity'];
      renameAll(
        root,
        [
          [...entity, 'id'],
          [...entity, 'order_id'],
          [...entity, 'payment_id'],
        ],
        'id',
        renamer,
      );
    }
    renameAll(
      root,
      [
        ['payload', 'order', 'entity', 'receipt'],
        ['payload', 'payment', 'entity', 'notes', 'reference'],
        ['payload', 'payment', 'entity', 'notes', 'order_id'],
      ],
      'reference',
      renamer,
    );
    return renamer.headerId('evt_', 14);
  },
  // Event id `<track_id>:<status>[:<tx hash>]`; payment: order_id and track_id. A new payment has new transactions.
  oxapay(root, renamer) {
    renameAll(root, [['track_id'], ['tx_hash']], 'id', renamer);
    for (const tx of elementsAt(root, ['txs'])) renameAt(tx, ['tx_hash'], 'id', renamer);
    renameAt(root, ['order_id'], 'reference', renamer);
    return undefined;
  },
  // Event id `evt_`; payment: the PaymentIntent (the object itself or the one it points at), metadata reference.
  stripe(root, renamer) {
    const object = ['data', 'object'];
    renameAll(
      root,
      [
        ['id'],
        [...object, 'id'],
        [...object, 'payment_intent'],
        [...object, 'payment_intent', 'id'],
        [...object, 'charge'],
        [...object, 'latest_charge'],
      ],
      'id',
      renamer,
    );
    renameAll(
      root,
      [
        ...DEFAULT_GATEWAY_SETTINGS.stripeReferenceMetadataKeys.map((key) => [...object, 'metadata', key]),
        [...object, 'client_reference_id'],
      ],
      'reference',
      renamer,
    );
    return undefined;
  },
  // Event id from `webhook-id`; payment: wherever the default mapping reads the reference and the payment id.
  standard(root, renamer) {
    renameAt(root, DEFAULT_STANDARD_MAPPING.gatewayPaymentId.split('.'), 'id', renamer);
    renameAt(root, DEFAULT_STANDARD_MAPPING.reference.split('.'), 'reference', renamer);
    return renamer.headerId('msg_', 27);
  },
  // Event id `<eventCode>:<pspReference>:<success>` per item; payment: merchantReference, originalReference.
  adyen(root, renamer) {
    for (const entry of elementsAt(root, ['notificationItems'])) {
      const item = ['NotificationRequestItem'];
      renameAll(
        entry,
        [
          [...item, 'pspReference'],
          [...item, 'originalReference'],
        ],
        'id',
        renamer,
      );
      renameAt(entry, [...item, 'merchantReference'], 'reference', renamer);
    }
    return undefined;
  },
};

/**
 * A copy of `samplePayload` with a new event id and a new payment identity, the same for the same `seed`.
 * Throws when the sample is not JSON.
 */
export function freshCopy(gateway: GatewayName, samplePayload: string, seed: string): FreshCopy {
  const root = parse(samplePayload);
  const eventId = REFRESHERS[gateway](root, new Renamer(`${gateway}\0${seed}`));
  const payload = stringify(root);
  if (payload === undefined) throw new Error(`the ${gateway} sample does not serialise back to JSON`);
  return eventId === undefined ? { payload } : { payload, eventId };
}
