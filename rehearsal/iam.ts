/**
 * Identity-policy evaluation for the offline deploy rehearsal: decides whether a recorded AWS call would be
 * allowed by a function's synthesised IAM statements, and which granted permissions no call used.
 *
 * Follows the IAM policy evaluation logic for a single identity policy set
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html): an explicit
 * Deny wins, then any Allow, else the call is implicitly denied. Resource policies, permission boundaries,
 * SCPs and session policies are out of scope. Whatever this module cannot evaluate faithfully (an unknown
 * condition operator, a policy variable, an unresolved intrinsic) makes the decision `undecidable` rather
 * than a guess, but only for a statement whose other parts do apply to the call, so a statement about
 * something else never blurs a decision.
 *
 * Pure: no I/O, no AWS SDK.
 */

export interface Statement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | string[];
  readonly NotAction?: string | string[];
  readonly Resource?: string | string[];
  readonly NotResource?: string | string[];
  readonly Condition?: Record<string, Record<string, string | string[]>>;
  /** Ignored: the statements evaluated here are a role's identity policies, which have no principal. */
  readonly Principal?: unknown;
}

export interface AwsCall {
  /** `service:Action`, such as `dynamodb:PutItem`. */
  readonly action: string;
  /** The ARN the call acts on, or `*` for actions without resource-level permissions. */
  readonly resource: string;
  /** Condition keys of the request, such as `'dynamodb:LeadingKeys': ['RECONCILER#x']`. */
  readonly context?: Readonly<Record<string, readonly string[]>>;
  /**
   * Condition keys known to be absent from the request. A key a condition names that is neither in `context` nor
   * here is unknown to the rehearsal, and the statement is undecidable: IAM's rules for a missing key (`ForAllValues`
   * is vacuously true) would otherwise let through a call AWS would judge on a value the rehearsal never read.
   */
  readonly absentKeys?: readonly string[];
}

export type Decision =
  | { readonly kind: 'allowed'; readonly statement: number }
  | { readonly kind: 'denied'; readonly reason: 'implicit' | 'explicit'; readonly statement?: number }
  | { readonly kind: 'undecidable'; readonly reason: string; readonly statement: number };

export interface Grant {
  readonly action: string;
  readonly resource: string;
  /** Index of the statement granting it. */
  readonly statement: number;
  /** The statement has a Condition: the grant only holds for some requests. */
  readonly conditional: boolean;
}

/** Whether a part of a statement applies to a call: yes, no, or cannot tell (and why). */
type Verdict = 'yes' | 'no' | { readonly undecidable: string };

/** Decides a call against a set of identity-policy statements (already resolved by `intrinsics.resolve`). */
export function evaluate(statements: readonly Statement[], call: AwsCall): Decision {
  const context = lowerCaseKeys(call.context, call.absentKeys);
  let allowedBy: number | undefined;
  let undecidedAllow: { statement: number; reason: string } | undefined;
  let undecidedDeny: { statement: number; reason: string } | undefined;
  for (const [index, statement] of statements.entries()) {
    const verdict = applies(statement, call, context);
    if (verdict === 'no') continue;
    const effect: unknown = statement.Effect;
    if (effect !== 'Allow' && effect !== 'Deny') {
      // It could be a Deny (an unresolved Fn::If, say): it must not be read as harmless.
      undecidedDeny ??= { statement: index, reason: `Effect ${describe(effect)} is neither Allow nor Deny` };
    } else if (effect === 'Deny') {
      if (verdict === 'yes') return { kind: 'denied', reason: 'explicit', statement: index };
      undecidedDeny ??= { statement: index, reason: verdict.undecidable };
    } else if (verdict === 'yes') {
      allowedBy ??= index;
    } else {
      undecidedAllow ??= { statement: index, reason: verdict.undecidable };
    }
  }
  // A Deny that may apply leaves even an allowed call undecided: the Deny would win if it applied.
  if (undecidedDeny) return { kind: 'undecidable', ...undecidedDeny };
  if (allowedBy !== undefined) return { kind: 'allowed', statement: allowedBy };
  if (undecidedAllow) return { kind: 'undecidable', ...undecidedAllow };
  return { kind: 'denied', reason: 'implicit' };
}

