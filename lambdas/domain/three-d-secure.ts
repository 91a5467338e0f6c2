/**
 * 3-D Secure (SCA) in the domain's words, whatever the connector: what the saga asks for (a
 * return URL for the buyer, off-session, a challenge required by a routing rule), the action a
 * PSP asks the buyer to take (`redirect_to_url`, Stripe's `next_action` shape) and the result it
 * reports (flow, liability shift). Connectors map their wire words onto these in their folder.
 * DESIGN Part 2 "3-D Secure (SCA)". Pure: no AWS import.
 */

/** What the saga asks the connector for, besides the authorization itself. */
export interface ThreeDSecureRequest {
  /** Where the challenge page sends the buyer back (the hosted checkout page). */
  returnUrl?: string;
  /** Merchant-initiated: no buyer to challenge; a card that needs one fails `authentication_required`. */
  offSession?: boolean;
  /** A routing rule asked for 3-D Secure (`"three_ds":"required"`): challenge even frictionless cards. */
  required?: boolean;
}

/** The buyer's next step while the attempt is `requires_action`. */
export interface NextAction {
  type: 'redirect_to_url';
  redirectToUrl: { url: string; returnUrl: string | null };
}

/** What authentication said, recorded on the attempt (liability shift moves fraud losses to the issuer). */
export interface AuthenticationResult {
  flow: 'challenge' | 'frictionless';
  authenticated: boolean;
  liabilityShift: boolean;
  /** Electronic Commerce Indicator, when the PSP gives one. */
  eci?: string;
}

/** Decline codes that mean "authentication did not succeed" (a failed or abandoned challenge). */
export const AUTHENTICATION_FAILURE_CODES = ['authentication_failed', 'authentication_required'] as const;

/** Whether a decline code is an authentication failure rather than the issuer refusing the money. */
export function isAuthenticationFailure(code: string): boolean {
  return (AUTHENTICATION_FAILURE_CODES as readonly string[]).includes(code);
}

/** The view of a next action (snake_case, as the API and Stripe show it). */
export function toNextActionView(action: NextAction) {
  return {
    type: action.type,
    redirect_to_url: { url: action.redirectToUrl.url, return_url: action.redirectToUrl.returnUrl },
  };
}
