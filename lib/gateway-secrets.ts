import { SecretValue, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { SECRETS_ENV } from '../lambdas/definitions.js';
import type { GatewayName } from '../lambdas/domain/webhook-event.js';
import type { PayhookFunction } from './payhook-function.js';

export interface GatewaySecretsProps {
  readonly gateways: readonly GatewayName[];
  /**
   * Secrets that already exist, by name, for gateways whose secret is managed elsewhere.
   * @default - a new secret for every gateway
   */
  readonly existingSecretNames?: Readonly<Partial<Record<GatewayName, string>>>;
  /** Prefix of created secret names: `<prefix>/<gateway>`. */
  readonly namePrefix: string;
}

/**
 * What each gateway's secret holds (`?` marks an optional key), beyond `"secrets"`: the keys the reconciler's verify calls read
 * (`lambdas/reconciliation/credentials.ts` and the verifiers), each with what it is. The README's Secrets section
 * says the same; an infra test checks that each key a verifier asks for is named here.
 */
export const SECRET_KEYS: Readonly<
  Record<GatewayName, { readonly shape: string; readonly signing: string; readonly api: string }>
> = {
  paystack: {
    shape: '{"secrets": ["sk_live_..."], "apiKey"?: "sk_live_..."}',
    signing: 'your Paystack secret key (sk_...), which signs its webhooks',
    api: '"apiKey": the Paystack secret key for verify calls; optional, defaults to the first of "secrets"',
  },
  flutterwave: {
    shape: '{"secrets": ["<secret hash>"], "apiKey": "FLWSECK-..."}',
    signing: 'the secret hash set in the Flutterwave dashboard',
    api: '"apiKey": your Flutterwave secret key (FLWSECK-..., not the secret hash); without it no Flutterwave payment is verified',
  },
  razorpay: {
    shape: '{"secrets": ["<webhook secret>"], "keyId": "rzp_live_...", "keySecret": "..."}',
    signing: 'the webhook secret set in the Razorpay dashboard',
    api: '"keyId" and "keySecret": your Razorpay API key id (rzp_...) and its secret; without them no Razorpay payment is verified',
  },
  oxapay: {
    shape:
      '{"secrets": ["<merchant API key>"], "payoutSecrets"?: ["<payout API key>"], "apiKey"?: "<merchant API key>"}',
    signing:
      'your OXA Pay merchant API key, which signs its callbacks; "payoutSecrets": ["..."] optionally lists payout API keys',
    api: '"apiKey": the OXA Pay merchant API key for verify calls; optional, defaults to the first of "secrets"',
  },
  stripe: {
    shape: '{"secrets": ["whsec_..."], "apiKey": "sk_live_... or rk_live_..."}',
    signing: 'the endpoint signing secret (whsec_...)',
    api: '"apiKey": your Stripe secret key, or a restricted key that can read PaymentIntents; without it no Stripe payment is verified',
  },
  standard: {
    shape: '{"secrets": ["whsec_<base64>"]}',
    signing: "the sender's signing secret (whsec_<base64>)",
    api: 'no API keys: Standard Webhooks has no verify API',
  },
  adyen: {
    shape: '{"secrets": ["<HMAC key, hex>"]}',
    signing: 'the HMAC key (hex) generated for the standard webhook',
    api: 'no API keys: Adyen is not asked about payments',
  },
};

/** Secrets Manager's longest secret description. */
export const SECRET_DESCRIPTION_MAX_CHARS = 2048;

/** A created secret's description: the JSON it must hold, every key named. */
export function secretDescription(gateway: GatewayName): string {
  const { shape, signing, api } = SECRET_KEYS[gateway];
  const description = `payhook ${gateway} secret, JSON ${shape}. "secrets": webhook signing secrets, current first (to rotate, put the new one first and keep the old one until the gateway stops retrying with it): ${signing}. ${api}.`;
  if (description.length > SECRET_DESCRIPTION_MAX_CHARS) {
    throw new Error(`the ${gateway} secret's description is over ${SECRET_DESCRIPTION_MAX_CHARS} characters`);
  }
  return description;
}

/**
 * One Secrets Manager secret per enabled gateway, in the JSON shape ingest reads (`{"secrets": [...]}`, see the
 * README), plus the API credentials the reconciler reads ({@link SECRET_KEYS}, named in each secret's description).
 * Created secrets hold an empty list for the team to fill: until then, that gateway's webhooks are answered
 * 503 and the gateway keeps retrying, so nothing is lost while the secret is being set.
 */
export class GatewaySecrets extends Construct {
  public readonly secrets: Readonly<Partial<Record<GatewayName, secretsmanager.ISecret>>>;

  constructor(scope: Construct, id: string, props: GatewaySecretsProps) {
    super(scope, id);
    const secrets: Partial<Record<GatewayName, secretsmanager.ISecret>> = {};
    for (const gateway of props.gateways) {
      const existing = props.existingSecretNames?.[gateway];
      secrets[gateway] = existing
        ? secretsmanager.Secret.fromSecretNameV2(this, gateway, existing)
        : new secretsmanager.Secret(this, gateway, {
            secretName: `${props.namePrefix}/${gateway}`,
            description: secretDescription(gateway),
            secretStringValue: SecretValue.unsafePlainText(JSON.stringify({ secrets: [] })),
          });
    }
    this.secrets = secrets;
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'These are webhook signing secrets issued by the payment gateways and rotated in their dashboards, which Secrets Manager cannot do. payhook takes a list (new first, old kept until the gateway stops retrying with it), so a rotation drops no webhook, and ingest refetches a secret on a signature failure.',
    });
  }

  /**
   * Lets the function read every gateway's secret, and tells it where they are: `PAYHOOK_GATEWAY_SECRET_IDS`, gateway
   * to secret ARN (or name, for imported secrets).
   */
  public bindReader(fn: PayhookFunction): iam.Grant {
    return this.bind(fn, Object.keys(this.secrets) as GatewayName[]);
  }

  /**
   * Lets the reconciler read the secrets of the `gateways` it asks (those with a verify API), and only theirs: the
   * secret ids it is told name those gateways alone, so it never tries another.
   */
  public bindApiReader(fn: PayhookFunction, gateways: readonly GatewayName[]): iam.Grant {
    return this.bind(
      fn,
      gateways.filter((gateway) => this.secrets[gateway] !== undefined),
    );
  }

  /**
   * Lets the delivery function read the secrets of the `gateways` whose webhooks carry the secret itself in a header
   * (Flutterwave's `verif-hash`, `GATEWAY_SECRET_HEADERS`) and that an original destination wants: the header is
   * never stored, and is put back from the secret as the original is sent.
   */
  public bindSecretHeaderReader(fn: PayhookFunction, gateways: readonly GatewayName[]): iam.Grant {
    return this.bind(
      fn,
      gateways.filter((gateway) => this.secrets[gateway] !== undefined),
    );
  }

  /**
   * `secretsmanager:GetSecretValue` on each secret, the one call the secret stores make; `grantRead` would add
   * `DescribeSecret`, which nothing calls. No KMS grant: the secrets use Secrets Manager's default key, whose key policy
   * lets any principal the secret's own policy allows decrypt through Secrets Manager.
   */
  private bind(fn: PayhookFunction, gateways: readonly GatewayName[]): iam.Grant {
    const secrets = gateways.flatMap((gateway) => {
      const secret = this.secrets[gateway];
      return secret ? [[gateway, secret] as const] : [];
    });
    fn.addEnvironment({
      [SECRETS_ENV.secretIds]: JSON.stringify(
        Object.fromEntries(secrets.map(([gateway, secret]) => [gateway, secret.secretArn])),
      ),
    });
    if (secrets.length === 0) return iam.Grant.drop(fn, 'read the secrets of no gateway');
    return iam.Grant.addToPrincipal({
      grantee: fn,
      actions: ['secretsmanager:GetSecretValue'],
      // An imported secret's ARN ends in the 6 random characters Secrets Manager adds, unknown here (as grantRead does).
      resourceArns: secrets.map(([, secret]) => secret.secretFullArn ?? `${secret.secretArn}-??????`),
    });
  }
}