/** Every action x resource pair the Allow statements grant, wildcards kept as written. */
export function grantsOf(statements: readonly Statement[]): Grant[] {
  return statements.flatMap((statement, index) => {
    // NotAction / NotResource grant a complement, which has no pairs to list.
    if (
      statement.Effect !== 'Allow' ||
      statement.NotAction !== undefined ||
      statement.NotResource !== undefined
    ) {
      return [];
    }
    const conditional = isRecord(statement.Condition) && Object.keys(statement.Condition).length > 0;
    const actions = strings(statement.Action);
    const resources = strings(statement.Resource);
    return actions.flatMap((action) =>
      resources.map((resource) => ({ action, resource, statement: index, conditional })),
    );
  });
}

/**
 * The grants no call used. A call uses a grant when it matches the grant's action and resource and the
 * statement's condition does not rule it out; a condition that cannot be evaluated counts as used, so that a
 * grant is never reported as removable on a guess.
 */
export function unusedGrants(statements: readonly Statement[], calls: readonly AwsCall[]): Grant[] {
  return grantsOf(statements).filter(
    (grant) =>
      !calls.some(
        (call) =>
          matchAction(grant.action, call.action) === 'yes' &&
          matchResource(grant.resource, call.resource) !== 'no' &&
          conditionVerdict(
            statements[grant.statement]?.Condition,
            lowerCaseKeys(call.context, call.absentKeys),
          ) !== 'no',
      ),
  );
}

// -----------------------------------------------------------------------------------------------------------
// Statement matching

function applies(statement: Statement, call: AwsCall, context: ContextMap): Verdict {
  return allOf([
    () =>
      element(statement.Action, statement.NotAction, 'Action', (pattern) =>
        matchAction(pattern, call.action),
      ),
    () =>
      element(statement.Resource, statement.NotResource, 'Resource', (pattern) =>
        matchResource(pattern, call.resource),
      ),
    () => conditionVerdict(statement.Condition, context),
  ]);
}

/** An `Action`/`NotAction` (or `Resource`/`NotResource`) pair: exactly one of the two must be present. */
function element(
  positive: unknown,
  negative: unknown,
  name: string,
  match: (pattern: unknown) => Verdict,
): Verdict {
  if (positive !== undefined && negative !== undefined) {
    return { undecidable: `statement has both ${name} and Not${name}` };
  }
  if (positive !== undefined) return anyOf(list(positive).map(match));
  if (negative !== undefined) return not(anyOf(list(negative).map(match)));
  return { undecidable: `statement has neither ${name} nor Not${name}` };
}

function matchAction(pattern: unknown, action: string): Verdict {
  if (typeof pattern !== 'string') return { undecidable: `Action ${describe(pattern)} is not a string` };
  return glob(pattern, action, true) ? 'yes' : 'no';
}

function matchResource(pattern: unknown, resource: string): Verdict {
  if (typeof pattern !== 'string') {
    return { undecidable: `Resource ${describe(pattern)} is not a string (an unresolved intrinsic?)` };
  }
  if (hasPolicyVariable(pattern)) return { undecidable: `Resource '${pattern}' uses a policy variable` };
  return arnMatches(pattern, resource) ? 'yes' : 'no';
}

// -----------------------------------------------------------------------------------------------------------
// Conditions

type ContextMap = ReadonlyMap<string, readonly string[]>;

interface Operator {
  /** `StringNotEquals` and friends: a value passes when it matches none of the policy values. */
  readonly negated: boolean;
  readonly test: (requestValue: string, policyValue: string) => boolean;
  /** IAM substitutes policy variables (`${aws:username}`) in these operators' values; we do not. */
  readonly takesVariables: boolean;
}

const equals = (a: string, b: string) => a === b;
const equalsIgnoreCase = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
const like = (value: string, pattern: string) => glob(pattern, value, false);
const arnLike = (value: string, pattern: string) => arnMatches(pattern, value);

