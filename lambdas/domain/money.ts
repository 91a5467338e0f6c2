/**
 * Money rules for every amount Paystep stores or moves: integers in the currency's minor unit,
 * ISO 4217 alphabetic codes, exponents from the maintained `currency-codes` dataset (never a
 * hand-written table). Pure: no AWS import, no floating-point arithmetic.
 */
import { code as lookupCurrency } from 'currency-codes';

/**
 * ISO 4217 codes that are not money a buyer can pay with: no-currency and testing codes,
 * precious metals, IMF/regional units of account and the European bond-market units. The dataset
 * lists them with 0 digits, which would silently accept e.g. `XAU 100` as 100 "gold units".
 */
const NON_PAYABLE_CODES: ReadonlySet<string> = new Set([
  'XXX', // no currency involved
  'XTS', // reserved for testing
  'XAU', // gold
  'XAG', // silver
  'XPT', // platinum
  'XPD', // palladium
  'XDR', // IMF special drawing right
  'XSU', // SUCRE unit of account
  'XUA', // ADB unit of account
  'XBA', // bond-market units
  'XBB',
  'XBC',
  'XBD',
]);

/**
 * Upper-cases and checks a currency code. Returns the canonical code, or undefined when the code
 * is not an ISO 4217 currency a payment can be made in. Callers turn undefined into their own
 * error (422 `invalid_currency` in the API).
 */
export function normalizeCurrency(input: string): string | undefined {
  if (!/^[A-Za-z]{3}$/.test(input)) return undefined;
  const upper = input.toUpperCase();
  if (NON_PAYABLE_CODES.has(upper)) return undefined;
  const record = lookupCurrency(upper);
  if (record === undefined || !Number.isInteger(record.digits) || record.digits < 0) return undefined;
  return record.code;
}

/** True when `code` (already upper-case) is an ISO 4217 currency Paystep accepts. */
export function isSupportedCurrency(code: string): boolean {
  return normalizeCurrency(code) === code;
}

/** Thrown for a code that is not a payable ISO 4217 currency. */
export class UnsupportedCurrencyError extends Error {
  override readonly name = 'UnsupportedCurrencyError';
}

/**
 * The number of minor-unit digits of a currency (USD 2, KRW 0, BHD 3), from the ISO dataset.
 * Throws UnsupportedCurrencyError for codes `normalizeCurrency` rejects.
 */
export function currencyExponent(currency: string): number {
  const canonical = normalizeCurrency(currency);
  if (canonical === undefined || canonical !== currency) {
    throw new UnsupportedCurrencyError(`${currency} is not a supported ISO 4217 currency`);
  }
  // normalizeCurrency guarantees the record exists with integer digits.
  return lookupCurrency(canonical)!.digits;
}

/** True for an integer amount Paystep can store exactly (|n| <= 2^53 - 1). */
export function isMinorAmount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

/**
 * Renders a minor-unit integer as a decimal string in major units (10050 USD -> "100.50",
 * 10000 KRW -> "10000", 1 BHD -> "0.001"), by string manipulation so no float is involved.
 */
export function formatMajorUnits(amountMinor: number, currency: string): string {
  if (!isMinorAmount(amountMinor)) throw new RangeError(`amount ${String(amountMinor)} is not a safe integer`);
  const exponent = currencyExponent(currency);
  const negative = amountMinor < 0;
  const digits = Math.abs(amountMinor).toString();
  if (exponent === 0) return `${negative ? '-' : ''}${digits}`;
  const padded = digits.padStart(exponent + 1, '0');
  const whole = padded.slice(0, padded.length - exponent);
  const fraction = padded.slice(padded.length - exponent);
  return `${negative ? '-' : ''}${whole}.${fraction}`;
}

/**
 * The amount in major units as a JSON number (10050 USD -> 100.5), only for the seed-compatible
 * `amount` field of the inventory-confirmation request. Built from the decimal string, never by
 * dividing, so the number is the closest double to the exact decimal. Never use it for arithmetic.
 */
export function toMajorUnitsNumber(amountMinor: number, currency: string): number {
  return Number(formatMajorUnits(amountMinor, currency));
}
