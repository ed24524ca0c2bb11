import { describe, expect, it } from 'vitest';
import { MissingConfigurationError } from '../../lambdas/common/config.js';
import { reconcileSettingsFromEnv } from '../../lambdas/composition/reconciliation.js';
import { DEFAULT_RECONCILE_SETTINGS } from '../../lambdas/reconciliation/reconcile.js';

describe('reconcileSettingsFromEnv', () => {
  it('takes the defaults when nothing is set: 200 payments per run, 20 confirmations per gateway per run', () => {
    const settings = reconcileSettingsFromEnv({});
    expect(settings).toEqual(DEFAULT_RECONCILE_SETTINGS);
    expect([settings.budget, settings.confirmationsPerRun]).toEqual([200, 20]);
  });

  it('reads the budget, the confirmations cap, the grace period and the expiry from the environment', () => {
    expect(
      reconcileSettingsFromEnv({
        PAYHOOK_RECONCILE_BUDGET: '50',
        PAYHOOK_CONFIRMATIONS_PER_RUN: '5',
        PAYHOOK_RECONCILE_GRACE: '30',
        PAYHOOK_PENDING_EXPIRY: '3600',
      }),
    ).toMatchObject({ budget: 50, confirmationsPerRun: 5, graceSeconds: 30, defaultExpirySeconds: 3600 });
  });

  it('refuses a confirmations cap that is not a positive whole number, naming the variable', () => {
    for (const value of ['0', '-1', '2.5', 'many']) {
      expect(() => reconcileSettingsFromEnv({ PAYHOOK_CONFIRMATIONS_PER_RUN: value })).toThrow(
        MissingConfigurationError,
      );
      expect(() => reconcileSettingsFromEnv({ PAYHOOK_CONFIRMATIONS_PER_RUN: value })).toThrow(
        /PAYHOOK_CONFIRMATIONS_PER_RUN/,
      );
    }
  });
});
