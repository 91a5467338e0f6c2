import { describe, expect, it } from 'vitest';
import { issuingCountryOf } from '../../../lambdas/domain/card-country';

describe('issuingCountryOf (the BIN table of lambdas/domain/card-country.ts)', () => {
  it.each([
    ['4000002760003184', 'DE'],
    ['4000008260003178', 'GB'],
    ['4000002500000003', 'FR'],
    ['4000003920000003', 'JP'],
    ['4242424242424242', 'US'],
    ['5555555555554444', 'US'],
    ['378282246310005', 'US'],
  ])('reads %s as issued in %s', (number, country) => {
    // Act
    const derived = issuingCountryOf(number);
    // Assess
    expect(derived).toBe(country);
  });

  it.each([
    ['a behaviour card without a country code (000)', '4000000000000002'],
    ['the frictionless 3-D Secure card', '4000000000003055'],
    ['a country card whose numeric code is not in the table', '4000009990000000'],
    ['a card outside the table', '4111111111111111'],
  ])('knows no country for %s', (_label, number) => {
    // Act
    const derived = issuingCountryOf(number);
    // Assess
    expect(derived).toBeUndefined();
  });
});