const OPERATORS: Readonly<Record<string, Operator>> = {
  StringEquals: { negated: false, test: equals, takesVariables: true },
  StringNotEquals: { negated: true, test: equals, takesVariables: true },
  StringEqualsIgnoreCase: { negated: false, test: equalsIgnoreCase, takesVariables: true },
  StringNotEqualsIgnoreCase: { negated: true, test: equalsIgnoreCase, takesVariables: true },
  StringLike: { negated: false, test: like, takesVariables: true },
  StringNotLike: { negated: true, test: like, takesVariables: true },
  // IAM documents ArnEquals and ArnLike as the same comparison: per ARN part, wildcards allowed in both.
  ArnEquals: { negated: false, test: arnLike, takesVariables: true },
  ArnLike: { negated: false, test: arnLike, takesVariables: true },
  ArnNotEquals: { negated: true, test: arnLike, takesVariables: true },
  ArnNotLike: { negated: true, test: arnLike, takesVariables: true },
  Bool: { negated: false, test: equalsIgnoreCase, takesVariables: false },
};

function conditionVerdict(condition: unknown, context: ContextMap): Verdict {
  if (condition === undefined) return 'yes';
  if (!isRecord(condition)) return { undecidable: `Condition ${describe(condition)} is not an object` };
  // Operators AND, and so do the keys within one operator.
  return allOf(
    Object.entries(condition).map(
      ([operator, block]) =>
        () =>
          operatorVerdict(operator, block, context),
    ),
  );
}

function operatorVerdict(name: string, block: unknown, context: ContextMap): Verdict {
  const match = /^(?:(ForAllValues|ForAnyValue):)?(.+?)(IfExists)?$/.exec(name);
  const operator =
    match?.[2] !== undefined && Object.hasOwn(OPERATORS, match[2]) ? OPERATORS[match[2]] : undefined;
  if (!match || !operator) return { undecidable: `condition operator '${name}' is not supported` };
  if (!isRecord(block)) return { undecidable: `condition ${name} ${describe(block)} is not an object` };
  const set = match[1];
  const ifExists = match[3] !== undefined;
  return allOf(
    Object.entries(block).map(([key, values]) => () => {
      const policyValues = conditionValues(values);
      if (!policyValues) return { undecidable: `${name} ${key}: value ${describe(values)} is not a string` };
      if (operator.takesVariables && policyValues.some(hasPolicyVariable)) {
        return { undecidable: `${name} ${key}: policy variables are not evaluated` };
      }
      // Multiple policy values for one key OR; a negated operator passes a value that matches none of them.
      const passes = (value: string) => {
        const matched = policyValues.some((policyValue) => operator.test(value, policyValue));
        return operator.negated ? !matched : matched;
      };
      return keyVerdict(name, key, context.get(key.toLowerCase()), set, ifExists, operator.negated, passes);
    }),
  );
}

/** One key of a condition operator, with IAM's rules for keys missing from the request. */
function keyVerdict(
  operator: string,
  key: string,
  requestValues: readonly string[] | undefined,
  set: string | undefined,
  ifExists: boolean,
  negated: boolean,
  passes: (value: string) => boolean,
): Verdict {
  if (requestValues === undefined) {
    return { undecidable: `${operator} ${key}: the rehearsal does not know this key's value in the request` };
  }
  const missing = requestValues.length === 0;
  if (set === 'ForAllValues') {
    // Vacuously true for a missing or empty key: the reason ForAllValues is risky in an Allow.
    return missing || requestValues.every(passes) ? 'yes' : 'no';
  }
  if (set === 'ForAnyValue') {
    if (missing) return ifExists ? 'yes' : 'no';
    return requestValues.some(passes) ? 'yes' : 'no';
  }
  // A missing key makes a condition false, except that one requiring the key *not* to match (StringNotLike,
  // ArnNotEquals...) is true (reference_policies_elements_condition_operators), and ...IfExists is true.
  if (missing) return ifExists || negated ? 'yes' : 'no';
  const [only] = requestValues;
  if (requestValues.length > 1 || only === undefined) {
    return {
      undecidable: `${operator} ${key}: a single-valued operator on ${requestValues.length} request values`,
    };
  }
  return passes(only) ? 'yes' : 'no';
}

