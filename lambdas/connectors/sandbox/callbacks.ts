/**
 * The sandbox PSP's callbacks: its event vocabulary, its signature scheme (`psp-signature:
 * t=<unix>,v1=<hex HMAC-SHA256 over "<t>.<raw body>">`, compared in constant time against every
 * accepted secret, with a timestamp tolerance against replays) and its JSON body, read into the
 * domain's PspCallback by `sandboxCallbackReader`. Nothing outside this folder knows them.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { PspAuthorizationState, PspCallback } from '../../domain/psp-outcome';
import type { CallbackReader, CallbackReading } from '../../ports/callbacks';

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

/** One sandbox callback as its JSON says it (the domain's PspCallback without the mapped state). */
export type SandboxCallback = Omit<PspCallback, 'type' | 'state'> & { type: PspCallbackType };

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

export type SignatureCheck =
  { ok: true; timestamp: number } | { ok: false; reason: 'missing' | 'malformed' | 'stale' | 'mismatch' };

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
export function parsePspCallback(body: unknown): SandboxCallback | undefined {
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
    typeof id !== 'string' ||
    !/^[A-Za-z0-9_:-]{1,128}$/.test(id) ||
    typeof type !== 'string' ||
    !(PSP_CALLBACK_TYPES as readonly string[]).includes(type) ||
    typeof created !== 'string' ||
    typeof authorizationId !== 'string' ||
    authorizationId.length > 128 ||
    typeof reference !== 'string' ||
    reference.length > 255 ||
    typeof amount !== 'number' ||
    !Number.isSafeInteger(amount) ||
    amount < 0 ||
    typeof currency !== 'string' ||
    !/^[A-Z]{3}$/.test(currency)
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

/**
 * The sandbox connector's callback reader over the accepted secrets (two during a rotation):
 * signature first, then the JSON, then the body's shape; the reported state is mapped here.
 */
export function sandboxCallbackReader(secrets: readonly string[]): CallbackReader {
  return {
    read({ rawBody, headers, now, toleranceSeconds }): CallbackReading {
      const check = verifyPspSignature(headers[PSP_SIGNATURE_HEADER], rawBody, secrets, now, toleranceSeconds);
      if (!check.ok) return { kind: 'bad_signature', reason: check.reason };
      let parsed: unknown;
      try {
        parsed = JSON.parse(rawBody);
      } catch {
        return { kind: 'invalid_json' };
      }
      const callback = parsePspCallback(parsed);
      if (callback === undefined) return { kind: 'invalid_callback' };
      return { kind: 'callback', callback: { ...callback, state: stateReportedBy(callback.type) } };
    },
  };
}
