import { SecretValue, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { GatewayName } from '../lambdas/domain/webhook-event.js';

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

  /** `PAYHOOK_GATEWAY_SECRET_IDS`: gateway to secret ARN (or name, for imported secrets). */
  public secretIds(): Record<string, string> {
    return Object.fromEntries(
      Object.entries(this.secrets).map(([gateway, secret]) => [gateway, secret.secretArn]),
    );
  }

  public grantRead(grantee: iam.IGrantable): void {
    for (const secret of Object.values(this.secrets)) secret.grantRead(grantee);
  }
}
