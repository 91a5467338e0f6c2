/**
 * Cross-stack references are strong (CloudFormation exports and Fn::ImportValue), not weak
 * (Fn::GetStackOutput): CloudFormation does not accept Fn::GetStackOutput in every position (nested
 * in Fn::Join, as an output value) in every region yet, and a weak reference lets the stateless
 * stack keep a stale value after a stateful resource is replaced. For this same-account,
 * same-region pair, exports also stop the stateful stack from being deleted or changed under a
 * stateless stack that still uses it.
 */
import { describe, expect, it } from 'vitest';
import { readCdkJsonContext, synthPaystep, type Json } from './synth-paystep';

function collect(value: Json, key: string, into: Json[] = []): Json[] {
  if (Array.isArray(value)) for (const item of value) collect(item, key, into);
  else if (value !== null && typeof value === 'object') {
    for (const [name, item] of Object.entries(value)) {
      if (name === key) into.push(item);
      collect(item, key, into);
    }
  }
  return into;
}

describe('cross-stack references', () => {
  it('are strong: cdk.json asks for them and no template holds an Fn::GetStackOutput', () => {
    // Prepare
    const context = readCdkJsonContext();
    // Act
    const synth = synthPaystep();
    const stateless = synth.statelessTemplate.toJSON() as Json;
    const stateful = synth.statefulTemplate.toJSON() as Json;
    // Assess
    expect(context['@aws-cdk/core:defaultCrossStackReferences']).toBe('strong');
    expect(collect(stateless, 'Fn::GetStackOutput')).toEqual([]);
    expect(collect(stateful, 'Fn::GetStackOutput')).toEqual([]);
    const imports = collect(stateless, 'Fn::ImportValue');
    expect(imports.length).toBeGreaterThan(10);
    // Every import names an export of the stateful stack (so CloudFormation resolves it at deploy time).
    const exportNames = new Set(collect(stateful, 'Export').map((entry) => (entry as { Name: string }).Name));
    for (const name of imports) expect(exportNames, String(name)).toContain(name);
    expect(synth.stateless.dependencies.map((stack) => stack.stackName)).toContain(synth.stateful.stackName);
  });
});
