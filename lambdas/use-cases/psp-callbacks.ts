/**
 * PSP callbacks: the asynchronous half of talking to a PSP. `receivePspCallback` serves
 * `POST /v1/psp/{connector}/callbacks`: it verifies the signature (HMAC, timestamp tolerance,
 * constant-time compare), dedupes by callback id (conditional put), applies the reported state
 * only as a forward transition of the authorization (a late "authorized" after "voided" changes
 * nothing), then acts: a final authorization result resumes the saga waiting on its task token, a
 * pending report is a heartbeat, a chargeback becomes a `dispute.created` event and a dispute
 * transaction on the instrument. The saga's side of the wait (parking its task token where this
 * handler finds it) is lambdas/use-cases/saga/await-authorization.ts.
 */
import { operationTransactions } from '../domain/instrument-ledger';
import type { FinancialInstrument, InstrumentOperation } from '../domain/instrument-model';
import type { PspCallback } from '../domain/psp-outcome';
import { AuthenticationError, NotFoundError, ValidationError } from '../errors';
import type { PspAuthorizationRecord } from '../domain/psp-outcome';
import type { CallbackReader, PspCallbackStore } from '../ports/callbacks';
import type { CheckoutRepository } from '../ports/checkouts';
import type { EventPublisher } from '../ports/events';
import type { InstrumentRepository } from '../ports/instruments';
import type { TaskTokenResumer } from '../ports/workflow';
import { toInstrumentOperationView } from '../shared/views';

export interface PspCallbackDependencies {
  callbacks: PspCallbackStore;
  resumer: TaskTokenResumer;
  checkouts: Pick<CheckoutRepository, 'getCheckout' | 'appendEvent'>;
  instruments: InstrumentRepository;
  events: EventPublisher;
  /** Each connector's callback reader (its signature scheme and JSON); a connector without one gets 404. */
  callbackReaders: Readonly<Record<string, CallbackReader>>;
  toleranceSeconds?: number;
  now?: () => Date;
}

export interface ReceiveCallbackInput {
  connector: string;
  /** The exact bytes the PSP signed. */
  rawBody: string;
  /** Header names lower-cased. */
  headers: Readonly<Record<string, string>>;
}

export interface ReceiveCallbackOutput {
  received: true;
  callback_id: string;
  /**
   * `duplicate`: seen before, nothing done; `stale`: older than what we know, nothing changed;
   * `unmatched`: its authorization id is not the one recorded for its reference, nothing changed;
   * `ignored`: a verified event Paystep does not use (`state` is its type, `callback_id` empty).
   */
  result: 'applied' | 'duplicate' | 'stale' | 'unmatched' | 'ignored';
  state: string;
}

/**
 * Verifies, dedupes and applies one callback. Bad signatures are 401 (the PSP retries; an
 * attacker learns nothing), malformed bodies 400; a duplicate or stale callback is still a 200 so
 * the PSP stops redelivering it.
 */
export async function receivePspCallback(
  deps: PspCallbackDependencies,
  input: ReceiveCallbackInput,
): Promise<ReceiveCallbackOutput> {
  const now = deps.now?.() ?? new Date();
  // Own properties only: `__proto__`, `constructor` or `hasOwnProperty` name no connector (a 404, not a 500).
  const reader = Object.hasOwn(deps.callbackReaders, input.connector) ? deps.callbackReaders[input.connector] : undefined;
  if (reader === undefined) throw new NotFoundError('Unknown PSP connector', { param: 'connector' });
  const reading = await reader.read({
    rawBody: input.rawBody,
    headers: input.headers,
    now,
    ...(deps.toleranceSeconds !== undefined ? { toleranceSeconds: deps.toleranceSeconds } : {}),
  });
  switch (reading.kind) {
    case 'bad_signature':
      throw new AuthenticationError(`Invalid callback signature (${reading.reason})`);
    case 'invalid_json':
      throw new ValidationError('The callback body is not valid JSON', { code: 'invalid_json' });
    case 'invalid_callback':
      throw new ValidationError('The callback body is not a PSP callback this connector sends', { code: 'invalid_callback' });
    case 'ignored':
      // Verified, but an event Paystep does not use: 200 so the PSP stops sending it, nothing recorded.
      return { received: true, callback_id: '', result: 'ignored', state: reading.type };
    case 'callback':
      break;
  }
  const callback = reading.callback;

  if (await deps.callbacks.hasCallback(input.connector, callback.id)) {
    const known = await deps.callbacks.getAuthorizationRecord(input.connector, callback.reference);
    return { received: true, callback_id: callback.id, result: 'duplicate', state: known?.state ?? callback.state };
  }

  // Hardening rule: a callback acts only on the authorization its reference recorded. A PSP files
  // authorizations under whatever reference the requester gave, so a callback about another
  // authorization filed under a victim's checkout id must not touch that checkout.
  const expected = await recordedAuthorizationIds(deps, input.connector, callback.reference, callback.authorizationId);
  if (!expected.has(callback.authorizationId)) {
    const first = await deps.callbacks.recordCallback({
      connector: input.connector,
      callbackId: callback.id,
      type: callback.type,
      reference: callback.reference,
      authorizationId: callback.authorizationId,
      receivedAt: now.toISOString(),
      unmatched: true,
    });
    const known = await deps.callbacks.getAuthorizationRecord(input.connector, callback.reference);
    return {
      received: true,
      callback_id: callback.id,
      result: first ? 'unmatched' : 'duplicate',
      state: known?.state ?? 'unknown',
    };
  }

  const { applied, record } = await deps.callbacks.advanceAuthorization(
    {
      connector: input.connector,
      reference: callback.reference,
      authorizationId: callback.authorizationId,
      state: callback.state,
      amount: callback.amount,
      currency: callback.currency,
      lastCallbackId: callback.id,
    },
    now,
  );
  // A redelivery of a callback whose first processing failed midway finds the state it set itself:
  // its effects are redone (all idempotent).
  const ours = applied || record.lastCallbackId === callback.id;
  await recordOnTimeline(deps, callback, ours, record, now);
  if (ours) await act(deps, input.connector, callback, record, now);
  // Last: the receipt that makes a redelivery a duplicate. Two concurrent deliveries may both get
  // here; every effect above is idempotent (conditional), and only one receipt is written.
  const first = await deps.callbacks.recordCallback({
    connector: input.connector,
    callbackId: callback.id,
    type: callback.type,
    reference: callback.reference,
    authorizationId: callback.authorizationId,
    receivedAt: now.toISOString(),
  });
  if (!first) return { received: true, callback_id: callback.id, result: 'duplicate', state: record.state };
  return { received: true, callback_id: callback.id, result: ours ? 'applied' : 'stale', state: record.state };
}

