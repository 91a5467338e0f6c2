/**
 * Money rules for every amount Paystep stores or moves: integers in the currency's minor unit,
 * ISO 4217 alphabetic codes, exponents from the maintained `currency-codes` dataset (never a
 * hand-written table). Pure: no AWS import, no floating-point arithmetic.
 */
import { code as lookupCurrency } from './currency-exponents';

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
  // ISO 4217 fund codes (flagged IsFund="true" in the ISO list the dataset is built from; the
  // `currency-codes` data drops the flag, test/unit/domain/money.test.ts checks this list against
  // the dataset's ISO XML) and units of account: not cash a buyer pays with.
  'BOV', // Bolivian Mvdol
  'CHE', // WIR Euro
  'CHW', // WIR Franc
  'CLF', // Unidad de Fomento
  'COU', // Unidad de Valor Real
  'MXV', // Mexican Unidad de Inversion
  'USN', // US Dollar (next day)
  'UYI', // Uruguay Peso en Unidades Indexadas
  'UYW', // Unidad Previsional (a unit of account; ISO lists it without the fund flag)
]);

/**
 * Upper-cases and checks a currency code. Returns the canonical code, or undefined when the code
 * is not an ISO 4217 cash currency a payment can be made in (fund codes and units of account are not). Callers turn undefined into their own
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

/** Whole (major-unit) digits an amount may have in any currency: at most 99,999,999 major units. */
export const MAX_MAJOR_DIGITS = 8;

/**
 * The largest amount Paystep accepts in `currency`, in minor units: 99,999,999 major units and
 * all of the currency's minor digits, i.e. 10^(8 + exponent) - 1 (USD 9,999,999,999 = 99,999,999.99;
 * JPY 99,999,999; BHD 99,999,999,999). Like Stripe's 8-digit limit, but on the major units, so a
 * currency's decimals never shrink it. Refused above it at create with 422 `amount_too_large`.
 */
export function maxAmountMinor(currency: string): number {
  return 10 ** (MAX_MAJOR_DIGITS + currencyExponent(currency)) - 1;
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

/** Why a major-unit decimal could not become an exact minor-unit amount. */
export type MajorUnitsProblem = 'malformed' | 'too_precise' | 'too_large';

/**
 * Converts a decimal in major units, given as the exact text of a JSON number (`"12.99"`, `"50"`,
 * `"1e2"`), to the integer minor-unit amount of `currency` (USD "12.99" -> 1299, KRW "10000" ->
 * 10000, BHD "0.001" -> 1). Integer arithmetic on the digits (BigInt), never a float: a value with
 * a non-zero digit below the currency's minor unit ("12.999" USD, "1.5" KRW) is `too_precise`
 * (trailing zeros are exact: "12.990" USD is 1299); a result beyond 2^53 - 1 is `too_large`. Signs
 * are kept; callers decide which signs they accept. Throws UnsupportedCurrencyError like
 * currencyExponent.
 */
export function parseMajorUnits(
  decimalText: string,
  currency: string,
): { ok: true; minor: number } | { ok: false; problem: MajorUnitsProblem } {
  const exponent = currencyExponent(currency);
  const match = /^(-?)(0|[1-9]\d*)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(decimalText);
  if (match === null || decimalText.length > 64) return { ok: false, problem: 'malformed' };
  const [, sign, whole, fraction = '', powerText = '0'] = match;
  const power = Number(powerText);
  if (!Number.isSafeInteger(power) || Math.abs(power) > 64) return { ok: false, problem: 'too_large' };
  let digits = BigInt(`${whole}${fraction}`);
  // value = digits * 10^(power - fraction.length); minor = value * 10^exponent
  const shift = power - fraction.length + exponent;
  if (shift >= 0) {
    digits *= 10n ** BigInt(shift);
  } else {
    const divisor = 10n ** BigInt(-shift);
    if (digits % divisor !== 0n) return { ok: false, problem: 'too_precise' };
    digits /= divisor;
  }
  if (digits > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false, problem: 'too_large' };
  const minor = Number(digits);
  return { ok: true, minor: sign === '-' && minor !== 0 ? -minor : minor };
}

/**
 * The canonical decimal text of a minor-unit amount in major units, for JSON numbers written from
 * text: formatMajorUnits without trailing fractional zeros (5000 USD -> "50", 1299 -> "12.99",
 * -50 -> "-0.5").
 */
export function majorUnitsText(amountMinor: number, currency: string): string {
  const text = formatMajorUnits(amountMinor, currency);
  return text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
}