/** Condition values as strings, JSON booleans and numbers too (`"Bool": {"aws:SecureTransport": true}`). */
function conditionValues(values: unknown): string[] | undefined {
  const out: string[] = [];
  for (const value of list(values)) {
    if (typeof value === 'string') out.push(value);
    else if (typeof value === 'boolean' || typeof value === 'number') out.push(String(value));
    else return undefined;
  }
  return out;
}

/** The request's keys by lower-cased name; a key known to be absent maps to no values. */
function lowerCaseKeys(context: AwsCall['context'], absentKeys: AwsCall['absentKeys'] = []): ContextMap {
  const map = new Map<string, readonly string[]>(absentKeys.map((key) => [key.toLowerCase(), []]));
  for (const [key, values] of Object.entries(context ?? {})) {
    // Condition key names are case-insensitive; values are not.
    const lower = key.toLowerCase();
    map.set(lower, [...(map.get(lower) ?? []), ...values]);
  }
  return map;
}

// -----------------------------------------------------------------------------------------------------------
// Template

/**
 * The statements of every policy of a role in a template: the role's inline `Policies`, and every
 * AWS::IAM::Policy, AWS::IAM::ManagedPolicy (attached by its `Roles` or by the role's `ManagedPolicyArns`
 * naming it with `Ref`) and AWS::IAM::RolePolicy of the role. Statements are returned unresolved, in template
 * order; resolve them with `intrinsics.resolve`. `unsupported` describes what grants or limits the role but
 * is not in the template (managed policies by ARN, a permissions boundary) or could not be read.
 */
export function statementsOfRole(
  template: { Resources: Record<string, { Type: string; Properties?: unknown }> },
  roleLogicalId: string,
): { statements: Statement[]; unsupported: string[] } {
  const resources = template.Resources;
  const role = Object.hasOwn(resources, roleLogicalId) ? resources[roleLogicalId] : undefined;
  if (role?.Type !== 'AWS::IAM::Role') {
    throw new Error(`No AWS::IAM::Role with logical id '${roleLogicalId}' in the template`);
  }
  const statements: Statement[] = [];
  const unsupported: string[] = [];
  const props = isRecord(role.Properties) ? role.Properties : {};

  if (props.Policies !== undefined) {
    if (!Array.isArray(props.Policies)) {
      unsupported.push(`${roleLogicalId}.Policies: ${describe(props.Policies)} is not a list of policies`);
    } else {
      for (const [index, policy] of props.Policies.entries()) {
        const document = isRecord(policy) ? policy.PolicyDocument : undefined;
        collect(document, `${roleLogicalId}.Policies[${index}]`, statements, unsupported);
      }
    }
  }

  const attachedByArn = new Set<string>();
  for (const arn of props.ManagedPolicyArns === undefined ? [] : list(props.ManagedPolicyArns)) {
    const target = isRecord(arn) && typeof arn.Ref === 'string' ? arn.Ref : undefined;
    if (target !== undefined && resources[target]?.Type === 'AWS::IAM::ManagedPolicy')
      attachedByArn.add(target);
    else
      unsupported.push(
        `${roleLogicalId}.ManagedPolicyArns: ${describe(arn)} (its statements are not in the template)`,
      );
  }
  if (props.PermissionsBoundary !== undefined) {
    unsupported.push(
      `${roleLogicalId}.PermissionsBoundary: ${describe(props.PermissionsBoundary)} is not evaluated`,
    );
  }

  for (const [logicalId, resource] of Object.entries(resources)) {
    if (attachedByArn.has(logicalId) || attachesTo(resource, roleLogicalId)) {
      const document = isRecord(resource.Properties) ? resource.Properties.PolicyDocument : undefined;
      collect(document, logicalId, statements, unsupported);
    }
  }
  return { statements, unsupported };
}

