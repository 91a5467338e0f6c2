/**
 * The sandbox PSP's own books: tokens (last4 + behaviour, never the number), authorizations with
 * their captured / refunded / voided amounts, the append-only operation ledger tests read to prove
 * Paystep's money invariants, and the stored responses behind Idempotency-Key replays.
 * Every method is synchronous, so two requests can never interleave inside a money rule.
 * With a data file, the whole state is rewritten (temp file + rename) after each change and
 * reloaded on start, so restarting the local stack keeps the PSP's view of the money.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { PRIVATE_DIR_MODE, writePrivateFile } from '../private-files';
import type { ValidatedCard } from './card-validation';
import { CHALLENGE_BEHAVIORS, type CardBehavior, type CardBrand } from './test-cards';

export type OperationType = 'authorize' | 'capture' | 'void' | 'refund' | 'dispute';

/** One ledger row. Failed attempts (declines, rule violations) are rows too. */
export interface LedgerOperation {
  id: string; // op_...
  type: OperationType;
  amount: number;
  currency: string;
  status: 'succeeded' | 'failed';
  reference: string;
  idempotency_key: string;
  authorization_id: string | null;
  failure_code: string | null;
  created: string; // ISO 8601
}

export interface StoredToken {
  id: string; // tok_...
  last4: string;
  brand: CardBrand;
  exp_month: number;
  exp_year: number;
  behavior: CardBehavior;
  created: string;
  /** Set once an authorization with this token succeeded: the token is spent. */
  used_by_authorization: string | null;
}

export interface Authorization {
  id: string; // auth_...
  token: string;
  reference: string;
  amount: number;
  currency: string;
  captured_amount: number;
  refunded_amount: number;
  voided_amount: number;
  voided: boolean;
  behavior: CardBehavior;
  card: { brand: CardBrand; last4: string };
  created: string;
  updated: string;
  /** Async cards: answered "pending"; the result is decided at `settle_at` and sent by callback. */
  pending?: boolean;
  settle_at?: string;
  /** Charged back by the cardholder (dispute.created callbacks). */
  disputed_amount?: number;
  /** Last callback sequence number used for this authorization. */
  callback_sequence?: number;
  /** Card authorizations (not tokens): the card-on-file flags the merchant sent. */
  card_on_file?: CardOnFileFlags;
  /** Customer-initiated card authorizations: the network transaction id issued (MITs quote it). */
  network_transaction_id?: string;
  /** 3-D Secure: a challenge is open (the buyer must complete it at the challenge page). */
  requires_action?: boolean;
  /** Where the challenge page sends the buyer back (Paystep's hosted page). */
  return_url?: string;
  /** The authorization ended without money (failed challenge, decline after it). */
  failure_code?: string;
  /** 3-D Secure result, once authenticated or not (liability shift data). */
  three_d_secure?: ThreeDSecureResult;
}

/** The card-on-file flags of a card authorization (`card_on_file` in the request). */
export interface CardOnFileFlags {
  initiator: 'customer' | 'merchant';
  stored: boolean;
  /** MIT only: the network transaction id of the first customer-initiated authorization. */
  network_transaction_id?: string;
}

/** What 3-D Secure said: how it ran and whether the issuer carries the fraud liability. */
export interface ThreeDSecureResult {
  flow: 'challenge' | 'frictionless';
  authenticated: boolean;
  liability_shift: boolean;
  /** Electronic Commerce Indicator: 05 authenticated (Visa), 07 not. */
  eci: '05' | '07';
  version: '2.2.0';
}

export type AuthorizationStatus =
  | 'requires_action'
  | 'failed'
  | 'pending'
  | 'authorized'
  | 'partially_captured'
  | 'captured'
  | 'partially_refunded'
  | 'refunded'
  | 'voided';

/** The public view of an authorization (GET /v1/authorizations/{id} and every mutation answer). */
export interface AuthorizationView {
  id: string;
  object: 'authorization';
  status: AuthorizationStatus;
  amount: number;
  currency: string;
  reference: string;
  captured_amount: number;
  refunded_amount: number;
  voided_amount: number;
  capturable_amount: number;
  refundable_amount: number;
  disputed_amount: number;
  card: { brand: CardBrand; last4: string };
  card_on_file?: CardOnFileFlags;
  network_transaction_id?: string;
  failure_code: string | null;
  three_d_secure: ThreeDSecureResult | null;
  created: string;
  updated: string;
}

