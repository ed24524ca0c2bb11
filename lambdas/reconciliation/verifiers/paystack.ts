import { moneyFromMinor } from '../../domain/money.js';
import { textAt } from '../../gateways/payload.js';
import { getFromGateway } from '../http.js';
import type { GatewayVerifier, VerifiedStatus, VerifyResult } from '../verify.js';
import { VerifyMalformedError } from '../verify.js';
import {
  apiUrl,
  errorMessageMatches,
  mapStatus,
  readMoney,
  readObject,
  requireApiKey,
  requireId,
  requireObject,
  requireText,
  segment,
} from './shared.js';

/**
 * Paystack: `GET /transaction/verify/{reference}` with `Authorization: Bearer <secret key>`. The answer is
 * `{ status: boolean, message, data: { status, reference, id, amount, currency, ... } }`; the top-level `status` only
 * says the API call worked, the payment's state is `data.status`. `data.amount` is in the currency's subunit.
 */
const GATEWAY = 'Paystack';

/**
 * `data.status` words. `success`, `failed`, `abandoned` and `reversed` are in Paystack's OpenAPI list filter; the
 * in-flight words (`ongoing`, `pending`, `processing`, `queued`) come from Paystack's verify-payments guide only
 * (UNCONFIRMED in providers.md), so any word not listed here also reads as pending rather than as an error.
 *
 * Judgement calls:
 * - `abandoned` is pending, not expired: Paystack's guide defines it as "the customer has not completed the
 *   transaction", which is also what a freshly initialised, not yet paid transaction reports, so it is no evidence
 *   the payment can no longer complete. The reconciler's own expiry deadline expires it when its time is up.
 * - `reversed` (refunded, or a chargeback was logged) is failed, as the reconciliation design asks: the payment did
 *   not end with the merchant's money.
 */
const STATUS: Readonly<Record<string, VerifiedStatus>> = {
  success: 'succeeded',
  failed: 'failed',
  reversed: 'failed',
  abandoned: 'pending',
};

/**
 * Paystack answers an unknown reference with 400 and `{ status: false, message: "Transaction reference not found" }`
 * (UNCONFIRMED: the wording is from Paystack's error guide, the status code from common integrations).
 */
function isUnknownReference(status: number, body: string): boolean {
  return status === 400 && errorMessageMatches(body, [['message']], /reference not found/i);
}

export const paystackVerifier: GatewayVerifier = {
  gateway: 'paystack',
  defaultBaseUrl: 'https://api.paystack.co',
  requiredCredentials: ['apiKey'],
  async verify(target, credentials, options): Promise<VerifyResult> {
    const reference = requireId(target.reference, GATEWAY, 'the merchant reference');
    const apiKey = requireApiKey(credentials, 'paystack', 'your Paystack secret key');
    const answer = await getFromGateway(
      {
        gateway: GATEWAY,
        url: apiUrl(options.baseUrl, `/transaction/verify/${segment(reference)}`),
        headers: { authorization: `Bearer ${apiKey}` },
        isNotFound: isUnknownReference,
      },
      options,
    );
    const body = readObject(answer.text, GATEWAY);
    if (body.status !== true)
      throw new VerifyMalformedError(`${GATEWAY} answered 2xx without "status": true`);
    const data = requireObject(body, ['data'], GATEWAY);
    const word = requireText(data, ['status'], GATEWAY);
    const amount = requireText(data, ['amount'], GATEWAY);
    const money = readMoney(GATEWAY, () => moneyFromMinor(amount, data.currency));
    const answeredReference = textAt(data, ['reference']);
    const id = textAt(data, ['id']);
    return {
      status: mapStatus(STATUS, word) ?? 'pending',
      money,
      ...(answeredReference !== undefined && { reference: answeredReference }),
      ...(id !== undefined && { gatewayPaymentId: id, factId: id }),
      gatewayStatus: word,
    };
  },
};
