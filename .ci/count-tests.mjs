// Prints the closing line CI reads, `N passed, N failed`, from vitest's JSON report; exits 1 on any failure or when
// no test ran at all (a suite that silently runs nothing must not pass).
import { existsSync, readFileSync } from 'node:fs';

const path = process.argv[2] ?? '.test-results.json';
if (!existsSync(path)) {
  console.log('test report missing: the test runner did not finish');
  console.log('0 passed, 0 failed');
  process.exit(1);
}
const report = JSON.parse(readFileSync(path, 'utf8'));
const passed = report.numPassedTests ?? 0;
const failed = (report.numFailedTests ?? 0) + (report.numFailedTestSuites ?? 0);
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(
  skipped > 0
    ? `${passed} passed, ${failed} failed, ${skipped} skipped`
    : `${passed} passed, ${failed} failed`,
);
process.exit(failed > 0 || passed === 0 || report.success === false ? 1 : 0);
