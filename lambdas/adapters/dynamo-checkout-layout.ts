/**
 * The compact layout of the checkout item's bulky nested data (issue 14, round 3): every write of
 * the checkout costs 1 unit per KB of the item, so what grows with the payment (the attempts and
 * the timeline rows) is stored with short names and epoch-millisecond numbers instead of ISO
 * strings, and without what the checkout already holds (an attempt's amount and currency when
 * they are the checkout's). Each encoding is exact: a value it cannot restore byte for byte (a
 * timestamp that is not a canonical `toISOString()`) is stored as it was. Items and rows written before stay readable: each reader tells the two layouts apart by
 * shape (a timeline row is a list instead of a map; a compact attempt has `i` instead of `id`).
 */
import type { CheckoutEvent, CheckoutPayment } from '../domain/model';
import type { PaymentAttempt } from '../domain/payment-attempt';
import { compactInstant, instantOf } from './dynamo-instants';

/** Long name -> stored name; both directions must be one to one, and no stored name a long one. */
function table(pairs: Record<string, string>): { short: Map<string, string>; long: Map<string, string> } {
  const short = new Map(Object.entries(pairs));
  const long = new Map(Object.entries(pairs).map(([name, stored]) => [stored, name]));
  return { short, long };
}

// ---- Timeline rows ---------------------------------------------------------------------------

/**
 * The frequent timeline row types, stored as their index (digits: no type name is one); any
 * other type is stored as its name. Append only.
 */
const ROW_TYPE_NAMES = [
  'payment_started',
  'authorized',
  'inventory_confirmation_sent',
  'inventory_confirmed',
  'captured',
  'succeeded',
  'failed',
  'authorization_declined',
  'payment_failed',
  'voided',
  'requires_action',
  'webhook_delivered',
];
const ROW_TYPES = {
  short: new Map(ROW_TYPE_NAMES.map((name, index) => [name, String(index)])),
  long: new Map(ROW_TYPE_NAMES.map((name, index) => [String(index), name])),
};

/** Data keys whose ISO-string values are stored as epoch milliseconds. */
const DATA_INSTANTS = new Set(['sent_at', 'expires_at']);

/**
 * A timeline row as stored: `[type, at]`, `[type, at, data]`, or `[type, at, null, data]` with
 * data kept exactly as it was (an instant key whose value is not a string). The data keeps its
 * names: the timeline answers `data` as DynamoDB returns the map, and DynamoDB orders a map's
 * keys by itself, so the same names keep the answers byte for byte what they were.
 */
export type StoredRow =
  [string, number | string] | [string, number | string, Record<string, unknown> | null, Record<string, unknown>?];

function compactData(data: Record<string, unknown>): Record<string, unknown> | undefined {
  const stored: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    if (DATA_INSTANTS.has(key)) {
      if (typeof value !== 'string') return undefined;
      stored[key] = compactInstant(value);
    } else stored[key] = value;
  }
  return stored;
}

export function storedRow(row: { type: string; at: string; data?: Record<string, unknown> }): StoredRow {
  const type = ROW_TYPES.short.get(row.type) ?? row.type;
  const at = compactInstant(row.at);
  if (row.data === undefined) return [type, at];
  const data = compactData(row.data);
  return data !== undefined ? [type, at, data] : [type, at, null, row.data];
}

/** A stored row of either layout (a map `{type, at, data}` before), as the timeline shows it. */
export function rowFromStorage(checkoutId: string, row: unknown): CheckoutEvent {
  if (!Array.isArray(row)) {
    const old = row as Record<string, unknown>;
    const event: CheckoutEvent = { checkoutId, type: old['type'] as CheckoutEvent['type'], at: old['at'] as string };
    if (old['data'] !== undefined) event.data = old['data'] as Record<string, unknown>;
    return event;
  }
  const [type, at, data, raw] = row as [string, number | string, Record<string, unknown> | null | undefined, unknown];
  const event: CheckoutEvent = {
    checkoutId,
    type: (ROW_TYPES.long.get(type) ?? type) as CheckoutEvent['type'],
    at: instantOf(at),
  };
  if (data !== undefined && data !== null) {
    event.data = Object.fromEntries(
      Object.entries(data).map(([key, value]) => [key, DATA_INSTANTS.has(key) ? instantOf(value) : value]),
    );
  } else if (raw !== undefined) event.data = raw as Record<string, unknown>;
  return event;
}

// ---- Payment attempts ------------------------------------------------------------------------

/** Stored names of an attempt's fields (none of them a field name). Append only. */
const ATTEMPT_FIELDS = table({
  id: 'i',
  connector: 'c',
  status: 's',
  amount: 'a',
  currency: 'cu',
  pspReference: 'r',
  authorizedAmount: 'aa',
  failureCode: 'f',
  nextAction: 'na',
  authentication: 'au',
  createdAt: 't',
  updatedAt: 'u',
  failoverFrom: 'fo',
});
const ATTEMPT_INSTANTS = new Set(['createdAt', 'updatedAt']);

