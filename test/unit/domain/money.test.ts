import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  currencyExponent,
  formatMajorUnits,
  isSupportedCurrency,
  majorUnitsText,
  maxAmountMinor,
  normalizeCurrency,
  parseMajorUnits,
  toMajorUnitsNumber,
  UnsupportedCurrencyError,
} from '../../../lambdas/domain/money';

describe('currency codes', () => {
  it('takes exponents from the ISO 4217 dataset', () => {
    // Act
    const exponents = ['USD', 'KRW', 'BHD', 'JPY', 'XAF', 'XOF', 'XPF', 'XCD'].map(currencyExponent);
    // Assess
    expect(exponents).toEqual([2, 0, 3, 0, 0, 0, 0, 2]);
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

describe('major units from JSON number text (NewStore amounts)', () => {
  it.each([
    ['50', 'USD', 5000],
    ['12.99', 'USD', 1299],
    ['12.990', 'USD', 1299],
    ['0.01', 'USD', 1],
    ['1e1', 'USD', 1000],
    ['1.5E-1', 'USD', 15],
    ['-2.5', 'EUR', -250],
    ['10000', 'KRW', 10000],
    ['1e3', 'KRW', 1000],
    ['0.001', 'BHD', 1],
    ['90071992547409.91', 'USD', Number.MAX_SAFE_INTEGER],
  ])('%s %s is %i minor units', (text, currency, minor) => {
    // Act / Assess
    expect(parseMajorUnits(text, currency)).toEqual({ ok: true, minor });
  });

  it.each([
    ['12.999', 'USD', 'too_precise'],
    ['0.0000000000000000001', 'USD', 'too_precise'],
    ['1.5', 'KRW', 'too_precise'],
    ['1e-1', 'KRW', 'too_precise'],
    ['0.0001', 'BHD', 'too_precise'],
    ['90071992547409.92', 'USD', 'too_large'],
    ['1e30', 'USD', 'too_large'],
    ['12,99', 'USD', 'malformed'],
    ['', 'USD', 'malformed'],
    ['NaN', 'USD', 'malformed'],
    ['01', 'USD', 'malformed'],
  ])('%s %s is refused as %s', (text, currency, problem) => {
    expect(parseMajorUnits(text, currency)).toEqual({ ok: false, problem });
  });

  it('round-trips every amount through the canonical major-unit text, for exponents 0, 2 and 3', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1_000_000_000_000, max: 1_000_000_000_000 }),
        fc.constantFrom('KRW', 'USD', 'BHD'),
        (minor, currency) => {
          const text = majorUnitsText(minor, currency);
          expect(text).not.toMatch(/\.\d*0$|\.$/);
          expect(parseMajorUnits(text, currency)).toEqual({ ok: true, minor });
        },
      ),
    );
  });

  it('writes major units without trailing zeros', () => {
    expect([
      majorUnitsText(5000, 'USD'),
      majorUnitsText(1299, 'USD'),
      majorUnitsText(-50, 'USD'),
      majorUnitsText(0, 'USD'),
      majorUnitsText(10000, 'KRW'),
    ]).toEqual(['50', '12.99', '-0.5', '0', '10000']);
  });
});

describe('cash currencies only (hardening rule)', () => {
  it.each(['BOV', 'CHE', 'CHW', 'CLF', 'COU', 'MXV', 'USN', 'UYI', 'UYW'])(
    'refuses the fund code or unit of account %s',
    (code) => {
      // Act / Assess
      expect(normalizeCurrency(code)).toBeUndefined();
      expect(normalizeCurrency(code.toLowerCase())).toBeUndefined();
      expect(() => currencyExponent(code)).toThrow(UnsupportedCurrencyError);
    },
  );

  it('refuses every code the ISO list behind the dataset flags as a fund (IsFund="true")', () => {
    // Prepare: the ISO 4217 list-one XML shipped with currency-codes
    const packageDir = dirname(createRequire(import.meta.url).resolve('currency-codes/package.json'));
    const xml = readFileSync(join(packageDir, 'iso-4217-list-one.xml'), 'utf8');
    const fundCodes = [...xml.matchAll(/<CcyNm IsFund="true">[^<]*<\/CcyNm>\s*<Ccy>([A-Z]{3})<\/Ccy>/g)].map(
      (match) => match[1]!,
    );
    // Act
    const accepted = fundCodes.filter((code) => normalizeCurrency(code) !== undefined);
    // Assess
    expect(fundCodes.length).toBeGreaterThanOrEqual(8);
    expect(accepted).toEqual([]);
  });

  it('still accepts the cash currencies of the same countries', () => {
    expect(['BOB', 'CHF', 'CLP', 'COP', 'MXN', 'USD', 'UYU'].map((code) => normalizeCurrency(code))).toEqual([
      'BOB',
      'CHF',
      'CLP',
      'COP',
      'MXN',
      'USD',
      'UYU',
    ]);
  });
});

describe('maxAmountMinor (per-currency maximum: 99,999,999 major units)', () => {
  it("allows 8 major digits plus the currency's minor digits", () => {
    // Act / Assess
    expect(maxAmountMinor('USD')).toBe(9_999_999_999);
    expect(formatMajorUnits(maxAmountMinor('USD'), 'USD')).toBe('99999999.99');
    expect(maxAmountMinor('JPY')).toBe(99_999_999);
    expect(maxAmountMinor('BHD')).toBe(99_999_999_999);
  });

  it('stays a safe integer in every accepted currency', () => {
    const codes = ['USD', 'JPY', 'BHD', 'KWD', 'EUR', 'VND', 'IDR'];
    for (const code of codes) expect(Number.isSafeInteger(maxAmountMinor(code))).toBe(true);
  });
});
