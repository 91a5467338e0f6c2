/**
 * Port: a payment service provider as the domain sees it (`PaymentGateway`) and its views of an
 * authorization. Each connector in lambdas/connectors/<id>/ implements it; the registry chooses one.
 */
import type { SensitiveCard } from '../domain/payment-method';
import type { PspAuthorizationState } from '../domain/psp-outcome';
import type { AuthenticationResult, NextAction, ThreeDSecureRequest } from '../domain/three-d-secure';

/**
 * Card-on-file facts of an authorization with a vaulted card (the card networks' stored-credential
 * rules): whether the buyer is present, whether the card is being stored for later use, and the
 * network transaction id of the first customer-initiated authorization that later
 * merchant-initiated ones must quote.
 */
export interface CardOnFile {
  /** `customer`: the buyer is paying now (CIT). `merchant`: an off-session payment on a saved card (MIT). */
  readonly initiator: 'customer' | 'merchant';
  /** The card is (or is being) kept for later payments by this merchant. */
  readonly stored: boolean;
  /** The first CIT's network transaction id; required by the networks on every MIT. */
  readonly networkTransactionId?: string;
}

/**
 * What pays: a PSP token (the sandbox's single-use `tok_...`, a Stripe PaymentMethod id), or a
 * card the vault revealed for this one call, each with its card-on-file facts (optional for tokens). Connectors put either on their own wire protocol.
 */
export type PaymentSource =
  | { readonly type: 'token'; readonly token: string; readonly cardOnFile?: CardOnFile }
  | { readonly type: 'card'; readonly card: SensitiveCard; readonly cardOnFile: CardOnFile };

export interface AuthorizeInput {
  reference: string; // checkout id
  source: PaymentSource;
  amount: number;
  currency: string;
  idempotencyKey: string;
  /** 3-D Secure: return URL, off-session, required by rule (lambdas/domain/three-d-secure.ts). */
  threeDSecure?: ThreeDSecureRequest;
}

export interface AuthorizeOutput {
  pspReference: string;
  authorizedAmount: number;
  /** The PSP answered "pending": the result arrives later by callback (authorizedAmount is 0 until then). */
  pending?: boolean;
  /** The card network's id for this (customer-initiated) authorization, when the PSP reports one. */
  networkTransactionId?: string;
  /** 3-D Secure challenge: the buyer must take this action; the result arrives later by callback. */
  nextAction?: NextAction;
  /** 3-D Secure result when the authorization was authenticated (frictionless, or after a challenge). */
  authentication?: AuthenticationResult;
}

export interface CaptureInput {
  reference: string;
  pspReference: string;
  amount: number;
  currency: string;
  idempotencyKey: string;
  /**
   * `false`: a financial instrument's partial capture; what stays authorized must remain
   * capturable by later captures (a PSP that releases the rest on capture asks for multicapture).
   * Absent or `true`: the last capture of the authorization; the PSP may release the rest.
   */
  final?: boolean;
}

export type RefundInput = Omit<CaptureInput, 'final'>;

export interface VoidInput {
  reference: string;
  pspReference: string;
  idempotencyKey: string;
}

export interface PspOperationOutput {
  pspOperationId: string;
  amount: number;
}

/**
 * A payment service provider. Errors are translated at the adapter: PaymentDeclinedError,
 * PspRejectedError (non-transient), PspUnavailableError / PspTimeoutError (transient).
 */
export interface PaymentGateway {
  readonly connector: string;
  authorize(input: AuthorizeInput): Promise<AuthorizeOutput>;
  capture(input: CaptureInput): Promise<PspOperationOutput>;
  voidAuthorization(input: VoidInput): Promise<PspOperationOutput>;
  refund(input: RefundInput): Promise<PspOperationOutput>;
  /** Reads an authorization's amounts (validating `authorized`/`captured` instruments). Unknown reference: PspRejectedError. */
  getAuthorization(pspReference: string): Promise<PspAuthorizationView>;
  /**
   * The PSP's authorizations filed under `reference` (our checkout id): how recovery finds an
   * authorization whose id we never learned (the answer was lost). Optional: fakes may omit it.
   */
  findAuthorizations?(reference: string): Promise<PspAuthorizationView[]>;
}

/**
 * The gateway of each connector, by id (DESIGN Part 2 "Connectors"): every PSP call goes to the
 * connector of the attempt or instrument it is about. Wired from lambdas/connectors/registry.ts;
 * a connector the function is not configured for answers a gateway that fails on use. With a
 * merchant id: that merchant's gateway (its own stored credentials, else the platform's).
 */
export type ConnectorGateways = (connector: string, merchantId?: string) => PaymentGateway;

/** One PSP authorization as its connector reports it, in the domain's words. */
export interface PspAuthorizationView {
  id: string;
  /** The connector's status mapped onto the domain's states; undefined when it means nothing to us. */
  state: PspAuthorizationState | undefined;
  /** The connector's own status word, kept only for the timeline (`psp_status`). */
  pspStatus: string;
  amount: number;
  currency: string;
  /** What the PSP files it under (the checkout or instrument id); must be passed back on every operation. */
  reference: string;
  capturedAmount: number;
  refundedAmount: number;
  capturableAmount: number;
  refundableAmount: number;
  /** A 3-D Secure challenge still open (state `pending`): the buyer's next step. */
  nextAction?: NextAction;
  /** 3-D Secure result, once authenticated or not. */
  authentication?: AuthenticationResult;
  /** Why an authorization ended declined (e.g. `authentication_failed`, `insufficient_funds`). */
  failureCode?: string;
}
