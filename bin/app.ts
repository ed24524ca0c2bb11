#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { PayhookStack } from '../lib/payhook-stack.js';

const app = new App();
new PayhookStack(app, app.node.tryGetContext('stackName') ?? 'payhook', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  description: 'payhook: payment-webhook ingestion (verify, normalise, queue by priority, apply once)',
});
