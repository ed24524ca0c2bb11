import { describe, expect, it } from 'vitest';
import { synthesise } from './support.js';

// Issue #17, first bullet: a gateway the reconciler skips (its secret empty, invalid or unreachable) is alarmed once
// it has been skipped in 3 consecutive runs.

type AlarmProperties = Record<string, unknown> & {
  MetricName?: string;
  Dimensions: { Name: string; Value: string }[];
  AlarmDescription: string;
};

function skippedAlarms(config: Parameters<typeof synthesise>[0] = {}): Map<string, AlarmProperties> {
  const { template } = synthesise(config);
  const byGateway = new Map<string, AlarmProperties>();
  for (const resource of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
    const alarm = resource.Properties as AlarmProperties;
    if (alarm.MetricName !== 'ReconcilerGatewaySkipped') continue;
    byGateway.set(alarm.Dimensions.find((d) => d.Name === 'gateway')?.Value ?? '', alarm);
  }
  return byGateway;
}

describe('Alarm: a gateway skipped by the reconciler in 3 consecutive runs', () => {
  it('one per gateway with a verify API, on the reconciler’s skip count whatever the reason, 3 periods of the schedule', () => {
    const alarms = skippedAlarms();
    // Adyen and Standard Webhooks have no verify API: the reconciler never looks their credentials up.
    expect([...alarms.keys()].sort()).toEqual(['flutterwave', 'oxapay', 'paystack', 'razorpay', 'stripe']);
    for (const [gateway, alarm] of alarms) {
      expect(alarm).toMatchObject({
        EvaluationPeriods: 3,
        DatapointsToAlarm: 3,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
      });
      // One metric, without the reason (on the run's warning line): an alarm is billed per metric it reads.
      expect(alarm).toMatchObject({
        Namespace: 'payhook/shop-prod',
        MetricName: 'ReconcilerGatewaySkipped',
        Statistic: 'Sum',
        Period: 300,
      });
      expect(alarm.Metrics).toBeUndefined();
      expect(alarm.Dimensions).toEqual([
        { Name: 'gateway', Value: gateway },
        { Name: 'service', Value: 'payhook-reconciler' },
      ]);
      expect(alarm.AlarmDescription).toContain(`skipped ${gateway} in 3 consecutive runs`);
    }
  });

  it('follows the reconciler’s schedule interval', () => {
    const alarms = skippedAlarms({ reconcileIntervalMinutes: 15 });
    const stripe = alarms.get('stripe');
    expect(stripe?.Period).toBe(900);
    expect(stripe).toMatchObject({ EvaluationPeriods: 3, DatapointsToAlarm: 3 });
  });

  it('only for the gateways the stack routes', () => {
    expect([...skippedAlarms({ gateways: ['stripe', 'adyen'] }).keys()]).toEqual(['stripe']);
  });
});
