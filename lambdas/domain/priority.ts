/**
 * The priority classes an event is queued by: a domain idea (what matters first), so the domain owns it; each class's
 * queue and consumer settings are in `lambdas/definitions.ts` (`PRIORITY_QUEUES`), which re-exports these.
 */

/** The priority classes, highest first. */
export const PRIORITIES = ['high', 'normal', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];

export function isPriority(value: unknown): value is Priority {
  return typeof value === 'string' && (PRIORITIES as readonly string[]).includes(value);
}
