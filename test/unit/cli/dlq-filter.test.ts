import { describe, expect, it } from 'vitest';
import { matchesFilter } from '../../../cli/oncall/dlq-reader.js';
import type { DeadLetter } from '../../../cli/oncall/types.js';
import { sqsSafeAttributeText } from '../../../lambdas/messages/sqs-text.js';

const letter = (eventType: string): DeadLetter => ({
  messageId: 'm1',
  queue: 'normal',
  gateway: 'standard',
  eventType,
  errorClass: 'payload_mismatch',
  receiveCount: 1,
  firstFailedAt: '2026-11-30T00:00:00.000Z',
  ageSeconds: 1,
});

describe('dlq filters', () => {
  it('matches an event type typed as it is against the printable-ASCII form the attribute holds', () => {
    const stored = sqsSafeAttributeText('paiement.réussi');
    expect(stored).toBe('paiement.r\\u00e9ussi');
    expect(matchesFilter(letter(stored), { eventType: 'paiement.réussi' })).toBe(true);
    expect(matchesFilter(letter(stored), { eventType: 'paiement.reussi' })).toBe(false);
    expect(matchesFilter(letter('charge.success'), { eventType: 'charge.success' })).toBe(true);
  });
});
