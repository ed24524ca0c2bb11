// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Fn::Sub and IAM policy variables use ${}.
import { describe, expect, it } from 'vitest';
import {
  type AwsCall,
  evaluate,
  grantsOf,
  type Statement,
  statementsOfRole,
  unusedGrants,
} from '../../../rehearsal/iam.js';
import { type ResolvedResource, resolve, type TemplateContext } from '../../../rehearsal/intrinsics.js';
import { synthesise } from '../../infra/support.js';

const ACCOUNT = '123456789012';
const TABLE = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/x`;
const QUEUE = `arn:aws:sqs:us-east-1:${ACCOUNT}:payhook-high`;

const allow = (Action: string | string[], Resource: string | string[], extra: Partial<Statement> = {}) =>
  ({ Effect: 'Allow', Action, Resource, ...extra }) as const satisfies Statement;
const deny = (Action: string | string[], Resource: string | string[], extra: Partial<Statement> = {}) =>
  ({ Effect: 'Deny', Action, Resource, ...extra }) as const satisfies Statement;
const call = (action: string, resource: string, context?: AwsCall['context']): AwsCall => ({
  action,
  resource,
  ...(context ? { context } : {}),
});

describe('evaluate', () => {
  describe('the synthesised template shapes (reconciler role, resolved)', () => {
    // As synthesised: GetAtt Arn for the table, Fn::Join for the index, the LeadingKeys condition.
    const unresolved = [
      {
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': ['ReconcilerLogs', 'Arn'] },
      },
      {
        Action: 'dynamodb:Query',
        Effect: 'Allow',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['PaymentsTable', 'Arn'] }, '/index/pending-by-age']] },
      },
      {
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem'],
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['RECONCILER#*'] } },
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': ['PaymentsTable', 'Arn'] },
      },
    ];
    const ctx: TemplateContext = {
      region: 'us-east-1',
      accountId: ACCOUNT,
      partition: 'aws',
      urlSuffix: 'amazonaws.com',
      stackName: 'payhook',
      resources: {
        PaymentsTable: { ref: 'x', attributes: { Arn: TABLE } },
        ReconcilerLogs: {
          ref: 'logs',
          attributes: { Arn: `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:reconciler:*` },
        },
      },
    };
    const statements = resolve(unresolved, ctx) as Statement[];

    it('resolves GetAtt Arn and the Fn::Join index ARN into plain ARNs', () => {
      expect(statements.map((statement) => statement.Resource)).toEqual([
        `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:reconciler:*`,
        `${TABLE}/index/pending-by-age`,
        TABLE,
      ]);
    });

    it('allows a GetItem on the table for RECONCILER# keys', () => {
      const decision = evaluate(
        statements,
        call('dynamodb:GetItem', TABLE, { 'dynamodb:LeadingKeys': ['RECONCILER#a'] }),
      );
      expect(decision).toEqual({ kind: 'allowed', statement: 2 });
    });

    it('denies a GetItem on the table for PAYMENT# keys (the condition confines the reconciler)', () => {
      const decision = evaluate(
        statements,
        call('dynamodb:GetItem', TABLE, { 'dynamodb:LeadingKeys': ['PAYMENT#b'] }),
      );
      expect(decision).toEqual({ kind: 'denied', reason: 'implicit' });
    });

    it('denies a mixed set of leading keys: ForAllValues needs every key to match', () => {
      const context = { 'dynamodb:LeadingKeys': ['RECONCILER#a', 'PAYMENT#b'] };
      expect(evaluate(statements, call('dynamodb:PutItem', TABLE, context)).kind).toBe('denied');
    });

    it('reads condition key names case-insensitively', () => {
      const context = { 'DynamoDB:leadingkeys': ['RECONCILER#a'] };
      expect(evaluate(statements, call('dynamodb:PutItem', TABLE, context)).kind).toBe('allowed');
    });

    it('allows when the leading keys are known to be empty (ForAllValues is vacuously true)', () => {
      expect(evaluate(statements, call('dynamodb:GetItem', TABLE, { 'dynamodb:LeadingKeys': [] })).kind).toBe(
        'allowed',
      );
      expect(
        evaluate(statements, { ...call('dynamodb:GetItem', TABLE), absentKeys: ['dynamodb:LeadingKeys'] })
          .kind,
      ).toBe('allowed');
    });

    it('cannot decide when the leading keys were never read, rather than let ForAllValues allow it vacuously', () => {
      expect(evaluate(statements, call('dynamodb:GetItem', TABLE)).kind).toBe('undecidable');
    });

    it('does not let a grant on table/x cover its indexes', () => {
      const context = { 'dynamodb:LeadingKeys': ['RECONCILER#a'] };
      expect(evaluate(statements, call('dynamodb:GetItem', `${TABLE}/index/y`, context))).toEqual({
        kind: 'denied',
        reason: 'implicit',
      });
    });

    it('allows Query on the granted index only, not on another index or the table itself', () => {
      expect(evaluate(statements, call('dynamodb:Query', `${TABLE}/index/pending-by-age`))).toEqual({
        kind: 'allowed',
        statement: 1,
      });
      expect(evaluate(statements, call('dynamodb:Query', `${TABLE}/index/by-reference`)).kind).toBe('denied');
      expect(evaluate(statements, call('dynamodb:Query', TABLE)).kind).toBe('denied');
    });

    it('denies an action nothing grants', () => {
      expect(evaluate(statements, call('dynamodb:DeleteItem', TABLE))).toEqual({
        kind: 'denied',
        reason: 'implicit',
      });
    });

    it('denies everything with no statements at all', () => {
      expect(evaluate([], call('sqs:SendMessage', QUEUE))).toEqual({ kind: 'denied', reason: 'implicit' });
    });
  });

  describe('actions', () => {
    it.each([
      ['dynamodb:*', 'dynamodb:PutItem', true],
      ['*', 'sqs:SendMessage', true],
      ['dynamodb:Get*', 'dynamodb:GetItem', true],
      ['dynamodb:Get*', 'dynamodb:PutItem', false],
      ['sqs:?eleteMessage', 'sqs:DeleteMessage', true],
      ['sqs:?eleteMessage', 'sqs:DeleteMessageBatch', false],
      ['DynamoDB:putitem', 'dynamodb:PutItem', true],
      ['dynamodb:*', 'dynamodbstreams:GetRecords', false],
      ['dynamodb:GetItem', 'dynamodb:GetItems', false],
    ])('Action %s matching %s is %s (case-insensitive, * and ? wildcards)', (pattern, action, allowed) => {
      expect(evaluate([allow(pattern, '*')], call(action, TABLE)).kind).toBe(allowed ? 'allowed' : 'denied');
    });

    it('allows with any one of several actions', () => {
      expect(
        evaluate([allow(['sqs:ReceiveMessage', 'sqs:SendMessage'], QUEUE)], call('sqs:SendMessage', QUEUE))
          .kind,
      ).toBe('allowed');
    });

    it('allows everything but the NotAction actions', () => {
      const statements: Statement[] = [
        { Effect: 'Allow', NotAction: ['iam:*', 'sts:AssumeRole'], Resource: '*' },
      ];
      expect(evaluate(statements, call('sqs:SendMessage', QUEUE)).kind).toBe('allowed');
      expect(evaluate(statements, call('iam:CreateUser', '*')).kind).toBe('denied');
      expect(evaluate(statements, call('sts:AssumeRole', '*')).kind).toBe('denied');
    });

    it('denies through a Deny with NotAction everything but the listed actions', () => {
      const statements: Statement[] = [
        allow('*', '*'),
        { Effect: 'Deny', NotAction: 'dynamodb:GetItem', Resource: TABLE },
      ];
      expect(evaluate(statements, call('dynamodb:GetItem', TABLE)).kind).toBe('allowed');
      expect(evaluate(statements, call('dynamodb:PutItem', TABLE))).toEqual({
        kind: 'denied',
        reason: 'explicit',
        statement: 1,
      });
    });
  });

  describe('resources', () => {
    it.each([
      ['*', QUEUE, true],
      ['*', '*', true],
      [QUEUE, QUEUE, true],
      [`arn:aws:sqs:us-east-1:${ACCOUNT}:payhook-*`, QUEUE, true],
      [`arn:aws:sqs:*:${ACCOUNT}:payhook-high`, QUEUE, true],
      [`arn:aws:sqs:us-east-?:${ACCOUNT}:payhook-high`, QUEUE, true],
      [`arn:aws:sqs:us-east-1:${ACCOUNT}:payhook-hig?`, QUEUE, true],
      [`arn:aws:sqs:us-east-1:${ACCOUNT}:payhook-low`, QUEUE, false],
      [`arn:aws:sqs:us-east-1:${ACCOUNT}:PAYHOOK-HIGH`, QUEUE, false],
      [`arn:aws:sqs:eu-west-1:${ACCOUNT}:payhook-high`, QUEUE, false],
      [`${TABLE}*`, `${TABLE}/index/y`, true],
      [`${TABLE}/index/*`, `${TABLE}/index/y`, true],
      [`${TABLE}/index/*`, TABLE, false],
      [QUEUE, '*', false],
      // A `*` in one ARN part never spans into the next one.
      [`arn:aws:*:${ACCOUNT}:payhook-high`, QUEUE, false],
      ['arn:aws:sqs:*', QUEUE, false],
    ])('Resource %s matching %s is %s', (pattern, resource, allowed) => {
      expect(evaluate([allow('sqs:SendMessage', pattern)], call('sqs:SendMessage', resource)).kind).toBe(
        allowed ? 'allowed' : 'denied',
      );
    });

    it('keeps the colons of the resource part: function:name:* covers aliases, not the bare function', () => {
      // The reconciler schedule role's shape: the function ARN, and Fn::Join of it with ':*'.
      const fn = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:reconciler`;
      const aliasesOnly = [allow('lambda:InvokeFunction', `${fn}:*`)];
      expect(evaluate(aliasesOnly, call('lambda:InvokeFunction', `${fn}:live`)).kind).toBe('allowed');
      expect(evaluate(aliasesOnly, call('lambda:InvokeFunction', fn)).kind).toBe('denied');
    });

    it('allows everything but the NotResource resources', () => {
      const statements = [
        {
          Effect: 'Allow',
          Action: 'secretsmanager:GetSecretValue',
          NotResource: `arn:aws:secretsmanager:*:*:secret:admin-*`,
        } as const,
      ];
      const secret = (name: string) => `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:${name}`;
      expect(evaluate(statements, call('secretsmanager:GetSecretValue', secret('stripe-AbCdEf'))).kind).toBe(
        'allowed',
      );
      expect(evaluate(statements, call('secretsmanager:GetSecretValue', secret('admin-AbCdEf'))).kind).toBe(
        'denied',
      );
    });

    it('is undecidable for a Resource holding an unresolved intrinsic, rather than not matching', () => {
      const statements = [
        { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': ['Q', 'Arn'] } },
      ];
      const decision = evaluate(statements as unknown as Statement[], call('sqs:SendMessage', QUEUE));
      expect(decision).toMatchObject({ kind: 'undecidable', statement: 0 });
    });

    it('is undecidable for a Resource with a policy variable', () => {
      const statements = [allow('s3:GetObject', 'arn:aws:s3:::bucket/${aws:username}/*')];
      const decision = evaluate(statements, call('s3:GetObject', 'arn:aws:s3:::bucket/alice/file'));
      expect(decision).toMatchObject({ kind: 'undecidable', statement: 0 });
    });
  });

  describe('explicit deny', () => {
    it('beats an Allow whichever comes first', () => {
      const allowThenDeny = [allow('sqs:*', '*'), deny('sqs:SendMessage', QUEUE)];
      expect(evaluate(allowThenDeny, call('sqs:SendMessage', QUEUE))).toEqual({
        kind: 'denied',
        reason: 'explicit',
        statement: 1,
      });
      const denyThenAllow = [deny('sqs:SendMessage', QUEUE), allow('sqs:*', '*')];
      expect(evaluate(denyThenAllow, call('sqs:SendMessage', QUEUE))).toEqual({
        kind: 'denied',
        reason: 'explicit',
        statement: 0,
      });
    });

    it('does not deny calls outside its action or resource', () => {
      const statements = [allow('sqs:*', '*'), deny('sqs:SendMessage', QUEUE)];
      expect(evaluate(statements, call('sqs:ReceiveMessage', QUEUE)).kind).toBe('allowed');
      expect(evaluate(statements, call('sqs:SendMessage', `${QUEUE}-dlq`)).kind).toBe('allowed');
    });

    it('denies only when its condition holds', () => {
      const statements = [
        allow('sqs:*', '*'),
        deny('sqs:*', '*', { Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      ];
      expect(
        evaluate(statements, call('sqs:SendMessage', QUEUE, { 'aws:SecureTransport': ['false'] })).kind,
      ).toBe('denied');
      expect(
        evaluate(statements, call('sqs:SendMessage', QUEUE, { 'aws:SecureTransport': ['true'] })).kind,
      ).toBe('allowed');
    });
  });

  describe('conditions', () => {
    /** The decision kind of an Allow-everything statement with this condition. */
    const withCondition = (
      condition: Record<string, Record<string, string | string[]>>,
      context?: AwsCall['context'],
    ) => evaluate([allow('*', '*', { Condition: condition })], call('sqs:SendMessage', QUEUE, context)).kind;

    it.each([
      ['StringEquals', 'k', 'a', ['a'], 'allowed'],
      ['StringEquals', 'k', 'a', ['A'], 'denied'],
      ['StringEquals', 'k', 'a*', ['ab'], 'denied'],
      ['StringNotEquals', 'k', 'a', ['b'], 'allowed'],
      ['StringNotEquals', 'k', 'a', ['a'], 'denied'],
      ['StringEqualsIgnoreCase', 'k', 'Payhook', ['PAYHOOK'], 'allowed'],
      ['StringEqualsIgnoreCase', 'k', 'payhook', ['other'], 'denied'],
      ['StringLike', 'k', 'RECONCILER#*', ['RECONCILER#1'], 'allowed'],
      ['StringLike', 'k', 'v?', ['v1'], 'allowed'],
      ['StringLike', 'k', 'reconciler#*', ['RECONCILER#1'], 'denied'],
      ['StringNotLike', 'k', 'PAYMENT#*', ['RECONCILER#1'], 'allowed'],
      ['StringNotLike', 'k', 'PAYMENT#*', ['PAYMENT#1'], 'denied'],
      ['ArnEquals', 'aws:SourceArn', QUEUE, [QUEUE], 'allowed'],
      ['ArnLike', 'aws:SourceArn', 'arn:aws:sqs:*:*:payhook-*', [QUEUE], 'allowed'],
      ['ArnLike', 'aws:SourceArn', 'arn:aws:sqs:*:*:other', [QUEUE], 'denied'],
      ['ArnNotEquals', 'aws:SourceArn', QUEUE, [QUEUE], 'denied'],
      ['ArnNotLike', 'aws:SourceArn', 'arn:aws:sqs:*:*:other', [QUEUE], 'allowed'],
      ['Bool', 'aws:SecureTransport', 'true', ['true'], 'allowed'],
      ['Bool', 'aws:SecureTransport', 'true', ['false'], 'denied'],
    ])('%s %s %s with request value %j is %s', (operator, key, value, requestValues, expected) => {
      expect(withCondition({ [operator]: { [key]: value } }, { [key]: requestValues })).toBe(expected);
    });

    it('accepts a JSON boolean as a Bool value, as policies often write it', () => {
      const condition = { Bool: { 'aws:SecureTransport': true } } as unknown as Record<
        string,
        Record<string, string>
      >;
      expect(withCondition(condition, { 'aws:SecureTransport': ['true'] })).toBe('allowed');
    });

    it('ORs the values given for one key', () => {
      const condition = { StringEquals: { k: ['a', 'b'] } };
      expect(withCondition(condition, { k: ['b'] })).toBe('allowed');
      expect(withCondition(condition, { k: ['c'] })).toBe('denied');
    });

    it('requires a negated operator to match none of the values given for one key', () => {
      const condition = { StringNotEquals: { k: ['a', 'b'] } };
      expect(withCondition(condition, { k: ['b'] })).toBe('denied');
      expect(withCondition(condition, { k: ['c'] })).toBe('allowed');
    });

    it('ANDs the keys of one operator', () => {
      const condition = { StringEquals: { k: 'a', j: 'b' } };
      expect(withCondition(condition, { k: ['a'], j: ['b'] })).toBe('allowed');
      expect(withCondition(condition, { k: ['a'], j: ['x'] })).toBe('denied');
    });

    it('ANDs the operators of one condition', () => {
      const condition = { StringEquals: { k: 'a' }, StringLike: { j: 'b*' } };
      expect(withCondition(condition, { k: ['a'], j: ['bee'] })).toBe('allowed');
      expect(withCondition(condition, { k: ['a'], j: ['x'] })).toBe('denied');
    });

    it('cannot decide a condition on a key the request was not described with', () => {
      expect(withCondition({ StringEquals: { k: 'a' } })).toBe('undecidable');
      expect(withCondition({ 'ForAllValues:StringEquals': { k: 'a' } })).toBe('undecidable');
    });

    describe('keys known to be missing, following IAM', () => {
      // The request is described as lacking every key the condition names.
      const withCondition = (
        condition: Record<string, Record<string, string | string[]>>,
        context?: AwsCall['context'],
      ) =>
        evaluate([allow('*', '*', { Condition: condition })], {
          ...call('sqs:SendMessage', QUEUE, context),
          absentKeys: Object.values(condition)
            .flatMap((block) => Object.keys(block))
            .filter((key) => context?.[key] === undefined),
        }).kind;

      it('makes a single-valued operator false', () => {
        expect(withCondition({ StringEquals: { k: 'a' } })).toBe('denied');
        expect(withCondition({ StringLike: { k: '*' } }, { k: [] })).toBe('denied');
      });

      it('makes a negated single-valued operator true (the key cannot match what it must not match)', () => {
        expect(withCondition({ StringNotEquals: { k: 'a' } })).toBe('allowed');
        expect(withCondition({ ArnNotLike: { 'aws:SourceArn': QUEUE } })).toBe('allowed');
      });

      it('makes an IfExists operator true, and evaluates it as usual when the key is present', () => {
        expect(withCondition({ StringEqualsIfExists: { k: 'a' } })).toBe('allowed');
        expect(withCondition({ StringEqualsIfExists: { k: 'a' } }, { k: ['b'] })).toBe('denied');
        expect(withCondition({ StringEqualsIfExists: { k: 'a' } }, { k: ['a'] })).toBe('allowed');
      });

      it('makes ForAllValues true for a missing or empty key', () => {
        expect(withCondition({ 'ForAllValues:StringEquals': { k: 'a' } })).toBe('allowed');
        expect(withCondition({ 'ForAllValues:StringEquals': { k: 'a' } }, { k: [] })).toBe('allowed');
      });

      it('makes ForAnyValue false for a missing or empty key, unless IfExists', () => {
        expect(withCondition({ 'ForAnyValue:StringEquals': { k: 'a' } })).toBe('denied');
        expect(withCondition({ 'ForAnyValue:StringEquals': { k: 'a' } }, { k: [] })).toBe('denied');
        expect(withCondition({ 'ForAnyValue:StringEqualsIfExists': { k: 'a' } })).toBe('allowed');
      });
    });

    it('makes ForAnyValue true when one request value matches', () => {
      const condition = { 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': 'RECONCILER#*' } };
      expect(withCondition(condition, { 'dynamodb:LeadingKeys': ['PAYMENT#b', 'RECONCILER#a'] })).toBe(
        'allowed',
      );
      expect(withCondition(condition, { 'dynamodb:LeadingKeys': ['PAYMENT#b'] })).toBe('denied');
    });

    it('is undecidable for a single-valued operator over several request values', () => {
      expect(withCondition({ StringEquals: { k: 'a' } }, { k: ['a', 'b'] })).toBe('undecidable');
    });

    it('is undecidable for a condition value with a policy variable', () => {
      expect(withCondition({ StringEquals: { k: '${aws:username}' } }, { k: ['alice'] })).toBe('undecidable');
    });
  });

  describe('conditions that cannot be evaluated', () => {
    const unknown = { NumericLessThan: { 'aws:MultiFactorAuthAge': '3600' } };

    it('makes a matching Allow undecidable, naming the operator and the statement', () => {
      const decision = evaluate(
        [allow('sqs:SendMessage', QUEUE), allow('dynamodb:GetItem', TABLE, { Condition: unknown })],
        call('dynamodb:GetItem', TABLE),
      );
      expect(decision).toMatchObject({ kind: 'undecidable', statement: 1 });
      expect(decision.kind === 'undecidable' && decision.reason).toContain('NumericLessThan');
    });

    it('is ignored on a statement whose action does not match the call', () => {
      const statements = [
        allow('dynamodb:GetItem', TABLE, { Condition: unknown }),
        allow('sqs:SendMessage', QUEUE),
      ];
      expect(evaluate(statements, call('sqs:SendMessage', QUEUE))).toEqual({ kind: 'allowed', statement: 1 });
      expect(evaluate(statements, call('sqs:ReceiveMessage', QUEUE))).toEqual({
        kind: 'denied',
        reason: 'implicit',
      });
    });

    it('is ignored on a statement whose resource does not match the call', () => {
      const statements = [allow('sqs:SendMessage', `${QUEUE}-dlq`, { Condition: unknown })];
      expect(evaluate(statements, call('sqs:SendMessage', QUEUE))).toEqual({
        kind: 'denied',
        reason: 'implicit',
      });
    });

    it('is ignored when another operator of the same condition is definitely false', () => {
      const condition = { ...unknown, StringEquals: { k: 'a' } };
      const decision = evaluate(
        [allow('sqs:*', '*', { Condition: condition })],
        call('sqs:SendMessage', QUEUE, { k: ['b'] }),
      );
      expect(decision).toEqual({ kind: 'denied', reason: 'implicit' });
    });

    it('does not matter when another Allow fully applies', () => {
      const statements = [allow('sqs:*', '*', { Condition: unknown }), allow('sqs:SendMessage', QUEUE)];
      expect(evaluate(statements, call('sqs:SendMessage', QUEUE))).toEqual({ kind: 'allowed', statement: 1 });
    });

    it('makes a matching Deny undecidable even when an Allow applies, since the Deny would win', () => {
      const statements = [allow('sqs:SendMessage', QUEUE), deny('sqs:*', '*', { Condition: unknown })];
      expect(evaluate(statements, call('sqs:SendMessage', QUEUE))).toMatchObject({
        kind: 'undecidable',
        statement: 1,
      });
    });

    it('gives way to a Deny that definitely applies', () => {
      const statements = [deny('sqs:*', '*', { Condition: unknown }), deny('sqs:SendMessage', QUEUE)];
      expect(evaluate(statements, call('sqs:SendMessage', QUEUE))).toEqual({
        kind: 'denied',
        reason: 'explicit',
        statement: 1,
      });
    });

    it.each([['ForEveryValue:StringEquals'], ['StringEqualsIfExistsIfExists'], ['Null'], ['IpAddress']])(
      'treats operator %s as unknown',
      (operator) => {
        expect(
          evaluate(
            [allow('*', '*', { Condition: { [operator]: { k: 'a' } } })],
            call('sqs:SendMessage', QUEUE),
          ).kind,
        ).toBe('undecidable');
      },
    );
  });
});