/**
 * The PSP authorization ids Paystep recorded for `reference`: the checkout's authorization (or its
 * pending one), its instrument's, a token instrument's own, the one the authorization record
 * holds (written only from the checkout, a status query or an earlier matched callback), and, for
 * a reference that names no checkout or instrument (a merchant's own, of an authorization claimed
 * through the API), the instrument found by the callback's authorization id if it was filed under
 * that same reference.
 */
export async function recordedAuthorizationIds(
  deps: PspCallbackDependencies,
  connector: string,
  reference: string,
  authorizationId?: string,
): Promise<Set<string>> {
  const ids = new Set<string>();
  const add = (id: string | undefined): void => {
    if (id !== undefined && id !== '') ids.add(id);
  };
  const record = await deps.callbacks.getAuthorizationRecord(connector, reference);
  add(record?.authorizationId);
  let instrumentId: string | undefined;
  if (reference.startsWith('chk_')) {
    const checkout = await deps.checkouts.getCheckout(reference);
    for (const attempt of checkout?.payment?.attempts ?? []) add(attempt.pspReference);
    instrumentId = checkout?.payment?.instrumentId;
  } else {
    instrumentId = reference;
  }
  if (instrumentId !== undefined) {
    const instrument = await deps.instruments.getInstrument(instrumentId);
    if (instrument !== undefined && instrument.pspPaymentReference === reference) add(instrument.pspReference);
    else if (instrument !== undefined && reference.startsWith('chk_') && instrument.checkoutId === reference)
      add(instrument.pspReference);
    if (instrument !== undefined) return ids;
  }
  if (reference.startsWith('chk_')) return ids;
  add((await instrumentByAuthorization(deps, connector, reference, authorizationId))?.pspReference);
  return ids;
}

/**
 * The instrument standing for the PSP authorization `authorizationId` (its claim item, or the
 * instrument's gsi2 entry: InstrumentRepository.findInstrumentIdByPspReference), only if that
 * authorization was filed under `reference`: a callback never reaches an instrument through an
 * authorization filed under another reference.
 */
async function instrumentByAuthorization(
  deps: Pick<PspCallbackDependencies, 'instruments'>,
  connector: string,
  reference: string,
  authorizationId: string | undefined,
): Promise<FinancialInstrument | undefined> {
  if (authorizationId === undefined || authorizationId === '' || deps.instruments.findInstrumentIdByPspReference === undefined)
    return undefined;
  const instrumentId = await deps.instruments.findInstrumentIdByPspReference(connector, authorizationId);
  if (instrumentId === undefined) return undefined;
  const instrument = await deps.instruments.getInstrument(instrumentId);
  return instrument?.pspReference === authorizationId && instrument.pspPaymentReference === reference ? instrument : undefined;
}

/** A `psp_callback` row on the checkout's timeline (checkout references only), once per callback id. */
async function recordOnTimeline(
  deps: PspCallbackDependencies,
  callback: PspCallback,
  applied: boolean,
  record: PspAuthorizationRecord,
  now: Date,
): Promise<void> {
  if (!callback.reference.startsWith('chk_')) return;
  const checkout = await deps.checkouts.getCheckout(callback.reference);
  if (checkout === undefined) return;
  await deps.checkouts.appendEvent(
    {
      checkoutId: checkout.id,
      type: 'psp_callback',
      at: now.toISOString(),
      data: {
        callback_id: callback.id,
        callback_type: callback.type,
        applied,
        state: record.state,
        ...(callback.sequence !== undefined ? { sequence: callback.sequence } : {}),
      },
    },
    `psp_callback:${callback.id}`,
  );
}

