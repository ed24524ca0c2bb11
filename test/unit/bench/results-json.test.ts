import { describe, expect, it } from 'vitest';
import { resultsJson } from '../../../bench/report.js';

describe('bench/results.json', () => {
  it('keeps six significant digits, so a unit price of a fraction of a cent renders again as it was measured', () => {
    const written = JSON.parse(
      resultsJson({
        fixedMonthly: { unitPrice: 0.000000133334, monthly: 9.836512, quantity: 8760 },
      } as never),
    ) as { fixedMonthly: { unitPrice: number; monthly: number; quantity: number } };
    expect(written.fixedMonthly).toEqual({ unitPrice: 0.000000133334, monthly: 9.83651, quantity: 8760 });
  });
});
