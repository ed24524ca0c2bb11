import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PAYMENT_EVENT_SOURCE, type PaymentEvent, paymentEventDetailType } from '../domain/payment-event.js';
import type { PaymentEventPublisher } from '../ports/payment-event-publisher.js';

/** One line of the local events file: the parts of an EventBridge event a consumer would look at. */
export interface PublishedRecord {
  readonly detailType: string;
  readonly source: string;
  readonly detail: PaymentEvent;
  readonly publishedAt: string;
}

/**
 * The local stack's stand-in for the event bus: one JSON line per event appended to a file, so `tail -f` shows
 * events as they are published and `readPublishedEvents` reads them back.
 */
export class FilePaymentEventPublisher implements PaymentEventPublisher {
  private directoryReady: Promise<unknown> | undefined;

  constructor(
    private readonly path: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async publish(event: PaymentEvent): Promise<void> {
    const record: PublishedRecord = {
      detailType: paymentEventDetailType(event),
      source: PAYMENT_EVENT_SOURCE,
      detail: event,
      publishedAt: this.now().toISOString(),
    };
    await this.ensureDirectory();
    // One append of the whole line, newline included: the file is opened with O_APPEND and a line this size goes out
    // in one write, so concurrent publishes never interleave inside a line.
    await appendFile(this.path, `${JSON.stringify(record)}\n`, 'utf8');
  }

  private ensureDirectory(): Promise<unknown> {
    this.directoryReady ??= mkdir(dirname(this.path), { recursive: true }).catch((error: unknown) => {
      // Let the next publish try again rather than fail forever on a transient error.
      this.directoryReady = undefined;
      throw error;
    });
    return this.directoryReady;
  }
}

function isMissingFile(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === 'ENOENT';
}

/**
 * The records in a file written by `FilePaymentEventPublisher`, oldest first; empty if nothing was published yet.
 * A last line without its newline is a write still in progress and is left out.
 */
export async function readPublishedEvents(path: string): Promise<PublishedRecord[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (isMissingFile(error)) return [];
    throw error;
  }
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  return complete
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as PublishedRecord);
}
