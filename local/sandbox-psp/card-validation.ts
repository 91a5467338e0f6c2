/**
 * Validates the card fields of `POST /v1/tokens` (Luhn, expiry, CVC) the way a PSP's tokenizer
 * does, so the checkout page gets a clear 400 with the offending `param`. Returns only what the
 * sandbox keeps (last4, brand, expiry, behaviour): the full number and CVC go no further.
 */
import { passesLuhn } from '../../lambdas/domain/card';
import { detectBrand, findCardBehavior, type CardBehavior, type CardBrand } from './test-cards';

export interface CardValidationFailure {
  ok: false;
  code: string;
  message: string;
  param: string;
}

export interface ValidatedCard {
  ok: true;
  last4: string;
  brand: CardBrand;
  expMonth: number;
  expYear: number;
  behavior: CardBehavior;
}

function readInteger(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^\d{1,4}$/.test(value.trim())) return Number(value.trim());
  return undefined;
}

function fail(code: string, message: string, param: string): CardValidationFailure {
  return { ok: false, code, message, param };
}

/**
 * Checks number, exp_month, exp_year (2 or 4 digits) and cvc against `now`. `cvc: 'optional'`
 * (a stored card, whose CVC the vault destroyed after its first payment) accepts a missing CVC but
 * still checks one that is given.
 */
export function validateCard(
  input: Record<string, unknown>,
  now = new Date(),
  options: { cvc: 'required' | 'optional' } = { cvc: 'required' },
): ValidatedCard | CardValidationFailure {
  const rawNumber = input['number'];
  if (typeof rawNumber !== 'string') return fail('invalid_number', 'number is required and must be a string of digits', 'number');
  const number = rawNumber.replace(/[\s-]/g, '');
  if (!/^\d{12,19}$/.test(number)) return fail('invalid_number', 'number must have 12 to 19 digits', 'number');
  if (!passesLuhn(number)) return fail('invalid_number', 'number fails the Luhn check', 'number');

  const expMonth = readInteger(input['exp_month']);
  if (expMonth === undefined || expMonth < 1 || expMonth > 12) {
    return fail('invalid_expiry_month', 'exp_month must be an integer from 1 to 12', 'exp_month');
  }
  let expYear = readInteger(input['exp_year']);
  if (expYear !== undefined && expYear < 100) expYear += 2000;
  const currentYear = now.getUTCFullYear();
  if (expYear === undefined || expYear < 2000 || expYear > currentYear + 50) {
    return fail('invalid_expiry_year', 'exp_year must be a 2- or 4-digit year', 'exp_year');
  }
  const currentMonth = now.getUTCMonth() + 1;
  if (expYear < currentYear || (expYear === currentYear && expMonth < currentMonth)) {
    return fail('expired_card', 'the card has expired', 'exp_year');
  }

  const brand = detectBrand(number);
  const cvc = input['cvc'];
  const cvcLength = brand === 'amex' ? 4 : 3;
  const cvcMissing = cvc === undefined && options.cvc === 'optional';
  if (!cvcMissing && (typeof cvc !== 'string' || !new RegExp(`^\\d{${cvcLength}}$`).test(cvc))) {
    return fail('invalid_cvc', `cvc must be a string of ${cvcLength} digits`, 'cvc');
  }

  return { ok: true, last4: number.slice(-4), brand, expMonth, expYear, behavior: findCardBehavior(number) };
}
