/**
 * 3-D Secure at the Stripe-protocol sandbox, as Stripe does it for a PaymentIntent confirmed with
 * a `return_url` (DESIGN Part 2 "3-D Secure (SCA)"): the same three test cards as the sandbox PSP.
 * `4000002760003184` and `4000008260003178` (and any card when the confirm asks
 * `payment_method_options[card][request_three_d_secure]=any|challenge`) answer status
 * `requires_action` with `next_action.redirect_to_url {url, return_url}`; the buyer decides at the
 * challenge page (the shared plain-HTML page with Complete and Fail buttons), `POST <url>`
 * `outcome=complete|fail` answers 302 to the return_url and the intent moves on: completed ->
 * `requires_capture` (the decline card: `requires_payment_method`, `card_declined` /
 * `insufficient_funds`), failed -> `requires_payment_method` with
 * `payment_intent_authentication_failure`; a webhook (`payment_intent.amount_capturable_updated` /
 * `payment_intent.payment_failed`) reports it. `4000000000003055` authenticates frictionless.
 * Off-session, a card that needs a challenge is declined `authentication_required`. The charge's
 * `payment_method_details.card.three_d_secure` carries the liability-shift data. A second or late
 * answer (decided, canceled) only redirects.
 */
import type { ServerResponse } from 'node:http';
import {
  parseChallengeOutcome,
  redirectAfterChallenge,
  renderChallengePage,
  sendChallengeHtml,
  type ChallengeOutcome,
} from '../sandbox-psp/challenge-page';
import { CHALLENGE_BEHAVIORS, type CardBehavior } from '../sandbox-psp/test-cards';
import type { FormObject } from './form';
import { newId, type StoredIntent, type StoredPaymentMethod, type StoredThreeDSecure, type StripeSandboxLedger } from './ledger';

/** Where the challenge pages live (Stripe serves them at hooks.stripe.com/3d_secure_2/...). */
export const CHALLENGE_PATH_PREFIX = '/3d_secure_2/challenge/';

/** The challenge page's path for an intent, or undefined when `path` is not a challenge page. */
export function challengeIntentId(path: string): string | undefined {
  if (!path.startsWith(CHALLENGE_PATH_PREFIX)) return undefined;
  const id = path.slice(CHALLENGE_PATH_PREFIX.length);
  return /^pi_[A-Za-z0-9]{1,64}$/.test(id) ? id : undefined;
}

/** What a confirm asks for 3-D Secure: `request_three_d_secure` any/challenge means "authenticate even if not needed". */
export function threeDSecureRequested(params: FormObject): boolean {
  const options = params['payment_method_options'];
  if (typeof options !== 'object' || Array.isArray(options)) return false;
  const card = options['card'];
  if (typeof card !== 'object' || Array.isArray(card)) return false;
  const request = card['request_three_d_secure'];
  return request === 'any' || request === 'challenge';
}

/** The confirm's `return_url`, checked as Stripe does (an absolute http(s) URL). */
export function returnUrlOf(params: FormObject): string | undefined | { invalid: true } {
  const value = params['return_url'];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^https?:\/\/[^\s]+$/.test(value)) return { invalid: true };
  try {
    new URL(value);
  } catch {
    return { invalid: true };
  }
  return value;
}

/** How authentication goes for this card: a challenge, frictionless, or no 3-D Secure at all. */
export function authenticationFor(behavior: CardBehavior, requested: boolean): 'challenge' | 'frictionless' | 'none' {
  if (CHALLENGE_BEHAVIORS.includes(behavior) || requested) return 'challenge';
  if (behavior === 'three_ds_frictionless') return 'frictionless';
  return 'none';
}

/** Stripe's `three_d_secure` block of a card charge. */
export function threeDSecureBlock(
  flow: 'challenge' | 'frictionless',
  result: 'authenticated' | 'failed',
  reason: string | null = null,
): StoredThreeDSecure {
  return {
    authentication_flow: flow,
    result,
    result_reason: reason,
    electronic_commerce_indicator: result === 'authenticated' ? '05' : '07',
    version: '2.2.0',
    transaction_id: newId('3ds').slice(4),
  };
}

