import { moneyFromMajor } from '../../domain/money.js';
import { isObject, textAt } from '../../gateways/payload.js';
import { getFromGateway } from '../http.js';
import type { GatewayVerifier, VerifiedStatus, VerifyResult } from '../verify.js';
import { VerifyMalformedError, VerifyNotFoundError, VerifyUnsupportedError } from '../verify.js';
import {
  apiUrl,
  mapStatus,
  readMoney,
  readObject,
  requireApiKey,
  requireId,
  requireObject,
  requireText,
  segment,
  unknownStatus,
} from './shared.js';

/**
 * OXA Pay (v1 API): `GET /v1/payment/{track_id}` with header `merchant_api_key: <key>`. The answer is
 * `{ data: { track_id, status, amount, currency, order_id, ... }, message, error, status, version }`, where the
 * body's own `status` repeats the HTTP status and `error` is `{}` or `{ type, key, message }`. `data.amount` is a
 * decimal in MAJOR units of `data.currency` (`10.5` USDT), read from its exact text.
 */
const GATEWAY = 'OXA Pay';

/**
 * `data.status`, compared case-insensitively: the v1 docs' table is lower-case while webhooks arrive capitalised
 * (`Paid`), so either form may come back. Judgement calls:
 * - `manual_accept` (the merchant accepted the payment by hand) is succeeded, like `paid`.
 * - `underpaid` is pending: the payer may still send the rest before the invoice expires.
 * - `refunding` and `refunded` are succeeded: the money arrived first; refunds are not verified here.
 * - `failed` is not in the v1 table but the official WooCommerce plugin handles it (UNCONFIRMED), so it is mapped.
 * Any other word is reported malformed rather than guessed at.
 */
const STATUS: Readonly<Record<string, VerifiedStatus>> = {
  paid: 'succeeded',
  manual_accept: 'succeeded',
  refunding: 'succeeded',
  refunded: 'succeeded',
  expired: 'expired',
  failed: 'failed',
  new: 'pending',
  waiting: 'pending',
  paying: 'pending',
  confirming: 'pending',
  underpaid: 'pending',
};

export const oxapayVerifier: GatewayVerifier = {
  gateway: 'oxapay',
  defaultBaseUrl: 'https://api.oxapay.com',
  requiredCredentials: ['apiKey'],
  async verify(target, credentials, options): Promise<VerifyResult> {
    const trackId = requireId(target.gatewayPaymentId, GATEWAY, 'the track_id');
    const apiKey = requireApiKey(credentials, 'oxapay', 'your OXA Pay merchant API key');
    const answer = await getFromGateway(
      {
        gateway: GATEWAY,
        url: apiUrl(options.baseUrl, `/v1/payment/${segment(trackId)}`),
        headers: { merchant_api_key: apiKey },
      },
      options,
    );
    const body = readObject(answer.text, GATEWAY);
    // UNCONFIRMED: whether an error is ever sent with HTTP 200. The body's own status is checked as well, so an
    // error envelope is never read as a payment.
    const bodyStatus = textAt(body, ['status']);
    if (bodyStatus === '404') throw new VerifyNotFoundError(`${GATEWAY} does not know this payment`);
    if (bodyStatus !== undefined && bodyStatus !== '200') {
      throw new VerifyMalformedError(`${GATEWAY} answered 2xx with an error envelope (status ${bodyStatus})`);
    }
    if (isObject(body.error) && textAt(body.error, ['message']) !== undefined) {
      throw new VerifyMalformedError(`${GATEWAY} answered 2xx with an error`);
    }
    const data = requireObject(body, ['data'], GATEWAY);
    // A static address receives many deposits under one track id, and its webhooks name each by transaction hash:
    // an answer about the address as a whole would be the same money counted a second time.
    if (textAt(data, ['type'])?.toLowerCase() === 'static_address') {
      throw new VerifyUnsupportedError(`${GATEWAY} static addresses are settled by their deposits' webhooks`);
    }
    const word = requireText(data, ['status'], GATEWAY);
    const status = mapStatus(STATUS, word);
    if (status === undefined) throw unknownStatus(GATEWAY, word);
    const amount = requireText(data, ['amount'], GATEWAY);
    const money = readMoney(GATEWAY, () => moneyFromMajor(amount, data.currency));
    const orderId = textAt(data, ['order_id']);
    return {
      status,
      money,
      ...(orderId !== undefined && { reference: orderId }),
      gatewayPaymentId: textAt(data, ['track_id']) ?? trackId,
      factId: textAt(data, ['track_id']) ?? trackId,
      gatewayStatus: word,
    };
  },
};
