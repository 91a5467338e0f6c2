import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  currencyExponent,
  formatMajorUnits,
  isSupportedCurrency,
  normalizeCurrency,
  toMajorUnitsNumber,
  UnsupportedCurrencyError,
} from '../../../lambdas/domain/money';

describe('currency codes', () => {
  it('takes exponents from the ISO 4217 dataset', () => {
    // Act
    const exponents = ['USD', 'KRW', 'BHD', 'JPY', 'CLF', 'XAF', 'XOF', 'XPF', 'XCD'].map(currencyExponent);
    // Assess
    expect(exponents).toEqual([2, 0, 3, 0, 4, 0, 0, 0, 2]);
  });

  it('normalises lower case and rejects unknown codes and non-currencies', () => {
    // Prepare
    const nonCurrencies = ['XXX', 'XTS', 'XAU', 'XAG', 'XPT', 'XPD', 'XDR', 'XSU', 'XUA', 'XBA', 'XBB', 'XBC', 'XBD'];
    // Act / Assess
    expect(normalizeCurrency('usd')).toBe('USD');
    expect(normalizeCurrency('ABC')).toBeUndefined();
    expect(normalizeCurrency('US')).toBeUndefined();
    expect(normalizeCurrency('USDX')).toBeUndefined();
    for (const code of nonCurrencies) expect(normalizeCurrency(code)).toBeUndefined();
    expect(isSupportedCurrency('USD')).toBe(true);
    expect(isSupportedCurrency('usd')).toBe(false);
    expect(() => currencyExponent('XAU')).toThrow(UnsupportedCurrencyError);
  });
});

describe('major units', () => {
  it.each([
    [10050, 'USD', '100.50', 100.5],
    [10000, 'KRW', '10000', 10000],
    [1, 'BHD', '0.001', 0.001],
    [1234567, 'BHD', '1234.567', 1234.567],
    [5, 'USD', '0.05', 0.05],
    [0, 'USD', '0.00', 0],
    [-250, 'EUR', '-2.50', -2.5],
    [12345, 'CLF', '1.2345', 1.2345],
  ])('%i %s is %s (%d)', (minor, currency, text, number) => {
    // Act / Assess
    expect(formatMajorUnits(minor, currency)).toBe(text);
    expect(toMajorUnitsNumber(minor, currency)).toBe(number);
  });

  it('round-trips every USD amount through the decimal string exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000_000 }), (minor) => {
        const major = formatMajorUnits(minor, 'USD');
        expect(Number(major.replace('.', ''))).toBe(minor);
        expect(toMajorUnitsNumber(minor, 'USD')).toBe(Number(major));
      }),
    );
  });

  it('refuses non-integer amounts', () => {
    expect(() => formatMajorUnits(100.5, 'USD')).toThrow(RangeError);
    expect(() => formatMajorUnits(Number.MAX_SAFE_INTEGER + 1, 'USD')).toThrow(RangeError);
  });
});