/** Card behaviours whose authorization answers "pending" and settles later by callback. */
export const ASYNC_BEHAVIORS: readonly CardBehavior[] = ['async_callback', 'duplicate_callbacks', 'out_of_order_callbacks'];

/** An HTTP answer as the PSP gives it; stored per Idempotency-Key and replayed byte for byte. */
export interface PspReply {
  status: number;
  body: unknown;
}

interface IdempotencyEntry {
  path: string;
  reply: PspReply;
  created: string;
}

interface LedgerState {
  version: 1;
  tokens: Record<string, StoredToken>;
  authorizations: Record<string, Authorization>;
  operations: LedgerOperation[];
  idempotency: Record<string, IdempotencyEntry>;
  /** Keys whose first attempt already got the `unavailable_once` 503. */
  unavailableKeys: string[];
  /** Network transaction ids issued on customer-initiated card authorizations (by id: the card's last4). */
  networkTransactions?: Record<string, { last4: string; created: string }>;
}

/** An authorization request; `return_url`, `off_session` and `three_ds` drive 3-D Secure. */
export interface AuthorizeRequest {
  token: string;
  amount: number;
  currency: string;
  reference: string;
  return_url?: string;
  /** Merchant-initiated: no buyer to challenge, so a card that needs one is declined authentication_required. */
  off_session?: boolean;
  /** `required`: challenge even a card that would pass frictionless (a routing rule asked for it). */
  three_ds?: 'required';
}

export interface MoneyRequest {
  amount: number;
  currency: string;
  reference?: string;
}

