#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parsePayhookConfig } from '../lib/config.js';
import { PayhookStack } from '../lib/payhook-stack.js';

const app = new App();
new PayhookStack(app, app.node.tryGetContext('stackName') ?? 'payhook', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  description: 'payhook: payment-webhook ingestion (verify, normalise, queue by priority, apply once)',
  config: parsePayhookConfig(app.node.tryGetContext('payhook')),
});
// AWS Solutions checks at synth: an unacknowledged finding fails `cdk synth` (report in cdk.out/validation-report.json).
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
