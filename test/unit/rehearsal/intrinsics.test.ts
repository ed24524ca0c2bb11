// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Fn::Sub and IAM policy variables use ${}.
import { describe, expect, it } from 'vitest';
import { resolve, type TemplateContext, UnresolvableError } from '../../../rehearsal/intrinsics.js';

const TABLE_ARN = 'arn:aws:dynamodb:us-east-1:123456789012:table/payments';
const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/payhook-high';

const ctx: TemplateContext = {
  region: 'us-east-1',
  accountId: '123456789012',
  partition: 'aws',
  urlSuffix: 'amazonaws.com',
  stackName: 'payhook',
  resources: {
    PaymentStorePaymentsCF8B80C9: { ref: 'payments', attributes: { Arn: TABLE_ARN } },
    Pipelinehigh3D592F3E: {
      ref: QUEUE_URL,
      attributes: { Arn: 'arn:aws:sqs:us-east-1:123456789012:payhook-high', QueueName: 'payhook-high' },
    },
    Database: { ref: 'db', attributes: { 'Endpoint.Address': 'db.example.internal' } },
  },
};

/** The error `resolve` throws, for assertions on its message and fields. */
function failure(value: unknown): UnresolvableError {
  try {
    resolve(value, ctx);
  } catch (error) {
    if (error instanceof UnresolvableError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(value)} not to resolve`);
}

describe('resolve', () => {
  describe('plain values', () => {
    it('returns scalars, null and intrinsic-free structures unchanged', () => {
      const value = { a: 1, b: [true, null, 'x'], c: { d: 'e' } };
      expect(resolve(value, ctx)).toEqual(value);
      expect(resolve('text', ctx)).toBe('text');
      expect(resolve(null, ctx)).toBeNull();
    });

    it('resolves intrinsics nested anywhere in objects and arrays, without mutating the input', () => {
      const value = { Variables: { URL: { Ref: 'Pipelinehigh3D592F3E' } }, List: [[{ Ref: 'AWS::Region' }]] };
      const copy = structuredClone(value);
      expect(resolve(value, ctx)).toEqual({ Variables: { URL: QUEUE_URL }, List: [['us-east-1']] });
      expect(value).toEqual(copy);
    });

    it('treats an object with Ref among other keys as plain data, not as an intrinsic', () => {
      expect(resolve({ Ref: 'NotAResource', Other: 1 }, ctx)).toEqual({ Ref: 'NotAResource', Other: 1 });
    });
  });

  describe('Ref', () => {
    it('gives the ref of a logical id (a queue URL, as in a function environment)', () => {
      expect(resolve({ Ref: 'Pipelinehigh3D592F3E' }, ctx)).toBe(QUEUE_URL);
    });

    it.each([
      ['AWS::Region', 'us-east-1'],
      ['AWS::AccountId', '123456789012'],
      ['AWS::Partition', 'aws'],
      ['AWS::URLSuffix', 'amazonaws.com'],
      ['AWS::StackName', 'payhook'],
    ])('gives pseudo parameter %s from the context', (name, expected) => {
      expect(resolve({ Ref: name }, ctx)).toBe(expected);
    });

    it('removes an object key whose value is AWS::NoValue instead of keeping a placeholder', () => {
      expect(resolve({ Keep: 'x', Drop: { Ref: 'AWS::NoValue' } }, ctx)).toEqual({ Keep: 'x' });
    });

    it('removes an array element that is AWS::NoValue instead of leaving a hole', () => {
      expect(resolve(['a', { Ref: 'AWS::NoValue' }, 'b'], ctx)).toEqual(['a', 'b']);
    });

    it('resolves a value that is AWS::NoValue as a whole to undefined', () => {
      expect(resolve({ Ref: 'AWS::NoValue' }, ctx)).toBeUndefined();
    });

    it('throws naming the logical id when it is not in the context', () => {
      const error = failure({ Environment: { Ref: 'MissingQueue' } });
      expect(error.intrinsic).toBe('Ref');
      expect(error.path).toBe('$.Environment');
      expect(error.message).toMatch(/Ref at \$\.Environment: .*'MissingQueue'/);
    });

    it('throws for a pseudo parameter the context lacks, instead of taking it for a logical id', () => {
      expect(failure({ Ref: 'AWS::StackId' }).message).toContain("pseudo parameter 'AWS::StackId'");
    });

    it('throws for a Ref whose argument is not a logical id', () => {
      expect(failure({ Ref: ['x'] }).intrinsic).toBe('Ref');
    });
  });

  describe('Fn::GetAtt', () => {
    it('resolves the ["LogicalId", "Attribute"] form (the Arn in every synthesised IAM statement)', () => {
      expect(resolve({ 'Fn::GetAtt': ['PaymentStorePaymentsCF8B80C9', 'Arn'] }, ctx)).toBe(TABLE_ARN);
    });

    it('resolves the "LogicalId.Attribute" form', () => {
      expect(resolve({ 'Fn::GetAtt': 'Pipelinehigh3D592F3E.QueueName' }, ctx)).toBe('payhook-high');
    });

    it('keeps dots after the first in the attribute name (Endpoint.Address)', () => {
      expect(resolve({ 'Fn::GetAtt': 'Database.Endpoint.Address' }, ctx)).toBe('db.example.internal');
      expect(resolve({ 'Fn::GetAtt': ['Database', 'Endpoint.Address'] }, ctx)).toBe('db.example.internal');
    });

    it('throws naming the logical id and attribute when the logical id is missing', () => {
      const error = failure({ 'Fn::GetAtt': ['GoneTable', 'Arn'] });
      expect(error.intrinsic).toBe('Fn::GetAtt');
      expect(error.message).toContain("'GoneTable'");
      expect(error.message).toContain("'Arn'");
    });

    it('throws naming the logical id and attribute when the attribute is missing', () => {
      const error = failure({ 'Fn::GetAtt': ['PaymentStorePaymentsCF8B80C9', 'StreamArn'] });
      expect(error.message).toContain("'PaymentStorePaymentsCF8B80C9' has no attribute 'StreamArn'");
    });

    it('does not resolve an attribute named like an Object.prototype member', () => {
      expect(failure({ 'Fn::GetAtt': ['PaymentStorePaymentsCF8B80C9', 'toString'] }).intrinsic).toBe(
        'Fn::GetAtt',
      );
    });

    it.each([[['OnlyOne']], ['NoDot'], [42]])('throws for a malformed argument %j', (argument) => {
      expect(failure({ 'Fn::GetAtt': argument }).intrinsic).toBe('Fn::GetAtt');
    });
  });

  describe('Fn::Join', () => {
    it('joins a GetAtt with a literal (the index ARN shape of the reconciler policy)', () => {
      const value = {
        'Fn::Join': ['', [{ 'Fn::GetAtt': ['PaymentStorePaymentsCF8B80C9', 'Arn'] }, '/index/by-age']],
      };
      expect(resolve(value, ctx)).toBe(`${TABLE_ARN}/index/by-age`);
    });

    it('joins Refs inside a JSON string (the PAYHOOK_GATEWAY_SECRET_IDS env shape)', () => {
      const value = { 'Fn::Join': ['', ['{"q":"', { Ref: 'Pipelinehigh3D592F3E' }, '"}']] };
      expect(JSON.parse(resolve(value, ctx) as string)).toEqual({ q: QUEUE_URL });
    });

    it('leaves AWS::NoValue elements out of the join', () => {
      expect(resolve({ 'Fn::Join': [',', ['a', { Ref: 'AWS::NoValue' }, 'b']] }, ctx)).toBe('a,b');
    });

    it('joins a list produced by another intrinsic', () => {
      expect(resolve({ 'Fn::Join': ['-', { 'Fn::Split': [',', 'a,b,c'] }] }, ctx)).toBe('a-b-c');
    });

    it.each([[['', 'not-a-list']], [[1, ['a']]], [['', [{ a: 1 }]]]])(
      'throws for a malformed argument %j',
      (argument) => {
        expect(failure({ 'Fn::Join': argument }).intrinsic).toBe('Fn::Join');
      },
    );
  });

  describe('Fn::Sub', () => {
    it('substitutes ${LogicalId}, ${LogicalId.Attr} and pseudo parameters in the string form', () => {
      const value = {
        'Fn::Sub': '${AWS::Region}|${Pipelinehigh3D592F3E}|${PaymentStorePaymentsCF8B80C9.Arn}',
      };
      expect(resolve(value, ctx)).toBe(`us-east-1|${QUEUE_URL}|${TABLE_ARN}`);
    });

    it('turns ${!Literal} into a literal ${Literal} (how IAM policy variables are written)', () => {
      expect(resolve({ 'Fn::Sub': 'users/${!aws:username}/${AWS::AccountId}' }, ctx)).toBe(
        'users/${aws:username}/123456789012',
      );
    });

    it('substitutes the cdk asset bucket name shape from the real template', () => {
      expect(resolve({ 'Fn::Sub': 'cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}' }, ctx)).toBe(
        'cdk-hnb659fds-assets-123456789012-us-east-1',
      );
    });

    it('prefers the variables of the [string, vars] form, resolving intrinsics in them', () => {
      const value = {
        'Fn::Sub': [
          '${Name}:${Pipelinehigh3D592F3E}:${AWS::Partition}',
          { Name: { Ref: 'AWS::StackName' }, Pipelinehigh3D592F3E: 'overridden' },
        ],
      };
      expect(resolve(value, ctx)).toBe('payhook:overridden:aws');
    });

    it('throws naming a ${Variable} that is neither a variable nor a logical id', () => {
      const error = failure({ 'Fn::Sub': 'x-${Unknown}' });
      expect(error.intrinsic).toBe('Ref');
      expect(error.message).toContain("'Unknown'");
    });

    it('throws naming the attribute of a missing ${LogicalId.Attr}', () => {
      expect(failure({ 'Fn::Sub': '${PaymentStorePaymentsCF8B80C9.StreamArn}' }).message).toContain(
        "'StreamArn'",
      );
    });

    it.each([[['x']], [['x', 'not-vars']], [42]])('throws for a malformed argument %j', (argument) => {
      expect(failure({ 'Fn::Sub': argument }).intrinsic).toBe('Fn::Sub');
    });
  });

  describe('Fn::Select and Fn::Split', () => {
    it('selects by number or numeric string', () => {
      expect(resolve({ 'Fn::Select': [1, ['a', 'b', 'c']] }, ctx)).toBe('b');
      expect(resolve({ 'Fn::Select': ['2', ['a', 'b', 'c']] }, ctx)).toBe('c');
    });

    it('selects a part of a split resolved value (the queue name out of a queue URL)', () => {
      const value = { 'Fn::Select': [4, { 'Fn::Split': ['/', { Ref: 'Pipelinehigh3D592F3E' }] }] };
      expect(resolve(value, ctx)).toBe('payhook-high');
    });

    it('splits a string into a list', () => {
      expect(
        resolve({ 'Fn::Split': [':', { 'Fn::GetAtt': ['PaymentStorePaymentsCF8B80C9', 'Arn'] }] }, ctx),
      ).toEqual(['arn', 'aws', 'dynamodb', 'us-east-1', '123456789012', 'table/payments']);
    });

    it.each([[[3, ['a']]], [[-1, ['a']]], [['x', ['a']]], [[0, 'a']]])(
      'throws for an index out of range or a non-list: %j',
      (argument) => {
        expect(failure({ 'Fn::Select': argument }).intrinsic).toBe('Fn::Select');
      },
    );

    it.each([[['', 'a']], [[',', ['a']]], ['a,b']])('throws for a malformed Fn::Split %j', (argument) => {
      expect(failure({ 'Fn::Split': argument }).intrinsic).toBe('Fn::Split');
    });
  });

  describe('unsupported intrinsics', () => {
    it.each([
      ['Fn::If', ['IsProd', 'a', 'b']],
      ['Fn::ImportValue', 'SharedVpcId'],
      ['Fn::FindInMap', ['Map', 'Key', 'Value']],
      ['Fn::GetAZs', ''],
      ['Fn::Base64', 'x'],
    ])('throws for %s rather than guessing, naming it and where it sits', (name, argument) => {
      const error = failure({ Statement: [{ Resource: { [name]: argument } }] });
      expect(error).toBeInstanceOf(UnresolvableError);
      expect(error.intrinsic).toBe(name);
      expect(error.message).toContain(name);
      expect(error.path).toBe('$.Statement[0].Resource');
    });
  });
});
