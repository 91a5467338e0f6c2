/**
 * The sandbox PSP's test-card table: the card number chosen in the checkout decides how the PSP
 * behaves for every operation on the resulting token and authorization. Tests and demos pick a
 * behaviour by number, like Stripe or Adyen test cards. Every number here is Luhn-valid.
 * Any other Luhn-valid number behaves like `approve`. Any card can be charged back with the
 * test-only `POST /v1/authorizations/{id}/dispute` (sends a dispute.created callback).
 */

export type CardBehavior =
  | 'approve'
  | 'decline'
  | 'insufficient_funds'
  | 'do_not_honor'
  | 'unavailable_once'
  | 'hang_authorize'
  | 'hang_capture'
  | 'async_callback'
  | 'duplicate_callbacks'
  | 'out_of_order_callbacks'
  | 'three_ds_challenge'
  | 'three_ds_challenge_decline'
  | 'three_ds_frictionless';

export interface TestCard {
  number: string;
  brand: CardBrand;
  behavior: CardBehavior;
  description: string;
  /** false: the number is reserved and documented, its special behaviour is not built yet (acts as approve). */
  implemented: boolean;
}

export type CardBrand = 'visa' | 'mastercard' | 'amex' | 'unknown';

export const TEST_CARDS: readonly TestCard[] = [
  { number: '4242424242424242', brand: 'visa', behavior: 'approve', implemented: true, description: 'Approves every operation.' },
  {
    number: '5555555555554444',
    brand: 'mastercard',
    behavior: 'approve',
    implemented: true,
    description: 'Approves every operation (Mastercard).',
  },
  {
    number: '378282246310005',
    brand: 'amex',
    behavior: 'approve',
    implemented: true,
    description: 'Approves every operation (Amex, 4-digit CVC).',
  },
  {
    number: '4000000000000002',
    brand: 'visa',
    behavior: 'decline',
    implemented: true,
    description: 'Authorization declined: HTTP 402, code card_declined (recorded as a failed authorize).',
  },
  {
    number: '4000000000009995',
    brand: 'visa',
    behavior: 'insufficient_funds',
    implemented: true,
    description: 'Authorization declined: HTTP 402, code insufficient_funds (recorded as a failed authorize).',
  },
  {
    number: '4000000000000101',
    brand: 'visa',
    behavior: 'do_not_honor',
    implemented: true,
    description:
      'Soft decline: HTTP 402, code do_not_honor (recorded as a failed authorize); routing with failover tries the next connector.',
  },
  {
    number: '4000000000000119',
    brand: 'visa',
    behavior: 'unavailable_once',
    implemented: true,
    description:
      'The first attempt of every mutating operation (authorize, capture, void, refund) per Idempotency-Key answers ' +
      '503 psp_unavailable and records nothing; a retry with the SAME key succeeds. A new key is a new first attempt.',
  },
  {
    number: '4000000000000333',
    brand: 'visa',
    behavior: 'hang_authorize',
    implemented: true,
    description:
      'Authorization is processed at once but the response is held for hangMs (default 35 s, past the adapter ' +
      'timeout); a retry with the same Idempotency-Key replays the stored result immediately.',
  },
  {
    number: '4000000000000440',
    brand: 'visa',
    behavior: 'hang_capture',
    implemented: true,
    description: 'Authorizes normally; each capture is processed at once but its response is held for hangMs, same as above.',
  },
  {
    number: '4000000000000770',
    brand: 'visa',
    behavior: 'async_callback',
    implemented: true,
    description:
      'Authorization answers HTTP 202 status "pending" (callback authorization.pending); after callbackDelayMs ' +
      '(default 30 s, compressed locally) it is approved and authorization.succeeded is sent by signed callback. ' +
      'Captures and voids are reported by callback too.',
  },
  {
    number: '4000000000000887',
    brand: 'visa',
    behavior: 'duplicate_callbacks',
    implemented: true,
    description: 'Like async_callback, and every callback is delivered twice (same event id).',
  },
  {
    number: '4000000000000994',
    brand: 'visa',
    behavior: 'out_of_order_callbacks',
    implemented: true,
    description:
      'Like async_callback, with callbacks out of order: authorization.pending arrives after authorization.succeeded, ' +
      'and after a capture or void a stale authorization.succeeded (new event id, old sequence) arrives late.',
  },
  {
    number: '4000002760003184',
    brand: 'visa',
    behavior: 'three_ds_challenge',
    implemented: true,
    description:
      '3-D Secure: always challenges (authorization answers 202 requires_action with next_action.redirect_to_url); ' +
      'approved with liability shift if the buyer completes the challenge, failed authentication_failed if not. ' +
      'Off-session: declined authentication_required.',
  },
  {
    number: '4000008260003178',
    brand: 'visa',
    behavior: 'three_ds_challenge_decline',
    implemented: true,
    description: '3-D Secure: challenges; once the buyer completes it, the authorization is declined insufficient_funds.',
  },
  {
    number: '4000000000003055',
    brand: 'visa',
    behavior: 'three_ds_frictionless',
    implemented: true,
    description: '3-D Secure: authenticated without a challenge (frictionless); approved at once, with liability shift.',
  },
];

/** Card behaviours that open a 3-D Secure challenge (requires_action) on authorization. */
export const CHALLENGE_BEHAVIORS: readonly CardBehavior[] = ['three_ds_challenge', 'three_ds_challenge_decline'];

/** Which behaviour a card number triggers; unknown (but valid) numbers approve. */
export function findCardBehavior(number: string): CardBehavior {
  const card = TEST_CARDS.find((candidate) => candidate.number === number);
  return card?.behavior ?? 'approve';
}

/** Brand by IIN prefix, enough to pick the CVC length and to show on the authorization. */
export function detectBrand(number: string): CardBrand {
  if (number.startsWith('4')) return 'visa';
  if (/^(5[1-5]|2[2-7])/.test(number)) return 'mastercard';
  if (/^3[47]/.test(number)) return 'amex';
  return 'unknown';
}
