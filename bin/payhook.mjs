#!/usr/bin/env node
// `npx payhook ...` from the repo root: the CLI is TypeScript, loaded through tsx like the CDK app.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
