import { describe, expect, it } from 'vitest';
import { GATEWAYS } from '../../../lambdas/domain/webhook-event.js';
import {
  DEFAULT_GATEWAY_SETTINGS,
  InvalidSettingsError,
  parseGatewaySettings,
} from '../../../lambdas/gateways/settings.js';

describe('Gateway settings', () => {
  it('enables every gateway with the defaults when nothing is configured', () => {
    const settings = parseGatewaySettings(undefined);
    for (const gateway of GATEWAYS) expect(settings[gateway]).toEqual(DEFAULT_GATEWAY_SETTINGS);
  });

  it('enables only the listed gateways and applies per-gateway keys to their gateway alone', () => {
    const settings = parseGatewaySettings(
      JSON.stringify({
        enabled: ['stripe', 'adyen'],
        stripe: { toleranceSeconds: 600, priorities: { 'charge.succeeded': 'normal' } },
        adyen: { captureMode: 'manual' },
        flutterwave: { schemes: ['flutterwave-signature'] },
        oxapay: { currencyExponents: { usdt: 2 } },
      }),
    );
    expect(settings.stripe).toMatchObject({
      enabled: true,
      toleranceSeconds: 600,
      priorityOverrides: { 'charge.succeeded': 'normal' },
    });
    expect(settings.adyen).toMatchObject({
      enabled: true,
      adyenCaptureMode: 'manual',
      toleranceSeconds: 300,
    });
    expect(settings.paystack.enabled).toBe(false);
    expect(settings.flutterwave).toMatchObject({
      enabled: false,
      flutterwaveSchemes: ['flutterwave-signature'],
    });
    expect(settings.oxapay.currencyExponents).toEqual({ USDT: 2 });
  });

  it('takes the test-mode policy from the JSON, else from the caller (PAYHOOK_ACCEPT_TEST_MODE)', () => {
    expect(parseGatewaySettings(undefined, { acceptTestMode: false }).stripe.acceptTestMode).toBe(false);
    expect(
      parseGatewaySettings('{"acceptTestMode":true}', { acceptTestMode: false }).stripe.acceptTestMode,
    ).toBe(true);
    expect(parseGatewaySettings('{"paystack":{"acceptTestMode":false}}').paystack.acceptTestMode).toBe(false);
  });

  it('merges a partial Standard Webhooks mapping over the defaults', () => {
    const { standardMapping } = parseGatewaySettings(
      '{"standard":{"mapping":{"amount":"payment.total","amountUnit":"major","kinds":{"order.paid":"payment.succeeded"}}}}',
    ).standard;
    expect(standardMapping).toMatchObject({
      type: 'type',
      amount: 'payment.total',
      amountUnit: 'major',
      kinds: {
        'order.paid': 'payment.succeeded',
        'payment.succeeded': 'payment.succeeded',
        'refund.succeeded': 'refund.succeeded',
      },
    });
  });

  it.each([
    ['not JSON', '{enabled', /not JSON/],
    ['a list', '[]', /expected a JSON object/],
    ['an unknown top-level key', '{"paypal":{}}', /unknown key "paypal"/],
    ['an unknown gateway in enabled', '{"enabled":["paypal"]}', /unknown gateway "paypal"/],
    ['a misspelt gateway key', '{"stripe":{"tolerance":5}}', /stripe: unknown key "tolerance"/],
    [
      'a bad priority',
      '{"stripe":{"priorities":{"x":"urgent"}}}',
      /stripe.priorities.x: expected high, normal or low/,
    ],
    ['a zero tolerance', '{"stripe":{"toleranceSeconds":0}}', /toleranceSeconds/],
    ['an unknown scheme', '{"flutterwave":{"schemes":["md5"]}}', /flutterwave.schemes/],
    ['an unknown capture mode', '{"adyen":{"captureMode":"later"}}', /captureMode/],
    [
      'an unknown kind',
      '{"standard":{"mapping":{"kinds":{"a":"payment.done"}}}}',
      /unknown kind "payment.done"/,
    ],
    ['a negative exponent', '{"oxapay":{"currencyExponents":{"USDT":-1}}}', /USDT/],
  ])('refuses %s, naming what is wrong', (_name, json, message) => {
    expect(() => parseGatewaySettings(json)).toThrow(InvalidSettingsError);
    expect(() => parseGatewaySettings(json)).toThrow(message);
  });
});
