/**
 * The Stripe-protocol sandbox's books: PaymentMethods (card data reduced to brand, last4, expiry
 * and test behaviour; the number and CVC go no further), PaymentIntents with their one charge,
 * Refunds, stored idempotent answers, and the operation ledger in the sandbox PSP's shape
 * (authorize, capture, void, refund per reference) that tests read to prove the money invariants.
 * Optionally persisted to a JSON file after each change, so `npm start` keeps it across restarts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { detectBrand, findCardBehavior, type CardBehavior } from '../sandbox-psp/test-cards';

export interface LedgerOperation {
  id: string;
  type: 'authorize' | 'capture' | 'void' | 'refund';
  amount: number;
  /** Uppercase ISO 4217, as the sandbox PSP's ledger writes it. */
  currency: string;
  status: 'succeeded' | 'failed';
  reference: string;
  idempotency_key: string;
  payment_intent: string | null;
  failure_code: string | null;
  /** Card-on-file: the network transaction id of this authorization and, off-session, of the initial one. */
  network_transaction_id: string | null;
  initial_network_transaction_id: string | null;
  off_session: boolean;
  /** The API key that made the call, masked as Stripe's dashboard shows keys (`sk_test_...` and its last 8 characters). */
  api_key?: string | null;
  created: string;
}

export interface StoredPaymentMethod {
  id: string;
  brand: string;
  last4: string;
  exp_month: number;
  exp_year: number;
  fingerprint: string;
  behavior: CardBehavior;
  /** Set once a customer-initiated payment saved it (`setup_future_usage`): the MIT reference. */
  network_transaction_id: string | null;
  created: number;
}

export type IntentStatus =
  'requires_payment_method' | 'requires_action' | 'processing' | 'requires_capture' | 'succeeded' | 'canceled';

/** Stripe's `payment_method_details.card.three_d_secure` (liability-shift data) of a charge. */
export interface StoredThreeDSecure {
  authentication_flow: 'challenge' | 'frictionless';
  result: 'authenticated' | 'failed';
  result_reason: string | null;
  electronic_commerce_indicator: '05' | '07';
  version: string;
  transaction_id: string;
}

export interface StoredIntent {
  id: string;
  amount: number;
  /** Lowercase, as Stripe writes currencies. */
  currency: string;
  status: IntentStatus;
  amount_capturable: number;
  amount_received: number;
  amount_refunded: number;
  reference: string;
  metadata: Record<string, string>;
  payment_method: string;
  setup_future_usage: string | null;
  off_session: boolean;
  charge_id: string | null;
  network_transaction_id: string | null;
  last_payment_error: { code: string; decline_code?: string; message: string } | null;
  cancellation_reason: string | null;
  created: number;
  /** The Idempotency-Key that created it (the ledger row of an async settlement carries it). */
  creation_key: string;
  /** Async cards: when the pending authorization settles (ISO 8601). */
  settle_at: string | null;
  /** 3-D Secure: where the challenge page sends the buyer back (the confirm's `return_url`). */
  return_url?: string | null;
  /** 3-D Secure result, once authenticated (or not). */
  three_d_secure?: StoredThreeDSecure | null;
  /** Created with `payment_method_options[card][request_multicapture]=if_available`: captures with `final_capture=false` keep the rest capturable. Absent in ledgers written before. */
  multicapture?: boolean;
}

export interface StoredRefund {
  id: string;
  amount: number;
  currency: string;
  payment_intent: string;
  charge: string;
  status: 'succeeded';
  metadata: Record<string, string>;
  created: number;
}

export interface StoredAnswer {
  status: number;
  body: unknown;
}

interface IdempotentRecord {
  method: string;
  path: string;
  /** sha256 of the canonical parameters: the same key with other parameters is an idempotency_error. */
  fingerprint: string;
  answer: StoredAnswer;
}

interface State {
  paymentMethods: Record<string, StoredPaymentMethod>;
  intents: Record<string, StoredIntent>;
  refunds: Record<string, StoredRefund>;
  idempotency: Record<string, IdempotentRecord>;
  operations: LedgerOperation[];
  firstAttempts: string[];
}

