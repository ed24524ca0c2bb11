import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The parts of a synthesised CloudFormation template the rehearsal reads. */
export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
}

export interface Template {
  readonly Resources: Readonly<Record<string, TemplateResource>>;
}

/** One Lambda function as the template deploys it: what the rehearsal runs and checks. */
export interface TemplateFunction {
  readonly logicalId: string;
  /** `payhook/WebhookApi/Ingest/Function/Resource` shortened to `WebhookApi/Ingest`: how people name it. */
  readonly name: string;
  readonly handler: string;
  readonly runtime: string;
  /** The bundle exactly as `cdk deploy` uploads it. */
  readonly assetDir: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /** Unresolved: references are resolved against the emulated resources. */
  readonly environment: Readonly<Record<string, unknown>>;
  readonly roleLogicalId: string;
  readonly logGroupLogicalId?: string;
  readonly logFormat?: string;
}

export interface SynthOutput {
  readonly dir: string;
  readonly templateFile: string;
  readonly template: Template;
}

/** The one stack template in `cdk.out` (payhook synthesises one stack). */
export function readSynthOutput(dir: string): SynthOutput {
  const files = readdirSync(dir).filter((name) => name.endsWith('.template.json'));
  const [file] = files;
  if (file === undefined || files.length > 1) {
    throw new Error(`expected exactly one stack template in ${dir}, found ${files.length}`);
  }
  const templateFile = join(dir, file);
  return { dir, templateFile, template: JSON.parse(readFileSync(templateFile, 'utf8')) as Template };
}

export function resourcesOfType(template: Template, type: string): Array<[string, TemplateResource]> {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
}

/** The logical id a `{Ref: X}` or `{Fn::GetAtt: [X, ...]}` points at, if the value is one. */
export function referencedId(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  if (typeof record.Ref === 'string') return record.Ref;
  const getAtt = record['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  if (typeof getAtt === 'string') return getAtt.split('.')[0];
  return undefined;
}

function shortName(resource: TemplateResource, logicalId: string): string {
  const path = resource.Metadata?.['aws:cdk:path'];
  if (typeof path !== 'string') return logicalId;
  return path
    .split('/')
    .slice(1)
    .filter((part) => part !== 'Resource' && part !== 'Function')
    .join('/');
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`the template gives no ${what}`);
  return value;
}

export function functionsOf(output: SynthOutput): TemplateFunction[] {
  return resourcesOfType(output.template, 'AWS::Lambda::Function').map(([logicalId, resource]) => {
    const props = resource.Properties ?? {};
    const asset = resource.Metadata?.['aws:asset:path'];
    if (typeof asset !== 'string') throw new Error(`${logicalId} has no bundled asset in ${output.dir}`);
    const environment = (props.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables;
    const logging = props.LoggingConfig as { LogFormat?: string; LogGroup?: unknown } | undefined;
    const logGroupLogicalId = referencedId(logging?.LogGroup);
    return {
      logicalId,
      name: shortName(resource, logicalId),
      handler: required(props.Handler as string | undefined, `Handler for ${logicalId}`),
      runtime: required(props.Runtime as string | undefined, `Runtime for ${logicalId}`),
      assetDir: resolve(output.dir, asset),
      // CloudFormation's defaults when a property is left out.
      timeoutSeconds: (props.Timeout as number | undefined) ?? 3,
      memoryMb: (props.MemorySize as number | undefined) ?? 128,
      environment: environment ?? {},
      roleLogicalId: required(referencedId(props.Role), `role reference for ${logicalId}`),
      ...(logGroupLogicalId !== undefined && { logGroupLogicalId }),
      ...(logging?.LogFormat !== undefined && { logFormat: logging.LogFormat }),
    };
  });
}
