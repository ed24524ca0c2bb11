import {
  buildEvent,
  type GatewayEvent,
  makePayment,
  REFUNDABLE,
  SOAK_GATEWAYS,
  type SoakPayment,
} from './gateways.js';
import { applyToModel, emptyModel, type PaymentModel } from './model.js';
import type { Random } from './prng.js';

/**
 * The soak plan: payments with a lifecycle, cut into phases. Within a phase each payment has at most one valid
 * event (plus its duplicates), and the soak drains the queues between phases, so the order the stack applies a
 * payment's events in is known, whatever the queue priorities do: that is what lets the model predict statuses and
 * transitions exactly. Out-of-order delivery is a lifecycle whose `succeeded` phase comes before its `pending` one.
 */
export type Lifecycle =
  | 'succeeded'
  | 'pending-then-succeeded'
  | 'succeeded-then-pending'
  | 'succeeded-then-refund'
  | 'poison';

export interface Delivery {
  readonly payment: SoakPayment;
  readonly event: GatewayEvent;
  /** Copies sent one after the other (each once the previous was answered): 1 = no duplicate. */
  readonly sequentialCopies: number;
  /** Copies sent at the same time, after the sequential ones: 0 = none. */
  readonly concurrentCopies: number;
  /** A tampered copy (body changed after signing), sent too: must be refused (401). */
  readonly forged: boolean;
  /** The same event id as an already-applied event with another amount: must end in the DLQ (payload_mismatch). */
  readonly poison: boolean;
}

export interface PlannedPayment {
  readonly payment: SoakPayment;
  readonly lifecycle: Lifecycle;
  readonly model: PaymentModel;
}

export interface Plan {
  readonly seed: number;
  readonly payments: readonly PlannedPayment[];
  readonly phases: readonly (readonly Delivery[])[];
  /** Poison deliveries and the DLQ (priority) each must end in. */
  readonly poison: readonly { readonly delivery: Delivery; readonly priority: 'high' | 'normal' }[];
}

export interface PlanOptions {
  /** Webhooks to plan (every copy, duplicate and forgery counted; the gateway's retries on 5xx come on top). */
  readonly webhooks: number;
  readonly seed: number;
}

/** HTTP requests one delivery makes when nothing answers 5xx. */
export function webhooksIn(delivery: Delivery): number {
  return delivery.sequentialCopies + delivery.concurrentCopies + (delivery.forged ? 1 : 0);
}

function lifecycleFor(random: Random, payment: SoakPayment, mustPoison: boolean): Lifecycle {
  if (mustPoison || random.chance(0.01)) return 'poison';
  const roll = random.next();
  if (roll < 0.3) return 'pending-then-succeeded';
  if (roll < 0.4) return 'succeeded-then-pending';
  if (roll < 0.6 && REFUNDABLE.has(payment.gateway)) return 'succeeded-then-refund';
  return 'succeeded';
}

export function buildPlan(options: PlanOptions, random: Random): Plan {
  const run = options.seed.toString(36);
  const payments: PlannedPayment[] = [];
  const phases: Delivery[][] = [[], []];
  const poison: { delivery: Delivery; priority: 'high' | 'normal' }[] = [];

  let plannedWebhooks = 0;
  const tally = (planned: Delivery) => {
    plannedWebhooks += webhooksIn(planned);
  };
  const delivery = (payment: SoakPayment, event: GatewayEvent, isPoison = false): Delivery => {
    const roll = random.next();
    return {
      payment,
      event,
      // 15% are sent again after the first was answered (2-3 times in all), 10% are sent 2-3 times at once.
      sequentialCopies: !isPoison && roll < 0.15 ? random.int(2, 3) : 1,
      concurrentCopies: !isPoison && roll >= 0.15 && roll < 0.25 ? random.int(2, 3) : 0,
      forged: random.chance(0.02),
      poison: isPoison,
    };
  };

  let halfwayPoisoned = false;
  for (let index = 0; plannedWebhooks < options.webhooks; index += 1) {
    const gateway = SOAK_GATEWAYS[index % SOAK_GATEWAYS.length] ?? 'paystack';
    const payment = makePayment(gateway, index, run, random.int(100, 500_000) * 10);
    // At least two poison messages however small the run: the first payment and the first past halfway.
    const mustPoison = index === 0 || (!halfwayPoisoned && plannedWebhooks >= options.webhooks / 2);
    if (mustPoison && index > 0) halfwayPoisoned = true;
    const lifecycle = lifecycleFor(random, payment, mustPoison);
    const model = emptyModel();
    const succeeded = buildEvent(payment, 'succeeded');
    const pending = buildEvent(payment, 'pending');
    const phase = (which: 0 | 1, event: GatewayEvent, refundMinor = 0) => {
      const next = delivery(payment, event);
      phases[which]?.push(next);
      tally(next);
      applyToModel(model, payment, event, refundMinor);
    };
    switch (lifecycle) {
      case 'succeeded':
        phase(0, succeeded);
        break;
      case 'pending-then-succeeded':
        phase(0, pending);
        phase(1, succeeded);
        break;
      case 'succeeded-then-pending':
        phase(0, succeeded);
        phase(1, pending);
        break;
      case 'succeeded-then-refund': {
        // Half full refunds, half partial.
        const refundMinor = random.chance(0.5)
          ? payment.amountMinor
          : Math.max(1, Math.floor(payment.amountMinor * random.next()));
        phase(0, succeeded);
        phase(1, buildEvent(payment, 'refund', { refundMinor }), refundMinor);
        break;
      }
      case 'poison': {
        phase(0, succeeded);
        // The same event id, another amount: never applied, dead-lettered on the event's own priority queue.
        const replay = delivery(
          payment,
          buildEvent(payment, 'succeeded', { amountMinor: payment.amountMinor + 100 }),
          true,
        );
        phases[1]?.push(replay);
        tally(replay);
        poison.push({ delivery: replay, priority: succeeded.priority });
        break;
      }
    }
    payments.push({ payment, lifecycle, model });
  }
  // Shuffle each phase (Fisher-Yates), so gateways and lifecycles interleave.
  for (const deliveries of phases) {
    for (let i = deliveries.length - 1; i > 0; i -= 1) {
      const j = random.int(0, i);
      const a = deliveries[i];
      const b = deliveries[j];
      if (a === undefined || b === undefined) continue;
      deliveries[i] = b;
      deliveries[j] = a;
    }
  }
  return { seed: options.seed, payments, phases, poison };
}