describe('grantsOf', () => {
  it('lists each action x resource pair of the Allow statements, wildcards as written', () => {
    const statements: Statement[] = [
      allow(['sqs:SendMessage', 'sqs:Get*'], [QUEUE, `${QUEUE}-dlq`]),
      deny('sqs:DeleteQueue', '*'),
      allow('dynamodb:GetItem', TABLE, { Condition: { StringLike: { 'dynamodb:LeadingKeys': 'R#*' } } }),
    ];
    expect(grantsOf(statements)).toEqual([
      { action: 'sqs:SendMessage', resource: QUEUE, statement: 0, conditional: false },
      { action: 'sqs:SendMessage', resource: `${QUEUE}-dlq`, statement: 0, conditional: false },
      { action: 'sqs:Get*', resource: QUEUE, statement: 0, conditional: false },
      { action: 'sqs:Get*', resource: `${QUEUE}-dlq`, statement: 0, conditional: false },
      { action: 'dynamodb:GetItem', resource: TABLE, statement: 2, conditional: true },
    ]);
  });

  it('leaves out NotAction and NotResource statements, whose grants are complements', () => {
    const statements: Statement[] = [
      { Effect: 'Allow', NotAction: 'iam:*', Resource: '*' },
      { Effect: 'Allow', Action: 's3:GetObject', NotResource: 'arn:aws:s3:::private/*' },
    ];
    expect(grantsOf(statements)).toEqual([]);
  });
});

