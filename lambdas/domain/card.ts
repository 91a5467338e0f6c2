/**
 * Card checks for the vault (pure, no I/O): number normalisation, Luhn, brand and length by IIN
 * range, CVC length per brand, and expiry against the request's clock. Each failure names its API
 * code and `param`; no message ever repeats the number.
 */

export const CARD_BRANDS = ['visa', 'mastercard', 'amex', 'discover', 'diners', 'jcb', 'unionpay'] as const;
export type CardBrand = (typeof CARD_BRANDS)[number];

/** What a buyer or merchant sends: the number as typed (spaces allowed), the expiry and the CVC. */
export interface CardInput {
  readonly number: string;
  readonly expMonth: number;
  readonly expYear: number;
  readonly cvc?: string;
}

/** A card that passed every check: digits only, its brand, and its last four. */
export interface CheckedCard {
  readonly number: string;
  readonly brand: CardBrand;
  readonly last4: string;
  readonly expMonth: number;
  readonly expYear: number;
  readonly cvc?: string;
}

export interface CardProblem {
  readonly code:
    'invalid_number' | 'unsupported_card_brand' | 'invalid_expiry_month' | 'invalid_expiry_year' | 'expired_card' | 'invalid_cvc';
  readonly param: 'card.number' | 'card.exp_month' | 'card.exp_year' | 'card.cvc';
  readonly message: string;
}

interface BrandRule {
  readonly brand: CardBrand;
  /** Inclusive IIN prefix ranges, compared on the same number of leading digits. */
  readonly ranges: readonly (readonly [string, string])[];
  readonly lengths: readonly number[];
  readonly cvcLength: number;
}

/** IIN ranges of the networks Paystep's connectors accept (ISO/IEC 7812 registrations as the networks publish them). */
const BRAND_RULES: readonly BrandRule[] = [
  {
    brand: 'amex',
    ranges: [
      ['34', '34'],
      ['37', '37'],
    ],
    lengths: [15],
    cvcLength: 4,
  },
  {
    brand: 'diners',
    ranges: [
      ['300', '305'],
      ['36', '36'],
      ['38', '39'],
    ],
    lengths: [14, 15, 16, 17, 18, 19],
    cvcLength: 3,
  },
  { brand: 'jcb', ranges: [['3528', '3589']], lengths: [16, 17, 18, 19], cvcLength: 3 },
  { brand: 'visa', ranges: [['4', '4']], lengths: [13, 16, 19], cvcLength: 3 },
  {
    brand: 'mastercard',
    ranges: [
      ['51', '55'],
      ['2221', '2720'],
    ],
    lengths: [16],
    cvcLength: 3,
  },
  {
    brand: 'discover',
    ranges: [
      ['6011', '6011'],
      ['644', '649'],
      ['65', '65'],
    ],
    lengths: [16, 17, 18, 19],
    cvcLength: 3,
  },
  { brand: 'unionpay', ranges: [['62', '62']], lengths: [16, 17, 18, 19], cvcLength: 3 },
];

/** How far ahead an expiry may lie (cards are issued for at most a few years; 20 is generous). */
export const MAX_EXPIRY_YEARS_AHEAD = 20;

/** Luhn (mod 10) check over a string of digits. */
export function passesLuhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i -= 1) {
    let digit = digits.charCodeAt(i) - 48;
    if (double) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    double = !double;
  }
  return sum % 10 === 0;
}

/** The brand rule whose IIN range holds the number's leading digits, if any. */
function ruleFor(digits: string): BrandRule | undefined {
  return BRAND_RULES.find((rule) =>
    rule.ranges.some(([low, high]) => {
      const prefix = digits.slice(0, low.length);
      return prefix.length === low.length && prefix >= low && prefix <= high;
    }),
  );
}

/** The card brand by IIN range (undefined for networks Paystep does not accept). */
export function cardBrandOf(digits: string): CardBrand | undefined {
  return ruleFor(digits)?.brand;
}

/**
 * Checks a card as typed and returns it normalised, or the first problem (number, then expiry,
 * then CVC: the order a checkout form shows them). `now` is the request's clock; a card is valid
 * through the last day of its expiry month.
 */
export function checkCard(input: CardInput, now: Date): { ok: true; card: CheckedCard } | { ok: false; problem: CardProblem } {
  const fail = (problem: CardProblem) => ({ ok: false as const, problem });
  const digits = input.number.replace(/[ ]/g, '');
  if (!/^\d{12,19}$/.test(digits) || !passesLuhn(digits)) {
    return fail({ code: 'invalid_number', param: 'card.number', message: 'The card number is not a valid card number' });
  }
  const rule = ruleFor(digits);
  if (rule === undefined) {
    return fail({
      code: 'unsupported_card_brand',
      param: 'card.number',
      message: `The card's network is not accepted (accepted: ${CARD_BRANDS.join(', ')})`,
    });
  }
  if (!rule.lengths.includes(digits.length)) {
    return fail({
      code: 'invalid_number',
      param: 'card.number',
      message: `A ${rule.brand} card number has ${rule.lengths.join(' or ')} digits`,
    });
  }
  if (!Number.isInteger(input.expMonth) || input.expMonth < 1 || input.expMonth > 12) {
    return fail({
      code: 'invalid_expiry_month',
      param: 'card.exp_month',
      message: 'card.exp_month must be an integer from 1 to 12',
    });
  }
  const year = now.getUTCFullYear();
  if (!Number.isInteger(input.expYear) || input.expYear < 1000 || input.expYear > year + MAX_EXPIRY_YEARS_AHEAD) {
    return fail({
      code: 'invalid_expiry_year',
      param: 'card.exp_year',
      message: `card.exp_year must be a four-digit year up to ${year + MAX_EXPIRY_YEARS_AHEAD}`,
    });
  }
  if (isExpired(input.expMonth, input.expYear, now)) {
    return fail({
      code: 'expired_card',
      param: input.expYear < year ? 'card.exp_year' : 'card.exp_month',
      message: 'The card has expired',
    });
  }
  if (input.cvc !== undefined && !new RegExp(`^\\d{${rule.cvcLength}}$`).test(input.cvc)) {
    return fail({
      code: 'invalid_cvc',
      param: 'card.cvc',
      message: `A ${rule.brand} card's security code has ${rule.cvcLength} digits`,
    });
  }
  return {
    ok: true,
    card: {
      number: digits,
      brand: rule.brand,
      last4: digits.slice(-4),
      expMonth: input.expMonth,
      expYear: input.expYear,
      ...(input.cvc !== undefined ? { cvc: input.cvc } : {}),
    },
  };
}

/** Whether a card expiring (month, year) is past its last valid day at `now` (UTC). */
export function isExpired(expMonth: number, expYear: number, now: Date): boolean {
  const year = now.getUTCFullYear();
  const month = now.getUTCMonth() + 1;
  return expYear < year || (expYear === year && expMonth < month);
}
