/**
 * What a PSP tells us asynchronously, as the domain sees it: the callback vocabulary, the
 * authorization's state machine (applied only as monotonic transitions, so a duplicate or a late
 * callback can never move a payment backwards: a late "authorized" after "voided" changes
 * nothing), and the callback signature (HMAC-SHA256 over `<timestamp>.<raw body>`, compared in
 * constant time, with a timestamp tolerance against replays). Pure: no AWS import.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Callback types a connector sends (the sandbox PSP's vocabulary; other connectors map onto it). */
export const PSP_CALLBACK_TYPES = [
  'authorization.pending',
  'authorization.succeeded',
  'authorization.failed',
  'capture.succeeded',
  'void.succeeded',
  'dispute.created',
] as const;

export type PspCallbackType = (typeof PSP_CALLBACK_TYPES)[number];

/** Where an authorization stands at the PSP, as far as callbacks and status queries told us. */
export type PspAuthorizationState = 'pending' | 'authorized' | 'declined' | 'captured' | 'voided' | 'disputed';

/**
 * Rank of each state: a callback is applied only when it moves the authorization to a strictly
 * higher rank. Same-rank states exclude each other (authorized vs declined, captured vs voided):
 * whichever the PSP reported first stands.
 */
export const AUTHORIZATION_STATE_RANK: Readonly<Record<PspAuthorizationState, number>> = {
  pending: 0,
  authorized: 1,
  declined: 1,
  captured: 2,
  voided: 2,
  disputed: 3,
};

/** The state a callback type reports. */
export function stateReportedBy(type: PspCallbackType): PspAuthorizationState {
  switch (type) {
    case 'authorization.pending':
      return 'pending';
    case 'authorization.succeeded':
      return 'authorized';
    case 'authorization.failed':
      return 'declined';
    case 'capture.succeeded':
      return 'captured';
    case 'void.succeeded':
      return 'voided';
    case 'dispute.created':
      return 'disputed';
  }
}

/**
 * Whether moving from `current` to `next` is a forward transition. Terminal states (declined,
 * voided) accept nothing; a dispute only follows a capture; anything else must raise the rank.
 */
export function isForwardTransition(current: PspAuthorizationState | undefined, next: PspAuthorizationState): boolean {
  if (current === undefined) return true;
  if (current === 'declined' || current === 'voided') return false;
  if (next === 'disputed') return current === 'captured' || current === 'disputed';
  return AUTHORIZATION_STATE_RANK[next] > AUTHORIZATION_STATE_RANK[current];
}

/** Maps the PSP's authorization view status (status query) onto the same states. */
export function stateFromPspStatus(status: string): PspAuthorizationState | undefined {
  switch (status) {
    case 'pending':
      return 'pending';
    case 'authorized':
    case 'partially_captured':
      return 'authorized';
    case 'declined':
    case 'failed':
      return 'declined';
    case 'captured':
    case 'partially_refunded':
    case 'refunded':
      return 'captured';
    case 'voided':
      return 'voided';
    case 'disputed':
      return 'disputed';
    default:
      return undefined;
  }
}

/** One callback as the connector sent it, after the signature was verified and the body parsed. */
export interface PspCallback {
  /** The PSP's event id: the dedupe key. */
  id: string;
  type: PspCallbackType;
  /** Per-authorization counter at the PSP, informational (ordering is decided by state rank). */
  sequence?: number;
  /** When the PSP created the event (ISO 8601). */
  created: string;
  authorizationId: string;
  /** What we filed the authorization under (checkout id or instrument id). */
  reference: string;
  amount: number;
  currency: string;
  /** dispute.created: the PSP's dispute id and reason. */
  disputeId?: string;
  reason?: string;
}

// ---- Signatures -----------------------------------------------------------------------------

/** Header the sandbox connector signs with: `t=<unix seconds>,v1=<hex HMAC-SHA256>`. */
export const PSP_SIGNATURE_HEADER = 'psp-signature';

/** Seconds a callback's timestamp may differ from our clock (Stripe's default tolerance). */
export const DEFAULT_SIGNATURE_TOLERANCE_SECONDS = 300;

/** The header value for `body` signed at `timestamp`; the PSP side and tests use it. */
export function signPspCallback(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${hmacHex(secret, timestamp, body)}`;
}

function hmacHex(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

export type SignatureCheck = { ok: true; timestamp: number } | { ok: false; reason: 'missing' | 'malformed' | 'stale' | 'mismatch' };

/**
 * Checks a callback's signature header against every accepted secret (a rotation keeps two), in
 * constant time, and refuses timestamps outside the tolerance so a captured request cannot be
 * replayed later.
 */
export function verifyPspSignature(
  header: string | undefined,
  body: string,
  secrets: readonly string[],
  now: Date,
  toleranceSeconds = DEFAULT_SIGNATURE_TOLERANCE_SECONDS,
): SignatureCheck {
  if (header === undefined || header.trim() === '') return { ok: false, reason: 'missing' };
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const [key, value] = part.trim().split('=', 2);
    if (key === 't' && value !== undefined && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && value !== undefined && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  if (timestamp === undefined || signatures.length === 0) return { ok: false, reason: 'malformed' };
  if (Math.abs(Math.floor(now.getTime() / 1000) - timestamp) > toleranceSeconds) return { ok: false, reason: 'stale' };
  for (const secret of secrets) {
    const expected = Buffer.from(hmacHex(secret, timestamp, body), 'hex');
    for (const candidate of signatures) {
      if (timingSafeEqual(expected, Buffer.from(candidate, 'hex'))) return { ok: true, timestamp };
    }
  }
  return { ok: false, reason: 'mismatch' };
}

/** Parses a verified callback body; undefined when it is not a callback we understand. */
export function parsePspCallback(body: unknown): PspCallback | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const record = body as Record<string, unknown>;
  const data = record['data'];
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  const fields = data as Record<string, unknown>;
  const type = record['type'];
  const id = record['id'];
  const created = record['created'];
  const authorizationId = fields['authorization_id'];
  const reference = fields['reference'];
  const amount = fields['amount'];
  const currency = fields['currency'];
  if (
    typeof id !== 'string' || !/^[A-Za-z0-9_:-]{1,128}$/.test(id) ||
    typeof type !== 'string' || !(PSP_CALLBACK_TYPES as readonly string[]).includes(type) ||
    typeof created !== 'string' ||
    typeof authorizationId !== 'string' || authorizationId.length > 128 ||
    typeof reference !== 'string' || reference.length > 255 ||
    typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount < 0 ||
    typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)
  ) {
    return undefined;
  }
  const sequence = record['sequence'];
  const disputeId = fields['dispute_id'];
  const reason = fields['reason'];
  return {
    id,
    type: type as PspCallbackType,
    created,
    authorizationId,
    reference,
    amount,
    currency,
    ...(typeof sequence === 'number' && Number.isSafeInteger(sequence) ? { sequence } : {}),
    ...(typeof disputeId === 'string' ? { disputeId: disputeId.slice(0, 128) } : {}),
    ...(typeof reason === 'string' ? { reason: reason.slice(0, 200) } : {}),
  };
}
