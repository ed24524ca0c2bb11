import { describe, expect, it } from 'vitest';
import { synthesise } from './support.js';

// Issue #17, first bullet: a gateway the reconciler skips (its secret empty, invalid or unreachable) is alarmed once
// it has been skipped in 3 consecutive runs.

type Query = {
  Id: string;
  Expression?: string;
  ReturnData?: boolean;
  MetricStat?: {
    Metric: { Namespace: string; MetricName: string; Dimensions: { Name: string; Value: string }[] };
    Period: number;
    Stat: string;
  };
};
type AlarmProperties = Record<string, unknown> & { Metrics?: Query[]; AlarmDescription: string };

function skippedAlarms(config: Parameters<typeof synthesise>[0] = {}): Map<string, AlarmProperties> {
  const { template } = synthesise(config);
  const byGateway = new Map<string, AlarmProperties>();
  for (const resource of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
    const alarm = resource.Properties as AlarmProperties;
    const queries = (alarm.Metrics ?? []).filter((query) => query.MetricStat);
    if (!queries.some((query) => query.MetricStat?.Metric.MetricName === 'ReconcilerGatewaySkipped'))
      continue;
    const gateways = new Set(
      queries.flatMap(
        (query) =>
          query.MetricStat?.Metric.Dimensions.filter((d) => d.Name === 'gateway').map((d) => d.Value) ?? [],
      ),
    );
    expect(gateways.size).toBe(1);
    byGateway.set([...gateways][0] ?? '', alarm);
  }
  return byGateway;
}

describe('Alarm: a gateway skipped by the reconciler in 3 consecutive runs', () => {
  it('one per gateway with a verify API, over every skip reason of the reconciler’s metric, 3 periods of the schedule', () => {
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
      const queries = alarm.Metrics ?? [];
      const expression = queries.find((query) => query.Expression);
      expect(expression).toMatchObject({ ReturnData: true });
      expect(expression?.Expression).toMatch(/^SUM\(\[/);
      const metrics = queries.flatMap((query) => (query.MetricStat ? [query.MetricStat] : []));
      expect(metrics.map((stat) => [stat.Period, stat.Stat])).toEqual(Array(3).fill([300, 'Sum']));
      expect(
        metrics.map((stat) => [
          stat.Metric.Namespace,
          stat.Metric.MetricName,
          Object.fromEntries(stat.Metric.Dimensions.map((d) => [d.Name, d.Value])),
        ]),
      ).toEqual(
        ['no_credentials', 'invalid_secret', 'secrets_unavailable'].map((reason) => [
          'payhook/shop-prod',
          'ReconcilerGatewaySkipped',
          { service: 'payhook-reconciler', gateway, reason },
        ]),
      );
      expect(alarm.AlarmDescription).toContain(`skipped ${gateway} in 3 consecutive runs`);
    }
  });

  it('follows the reconciler’s schedule interval', () => {
    const alarms = skippedAlarms({ reconcileIntervalMinutes: 15 });
    const stripe = alarms.get('stripe');
    const periods = (stripe?.Metrics ?? []).flatMap((query) =>
      query.MetricStat ? [query.MetricStat.Period] : [],
    );
    expect(periods).toEqual([900, 900, 900]);
    expect(stripe).toMatchObject({ EvaluationPeriods: 3, DatapointsToAlarm: 3 });
  });

  it('only for the gateways the stack routes', () => {
    expect([...skippedAlarms({ gateways: ['stripe', 'adyen'] }).keys()]).toEqual(['stripe']);
  });
});