describe('unusedGrants', () => {
  const statements: Statement[] = [
    allow('sqs:SendMessage', [QUEUE, `${QUEUE}-dlq`]),
    allow('dynamodb:*', TABLE),
    allow('dynamodb:GetItem', `${TABLE}/index/*`, {
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['RECONCILER#*'] } },
    }),
  ];

  it('reports every grant when nothing was called', () => {
    expect(unusedGrants(statements, [])).toEqual(grantsOf(statements));
  });

  it('reports the grants no call matched, counting wildcard grants as used by any call they match', () => {
    const unused = unusedGrants(statements, [
      call('sqs:SendMessage', QUEUE),
      call('dynamodb:PutItem', TABLE),
    ]);
    expect(unused.map(({ action, resource }) => `${action} ${resource}`)).toEqual([
      `sqs:SendMessage ${QUEUE}-dlq`,
      `dynamodb:GetItem ${TABLE}/index/*`,
    ]);
  });

  it('does not count a call that the grant condition rules out as using the grant', () => {
    const calls = [call('dynamodb:GetItem', `${TABLE}/index/y`, { 'dynamodb:LeadingKeys': ['PAYMENT#b'] })];
    expect(unusedGrants(statements, calls).map((grant) => grant.statement)).toContain(2);
    const allowedCalls = [
      call('dynamodb:GetItem', `${TABLE}/index/y`, { 'dynamodb:LeadingKeys': ['RECONCILER#a'] }),
    ];
    expect(unusedGrants(statements, allowedCalls).map((grant) => grant.statement)).not.toContain(2);
  });
});