function attachesTo(resource: { Type: string; Properties?: unknown }, roleLogicalId: string): boolean {
  const props = isRecord(resource.Properties) ? resource.Properties : {};
  const isRef = (value: unknown) => isRecord(value) && value.Ref === roleLogicalId;
  switch (resource.Type) {
    case 'AWS::IAM::Policy':
    case 'AWS::IAM::ManagedPolicy':
      return Array.isArray(props.Roles) && props.Roles.some(isRef);
    case 'AWS::IAM::RolePolicy':
      return isRef(props.RoleName);
    default:
      return false;
  }
}

function collect(document: unknown, where: string, statements: Statement[], unsupported: string[]): void {
  const statement = isRecord(document) ? document.Statement : undefined;
  if (statement === undefined) {
    unsupported.push(`${where}: PolicyDocument ${describe(document)} has no readable Statement`);
    return;
  }
  // Unresolved: the caller resolves them, intrinsics (Fn::If and all) included, so the shape is not checked
  // here.
  statements.push(...(list(statement) as Statement[]));
}

// -----------------------------------------------------------------------------------------------------------
// Matching primitives and verdict algebra

const globCache = new Map<string, RegExp>();

/** `*` matches any run of characters (colons and slashes included), `?` exactly one. */
function glob(pattern: string, value: string, ignoreCase: boolean): boolean {
  const cacheKey = `${ignoreCase ? 'i' : 's'}${pattern}`;
  let regex = globCache.get(cacheKey);
  if (!regex) {
    const source = pattern
      .split('')
      .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[\\^$.|+()[\]{}]/, '\\$&')))
      .join('');
    regex = new RegExp(`^${source}$`, ignoreCase ? 'is' : 's');
    globCache.set(cacheKey, regex);
  }
  return regex.test(value);
}

/**
 * IAM's ARN matching: each of the six colon-separated parts is globbed separately (the resource part keeps
 * its own colons, as in `function:name:alias`), case-sensitively; `*` alone matches anything, `*` as a call's
 * resource only.
 */
function arnMatches(pattern: string, value: string): boolean {
  if (pattern === '*') return true;
  const patternParts = arnParts(pattern);
  const valueParts = arnParts(value);
  if (patternParts && valueParts) {
    return patternParts.every((part, index) => glob(part, valueParts[index] ?? '', false));
  }
  // A malformed ARN on either side (`arn:aws:*:123:q`, five parts) matches nothing: globbing it whole would
  // let a `*` span parts, which IAM never does. Only non-ARN strings are globbed whole.
  if (pattern.startsWith('arn:') || value.startsWith('arn:')) return false;
  return glob(pattern, value, false);
}

function arnParts(arn: string): string[] | undefined {
  const parts = arn.split(':');
  if (parts.length < 6) return undefined;
  return [...parts.slice(0, 5), parts.slice(5).join(':')];
}

/** `${name}` in a policy; `${*}`, `${?}` and `${$}` (escapes for literal characters) are unsupported too. */
function hasPolicyVariable(value: string): boolean {
  return /\$\{[^}]*\}/.test(value);
}

function anyOf(verdicts: readonly Verdict[]): Verdict {
  if (verdicts.includes('yes')) return 'yes';
  return verdicts.find((verdict) => verdict !== 'no') ?? 'no';
}

/** AND, lazily: a definite 'no' beats an undecidable part, which matters only if the rest applies. */
function allOf(parts: readonly (() => Verdict)[]): Verdict {
  let undecided: Verdict | undefined;
  for (const part of parts) {
    const verdict = part();
    if (verdict === 'no') return 'no';
    if (verdict !== 'yes') undecided ??= verdict;
  }
  return undecided ?? 'yes';
}

function not(verdict: Verdict): Verdict {
  if (verdict === 'yes') return 'no';
  if (verdict === 'no') return 'yes';
  return verdict;
}

function list(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function strings(value: unknown): string[] {
  return list(value).filter((item): item is string => typeof item === 'string');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value);
  return json.length > 120 ? `${json.slice(0, 117)}...` : json;
}
