import { LogFormatter, LogItem } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';

/**
 * Powertools' log line without what the log group already says. Every function has a log group of its own, and every
 * line of it would otherwise repeat the function's ARN, name and memory size (and a sampling rate of 0): about 250
 * bytes a line, a third of what a webhook's lines cost (CloudWatch Logs bills each byte ingested, issue #20). Kept:
 * level, message, timestamp, service, `cold_start: true` on an instance's first invocation, Lambda's request id (to find the invocation's
 * other lines) and the X-Ray trace id of a sampled trace; a debug sampling rate only when one is set.
 */
export class LeanLogFormatter extends LogFormatter {
  formatAttributes(attributes: UnformattedAttributes, additional: LogAttributes): LogItem {
    const context = attributes.lambdaContext;
    return new LogItem({
      attributes: {
        level: attributes.logLevel,
        message: attributes.message,
        timestamp: this.formatTimestamp(attributes.timestamp),
        service: attributes.serviceName,
        // Only on the first invocation of an instance: a warm line (nearly every one) says nothing by leaving it out.
        ...(context?.coldStart && { cold_start: true }),
        function_request_id: context?.awsRequestId,
        // Only for a sampled trace: Lambda gives every invocation a trace id, but an unsampled one (payhook's functions
        // trace nothing themselves) names no trace anyone can open, and would cost 50 bytes a line.
        ...(attributes.xRayTraceId && isSampledTrace() && { xray_trace_id: attributes.xRayTraceId }),
        ...(attributes.sampleRateValue > 0 && { sampling_rate: attributes.sampleRateValue }),
      },
    }).addAttributes(additional);
  }
}

/** Whether this invocation's X-Ray trace is sampled (`Sampled=1` in Lambda's trace header). */
function isSampledTrace(): boolean {
  return /(?:^|;)Sampled=1(?:;|$)/.test(process.env._X_AMZN_TRACE_ID ?? '');
}
