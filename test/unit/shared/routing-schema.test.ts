/**
 * The routing wire schema (lambdas/shared/connector-schemas.ts) for a rule's `three_ds`: accepted
 * as `required`, refused otherwise with the param that names it, and carried to the domain and back.
 */
import { describe, expect, it } from 'vitest';
import { routingInputSchema, toRoutingConfig, toRoutingView } from '../../../lambdas/shared/connector-schemas';

const WIRE = {
  rules: [{ conditions: { currency: ['EUR'] }, connectors: ['sandbox'], three_ds: 'required' }],
  default: ['sandbox'],
  failover: false,
};

describe('routing rules with three_ds', () => {
  it('keeps three_ds: required from the wire to the domain and back', () => {
    // Act
    const config = toRoutingConfig(routingInputSchema.parse(WIRE));
    const view = toRoutingView(config);
    // Assess
    expect(config.rules[0]?.threeDs).toBe('required');
    expect(view).toEqual({ object: 'routing', ...WIRE });
  });

  it('refuses any other three_ds value at its path', () => {
    // Act
    const parsed = routingInputSchema.safeParse({ ...WIRE, rules: [{ ...WIRE.rules[0], three_ds: 'optional' }] });
    // Assess
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['rules', 0, 'three_ds']);
  });

  it('shows no three_ds on a rule that does not set it', () => {
    // Act
    const view = toRoutingView(
      toRoutingConfig(routingInputSchema.parse({ ...WIRE, rules: [{ conditions: {}, connectors: ['stripe'] }] })),
    );
    // Assess
    expect(view.rules[0]).toEqual({ conditions: {}, connectors: ['stripe'] });
  });
});