describe('statementsOfRole', () => {
  const s = (sid: string) => ({ Sid: sid, Effect: 'Allow', Action: 'sqs:SendMessage', Resource: '*' });
  const template = {
    Resources: {
      Role: {
        Type: 'AWS::IAM::Role',
        Properties: {
          Policies: [{ PolicyName: 'inline', PolicyDocument: { Statement: [s('inline')] } }],
          ManagedPolicyArns: [
            { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/ReadOnlyAccess']] },
            { Ref: 'ManagedByArn' },
          ],
        },
      },
      OtherRole: { Type: 'AWS::IAM::Role', Properties: { PermissionsBoundary: 'arn:aws:iam::1:policy/b' } },
      DefaultPolicy: {
        Type: 'AWS::IAM::Policy',
        Properties: {
          Roles: [{ Ref: 'OtherRole' }, { Ref: 'Role' }],
          // A single statement object instead of a list, as IAM allows.
          PolicyDocument: { Statement: s('policy') },
        },
      },
      ConditionalPolicy: {
        Type: 'AWS::IAM::Policy',
        Properties: {
          Roles: [{ Ref: 'Role' }],
          // Returned unresolved, for the caller's resolve to accept or reject.
          PolicyDocument: { Statement: [{ 'Fn::If': ['IsProd', s('prod'), { Ref: 'AWS::NoValue' }] }] },
        },
      },
      OtherPolicy: {
        Type: 'AWS::IAM::Policy',
        Properties: { Roles: [{ Ref: 'OtherRole' }], PolicyDocument: { Statement: [s('other')] } },
      },
      ManagedByRoles: {
        Type: 'AWS::IAM::ManagedPolicy',
        Properties: { Roles: [{ Ref: 'Role' }], PolicyDocument: { Statement: [s('managed-roles')] } },
      },
      ManagedByArn: {
        Type: 'AWS::IAM::ManagedPolicy',
        Properties: { PolicyDocument: { Statement: [s('managed-arn')] } },
      },
      RolePolicy: {
        Type: 'AWS::IAM::RolePolicy',
        Properties: { RoleName: { Ref: 'Role' }, PolicyDocument: { Statement: [s('role-policy')] } },
      },
      Queue: { Type: 'AWS::SQS::Queue', Properties: { Roles: [{ Ref: 'Role' }] } },
    },
  };

  it("collects the role's inline, attached, managed and role policies, and no other role's", () => {
    const { statements } = statementsOfRole(template, 'Role');
    expect(statements.map((statement) => statement.Sid ?? JSON.stringify(statement))).toEqual([
      'inline',
      'policy',
      JSON.stringify({ 'Fn::If': ['IsProd', s('prod'), { Ref: 'AWS::NoValue' }] }),
      'managed-roles',
      'managed-arn',
      'role-policy',
    ]);
  });

  it('reports managed policies by ARN as unsupported, since their statements are not in the template', () => {
    const { unsupported } = statementsOfRole(template, 'Role');
    expect(unsupported).toHaveLength(1);
    expect(unsupported[0]).toContain('ReadOnlyAccess');
  });

  it('reports a permissions boundary as unsupported rather than ignoring it silently', () => {
    const { statements, unsupported } = statementsOfRole(template, 'OtherRole');
    expect(statements.map((statement) => statement.Sid)).toEqual(['policy', 'other']);
    expect(unsupported).toEqual([expect.stringContaining('PermissionsBoundary')]);
  });

  it('throws for a logical id that is not a role', () => {
    expect(() => statementsOfRole(template, 'Queue')).toThrow(/Queue/);
    expect(() => statementsOfRole(template, 'Missing')).toThrow(/Missing/);
  });

  describe('on the synthesised stack', () => {
    const INGEST = 'payhook: verifies, normalises and queues gateway webhooks';
    const { template: synthesised } = synthesise();
    const json = synthesised.toJSON() as {
      Resources: Record<string, { Type: string; Properties?: unknown }>;
    };
    const region = 'eu-west-1';
    const ctx: TemplateContext = {
      region,
      accountId: ACCOUNT,
      partition: 'aws',
      urlSuffix: 'amazonaws.com',
      stackName: 'shop-prod',
      resources: Object.fromEntries(
        Object.entries(json.Resources).map(([logicalId, { Type }]) => [logicalId, emulated(logicalId, Type)]),
      ),
    };

    /** What the emulators would report for a resource: name-based refs and ARNs. */
    function emulated(logicalId: string, type: string): ResolvedResource {
      const name = logicalId.toLowerCase();
      const arn = (service: string, resource: string) =>
        `arn:aws:${service}:${region}:${ACCOUNT}:${resource}`;
      switch (type) {
        case 'AWS::DynamoDB::GlobalTable':
          return { ref: name, attributes: { Arn: arn('dynamodb', `table/${name}`) } };
        case 'AWS::SQS::Queue':
          return {
            ref: `https://sqs.${region}.amazonaws.com/${ACCOUNT}/${name}`,
            attributes: { Arn: arn('sqs', name), QueueName: name },
          };
        case 'AWS::SecretsManager::Secret':
          return { ref: arn('secretsmanager', `secret:${name}-AbCdEf`), attributes: {} };
        case 'AWS::Logs::LogGroup':
          return { ref: name, attributes: { Arn: arn('logs', `log-group:${name}:*`) } };
        default:
          return { ref: name, attributes: { Arn: arn(type.split('::')[1]?.toLowerCase() ?? 'x', name) } };
      }
    }

    const ingest = Object.values(json.Resources).find(
      (resource) =>
        resource.Type === 'AWS::Lambda::Function' &&
        (resource.Properties as { Description?: unknown } | undefined)?.Description === INGEST,
    );
    const roleId = (ingest?.Properties as { Role?: { 'Fn::GetAtt'?: [string, string] } } | undefined)?.Role?.[
      'Fn::GetAtt'
    ]?.[0];
    const byPrefix = (prefix: string, type: string) =>
      Object.keys(json.Resources).filter((id) => id.startsWith(prefix) && json.Resources[id]?.Type === type);
    const arnOf = (logicalId: string) => ctx.resources[logicalId]?.attributes.Arn ?? 'missing';

    it("finds the ingest role's statements, all of them resolvable and nothing unsupported", () => {
      expect(roleId).toBeDefined();
      const { statements, unsupported } = statementsOfRole(json, roleId ?? '');
      expect(unsupported).toEqual([]);
      expect(statements.length).toBeGreaterThan(0);
      expect(() => resolve(statements, ctx)).not.toThrow();
    });

    it('lets the ingest function do what it must: queue, read gateway secrets, record refusals', () => {
      const statements = resolve(statementsOfRole(json, roleId ?? '').statements, ctx) as Statement[];
      const [refused] = byPrefix('RefusedRequests', 'AWS::DynamoDB::GlobalTable');
      const queues = byPrefix('Pipeline', 'AWS::SQS::Queue').filter((id) => !id.includes('dlq'));
      const secrets = byPrefix('GatewaySecrets', 'AWS::SecretsManager::Secret');
      expect(queues).toHaveLength(3);
      expect(secrets.length).toBeGreaterThan(0);
      const calls = [
        call('dynamodb:PutItem', arnOf(refused ?? '')),
        ...queues.map((id) => call('sqs:SendMessage', arnOf(id))),
        ...secrets.map((id) => call('secretsmanager:GetSecretValue', ctx.resources[id]?.ref ?? '')),
      ];
      for (const awsCall of calls)
        expect(evaluate(statements, awsCall), JSON.stringify(awsCall)).toMatchObject({ kind: 'allowed' });
    });

    it('keeps the ingest function away from the payments table and from consuming queues', () => {
      const statements = resolve(statementsOfRole(json, roleId ?? '').statements, ctx) as Statement[];
      const [payments] = byPrefix('PaymentStorePayments', 'AWS::DynamoDB::GlobalTable');
      const [high] = byPrefix('Pipelinehigh', 'AWS::SQS::Queue').filter((id) => !id.includes('dlq'));
      expect(evaluate(statements, call('dynamodb:PutItem', arnOf(payments ?? ''))).kind).toBe('denied');
      expect(evaluate(statements, call('sqs:ReceiveMessage', arnOf(high ?? ''))).kind).toBe('denied');
    });

    it("resolves the ingest function's environment (Refs and the Fn::Join of secret ids)", () => {
      const environment = resolve(
        (ingest?.Properties as { Environment?: unknown } | undefined)?.Environment,
        ctx,
      ) as { Variables: Record<string, string> };
      const secretIds: unknown = JSON.parse(environment.Variables.PAYHOOK_GATEWAY_SECRET_IDS ?? 'null');
      expect(Object.values(secretIds as Record<string, string>)).toEqual(
        expect.arrayContaining([expect.stringMatching(/^arn:aws:secretsmanager:eu-west-1:/)]),
      );
    });
  });
});
