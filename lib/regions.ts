/**
 * The regions payhook's template is checked for (cfn-lint, `npm run check:template`, run by `.ci/run`): every resource
 * type it uses exists there. Left out: `mx-central-1` and `ca-west-1`, which have no EventBridge archives (checked
 * with cfn-lint 1.51 on 2026-11-30); GovCloud and China regions, which the template was never checked for.
 */
export const SUPPORTED_REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'ca-central-1',
  'sa-east-1',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-central-1',
  'eu-central-2',
  'eu-north-1',
  'eu-south-1',
  'eu-south-2',
  'af-south-1',
  'me-south-1',
  'me-central-1',
  'il-central-1',
  'ap-south-1',
  'ap-south-2',
  'ap-east-1',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'ap-southeast-7',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
] as const;
