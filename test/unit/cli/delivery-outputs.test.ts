import { describe, expect, it } from 'vitest';
import { destinationsFromOutputs } from '../../../cli/oncall/delivery-target.js';
import { deliveryOutputKeys } from '../../../lambdas/definitions.js';

const URL_BASE = 'https://sqs.eu-west-1.amazonaws.com/123456789012';

describe('finding destinations in a deployed stack’s outputs', () => {
  it('reads names back from the queue URLs, since CloudFormation drops the dashes from output keys', () => {
    const outputs = {
      PaymentsTableName: 'shop-prod-payhook-payments',
      QueueUrlhigh: `${URL_BASE}/shop-prod-payhook-high`,
      [deliveryOutputKeys('shop-eu').queueUrl]: `${URL_BASE}/shop-prod-deliveries-shop-eu`,
      [deliveryOutputKeys('shop-eu').deadLetterQueueUrl]: `${URL_BASE}/shop-prod-deliveries-shop-eu-dlq`,
      // Both spell `shopeu` in their keys' letters: only the queue name tells them apart.
      DeliveryQueueUrlshopeu2: `${URL_BASE}/shop-prod-deliveries-shopeu2`,
      DeliveryDlqUrlshopeu2: `${URL_BASE}/shop-prod-deliveries-shopeu2-dlq`,
      DeliverySecretArnshopeu:
        'arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop-prod/destinations/shop-eu',
    };
    expect(deliveryOutputKeys('shop-eu')).toMatchObject({
      queueUrl: 'DeliveryQueueUrlshopeu',
      deadLetterQueueUrl: 'DeliveryDlqUrlshopeu',
    });
    // A wrong name would stop, resume or redrive another destination, or none.
    expect(destinationsFromOutputs('shop-prod', outputs)).toEqual([
      {
        destination: 'shop-eu',
        queueUrl: `${URL_BASE}/shop-prod-deliveries-shop-eu`,
        deadLetterQueueUrl: `${URL_BASE}/shop-prod-deliveries-shop-eu-dlq`,
      },
      {
        destination: 'shopeu2',
        queueUrl: `${URL_BASE}/shop-prod-deliveries-shopeu2`,
        deadLetterQueueUrl: `${URL_BASE}/shop-prod-deliveries-shopeu2-dlq`,
      },
    ]);
  });

  it('finds a name that itself contains "deliveries-", and fails clearly when a queue has no dead-letter output', () => {
    const named = destinationsFromOutputs('s', {
      DeliveryQueueUrlmydeliverieshub: `${URL_BASE}/s-payhook-deliveries-my-deliveries-hub`,
      DeliveryDlqUrlmydeliverieshub: `${URL_BASE}/s-payhook-deliveries-my-deliveries-hub-dlq`,
    });
    expect(named.map((each) => each.destination)).toEqual(['my-deliveries-hub']);
    expect(() =>
      destinationsFromOutputs('s', { DeliveryQueueUrlshop: `${URL_BASE}/s-payhook-deliveries-shop` }),
    ).toThrow('stack s has DeliveryQueueUrlshop but no DeliveryDlqUrlshop output');
  });
});
