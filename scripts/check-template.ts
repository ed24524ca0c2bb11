/**
 * `npm run check:template`: cfn-lint on every synthesised template (`cdk.out/*.template.json`, so run `cdk synth`
 * first) for every region in `SUPPORTED_REGIONS`. Errors fail the run; warnings are counted and shown (CDK's
 * redundant DependsOn on function roles, W3005, is the only one today). Without cfn-lint on the machine it fails
 * under CI and only says so elsewhere: install it with `pipx install cfn-lint`.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SUPPORTED_REGIONS } from '../lib/regions.js';

const outDir = process.argv[2] ?? 'cdk.out';
const templates = readdirSync(outDir)
  .filter((name) => name.endsWith('.template.json'))
  .map((name) => join(outDir, name));
if (templates.length === 0) {
  console.error(`no template in ${outDir}: run \`npx cdk synth\` first`);
  process.exit(1);
}
if (spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' }).status !== 0) {
  console.error('cfn-lint is not installed (pipx install cfn-lint): the template was not checked');
  process.exit(process.env.CI ? 1 : 0);
}

// One run for every region: cfn-lint names the region in each region-specific finding.
const run = spawnSync(
  'cfn-lint',
  ['--regions', ...SUPPORTED_REGIONS, '--format', 'parseable', '--', ...templates],
  { encoding: 'utf8' },
);
const lines = `${run.stdout}${run.stderr}`.split('\n').filter((line) => line.trim() !== '');
const errors = lines.filter((line) => /:E\d{4}:/.test(line));
const warnings = lines.filter((line) => /:W\d{4}:/.test(line));
// cfn-lint exits non-zero for warnings too; only errors (or a crash with no finding at all) fail the check.
const crashed = run.status !== 0 && errors.length === 0 && warnings.length === 0;
for (const line of crashed ? lines.slice(0, 5) : errors) console.log(`  ${line}`);
console.log(
  `${templates.length} template(s), ${SUPPORTED_REGIONS.length} regions: ${errors.length} error(s), ${warnings.length} warning(s)${crashed ? ', cfn-lint failed' : ''}`,
);
process.exit(errors.length > 0 || crashed ? 1 : 0);
