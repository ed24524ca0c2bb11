import { isIP } from 'node:net';
import type { GatewayName } from '../domain/webhook-event.js';

/**
 * The addresses a gateway says its webhooks come from, as shipped with payhook: the default `cidrs` of a gateway's
 * `sourceIps` setting. Gateways change these lists (Stripe gives seven days' notice on its api-announce list), so a
 * shipped copy ages: check it against `source` before switching a gateway to `enforce`, and give `cidrs` when it
 * differs.
 */
export interface PublishedSourceList {
  /** Addresses and CIDR blocks, IPv4 or IPv6. */
  readonly cidrs: readonly string[];
  /** Where the gateway publishes the list. */
  readonly source: string;
  /** When this copy was taken (ISO date). */
  readonly taken: string;
  /**
   * `false` (UNCONFIRMED): the list could not be read on the gateway's own page; it comes from copies of that page
   * made by others, named in `evidence`.
   */
  readonly confirmed: boolean;
  /** What the copy was taken from. */
  readonly evidence: string;
}

export const PUBLISHED_SOURCE_IPS: Readonly<Partial<Record<GatewayName, PublishedSourceList>>> = {
  // UNCONFIRMED: Paystack's page could not be read here. The same three addresses are quoted from it by a
  // third-party gist and by several open-source integrations citing its #ip-whitelisting section.
  paystack: {
    cidrs: ['52.31.139.75', '52.49.173.169', '52.214.14.220'],
    source: 'https://paystack.com/docs/payments/webhooks/#ip-whitelisting',
    taken: '2026-11-30',
    confirmed: false,
    evidence:
      'third-party copies (gist.github.com/subomi/98eae370376268f341eaa3f4735a6f47, integrations citing the page)',
  },
  // Razorpay's own docs source, "Webhook IPs" (egress). The two /26 blocks are "utilised for sending the webhooks".
  // Not included: the UAT egress addresses (52.66.76.68, 52.66.95.207, 13.127.201.109) listed on the same page, and
  // three addresses (3.140.215.0, 3.136.42.4, 18.224.88.246) shown by one rendering of the page whose region is not
  // stated (Razorpay's docs differ by country): add them to `cidrs` if your account's webhooks come from them.
  razorpay: {
    cidrs: [
      '52.66.75.174',
      '52.66.76.63',
      '52.66.151.218',
      '35.154.217.40',
      '35.154.22.73',
      '35.154.143.15',
      '13.126.199.247',
      '13.126.238.192',
      '13.232.194.134',
      '18.96.225.0/26',
      '18.99.161.0/26',
    ],
    source: 'https://razorpay.com/docs/security/whitelists/',
    taken: '2026-11-30',
    confirmed: true,
    evidence:
      'razorpay/markdown-docs security/whitelists.md at 7fd0daf (the same list as at ab3bda5, 2026-04-09)',
  },
  // UNCONFIRMED: docs.stripe.com/ips names the file that holds the list (also as .json), but the file itself could
  // not be read here; these are the 15 addresses of two independent mirrors of it, the newer updated 2026-05-15.
  stripe: {
    cidrs: [
      '3.18.12.63',
      '3.69.109.8',
      '3.120.168.93',
      '3.130.192.231',
      '13.235.14.237',
      '13.235.122.149',
      '18.211.135.69',
      '35.154.171.200',
      '35.157.207.129',
      '52.15.183.38',
      '54.88.130.119',
      '54.88.130.237',
      '54.187.174.169',
      '54.187.205.235',
      '54.187.216.72',
    ],
    source: 'https://stripe.com/files/ips/ips_webhooks.txt',
    taken: '2026-05-15',
    confirmed: false,
    evidence:
      'mirrors of the file: ConfigServerApps/service-blocklists stripe_webhooks.ipset (updated 2026-05-15) and sefinek/known-bots-ip-whitelist stripewebhook',
  },
};

/**
 * Why a gateway has no shipped list: its `sourceIps` setting needs `cidrs`. Adyen publishes a DNS name, not
 * addresses, and says not to pin what it resolves to; a Lambda cannot allow a DNS name per request without resolving
 * it, so payhook ships no default: resolve `out.adyen.com` yourself and give the result as `cidrs` (and keep it
 * current), or leave Adyen without `sourceIps`.
 */
export const NO_PUBLISHED_LIST: Readonly<Partial<Record<GatewayName, string>>> = {
  adyen:
    'Adyen publishes no address list, only the DNS name out.adyen.com (https://docs.adyen.com/development-resources/webhooks/domain-and-ip-addresses), so payhook ships none: give "cidrs"',
  flutterwave:
    'Flutterwave publishes no address list (its docs say its addresses are dynamic and advise against allow-listing), so payhook ships none: give "cidrs"',
  oxapay:
    'OXA Pay publishes no address list (its SDK says to ask its support), so payhook ships none: give "cidrs"',
  standard: 'Standard Webhooks senders each have their own addresses, so payhook ships none: give "cidrs"',
};

/** One parsed allow-list entry: a single address is a block of one (/32, /128). */
export interface CidrBlock {
  readonly address: string;
  readonly prefix: number;
  readonly family: 'ipv4' | 'ipv6';
}

/**
 * Parses `address` or `address/prefix` (IPv4 or IPv6). Returns why it is not one, as text fit for a settings error,
 * rather than throwing.
 */
export function parseCidr(entry: string): CidrBlock | string {
  const slash = entry.indexOf('/');
  const address = slash === -1 ? entry : entry.slice(0, slash);
  const version = isIP(address);
  // A zone index (`fe80::1%eth0`) names an interface of this machine, which means nothing to a Lambda.
  if (version === 0 || address.includes('%')) return 'the part before any "/" is not an IPv4 or IPv6 address';
  const family = version === 4 ? 'ipv4' : 'ipv6';
  const bits = version === 4 ? 32 : 128;
  if (slash === -1) return { address, prefix: bits, family };
  const prefixText = entry.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) {
    return `the prefix must be a whole number from 0 to ${bits} for an ${family === 'ipv4' ? 'IPv4' : 'IPv6'} address`;
  }
  return { address, prefix: Number(prefixText), family };
}
