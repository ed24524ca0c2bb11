import { Logger } from '@aws-lambda-powertools/logger';
import { LeanLogFormatter } from './log-format.js';

/**
 * One Logger per function, built at module load. Service name and level come from the standard Powertools variables
 * (`POWERTOOLS_SERVICE_NAME`, `POWERTOOLS_LOG_LEVEL`) that the CDK stack sets; the argument is the fallback. Lines
 * leave out what the function's own log group already says (see {@link LeanLogFormatter}).
 */
export function createLogger(serviceName: string): Logger {
  return new Logger({
    serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? serviceName,
    logFormatter: new LeanLogFormatter(),
  });
}
