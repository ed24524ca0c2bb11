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
 * One Secrets Manager secret per enabled gateway, in the JSON shape ingest reads (`{"secrets": [...]}`, see the
 * README). Created secrets hold an empty list for the team to fill: until then, that gateway's webhooks are answered
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
            description: `payhook: ${gateway} webhook signing secrets, current first, as {"secrets": ["..."]}`,
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
    const secrets = Object.entries(this.secrets);
    fn.addEnvironment({
      [SECRETS_ENV.secretIds]: JSON.stringify(
        Object.fromEntries(secrets.map(([gateway, secret]) => [gateway, secret.secretArn])),
      ),
    });
    const [first, ...others] = secrets.map(([, secret]) => secret.grantRead(fn));
    if (!first) return iam.Grant.drop(fn, 'read the secrets of no gateway');
    return others.reduce((all, grant) => all.combine(grant), first);
  }
}