async function act(
  deps: PspCallbackDependencies,
  connector: string,
  callback: PspCallback,
  record: PspAuthorizationRecord,
  now: Date,
): Promise<void> {
  switch (record.state) {
    case 'authorized':
    case 'declined':
      // The saga re-reads the result from the PSP (AuthorizePayment runs again): resume it.
      if (record.taskToken !== undefined) {
        await deps.resumer.succeed(record.taskToken, { state: record.state, callback_id: callback.id });
        await deps.callbacks.clearTaskToken(connector, callback.reference, record.taskToken);
      }
      return;
    case 'pending':
      if (record.taskToken !== undefined) await deps.resumer.heartbeat(record.taskToken);
      return;
    case 'disputed':
      await applyDispute(deps, callback, now, connector);
      return;
    default:
      return; // captured / voided: our own operations reported back; the state record is the audit
  }
}

// ---- Disputes -------------------------------------------------------------------------------------

/**
 * A chargeback: a settled `dispute` transaction on the instrument (refundable reduced by what is
 * still refundable, at most the disputed amount; the operation id derives from the PSP's dispute
 * id, so a redelivered callback records nothing new) and a `dispute.created` event.
 */
export async function applyDispute(
  deps: PspCallbackDependencies,
  callback: PspCallback,
  now: Date,
  connector?: string,
): Promise<void> {
  const disputeId = callback.disputeId ?? callback.id;
  let merchantId: string | undefined;
  let instrumentId: string | undefined;
  let checkoutId: string | undefined;
  if (callback.reference.startsWith('chk_')) {
    const checkout = await deps.checkouts.getCheckout(callback.reference);
    merchantId = checkout?.merchantId;
    instrumentId = checkout?.payment?.instrumentId;
    checkoutId = checkout?.id;
  } else {
    const instrument =
      (await deps.instruments.getInstrument(callback.reference)) ??
      (connector !== undefined
        ? await instrumentByAuthorization(deps, connector, callback.reference, callback.authorizationId)
        : undefined);
    merchantId = instrument?.merchantId;
    instrumentId = instrument?.id;
    checkoutId = instrument?.checkoutId;
  }
  if (merchantId === undefined) return;
  let transaction: Record<string, unknown> | undefined;
  if (instrumentId !== undefined) {
    const instrument = await deps.instruments.getInstrument(instrumentId);
    if (instrument !== undefined) {
      const operationId = `dispute_${disputeId}`.slice(0, 64);
      const reduce = Math.min(callback.amount, instrument.refundableAmount);
      const operation: InstrumentOperation = {
        id: operationId,
        kind: 'dispute',
        pspAction: 'none',
        pspAmount: callback.amount,
        pspIdempotencyKey: `psp:${callback.id}`,
        status: 'pending',
        reservation: { capturableDelta: 0, refundableDelta: reduce === 0 ? 0 : -reduce, pendingCapturesDelta: 0 },
        onSuccess: { capturableDelta: 0, refundableDelta: 0, pendingCapturesDelta: 0 },
        pspOperationId: disputeId,
        createdAt: now.toISOString(),
      };
      const guard = {
        allowedStatuses: ['active', 'voided', 'pending'] as const,
        minCapturable: 0,
        minRefundable: reduce,
        maxOperations: Number.MAX_SAFE_INTEGER,
      };
      const reserved = await deps.instruments.reserveOperation(instrumentId, operation, guard, now);
      const settled = await deps.instruments.settleOperation(
        {
          instrumentId,
          operationId,
          change: { capturableDelta: 0, refundableDelta: 0, pendingCapturesDelta: 0 },
          patch: { status: 'succeeded', settledAt: now.toISOString(), pspOperationId: disputeId },
        },
        now,
      );
      const stored = settled.operations[operationId] ?? reserved.instrument.operations[operationId];
      if (stored !== undefined)
        transaction = toInstrumentOperationView(
          settled,
          operationId,
          operationTransactions(settled, stored),
        ) as unknown as Record<string, unknown>;
    }
  }
  await deps.events.publishEvent({
    merchantId,
    type: 'dispute.created',
    objectId: disputeId,
    ...(checkoutId !== undefined ? { checkoutId } : {}),
    sourceKey: `${callback.reference}:dispute:${disputeId}`,
    occurredAt: now,
    data: {
      object: {
        id: disputeId,
        object: 'dispute',
        amount: callback.amount,
        currency: callback.currency,
        reason: callback.reason ?? null,
        psp_reference: callback.authorizationId,
        checkout_id: checkoutId ?? null,
        financial_instrument_id: instrumentId ?? null,
        ...(transaction !== undefined ? { transaction } : {}),
      },
    },
  });
}
