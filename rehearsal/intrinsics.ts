/**
 * Resolution of CloudFormation intrinsic functions in a synthesised template, for the offline deploy
 * rehearsal: given what each logical id stands for (its `Ref` value and its `Fn::GetAtt` attributes, as the
 * emulators created them), turns template values such as an IAM statement's `Resource` or a function's
 * environment into plain JSON.
 *
 * Pure: no I/O, no AWS SDK. Only the intrinsics a CDK stack without conditions, mappings or imports emits are
 * supported; anything else throws {@link UnresolvableError} rather than guessing, because a rehearsal that
 * checks calls against a wrongly resolved policy would pass or fail for the wrong reason.
 */

export interface ResolvedResource {
  /** What `Ref` returns for the resource: a table name, a queue URL, a secret ARN... */
  readonly ref: string;
  /** What `Fn::GetAtt` returns, by attribute name (`Arn`, `QueueName`, `StreamArn`...). */
  readonly attributes: Readonly<Record<string, string>>;
}

export interface TemplateContext {
  readonly region: string;
  readonly accountId: string;
  readonly partition: string;
  readonly urlSuffix: string;
  readonly stackName: string;
  readonly resources: Readonly<Record<string, ResolvedResource>>;
}

/** A value uses an intrinsic (or names a logical id or attribute) that cannot be resolved offline. */
export class UnresolvableError extends Error {
  override readonly name = 'UnresolvableError';

  constructor(
    /** The intrinsic that failed, such as `Fn::GetAtt` or `Ref`. */
    readonly intrinsic: string,
    detail: string,
    /** Where in the resolved value the intrinsic sits, such as `$.Statement[2].Resource`. */
    readonly path: string,
  ) {
    super(`Cannot resolve ${intrinsic} at ${path}: ${detail}`);
  }
}

/**
 * Marks a value that `Ref: AWS::NoValue` removed. Internal: it never leaves {@link resolve}, which drops the
 * key or array element holding it (or returns `undefined` when the whole value was `AWS::NoValue`).
 */
const NO_VALUE: unique symbol = Symbol('AWS::NoValue');

const PSEUDO_PARAMETERS: Readonly<Record<string, (ctx: TemplateContext) => string>> = {
  'AWS::Region': (ctx) => ctx.region,
  'AWS::AccountId': (ctx) => ctx.accountId,
  'AWS::Partition': (ctx) => ctx.partition,
  'AWS::URLSuffix': (ctx) => ctx.urlSuffix,
  'AWS::StackName': (ctx) => ctx.stackName,
};

/**
 * Deep-resolves a template value. Plain objects and arrays are resolved recursively; an object with a single
 * key that is `Ref` or `Fn::*` is an intrinsic and is replaced by its value. `Ref: AWS::NoValue` removes the
 * key or array element that holds it. Throws {@link UnresolvableError} for any intrinsic it does not support
 * and for logical ids or attributes missing from `ctx.resources`.
 */
export function resolve(value: unknown, ctx: TemplateContext): unknown {
  const resolved = resolveAt(value, ctx, '$');
  return resolved === NO_VALUE ? undefined : resolved;
}

function resolveAt(value: unknown, ctx: TemplateContext, path: string): unknown {
  if (Array.isArray(value)) {
    return value
      .map((item, index) => resolveAt(item, ctx, `${path}[${index}]`))
      .filter((item) => item !== NO_VALUE);
  }
  if (!isRecord(value)) return value;
  const keys = Object.keys(value);
  const [only] = keys;
  if (keys.length === 1 && only !== undefined && isIntrinsicName(only)) {
    return resolveIntrinsic(only, value[only], ctx, path);
  }
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const resolved = resolveAt(value[key], ctx, `${path}.${key}`);
    if (resolved !== NO_VALUE) out[key] = resolved;
  }
  return out;
}

function isIntrinsicName(key: string): boolean {
  return key === 'Ref' || key.startsWith('Fn::');
}

function resolveIntrinsic(name: string, argument: unknown, ctx: TemplateContext, path: string): unknown {
  switch (name) {
    case 'Ref':
      return ref(argument, ctx, path);
    case 'Fn::GetAtt':
      return getAtt(argument, ctx, path);
    case 'Fn::Join':
      return join(argument, ctx, path);
    case 'Fn::Sub':
      return sub(argument, ctx, path);
    case 'Fn::Select':
      return select(argument, ctx, path);
    case 'Fn::Split':
      return split(argument, ctx, path);
    default:
      // Fn::If needs the template's Conditions, Fn::ImportValue another stack's exports, Fn::FindInMap the
      // Mappings, Fn::GetAZs the account: none of which a rehearsal has.
      throw new UnresolvableError(name, 'this intrinsic is not supported by the rehearsal', path);
  }
}

function ref(argument: unknown, ctx: TemplateContext, path: string): unknown {
  if (typeof argument !== 'string') {
    throw new UnresolvableError('Ref', `expected a logical id, got ${describe(argument)}`, path);
  }
  if (argument === 'AWS::NoValue') return NO_VALUE;
  const pseudo = PSEUDO_PARAMETERS[argument];
  if (pseudo) return pseudo(ctx);
  if (argument.startsWith('AWS::')) {
    throw new UnresolvableError('Ref', `pseudo parameter '${argument}' is not supported`, path);
  }
  const resource = ctx.resources[argument];
  if (!resource) {
    throw new UnresolvableError('Ref', `logical id '${argument}' is not in the template context`, path);
  }
  return resource.ref;
}

