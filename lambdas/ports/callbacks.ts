/**
 * Ports: PSP callbacks. `CallbackReader` verifies and parses one callback with its connector's
 * scheme (lambdas/connectors/<id>/); `PspCallbackStore` dedupes callbacks and keeps each
 * authorization's state (lambdas/use-cases/psp-callbacks.ts, reconciliation.ts).
 */
import type { PspAuthorizationRecord, PspCallback } from '../domain/psp-outcome';

export interface CallbackReadInput {
  /** The exact bytes the PSP signed. */
  rawBody: string;
  /** Header names lower-cased. */
  headers: Readonly<Record<string, string>>;
  now: Date;
  toleranceSeconds?: number;
}

export type CallbackReading =
  | { kind: 'callback'; callback: PspCallback }
  | { kind: 'bad_signature'; reason: string }
  | { kind: 'invalid_json' }
  | { kind: 'invalid_callback' }
  /** A verified event Paystep does not use (answered 2xx so the PSP stops sending it, nothing done). */
  | { kind: 'ignored'; type: string };

/** Verifies and parses one callback with the connector's own signature scheme and JSON. */
export interface CallbackReader {
  read(input: CallbackReadInput): CallbackReading | Promise<CallbackReading>;
}

export interface PspCallbackReceipt {
  connector: string;
  callbackId: string;
  type: string;
  reference: string;
  authorizationId: string;
  receivedAt: string;
  /** Its authorization id was not the one recorded for its reference: stored, nothing applied. */
  unmatched?: true;
}

/**
 * Callbacks and authorization states. Dedupe is a conditional put on the callback id; state
 * changes are conditional updates that only move forward (domain/psp-outcome.ts ranks), so
 * concurrent, repeated and reordered callbacks converge on the same record.
 */
export interface PspCallbackStore {
  /** Whether this callback id was already processed to the end (recorded). */
  hasCallback(connector: string, callbackId: string): Promise<boolean>;
  /**
   * Records a processed callback (conditional put): true the first time, false for a repeat. Written
   * after the callback's effects, so a handler that failed midway leaves the redelivery to redo
   * them (every effect is idempotent) instead of swallowing it as a duplicate.
   */
  recordCallback(receipt: PspCallbackReceipt): Promise<boolean>;
  getAuthorizationRecord(connector: string, reference: string): Promise<PspAuthorizationRecord | undefined>;
  /**
   * Moves the record to `next.state` if that is a forward transition from what is stored (created
   * if absent). Returns whether it applied and the record as stored afterwards.
   */
  advanceAuthorization(
    next: Omit<PspAuthorizationRecord, 'taskToken' | 'updatedAt'>,
    now: Date,
  ): Promise<{ applied: boolean; record: PspAuthorizationRecord }>;
  /** Stores the waiting saga's task token (creating a `pending` record if none); returns the record. */
  registerTaskToken(
    connector: string,
    reference: string,
    taskToken: string,
    defaults: { amount: number; currency: string; authorizationId?: string },
    now: Date,
  ): Promise<PspAuthorizationRecord>;
  /** Forgets the token once the saga was resumed (conditional on it still being this token). */
  clearTaskToken(connector: string, reference: string, taskToken: string): Promise<void>;
}
