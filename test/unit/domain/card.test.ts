/**
 * Card checks: Luhn (also as a property over random numbers), brand by IIN range with its
 * lengths, CVC length per brand, expiry through the last day of the month, and the order in which
 * problems are reported. No message ever contains the number.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cardBrandOf, checkCard, isExpired, passesLuhn } from '../../../lambdas/domain/card';

const NOW = new Date('2026-11-30T12:00:00Z');

/** Appends the Luhn check digit. */
function withCheckDigit(prefix: string): string {
  for (let digit = 0; digit < 10; digit += 1) if (passesLuhn(`${prefix}${digit}`)) return `${prefix}${digit}`;
  throw new Error('unreachable');
}

describe('passesLuhn', () => {
  it("accepts the networks' published test numbers and rejects a changed digit", () => {
    for (const number of [
      '4242424242424242',
      '5555555555554444',
      '378282246310005',
      '6011111111111117',
      '3566002020360505',
      '30569309025904',
    ]) {
      expect(passesLuhn(number), number).toBe(true);
      const changed = `${number.slice(0, -1)}${(Number(number.at(-1)) + 1) % 10}`;
      expect(passesLuhn(changed), changed).toBe(false);
    }
  });

  it('accepts exactly one check digit for any prefix', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{11,18}$/), (prefix) => {
        const valid = Array.from({ length: 10 }, (_, digit) => passesLuhn(`${prefix}${digit}`)).filter(Boolean);
        expect(valid).toHaveLength(1);
      }),
    );
  });
});

describe('cardBrandOf', () => {
  it.each([
    ['4242424242424242', 'visa'],
    ['5555555555554444', 'mastercard'],
    ['2223003122003222', 'mastercard'],
    ['378282246310005', 'amex'],
    ['6011111111111117', 'discover'],
    ['6445644564456445', 'discover'],
    ['3566002020360505', 'jcb'],
    ['30569309025904', 'diners'],
    ['6200000000000005', 'unionpay'],
    ['9999999999999995', undefined],
    ['2720999999999996', 'mastercard'],
    ['2721000000000004', undefined],
  ])('%s is %s', (number, brand) => {
    expect(cardBrandOf(number)).toBe(brand);
  });
});

describe('checkCard', () => {
  it('normalises a number typed with spaces and keeps brand, last4 and expiry', () => {
    // Act
    const result = checkCard({ number: '4242 4242 4242 4242', expMonth: 11, expYear: 2026, cvc: '123' }, NOW);
    // Assess
    expect(result).toEqual({
      ok: true,
      card: { number: '4242424242424242', brand: 'visa', last4: '4242', expMonth: 11, expYear: 2026, cvc: '123' },
    });
  });

  it.each([
    ['a Luhn failure', { number: '4242424242424241' }, 'invalid_number', 'card.number'],
    ['too few digits', { number: withCheckDigit('42424242424') }, 'invalid_number', 'card.number'],
    ['dashes', { number: '4242-4242-4242-4242' }, 'invalid_number', 'card.number'],
    ['an unknown network', { number: '9999999999999995' }, 'unsupported_card_brand', 'card.number'],
    ['amex with 16 digits', { number: withCheckDigit('371449635398431') }, 'invalid_number', 'card.number'],
    ['month 0', { expMonth: 0 }, 'invalid_expiry_month', 'card.exp_month'],
    ['a fractional month', { expMonth: 1.5 }, 'invalid_expiry_month', 'card.exp_month'],
    ['a two-digit year', { expYear: 27 }, 'invalid_expiry_year', 'card.exp_year'],
    ['a year 21 years ahead', { expYear: 2047 }, 'invalid_expiry_year', 'card.exp_year'],
    ['last month', { expMonth: 10, expYear: 2026 }, 'expired_card', 'card.exp_month'],
    ['last year', { expMonth: 12, expYear: 2025 }, 'expired_card', 'card.exp_year'],
    ['a four-digit CVC on visa', { cvc: '1234' }, 'invalid_cvc', 'card.cvc'],
    ['a three-digit CVC on amex', { number: '378282246310005', cvc: '123' }, 'invalid_cvc', 'card.cvc'],
    ['letters in the CVC', { cvc: '12a' }, 'invalid_cvc', 'card.cvc'],
  ])('reports %s with its code and param, without the number', (_what, change, code, param) => {
    // Prepare
    const input = { number: '4242424242424242', expMonth: 12, expYear: 2030, cvc: '123', ...change };
    // Act
    const result = checkCard(input, NOW);
    // Assess
    expect(result).toMatchObject({ ok: false, problem: { code, param } });
    if (!result.ok) expect(result.problem.message).not.toContain(input.number.replaceAll(' ', ''));
  });

  it('accepts a card without CVC (merchant-side vaulting) and the 2047 limit minus one year', () => {
    expect(checkCard({ number: '5555555555554444', expMonth: 1, expYear: 2046 }, NOW)).toMatchObject({
      ok: true,
      card: { brand: 'mastercard' },
    });
  });
});

describe('isExpired', () => {
  it('keeps a card valid through the last day of its expiry month (UTC)', () => {
    expect(isExpired(11, 2026, new Date('2026-11-30T23:59:59Z'))).toBe(false);
    expect(isExpired(11, 2026, new Date('2026-12-01T00:00:00Z'))).toBe(true);
  });
});