/** The checkout that owns the payment: what its attempts and instrument id need not repeat. */
type Owner = { id: string; amount: number; currency: string };

/** The saga's instrument id for a checkout (instrumentIdForCheckout in lambdas/domain/instrument-ledger.ts). */
function sagaInstrumentId(checkoutId: string): string {
  return `fi_${checkoutId.replace(/^chk_/, '')}`;
}

function storedAttempt(attempt: PaymentAttempt, owner: Owner): Record<string, unknown> {
  const stored: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(attempt)) {
    if (value === undefined) continue;
    if ((key === 'amount' && value === owner.amount) || (key === 'currency' && value === owner.currency)) continue;
    const name = ATTEMPT_FIELDS.short.get(key) ?? key;
    stored[name] = ATTEMPT_INSTANTS.has(key) && typeof value === 'string' ? compactInstant(value) : value;
  }
  return stored;
}

function attemptFromStorage(stored: Record<string, unknown>, owner: Owner): PaymentAttempt {
  if (stored['i'] === undefined) return stored as unknown as PaymentAttempt; // written before the compact layout
  const attempt: Record<string, unknown> = { amount: owner.amount, currency: owner.currency };
  for (const [name, value] of Object.entries(stored)) {
    const key = ATTEMPT_FIELDS.long.get(name) ?? name;
    attempt[key] = ATTEMPT_INSTANTS.has(key) ? instantOf(value) : value;
  }
  // The domain's field order (the API renders attempts field by field, so order never shows).
  return attempt as unknown as PaymentAttempt;
}

/** Stored names of the payment's busiest fields (`at`, the attempts, marks the compact layout). Append only. */
const PAYMENT_FIELDS = table({ attempts: 'at', paymentToken: 'pt', inventoryConfirmation: 'ic', instrumentId: 'fi' });

/**
 * The payment as stored: short names for its busiest fields, its attempts compact (the
 * checkout's amount and currency left out), and the saga's instrument id, derived from the
 * checkout id, as `fi: true`.
 */
export function storedPayment(payment: CheckoutPayment, owner: Owner): Record<string, unknown> {
  // A payment of the flags layout (before attempts), as tests of old items write it: as it is.
  if (!Array.isArray(payment.attempts)) return { ...payment };
  const stored: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(payment)) {
    if (value === undefined) continue;
    stored[PAYMENT_FIELDS.short.get(key) ?? key] =
      key === 'attempts'
        ? payment.attempts.map((attempt) => storedAttempt(attempt, owner))
        : key === 'instrumentId' && value === sagaInstrumentId(owner.id)
          ? true
          : value;
  }
  return stored;
}

/** A stored payment of either layout (of the flags layout: as it is) as the domain has it. */
export function paymentFromStorage(stored: Record<string, unknown>, owner: Owner): CheckoutPayment {
  if (!Array.isArray(stored['at'])) {
    const full = stored as unknown as CheckoutPayment;
    return Array.isArray(full.attempts)
      ? { ...full, attempts: full.attempts.map((attempt) => attemptFromStorage(attempt as never, owner)) }
      : full;
  }
  const payment: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(stored)) {
    const key = PAYMENT_FIELDS.long.get(name) ?? name;
    payment[key] =
      key === 'attempts'
        ? (value as Record<string, unknown>[]).map((attempt) => attemptFromStorage(attempt, owner))
        : key === 'instrumentId' && value === true
          ? sagaInstrumentId(owner.id)
          : value;
  }
  return payment as unknown as CheckoutPayment;
}

// ---- The checkout's own attributes -----------------------------------------------------------

/** sha256 hex of the client secret as 32 bytes (binary) when that restores it exactly, else as it was. */
export function storedSecretHash(hash: string): Uint8Array | string {
  return /^[0-9a-f]{64}$/.test(hash) ? Uint8Array.from(Buffer.from(hash, 'hex')) : hash;
}

export function secretHashOf(stored: unknown): string {
  return stored instanceof Uint8Array ? Buffer.from(stored).toString('hex') : (stored as string);
}

/** The merchant id and creation instant, read from the gsi2 keys `MERCHANT#<id>#CHECKOUTS` / `<createdAt>#<id>`. */
export function ownerFromGsi2(item: Record<string, unknown>): { merchantId?: string; createdAt?: string } {
  const pk = item['gsi2pk'];
  const sk = item['gsi2sk'];
  const merchant = typeof pk === 'string' ? /^MERCHANT#(.+)#CHECKOUTS$/.exec(pk)?.[1] : undefined;
  const created = typeof sk === 'string' && sk.includes('#') ? sk.slice(0, sk.indexOf('#')) : undefined;
  return {
    ...(merchant !== undefined ? { merchantId: merchant } : {}),
    ...(created !== undefined ? { createdAt: created } : {}),
  };
}