export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`;
}

export function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}

export class StripeSandboxLedger {
  private readonly state: State;
  /** The masked key of the request being served (set by the server), written on each ledger row. */
  callerKey: () => string | undefined = () => undefined;

  constructor(private readonly dataFile?: string) {
    this.state =
      dataFile !== undefined && existsSync(dataFile)
        ? (JSON.parse(readFileSync(dataFile, 'utf8')) as State)
        : { paymentMethods: {}, intents: {}, refunds: {}, idempotency: {}, operations: [], firstAttempts: [] };
  }

  /** Writes the state (atomically: temp file + rename) when a data file is configured. */
  save(): void {
    if (this.dataFile === undefined) return;
    mkdirSync(dirname(this.dataFile), { recursive: true });
    const temp = `${this.dataFile}.tmp`;
    writeFileSync(temp, JSON.stringify(this.state));
    renameSync(temp, this.dataFile);
  }

  // ---- idempotency ----------------------------------------------------------------------------

  findIdempotent(key: string): IdempotentRecord | undefined {
    return this.state.idempotency[key];
  }

  remember(key: string, method: string, path: string, fingerprint: string, answer: StoredAnswer): StoredAnswer {
    this.state.idempotency[key] = { method, path, fingerprint, answer };
    this.save();
    return answer;
  }

  /** True the first time a key is seen (the 503-once card refuses that attempt and records nothing else). */
  claimFirstAttempt(key: string): boolean {
    if (this.state.firstAttempts.includes(key)) return false;
    this.state.firstAttempts.push(key);
    this.save();
    return true;
  }

  // ---- payment methods ------------------------------------------------------------------------

  createPaymentMethod(card: { number: string; expMonth: number; expYear: number }): StoredPaymentMethod {
    const method: StoredPaymentMethod = {
      id: newId('pm'),
      brand: detectBrand(card.number),
      last4: card.number.slice(-4),
      exp_month: card.expMonth,
      exp_year: card.expYear,
      fingerprint: createHash('sha256').update(`stripe-sandbox:${card.number}`).digest('hex').slice(0, 16),
      behavior: findCardBehavior(card.number),
      network_transaction_id: null,
      created: unixNow(),
    };
    this.state.paymentMethods[method.id] = method;
    this.save();
    return method;
  }

  getPaymentMethod(id: string): StoredPaymentMethod | undefined {
    return this.state.paymentMethods[id];
  }

  // ---- intents --------------------------------------------------------------------------------

  putIntent(intent: StoredIntent): StoredIntent {
    this.state.intents[intent.id] = intent;
    this.save();
    return intent;
  }

  getIntent(id: string): StoredIntent | undefined {
    return this.state.intents[id];
  }

  searchIntentsByReference(reference: string): StoredIntent[] {
    return Object.values(this.state.intents)
      .filter((intent) => intent.metadata['reference'] === reference)
      .sort((a, b) => b.created - a.created);
  }

  listProcessing(): StoredIntent[] {
    return Object.values(this.state.intents).filter((intent) => intent.status === 'processing');
  }

  putRefund(refund: StoredRefund): StoredRefund {
    this.state.refunds[refund.id] = refund;
    this.save();
    return refund;
  }

  /** Records the network transaction id a customer-initiated payment set up for later off-session use. */
  saveForOffSession(paymentMethodId: string, networkTransactionId: string): void {
    const method = this.state.paymentMethods[paymentMethodId];
    if (method !== undefined && method.network_transaction_id === null) {
      method.network_transaction_id = networkTransactionId;
      this.save();
    }
  }

  // ---- the operation ledger ---------------------------------------------------------------------

  record(
    row: Omit<LedgerOperation, 'id' | 'created' | 'network_transaction_id' | 'initial_network_transaction_id' | 'off_session'> &
      Partial<LedgerOperation>,
  ): LedgerOperation {
    const operation: LedgerOperation = {
      network_transaction_id: null,
      initial_network_transaction_id: null,
      off_session: false,
      api_key: this.callerKey() ?? null,
      ...row,
      id: newId('op'),
      created: new Date().toISOString(),
    };
    this.state.operations.push(operation);
    this.save();
    return operation;
  }

  listOperations(reference?: string): LedgerOperation[] {
    const rows =
      reference === undefined ? this.state.operations : this.state.operations.filter((row) => row.reference === reference);
    return rows.map((row) => ({ ...row }));
  }
}
