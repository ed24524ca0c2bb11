import { moneyFromMajor } from '../../domain/money.js';
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
  unknownStatus,
} from './shared.js';

/**
 * Flutterwave (v3): `GET /v3/transactions/verify_by_reference?tx_ref={reference}` with
 * `Authorization: Bearer <secret key>`. The answer is `{ status: "success", message, data: { id, tx_ref, status,
 * amount, currency, ... } }`; `data.amount` is in MAJOR units (`7500.50` NGN), read from its exact text.
 *
 * The reference and Flutterwave's transaction id are handed back: Flutterwave's own guidance is to check that the
 * answered `tx_ref` is the one asked about, which the reconciler does.
 */
const GATEWAY = 'Flutterwave';

/** `data.status` words of a v3 transaction. Anything else is reported malformed rather than guessed at. */
const STATUS: Readonly<Record<string, VerifiedStatus>> = {
  successful: 'succeeded',
  failed: 'failed',
  pending: 'pending',
};

/**
 * Flutterwave answers an unknown tx_ref with 400 and `{ status: "error", message: "No transaction was found for this
 * id" }` (UNCONFIRMED: wording reported by integrators, not in providers.md).
 */
function isUnknownReference(status: number, body: string): boolean {
  return status === 400 && errorMessageMatches(body, [['message']], /no transaction was found/i);
}

export const flutterwaveVerifier: GatewayVerifier = {
  gateway: 'flutterwave',
  defaultBaseUrl: 'https://api.flutterwave.com',
  requiredCredentials: ['apiKey'],
  async verify(target, credentials, options): Promise<VerifyResult> {
    const reference = requireId(target.reference, GATEWAY, 'the merchant reference (tx_ref)');
    const apiKey = requireApiKey(credentials, 'flutterwave', 'your Flutterwave secret key');
    const query = new URLSearchParams({ tx_ref: reference });
    const answer = await getFromGateway(
      {
        gateway: GATEWAY,
        url: apiUrl(options.baseUrl, `/v3/transactions/verify_by_reference?${query}`),
        headers: { authorization: `Bearer ${apiKey}` },
        isNotFound: isUnknownReference,
      },
      options,
    );
    const body = readObject(answer.text, GATEWAY);
    // The SDK's own success check: the call worked (`status: "success"`) and then the payment's `data.status`.
    if (body.status !== 'success')
      throw new VerifyMalformedError(`${GATEWAY} answered 2xx without "status": "success"`);
    const data = requireObject(body, ['data'], GATEWAY);
    const word = requireText(data, ['status'], GATEWAY);
    const status = mapStatus(STATUS, word);
    if (status === undefined) throw unknownStatus(GATEWAY, word);
    const amount = requireText(data, ['amount'], GATEWAY);
    const money = readMoney(GATEWAY, () => moneyFromMajor(amount, data.currency));
    const txRef = textAt(data, ['tx_ref']);
    const id = textAt(data, ['id']);
    return {
      status,
      money,
      ...(txRef !== undefined && { reference: txRef }),
      ...(id !== undefined && { gatewayPaymentId: id, factId: id }),
      gatewayStatus: word,
    };
  },
};
