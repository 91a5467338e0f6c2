/**
 * Test helper: builds the real Paystep app (lib/paystep-app.ts, the same call bin/app.ts makes)
 * with cdk.json's context, so feature flags match `npm run synth`, and with bundling switched off
 * (`aws:cdk:bundling-stacks: []`) so no test runs esbuild. Also resolves the cross-stack
 * references (strong: `Fn::ImportValue` of a stateful export) of the stateless template back to the
 * stateful resource they name, so assertions can compare against logical IDs.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { addPaystepStacks, type PaystepStacks } from '../../lib/paystep-app';
import { DEFAULT_SANDBOX_PSP_URL } from '../../lib/paystep-config';
import { REPO_ROOT } from '../../lib/repo-root';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface SynthesizedPaystep extends PaystepStacks {
  readonly app: App;
  readonly stateful: PaystepStacks['stateful'];
  readonly stateless: PaystepStacks['stateless'];
  readonly statefulTemplate: Template;
  readonly statelessTemplate: Template;
  /** The stateless template with every Fn::ImportValue replaced by the stateful export's value. */
  readonly statelessJson: JsonObject;
  readonly statefulJson: JsonObject;
}

/** cdk.json's context: the recommended feature flags the CLI passes to the app. */
export function readCdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(resolve(REPO_ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
}

/**
 * A fresh App with cdk.json context, bundling off, the offline placeholder PSP URL (as
 * `npm run synth` passes it), and `extraContext` on top (like `-c k=v`).
 * CDK's built-in CloudFormation validation (cfn-lint compiled to WebAssembly, ~4 s per synth) is
 * off unless asked for: nag.test.ts runs it once on the full app, as `npm run synth` does.
 */
export function createTestApp(
  extraContext: Record<string, unknown> = {},
  options: { cloudFormationValidation?: boolean } = {},
): App {
  return new App({
    context: { ...readCdkJsonContext(), 'aws:cdk:bundling-stacks': [], sandboxPspUrl: DEFAULT_SANDBOX_PSP_URL, ...extraContext },
    builtinCloudFormationValidation: options.cloudFormationValidation ?? false,
  });
}

/** Builds and synthesizes both stacks. */
export function synthPaystep(extraContext: Record<string, unknown> = {}): SynthesizedPaystep {
  const app = createTestApp(extraContext);
  const stacks = addPaystepStacks(app);
  const statefulTemplate = Template.fromStack(stacks.stateful);
  const statelessTemplate = Template.fromStack(stacks.stateless);
  const statefulJson = statefulTemplate.toJSON() as JsonObject;
  const outputs = (statefulJson.Outputs ?? {}) as Record<string, { Value: Json; Export?: { Name?: Json } }>;
  const statelessJson = resolveStackOutputs(statelessTemplate.toJSON() as Json, outputs) as JsonObject;
  return { app, ...stacks, statefulTemplate, statelessTemplate, statefulJson, statelessJson };
}

function resolveStackOutputs(value: Json, outputs: Record<string, { Value: Json; Export?: { Name?: Json } }>): Json {
  if (Array.isArray(value)) return value.map((item) => resolveStackOutputs(item, outputs));
  if (value === null || typeof value !== 'object') return value;
  const imported = value['Fn::ImportValue'];
  if (typeof imported === 'string') {
    const output = Object.values(outputs).find((candidate) => candidate.Export?.Name === imported);
    if (output === undefined) throw new Error(`No stateful export ${imported}`);
    return output.Value;
  }
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, resolveStackOutputs(item, outputs)]));
}

/** Logical ID of a construct's CloudFormation resource (its default child for L2 constructs). */
export function logicalIdOf(construct: IConstruct): string {
  const element = (CfnElement.isCfnElement(construct) ? construct : construct.node.defaultChild) as CfnElement | undefined;
  if (element === undefined) throw new Error(`${construct.node.path} has no CloudFormation resource`);
  return Stack.of(element).resolve(element.logicalId) as string;
}

/** `{ "Fn::GetAtt": [<logical id>, attribute] }`, as the template renders it. */
export function getAtt(construct: IConstruct, attribute: string): JsonObject {
  return { 'Fn::GetAtt': [logicalIdOf(construct), attribute] };
}

export function ref(construct: IConstruct): JsonObject {
  return { Ref: logicalIdOf(construct) };
}

/** Resources of one type from a template JSON, keyed by logical ID. */
export function resourcesOfType(template: JsonObject, type: string): Record<string, JsonObject> {
  const resources = template.Resources as Record<string, JsonObject>;
  return Object.fromEntries(Object.entries(resources).filter(([, resource]) => resource.Type === type));
}

/** Stable string form of a JSON value, for set comparisons. */
export function canonical(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical(value[key]!)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
