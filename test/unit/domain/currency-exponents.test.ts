import { code as datasetCode, data } from 'currency-codes';
import { describe, expect, it } from 'vitest';
import { currencyExponentsModule } from '../../../bin/currency-exponents';
import { code } from '../../../lambdas/domain/currency-exponents';

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

describe('the generated currency exponent table', () => {
  it('answers every three-letter code exactly as the currency-codes dataset does (code and minor-unit digits)', () => {
    // Prepare: all 17,576 upper-case three-letter codes
    const candidates = [...LETTERS].flatMap((a) => [...LETTERS].flatMap((b) => [...LETTERS].map((c) => `${a}${b}${c}`)));
    // Act
    const differing = candidates.filter((candidate) => {
      const record = datasetCode(candidate);
      const expected = record === undefined ? undefined : { code: record.code, digits: record.digits };
      return JSON.stringify(code(candidate)) !== JSON.stringify(expected);
    });
    // Assess
    expect(differing).toEqual([]);
    expect(candidates.filter((candidate) => code(candidate) !== undefined)).toHaveLength(data.length);
  });

  it('is generated with every non-negative integer exponent and skips records without one', () => {
    // Act
    const text = currencyExponentsModule(
      [
        { code: 'USD', digits: 2 },
        { code: 'JPY', digits: 0 },
        { code: 'XXX', digits: Number.NaN },
        { code: 'EUR', digits: 2 },
      ],
      '2024-06-25',
    );
    // Assess
    expect(text).toContain("[0, 'JPY'],");
    expect(text).toContain("[2, 'EUR USD'],");
    expect(text).not.toContain('XXX');
    expect(text).toContain('ISO 4217 list one of 2024-06-25');
  });
});
