import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ROUTING,
  selectConnectors,
  selectRoute,
  shouldFailOver,
  type RoutingConfig,
} from '../../../lambdas/domain/routing';

const routing: RoutingConfig = {
  rules: [
    {
      conditions: { currency: ['EUR'], amountGte: 0, amountLt: 100_000, cardBrand: ['visa'], cardCountry: ['DE'] },
      connectors: ['stripe', 'sandbox'],
    },
    { conditions: { currency: ['USD'] }, connectors: ['sandbox'] },
  ],
  default: ['sandbox', 'stripe'],
  failover: true,
};

describe('selectConnectors', () => {
  it('picks the first rule whose conditions all hold', () => {
    // Act
    const connectors = selectConnectors(routing, { amount: 99_999, currency: 'EUR', cardBrand: 'visa', cardCountry: 'DE' });
    // Assess
    expect(connectors).toEqual(['stripe', 'sandbox']);
  });

  it('treats amount_lt as exclusive and falls back to default', () => {
    expect(selectConnectors(routing, { amount: 100_000, currency: 'EUR', cardBrand: 'visa', cardCountry: 'DE' })).toEqual([
      'sandbox',
      'stripe',
    ]);
  });

  it('never matches a card condition without card facts (a single-use token)', () => {
    expect(selectConnectors(routing, { amount: 500, currency: 'EUR' })).toEqual(['sandbox', 'stripe']);
  });

  it('matches a later rule when an earlier one does not hold', () => {
    expect(selectConnectors(routing, { amount: 500, currency: 'USD', cardBrand: 'mastercard' })).toEqual(['sandbox']);
  });

  it('routes a merchant without rules to sandbox only', () => {
    expect(selectConnectors(DEFAULT_ROUTING, { amount: 1, currency: 'EUR' })).toEqual(['sandbox']);
  });
});

describe('shouldFailOver', () => {
  it.each(['do_not_honor', 'processing_error', 'try_again_later'])('fails over on the soft decline %s', (code) => {
    expect(shouldFailOver(routing, { kind: 'declined', code }, 1)).toBe(true);
  });

  it.each(['insufficient_funds', 'stolen_card', 'expired_card', 'incorrect_cvc', 'authentication_failed', 'something_new'])(
    'never fails over on %s',
    (code) => {
      expect(shouldFailOver(routing, { kind: 'declined', code }, 1)).toBe(false);
    },
  );

  it('fails over on an unavailable PSP and on a timeout settled as not authorized', () => {
    expect(shouldFailOver(routing, { kind: 'unavailable' }, 1)).toBe(true);
    expect(shouldFailOver(routing, { kind: 'timed_out_not_authorized' }, 1)).toBe(true);
  });

  it('stops when no connector is left or failover is off', () => {
    expect(shouldFailOver(routing, { kind: 'unavailable' }, 0)).toBe(false);
    expect(shouldFailOver({ failover: false }, { kind: 'unavailable' }, 2)).toBe(false);
  });
});

describe('selectRoute (a rule may require 3-D Secure)', () => {
  const withThreeDs: RoutingConfig = {
    rules: [{ conditions: { currency: ['EUR'] }, connectors: ['sandbox'], threeDs: 'required' }],
    default: ['sandbox'],
    failover: false,
  };

  it('requires 3-D Secure when the picked rule says three_ds: required', () => {
    // Act
    const decision = selectRoute(withThreeDs, { amount: 500, currency: 'EUR' });
    // Assess
    expect(decision).toEqual({ connectors: ['sandbox'], threeDsRequired: true });
  });

  it('does not require it for a payment the default routes, nor for a rule without three_ds', () => {
    // Act
    const byDefault = selectRoute(withThreeDs, { amount: 500, currency: 'USD' });
    const byPlainRule = selectRoute(routing, { amount: 500, currency: 'USD' });
    // Assess
    expect(byDefault.threeDsRequired).toBe(false);
    expect(byPlainRule).toEqual({ connectors: ['sandbox'], threeDsRequired: false });
  });
});
