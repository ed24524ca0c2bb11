import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { PayhookConfig } from '../../lib/config.js';
import { PayhookStack } from '../../lib/payhook-stack.js';

/** A synthesised stack; bundling is skipped (CI's `cdk synth` bundles for real), so the tests stay fast. */
export function synthesise(config: PayhookConfig = {}, stackName = 'shop-prod') {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new PayhookStack(app, stackName, {
    config,
    env: { account: '123456789012', region: 'eu-west-1' },
  });
  return { app, stack, template: Template.fromStack(stack) };
}

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

/** Every action a role's policies allow, sorted, for exact comparisons. */
export function actionsOf(template: Template, roleLogicalId: string): string[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) =>
    (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleLogicalId),
  );
  const statements = policies.flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
  return [...new Set(statements.flatMap((statement) => [statement.Action].flat()))].sort();
}