function getAtt(argument: unknown, ctx: TemplateContext, path: string): unknown {
  const [logicalId, attribute] = getAttTarget(argument, ctx, path);
  const resource = ctx.resources[logicalId];
  if (!resource) {
    throw new UnresolvableError(
      'Fn::GetAtt',
      `logical id '${logicalId}' (attribute '${attribute}') is not in the template context`,
      path,
    );
  }
  // Object.hasOwn: an attribute named like an Object.prototype member must not resolve to a function.
  const value = Object.hasOwn(resource.attributes, attribute) ? resource.attributes[attribute] : undefined;
  if (value === undefined) {
    throw new UnresolvableError(
      'Fn::GetAtt',
      `logical id '${logicalId}' has no attribute '${attribute}' in the template context`,
      path,
    );
  }
  return value;
}

function getAttTarget(argument: unknown, ctx: TemplateContext, path: string): [string, string] {
  if (typeof argument === 'string') {
    // "Resource.Attr": attribute names may themselves contain dots (`Endpoint.Address`), logical ids never
    // do.
    const dot = argument.indexOf('.');
    if (dot > 0 && dot < argument.length - 1) return [argument.slice(0, dot), argument.slice(dot + 1)];
  } else if (Array.isArray(argument) && argument.length === 2) {
    const [logicalId, attribute] = argument;
    // The attribute name may be given by an intrinsic (a `Ref` to a parameter, say); the logical id may not.
    const attributeName = resolveAt(attribute, ctx, `${path}.Fn::GetAtt[1]`);
    if (typeof logicalId === 'string' && typeof attributeName === 'string') return [logicalId, attributeName];
  }
  throw new UnresolvableError(
    'Fn::GetAtt',
    `expected ["LogicalId", "Attribute"] or "LogicalId.Attribute", got ${describe(argument)}`,
    path,
  );
}

function join(argument: unknown, ctx: TemplateContext, path: string): unknown {
  if (!Array.isArray(argument) || argument.length !== 2 || typeof argument[0] !== 'string') {
    throw new UnresolvableError(
      'Fn::Join',
      `expected ["delimiter", [values]], got ${describe(argument)}`,
      path,
    );
  }
  const [delimiter, list] = argument;
  const values = resolveAt(list, ctx, `${path}.Fn::Join[1]`);
  if (!Array.isArray(values)) {
    throw new UnresolvableError('Fn::Join', `expected a list of values, got ${describe(values)}`, path);
  }
  return values
    .map((item, index) => scalar('Fn::Join', item, `${path}.Fn::Join[1][${index}]`))
    .join(delimiter);
}

function sub(argument: unknown, ctx: TemplateContext, path: string): unknown {
  let template: unknown = argument;
  let variables: Record<string, unknown> = {};
  if (Array.isArray(argument)) {
    const [text, vars] = argument;
    if (argument.length !== 2 || !isRecord(vars)) {
      throw new UnresolvableError(
        'Fn::Sub',
        `expected ["string", {variables}], got ${describe(argument)}`,
        path,
      );
    }
    template = text;
    variables = vars;
  }
  if (typeof template !== 'string') {
    throw new UnresolvableError(
      'Fn::Sub',
      `expected a string to substitute into, got ${describe(template)}`,
      path,
    );
  }
  return template.replace(/\$\{([^}]*)\}/g, (_match, name: string) => {
    // `${!Literal}` is CloudFormation's escape for a literal `${Literal}` (an IAM policy variable,
    // typically).
    if (name.startsWith('!')) return `\${${name.slice(1)}}`;
    if (Object.hasOwn(variables, name)) {
      return scalar('Fn::Sub', resolveAt(variables[name], ctx, `${path}.Fn::Sub[1].${name}`), path);
    }
    if (name.startsWith('AWS::')) return scalar('Fn::Sub', ref(name, ctx, path), path);
    const dot = name.indexOf('.');
    const value = dot > 0 ? getAtt(name, ctx, path) : ref(name, ctx, path);
    return scalar('Fn::Sub', value, path);
  });
}

function select(argument: unknown, ctx: TemplateContext, path: string): unknown {
  if (!Array.isArray(argument) || argument.length !== 2) {
    throw new UnresolvableError('Fn::Select', `expected [index, [values]], got ${describe(argument)}`, path);
  }
  const index = Number(resolveAt(argument[0], ctx, `${path}.Fn::Select[0]`));
  const list = resolveAt(argument[1], ctx, `${path}.Fn::Select[1]`);
  if (!Array.isArray(list)) {
    throw new UnresolvableError('Fn::Select', `expected a list of values, got ${describe(list)}`, path);
  }
  if (!Number.isInteger(index) || index < 0 || index >= list.length) {
    throw new UnresolvableError(
      'Fn::Select',
      `index ${describe(argument[0])} is not within a list of ${list.length}`,
      path,
    );
  }
  return list[index];
}

function split(argument: unknown, ctx: TemplateContext, path: string): unknown {
  if (!Array.isArray(argument) || argument.length !== 2 || typeof argument[0] !== 'string' || !argument[0]) {
    throw new UnresolvableError(
      'Fn::Split',
      `expected ["delimiter", "string"], got ${describe(argument)}`,
      path,
    );
  }
  const source = resolveAt(argument[1], ctx, `${path}.Fn::Split[1]`);
  if (typeof source !== 'string') {
    throw new UnresolvableError('Fn::Split', `expected a string to split, got ${describe(source)}`, path);
  }
  return source.split(argument[0]);
}

/** A resolved value that must end up inside a string (a `Fn::Join` element, a `Fn::Sub` variable). */
function scalar(intrinsic: string, value: unknown, path: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new UnresolvableError(intrinsic, `expected a string value, got ${describe(value)}`, path);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === NO_VALUE) return 'AWS::NoValue';
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value);
  return json.length > 120 ? `${json.slice(0, 117)}...` : json;
}