/** Random id with a Stripe-style prefix. */
export function generateId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`;
}

function emptyState(): LedgerState {
  return { version: 1, tokens: {}, authorizations: {}, operations: [], idempotency: {}, unavailableKeys: [] };
}

function errorBody(code: string, message: string, operation?: LedgerOperation, param?: string): unknown {
  return { error: { code, message, ...(param ? { param } : {}) }, ...(operation ? { operation } : {}) };
}

export class SandboxLedger {
  private state: LedgerState;
  private readonly unavailableKeys: Set<string>;

  /** Loads `dataFile` when it exists; a file that is not a ledger fails loudly rather than being overwritten. */
  constructor(private readonly dataFile?: string) {
    this.state = emptyState();
    if (dataFile !== undefined && existsSync(dataFile)) {
      const parsed = JSON.parse(readFileSync(dataFile, 'utf8')) as Partial<LedgerState>;
      if (parsed.version !== 1 || !Array.isArray(parsed.operations)) {
        throw new Error(`${dataFile} is not a sandbox PSP ledger file (version 1)`);
      }
      this.state = { ...emptyState(), ...parsed } as LedgerState;
    }
    this.unavailableKeys = new Set(this.state.unavailableKeys);
  }

  // ---- tokens ---------------------------------------------------------------------------------

  createToken(card: ValidatedCard): StoredToken {
    const token: StoredToken = {
      id: generateId('tok'),
      last4: card.last4,
      brand: card.brand,
      exp_month: card.expMonth,
      exp_year: card.expYear,
      behavior: card.behavior,
      created: new Date().toISOString(),
      used_by_authorization: null,
    };
    this.state.tokens[token.id] = token;
    this.persist();
    return token;
  }

  getToken(id: string): StoredToken | undefined {
    return this.state.tokens[id];
  }

  // ---- idempotency ----------------------------------------------------------------------------

  findIdempotent(key: string): { path: string; reply: PspReply } | undefined {
    return this.state.idempotency[key];
  }

  /** True the first time a key is seen by an `unavailable_once` card (that attempt answers 503). */
  claimFirstAttempt(key: string): boolean {
    if (this.unavailableKeys.has(key)) return false;
    this.unavailableKeys.add(key);
    this.state.unavailableKeys.push(key);
    this.persist();
    return true;
  }

  // ---- reads ----------------------------------------------------------------------------------

  getAuthorization(id: string): Authorization | undefined {
    return this.state.authorizations[id];
  }

  viewAuthorization(id: string): AuthorizationView | undefined {
    const authorization = this.state.authorizations[id];
    return authorization ? toView(authorization) : undefined;
  }

  /** Ledger rows in the order they happened, optionally only those for one reference (checkout id). */
  listOperations(reference?: string): LedgerOperation[] {
    const rows =
      reference === undefined ? this.state.operations : this.state.operations.filter((row) => row.reference === reference);
    return rows.map((row) => ({ ...row }));
  }

  // ---- money movements ------------------------------------------------------------------------

  /**
   * Authorizes `amount` on card data (a vaulted card the merchant's orchestrator revealed) with its
   * card-on-file flags. A customer-initiated authorization is issued a network transaction id; a
   * merchant-initiated one is refused (402 `network_transaction_id_required`) unless it quotes one
   * this PSP issued for the same card. The card is kept as a one-time token (last4 and behaviour only).
   */
  authorizeCard(
    input: { card: ValidatedCard; cardOnFile: CardOnFileFlags } & Omit<AuthorizeRequest, 'token'>,
    key: string,
    path: string,
    options: { settleAfterMs?: number; challengeUrl?: (authorizationId: string) => string } = {},
  ): PspReply {
    if (input.cardOnFile.initiator === 'merchant') {
      const quoted = input.cardOnFile.network_transaction_id;
      const issued = quoted === undefined ? undefined : this.state.networkTransactions?.[quoted];
      if (issued === undefined || issued.last4 !== input.card.last4) {
        const row = this.record(
          'authorize',
          input.amount,
          input.currency,
          'failed',
          input.reference,
          key,
          null,
          'network_transaction_id_required',
        );
        const message =
          'A merchant-initiated payment must quote the network transaction id of a customer-initiated one on this card';
        return this.remember(key, path, {
          status: 402,
          body: errorBody('network_transaction_id_required', message, row, 'card_on_file'),
        });
      }
    }
    const token = this.createToken(input.card);
    const networkTransactionId = input.cardOnFile.initiator === 'customer' ? generateId('ntid') : undefined;
    const { card: _card, cardOnFile: _cardOnFile, ...request } = input;
    return this.authorize({ ...request, token: token.id }, key, path, {
      ...options,
      cardOnFile: input.cardOnFile,
      ...(networkTransactionId !== undefined ? { networkTransactionId } : {}),
    });
  }

  /** Authorizes `amount` on a token: declines by card behaviour, refuses a token already spent. */
  authorize(
    input: AuthorizeRequest,
    key: string,
    path: string,
    options: {
      settleAfterMs?: number;
      cardOnFile?: CardOnFileFlags;
      networkTransactionId?: string;
      challengeUrl?: (authorizationId: string) => string;
    } = {},
  ): PspReply {
    const token = this.state.tokens[input.token];
    const failed = (status: number, code: string, message: string, param?: string): PspReply => {
      const row = this.record('authorize', input.amount, input.currency, 'failed', input.reference, key, null, code);
      return this.remember(key, path, { status, body: errorBody(code, message, row, param) });
    };
    if (token === undefined) return failed(400, 'token_not_found', `No such token: ${input.token}`, 'token');
    if (token.used_by_authorization !== null) {
      return failed(402, 'token_already_used', 'This token was already used for a successful authorization');
    }
    if (token.behavior === 'decline') return failed(402, 'card_declined', 'The card was declined');
    if (token.behavior === 'insufficient_funds') return failed(402, 'insufficient_funds', 'The card has insufficient funds');
    if (token.behavior === 'do_not_honor') return failed(402, 'do_not_honor', 'The issuer declined the card (do not honor)');
    const challenge = CHALLENGE_BEHAVIORS.includes(token.behavior) || input.three_ds === 'required';
    if (challenge && input.off_session === true) {
      return failed(402, 'authentication_required', 'The card requires authentication, and no buyer is present (off-session)');
    }

    const now = new Date().toISOString();
    const pending = ASYNC_BEHAVIORS.includes(token.behavior);
    const authorization: Authorization = {
      id: generateId('auth'),
      token: token.id,
      reference: input.reference,
      amount: input.amount,
      currency: input.currency,
      captured_amount: 0,
      refunded_amount: 0,
      voided_amount: 0,
      voided: false,
      behavior: token.behavior,
      card: { brand: token.brand, last4: token.last4 },
      created: now,
      updated: now,
      ...(pending ? { pending: true, settle_at: new Date(Date.now() + (options.settleAfterMs ?? 0)).toISOString() } : {}),
      ...(options.cardOnFile !== undefined ? { card_on_file: options.cardOnFile } : {}),
      ...(options.networkTransactionId !== undefined ? { network_transaction_id: options.networkTransactionId } : {}),
      ...(challenge
        ? { requires_action: true, ...(input.return_url !== undefined ? { return_url: input.return_url } : {}) }
        : {}),
      ...(token.behavior === 'three_ds_frictionless' && !challenge ? { three_d_secure: threeDSecure('frictionless', true) } : {}),
    };
    this.state.authorizations[authorization.id] = authorization;
    token.used_by_authorization = authorization.id;
    const network = options.networkTransactionId !== undefined ? { network_transaction_id: options.networkTransactionId } : {};
    if (options.networkTransactionId !== undefined) {
      this.state.networkTransactions = {
        ...this.state.networkTransactions,
        [options.networkTransactionId]: { last4: token.last4, created: now },
      };
    }
    if (challenge) {
      // No ledger row until the buyer decides at the challenge page (decideChallenge).
      return this.remember(key, path, {
        status: 202,
        body: {
          id: generateId('op'),
          object: 'operation',
          type: 'authorize',
          amount: input.amount,
          currency: input.currency,
          status: 'requires_action',
          reference: input.reference,
          idempotency_key: key,
          authorization_id: authorization.id,
          next_action: {
            type: 'redirect_to_url',
            redirect_to_url: {
              url: options.challengeUrl?.(authorization.id) ?? `/v1/challenges/${authorization.id}`,
              return_url: input.return_url ?? null,
            },
          },
          ...network,
          authorization: toView(authorization),
        },
      });
    }
    if (pending) {
      // No ledger row yet: the authorization only counts once it settles (settlePending).
      return this.remember(key, path, {
        status: 202,
        body: {
          id: generateId('op'),
          object: 'operation',
          type: 'authorize',
          amount: input.amount,
          currency: input.currency,
          status: 'pending',
          reference: input.reference,
          idempotency_key: key,
          authorization_id: authorization.id,
          authorization: toView(authorization),
          ...network,
        },
      });
    }
    const row = this.record('authorize', input.amount, input.currency, 'succeeded', input.reference, key, authorization.id, null);
    return this.remember(key, path, { status: 200, body: { ...row, authorization: toView(authorization), ...network } });
  }

  /** Captures part or all of what is still capturable; several partial captures are allowed. */
  capture(authorizationId: string, input: MoneyRequest, key: string, path: string): PspReply {
    return this.moveMoney('capture', authorizationId, input, key, path, (authorization) => {
      if (authorization.voided) return [409, 'authorization_voided', 'The authorization was voided; nothing can be captured'];
      if (authorization.pending === true)
        return [409, 'authorization_pending', 'The authorization is still pending; wait for its result'];
      if (authorization.requires_action === true || authorization.failure_code !== undefined)
        return [409, 'authorization_not_authorized', 'The authorization was not authorized; nothing can be captured'];
      const capturable = authorization.amount - authorization.captured_amount;
      if (input.amount > capturable) {
        return [422, 'amount_exceeds_capturable', `Only ${capturable} ${authorization.currency} can still be captured`];
      }
      authorization.captured_amount += input.amount;
      return undefined;
    });
  }

  /** Refunds part or all of what was captured and not yet refunded. */
  refund(authorizationId: string, input: MoneyRequest, key: string, path: string): PspReply {
    return this.moveMoney('refund', authorizationId, input, key, path, (authorization) => {
      const refundable = authorization.captured_amount - authorization.refunded_amount - (authorization.disputed_amount ?? 0);
      if (input.amount > refundable) {
        return [422, 'amount_exceeds_refundable', `Only ${refundable} ${authorization.currency} can be refunded`];
      }
      authorization.refunded_amount += input.amount;
      return undefined;
    });
  }

  /** Releases the uncaptured remainder; refused once fully captured or already voided. */
  voidAuthorization(authorizationId: string, input: { reference?: string }, key: string, path: string): PspReply {
    const authorization = this.state.authorizations[authorizationId];
    const remainder =
      authorization && authorization.requires_action !== true ? authorization.amount - authorization.captured_amount : 0;
    return this.moveMoney(
      'void',
      authorizationId,
      {
        amount: remainder,
        currency: authorization?.currency ?? '',
        ...(input.reference !== undefined ? { reference: input.reference } : {}),
      },
      key,
      path,
      (found) => {
        if (found.voided) return [409, 'authorization_already_voided', 'The authorization was already voided'];
        if (found.failure_code !== undefined) return [409, 'authorization_failed', 'The authorization failed; nothing is held'];
        if (found.requires_action === true) {
          // An abandoned challenge is canceled: it never authorized, so nothing is released.
          found.requires_action = false;
          found.voided = true;
          return undefined;
        }
        // A pending authorization is canceled: it will never settle.
        if (found.pending === true) found.pending = false;
        if (remainder === 0) return [409, 'authorization_fully_captured', 'The authorization is fully captured; refund instead'];
        found.voided = true;
        found.voided_amount = remainder;
        return undefined;
      },
    );
  }

  /** Authorizations still pending (the server re-arms their settle timers after a restart). */
  listPending(): Authorization[] {
    return Object.values(this.state.authorizations).filter((authorization) => authorization.pending === true);
  }

  /** Every authorization filed under `reference`, oldest first (recovery finds one whose id it never learned). */
  findByReference(reference: string): AuthorizationView[] {
    return Object.values(this.state.authorizations)
      .filter((authorization) => authorization.reference === reference)
      .sort((a, b) => a.created.localeCompare(b.created))
      .map(toView);
  }

  /**
   * Decides a pending authorization (async cards always approve): the authorize row is written
   * now. Undefined when it is no longer pending (voided meanwhile, or settled already).
   */
  settlePending(authorizationId: string): Authorization | undefined {
    const authorization = this.state.authorizations[authorizationId];
    if (authorization === undefined || authorization.pending !== true) return undefined;
    authorization.pending = false;
    authorization.updated = new Date().toISOString();
    this.record(
      'authorize',
      authorization.amount,
      authorization.currency,
      'succeeded',
      authorization.reference,
      `settle:${authorization.id}`,
      authorization.id,
      null,
    );
    this.persist();
    return authorization;
  }

  /** The authorization of an open or decided challenge (the challenge page reads it). */
  getChallenge(authorizationId: string): Authorization | undefined {
    const authorization = this.state.authorizations[authorizationId];
    return authorization?.requires_action === true || authorization?.three_d_secure?.flow === 'challenge'
      ? authorization
      : undefined;
  }

  /**
   * The buyer's answer at the challenge page. Completed: authorized with liability shift (the
   * decline card then declines insufficient_funds); failed: authentication_failed. Writes the
   * authorize row. Undefined when no challenge is open (decided already, canceled, abandoned):
   * a second or late answer changes nothing.
   */
  decideChallenge(authorizationId: string, outcome: 'complete' | 'fail'): Authorization | undefined {
    const authorization = this.state.authorizations[authorizationId];
    if (authorization === undefined || authorization.requires_action !== true) return undefined;
    authorization.requires_action = false;
    authorization.updated = new Date().toISOString();
    authorization.three_d_secure = threeDSecure('challenge', outcome === 'complete');
    const failureCode =
      outcome === 'fail'
        ? 'authentication_failed'
        : authorization.behavior === 'three_ds_challenge_decline'
          ? 'insufficient_funds'
          : undefined;
    if (failureCode !== undefined) authorization.failure_code = failureCode;
    this.record(
      'authorize',
      authorization.amount,
      authorization.currency,
      failureCode === undefined ? 'succeeded' : 'failed',
      authorization.reference,
      `challenge:${authorization.id}`,
      authorization.id,
      failureCode ?? null,
    );
    this.persist();
    return authorization;
  }

  /** A chargeback on captured money: reduces what can still be refunded. */
  dispute(authorizationId: string, input: MoneyRequest, key: string, path: string): PspReply {
    return this.moveMoney('dispute', authorizationId, input, key, path, (authorization) => {
      const disputable = authorization.captured_amount - authorization.refunded_amount - (authorization.disputed_amount ?? 0);
      if (input.amount > disputable)
        return [422, 'amount_exceeds_disputable', `Only ${disputable} ${authorization.currency} can be disputed`];
      authorization.disputed_amount = (authorization.disputed_amount ?? 0) + input.amount;
      return undefined;
    });
  }

  /** The next callback sequence number of an authorization (persisted). */
  nextSequence(authorizationId: string): number {
    const authorization = this.state.authorizations[authorizationId];
    if (authorization === undefined) return 0;
    authorization.callback_sequence = (authorization.callback_sequence ?? 0) + 1;
    this.persist();
    return authorization.callback_sequence;
  }

  private moveMoney(
    type: Exclude<OperationType, 'authorize'>,
    authorizationId: string,
    input: MoneyRequest,
    key: string,
    path: string,
    apply: (authorization: Authorization) => [number, string, string] | undefined,
  ): PspReply {
    const authorization = this.state.authorizations[authorizationId];
    if (authorization === undefined) {
      // Nothing to attach a ledger row to; not stored, so a corrected retry with the key works.
      return { status: 404, body: errorBody('authorization_not_found', `No such authorization: ${authorizationId}`) };
    }
    const reference = authorization.reference;
    const fail = (status: number, code: string, message: string, param?: string): PspReply => {
      const row = this.record(type, input.amount, input.currency, 'failed', reference, key, authorization.id, code);
      return this.remember(key, path, {
        status,
        body: { ...(errorBody(code, message, row, param) as object), authorization: toView(authorization) },
      });
    };
    if (input.reference !== undefined && input.reference !== reference) {
      return fail(422, 'reference_mismatch', `The authorization belongs to reference ${reference}`, 'reference');
    }
    if (type !== 'void' && input.currency !== authorization.currency) {
      return fail(422, 'currency_mismatch', `The authorization is in ${authorization.currency}`, 'currency');
    }
    const violation = apply(authorization);
    if (violation !== undefined) return fail(violation[0], violation[1], violation[2], type === 'void' ? undefined : 'amount');
    authorization.updated = new Date().toISOString();
    const row = this.record(type, input.amount, authorization.currency, 'succeeded', reference, key, authorization.id, null);
    return this.remember(key, path, { status: 200, body: { ...row, authorization: toView(authorization) } });
  }

  private record(
    type: OperationType,
    amount: number,
    currency: string,
    status: LedgerOperation['status'],
    reference: string,
    key: string,
    authorizationId: string | null,
    failureCode: string | null,
  ): LedgerOperation {
    const row: LedgerOperation = {
      id: generateId('op'),
      type,
      amount,
      currency,
      status,
      reference,
      idempotency_key: key,
      authorization_id: authorizationId,
      failure_code: failureCode,
      created: new Date().toISOString(),
    };
    this.state.operations.push(row);
    return { ...row };
  }

  /** Stores the reply for replays and persists the whole change (row + authorization + reply) at once. */
  private remember(key: string, path: string, reply: PspReply): PspReply {
    this.state.idempotency[key] = { path, reply, created: new Date().toISOString() };
    this.persist();
    return reply;
  }

  private persist(): void {
    if (this.dataFile === undefined) return;
    // The ledger holds tokens: a private directory and a 0600 file (local/private-files.ts).
    mkdirSync(dirname(this.dataFile), { recursive: true, mode: PRIVATE_DIR_MODE });
    const temporary = `${this.dataFile}.${process.pid}.tmp`;
    writePrivateFile(temporary, JSON.stringify(this.state));
    renameSync(temporary, this.dataFile);
  }
}

function threeDSecure(flow: ThreeDSecureResult['flow'], authenticated: boolean): ThreeDSecureResult {
  return { flow, authenticated, liability_shift: authenticated, eci: authenticated ? '05' : '07', version: '2.2.0' };
}

function toView(authorization: Authorization): AuthorizationView {
  const { amount, captured_amount: captured, refunded_amount: refunded, voided } = authorization;
  let status: AuthorizationStatus;
  if (authorization.requires_action === true) status = 'requires_action';
  else if (authorization.failure_code !== undefined) status = 'failed';
  else if (authorization.pending === true) status = 'pending';
  else if (captured === 0) status = voided ? 'voided' : 'authorized';
  else if (refunded > 0) status = refunded === captured ? 'refunded' : 'partially_refunded';
  else if (captured < amount && !voided) status = 'partially_captured';
  else status = 'captured';
  return {
    id: authorization.id,
    object: 'authorization',
    status,
    amount,
    currency: authorization.currency,
    reference: authorization.reference,
    captured_amount: captured,
    refunded_amount: refunded,
    voided_amount: authorization.voided_amount,
    capturable_amount:
      voided ||
      authorization.pending === true ||
      authorization.requires_action === true ||
      authorization.failure_code !== undefined
        ? 0
        : amount - captured,
    refundable_amount: captured - refunded - (authorization.disputed_amount ?? 0),
    disputed_amount: authorization.disputed_amount ?? 0,
    card: { ...authorization.card },
    ...(authorization.card_on_file !== undefined ? { card_on_file: { ...authorization.card_on_file } } : {}),
    ...(authorization.network_transaction_id !== undefined
      ? { network_transaction_id: authorization.network_transaction_id }
      : {}),
    failure_code: authorization.failure_code ?? null,
    three_d_secure: authorization.three_d_secure ?? null,
    created: authorization.created,
    updated: authorization.updated,
  };
}
