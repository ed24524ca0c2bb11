import { Logger } from '@aws-lambda-powertools/logger';

/**
 * One Logger per function, built at module load. Service name and level come from the standard Powertools variables
 * (`POWERTOOLS_SERVICE_NAME`, `POWERTOOLS_LOG_LEVEL`) that the CDK stack sets; the argument is the fallback.
 */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? serviceName });
}
