/**
 * The sandbox PSP's status words (GET /v1/authorizations/{id}) and its authorization JSON, mapped
 * onto the domain's authorization states and view. Nothing outside this folder reads them.
 */
import type { PspAuthorizationState } from '../../domain/psp-outcome';
import type { PspAuthorizationView } from '../../ports/payments';
import type { AuthenticationResult, NextAction } from '../../domain/three-d-secure';

/** The sandbox's 3-D Secure block on an authorization (liability-shift data). */
export interface SandboxThreeDSecure {
  flow: 'challenge' | 'frictionless';
  authenticated: boolean;
  liability_shift: boolean;
  eci?: string;
}

/** The sandbox's `next_action` (Stripe's shape). */
export interface SandboxNextAction {
  type: 'redirect_to_url';
  redirect_to_url: { url: string; return_url: string | null };
}

/** The sandbox PSP's view of an authorization (GET /v1/authorizations/{id}). */
export interface SandboxAuthorization {
  id: string;
  status:
    | 'requires_action'
    | 'failed'
    | 'pending'
    | 'authorized'
    | 'partially_captured'
    | 'captured'
    | 'partially_refunded'
    | 'refunded'
    | 'voided';
  amount: number;
  currency: string;
  reference: string;
  captured_amount: number;
  refunded_amount: number;
  voided_amount: number;
  capturable_amount: number;
  refundable_amount: number;
  failure_code?: string | null;
  three_d_secure?: SandboxThreeDSecure | null;
}

/** Maps the PSP's authorization view status (status query) onto the same states. */
export function stateFromPspStatus(status: string): PspAuthorizationState | undefined {
  switch (status) {
    case 'pending':
    case 'requires_action':
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

/** The domain's view of a sandbox authorization. */
export function toAuthorizationView(authorization: SandboxAuthorization): PspAuthorizationView {
  return {
    id: authorization.id,
    state: stateFromPspStatus(authorization.status),
    pspStatus: authorization.status,
    amount: authorization.amount,
    currency: authorization.currency,
    reference: authorization.reference,
    capturedAmount: authorization.captured_amount,
    refundedAmount: authorization.refunded_amount,
    capturableAmount: authorization.capturable_amount,
    refundableAmount: authorization.refundable_amount,
    ...(authorization.failure_code ? { failureCode: authorization.failure_code } : {}),
    ...(authorization.three_d_secure ? { authentication: toAuthentication(authorization.three_d_secure) } : {}),
  };
}

/** The sandbox's 3-D Secure block as the domain's authentication result. */
export function toAuthentication(block: SandboxThreeDSecure): AuthenticationResult {
  return {
    flow: block.flow,
    authenticated: block.authenticated,
    liabilityShift: block.liability_shift,
    ...(block.eci !== undefined ? { eci: block.eci } : {}),
  };
}

/** The sandbox's `next_action` as the domain's; undefined for anything but a redirect with a URL. */
export function toNextAction(action: unknown): NextAction | undefined {
  if (typeof action !== 'object' || action === null) return undefined;
  const { type, redirect_to_url: redirect } = action as Partial<SandboxNextAction>;
  if (type !== 'redirect_to_url' || redirect === undefined || typeof redirect.url !== 'string') return undefined;
  return {
    type,
    redirectToUrl: { url: redirect.url, returnUrl: typeof redirect.return_url === 'string' ? redirect.return_url : null },
  };
}
