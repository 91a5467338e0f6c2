/**
 * The sandbox PSP's status words (GET /v1/authorizations/{id}) and its authorization JSON, mapped
 * onto the domain's authorization states and view. Nothing outside this folder reads them.
 */
import type { PspAuthorizationState } from '../../domain/psp-outcome';
import type { PspAuthorizationView } from '../../ports/payments';

/** The sandbox PSP's view of an authorization (GET /v1/authorizations/{id}). */
export interface SandboxAuthorization {
  id: string;
  status: 'pending' | 'authorized' | 'partially_captured' | 'captured' | 'partially_refunded' | 'refunded' | 'voided';
  amount: number;
  currency: string;
  reference: string;
  captured_amount: number;
  refunded_amount: number;
  voided_amount: number;
  capturable_amount: number;
  refundable_amount: number;
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
  };
}