/** What the issuer does with the money once the buyer authenticated (the card's own decline behaviour). */
export function declineAfterAuthentication(
  behavior: CardBehavior,
): { code: string; decline_code: string; message: string } | undefined {
  switch (behavior) {
    case 'three_ds_challenge_decline':
    case 'insufficient_funds':
      return { code: 'card_declined', decline_code: 'insufficient_funds', message: 'Your card has insufficient funds.' };
    case 'decline':
      return { code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' };
    case 'do_not_honor':
      return { code: 'card_declined', decline_code: 'do_not_honor', message: 'Your card was declined.' };
    default:
      return undefined;
  }
}

/** The `next_action` of an intent waiting for the buyer (Stripe's `redirect_to_url`, or `use_stripe_sdk` without a return_url). */
export function renderNextAction(intent: StoredIntent, baseUrl: string): Record<string, unknown> | null {
  if (intent.status !== 'requires_action') return null;
  const url = `${baseUrl}${CHALLENGE_PATH_PREFIX}${intent.id}`;
  if (intent.return_url === undefined || intent.return_url === null) {
    return { type: 'use_stripe_sdk', use_stripe_sdk: { type: 'three_d_secure_redirect', stripe_js: url } };
  }
  return { type: 'redirect_to_url', redirect_to_url: { url, return_url: intent.return_url } };
}

/** What the server lends the challenge handler: its books and how it reports. */
export interface ChallengeDependencies {
  ledger: StripeSandboxLedger;
  paymentMethodOf(intent: StoredIntent): StoredPaymentMethod | undefined;
  /** Writes the authorize row of the sandbox's operation ledger. */
  recordAuthorization(intent: StoredIntent, status: 'succeeded' | 'failed', failureCode: string | null, key: string): void;
  /** Sends a webhook for the intent. */
  emit(type: string, intent: StoredIntent): void;
}

/**
 * The buyer's answer: moves an open challenge on (and reports it); undefined when no challenge is
 * open any more (decided, canceled), so a second or late answer changes nothing.
 */
export function decideChallenge(
  deps: ChallengeDependencies,
  intentId: string,
  outcome: ChallengeOutcome,
): StoredIntent | undefined {
  const intent = deps.ledger.getIntent(intentId);
  if (intent === undefined || intent.status !== 'requires_action') return undefined;
  const behavior = deps.paymentMethodOf(intent)?.behavior ?? 'approve';
  if (outcome === 'fail') {
    const failed = deps.ledger.putIntent({
      ...intent,
      status: 'requires_payment_method',
      three_d_secure: threeDSecureBlock('challenge', 'failed', 'rejected'),
      last_payment_error: {
        code: 'payment_intent_authentication_failure',
        message:
          'The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again.',
      },
    });
    deps.recordAuthorization(failed, 'failed', 'authentication_failed', failed.creation_key);
    deps.emit('payment_intent.payment_failed', failed);
    return failed;
  }
  const authenticated = threeDSecureBlock('challenge', 'authenticated');
  const decline = declineAfterAuthentication(behavior);
  if (decline !== undefined) {
    const declined = deps.ledger.putIntent({
      ...intent,
      status: 'requires_payment_method',
      charge_id: newId('ch'),
      three_d_secure: authenticated,
      last_payment_error: decline,
    });
    deps.recordAuthorization(
      declined,
      'failed',
      decline.decline_code === 'generic_decline' ? decline.code : decline.decline_code,
      declined.creation_key,
    );
    deps.emit('payment_intent.payment_failed', declined);
    return declined;
  }
  const networkTransactionId = `ntid_${newId('x').slice(2, 17)}`;
  const authorized = deps.ledger.putIntent({
    ...intent,
    status: 'requires_capture',
    amount_capturable: intent.amount,
    charge_id: newId('ch'),
    network_transaction_id: networkTransactionId,
    three_d_secure: authenticated,
  });
  if (authorized.setup_future_usage === 'off_session')
    deps.ledger.saveForOffSession(authorized.payment_method, networkTransactionId);
  deps.recordAuthorization(authorized, 'succeeded', null, authorized.creation_key);
  deps.emit('payment_intent.amount_capturable_updated', authorized);
  return authorized;
}

/**
 * The challenge page: GET shows it (Complete / Fail while open, the result once decided), POST
 * `outcome=complete|fail` decides it and answers 302 to the return_url; a decided or canceled
 * challenge only redirects. An unknown intent is a 404 page.
 */
export function handleChallengePage(
  deps: ChallengeDependencies,
  intentId: string,
  method: string,
  raw: string,
  response: ServerResponse,
): void {
  const intent = deps.ledger.getIntent(intentId);
  if (intent === undefined || (intent.status !== 'requires_action' && intent.return_url === undefined)) {
    sendChallengeHtml(response, 404, renderChallengePage({ ...pageFacts(deps, undefined), open: false, result: 'unknown' }));
    return;
  }
  const open = intent.status === 'requires_action';
  if (method === 'GET') {
    sendChallengeHtml(response, 200, renderChallengePage({ ...pageFacts(deps, intent), open, result: resultOf(intent) }));
    return;
  }
  if (method !== 'POST') {
    sendChallengeHtml(response, 405, renderChallengePage({ ...pageFacts(deps, intent), open: false, result: resultOf(intent) }));
    return;
  }
  const outcome = parseChallengeOutcome(raw);
  if (outcome === undefined) {
    sendChallengeHtml(response, 400, renderChallengePage({ ...pageFacts(deps, intent), open }));
    return;
  }
  decideChallenge(deps, intentId, outcome);
  redirectAfterChallenge(response, intent.return_url ?? undefined, outcome === 'complete' ? 'completed' : 'failed');
}

function resultOf(intent: StoredIntent): string {
  if (intent.status === 'canceled') return 'canceled';
  if (intent.three_d_secure?.result === 'failed') return 'failed';
  return 'completed';
}

/** What the page shows about the payment: amount and card brand/last 4, never the number. */
function pageFacts(deps: ChallengeDependencies, intent: StoredIntent | undefined) {
  const method = intent === undefined ? undefined : deps.paymentMethodOf(intent);
  return {
    issuer: 'Stripe sandbox',
    amount: intent?.amount ?? 0,
    currency: (intent?.currency ?? 'eur').toUpperCase(),
    card: method === undefined ? { brand: 'card', last4: '----' } : { brand: method.brand, last4: method.last4 },
  };
}
