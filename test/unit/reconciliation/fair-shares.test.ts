import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fairShares } from '../../../lambdas/reconciliation/reconcile.js';

describe('fairShares: a run budget split over gateways', () => {
  it.each([
    ['one busy gateway takes it all', [1050, 0, 0, 0, 0, 0, 0], 200, [200, 0, 0, 0, 0, 0, 0]],
    [
      'a busy gateway leaves the other its one payment',
      [1050, 1, 0, 0, 0, 0, 0],
      200,
      [199, 1, 0, 0, 0, 0, 0],
    ],
    ['equal shares, the unused one split between the others', [150, 150, 10], 60, [25, 25, 10]],
    [
      'seven busy gateways: at least 28 each, all 200 used',
      Array(7).fill(500),
      200,
      [28, 28, 28, 29, 29, 29, 29],
    ],
    ['fewer waiting than the budget: all of them', [3, 0, 5], 200, [3, 0, 5]],
    ['nothing waiting', [0, 0, 0], 200, [0, 0, 0]],
  ])('%s', (_name, demands, budget, shares) => {
    expect(fairShares(demands, budget)).toEqual(shares);
  });

  it('never gives more than asked or budgeted, uses the budget when enough wait, and gives each its fair share', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: 2000 }), { minLength: 1, maxLength: 7 }),
        fc.integer({ min: 0, max: 500 }),
        (demands, budget) => {
          const shares = fairShares(demands, budget);
          const total = shares.reduce((sum, share) => sum + share, 0);
          const waiting = demands.filter((demand) => demand > 0).length;
          expect(total).toBe(
            Math.min(
              budget,
              demands.reduce((sum, demand) => sum + demand, 0),
            ),
          );
          shares.forEach((share, index) => {
            const demand = demands[index] ?? 0;
            expect(share).toBeGreaterThanOrEqual(0);
            expect(share).toBeLessThanOrEqual(demand);
            // At least an equal share of the budget among the gateways with payments waiting (or all it has).
            if (waiting > 0)
              expect(share).toBeGreaterThanOrEqual(Math.min(demand, Math.floor(budget / waiting)));
            // Max-min fair: a gateway cut short gets no less than any other gets, but one.
            if (share < demand) expect(Math.max(...shares)).toBeLessThanOrEqual(share + 1);
          });
        },
      ),
    );
  });
});
