/**
 * Settling the saga's instrument operation from the PSP's status (split out of
 * financial-instruments.ts): used only when a capture's or void's answer was lost, by
 * CapturePayment's status query (saga/resolve-capture-by-status.ts, imported on that path) and the
 * recovery sweep (reconciliation.ts). A module of its own so CapturePayment's cold start does not
 * read it.
 */
import { planOperation, settlementChange } from '../domain/instrument-ledger';
import type { InstrumentOperation } from '../domain/instrument-model';
import {
  combinedChange,
  SAGA_CAPTURE_OPERATION_ID,
  type InstrumentDependencies,
  type SAGA_VOID_OPERATION_ID,
} from './financial-instruments';

/**
 * Records on the saga's instrument what the PSP's status says happened to its capture or void
 * whose answer was lost (CapturePayment's status query, the recovery sweep): a pending operation is
 * settled as `outcome`; a capture the PSP made with no operation recorded (the one-write capture's
 * process died during the PSP call) is added, settled, in one write, for what is still capturable.
 * A failed outcome with no operation recorded changes nothing (nothing was reserved), nor does an
 * operation already settled. Safe to repeat.
 */
export async function settleSagaOperationFromPspTruth(
  deps: Pick<InstrumentDependencies, 'instruments' | 'now'>,
  input: {
    instrumentId: string | undefined;
    operationId: typeof SAGA_CAPTURE_OPERATION_ID | typeof SAGA_VOID_OPERATION_ID;
    outcome: 'succeeded' | 'failed';
    /** The PSP key the capture was sent with (recorded on an operation added here). */
    pspIdempotencyKey?: string;
    failure?: { code: string; message: string };
    /** Recorded as the PSP operation id of a capture added here (e.g. `status_query:<authorization>`). */
    pspOperationId?: string;
  },
): Promise<void> {
  if (input.instrumentId === undefined) return;
  const instrument = await deps.instruments.getInstrument(input.instrumentId);
  if (instrument === undefined) return;
  const now = deps.now?.() ?? new Date();
  const operation = instrument.operations[input.operationId];
  if (operation !== undefined) {
    if (operation.status !== 'pending') return;
    await deps.instruments.settleOperation(
      {
        instrumentId: instrument.id,
        operationId: operation.id,
        change: settlementChange(operation, input.outcome),
        patch: {
          status: input.outcome,
          settledAt: now.toISOString(),
          ...(input.outcome === 'failed' && input.failure !== undefined
            ? { failureCode: input.failure.code, failureMessage: input.failure.message }
            : {}),
        },
      },
      now,
    );
    return;
  }
  if (input.outcome !== 'succeeded' || input.operationId !== SAGA_CAPTURE_OPERATION_ID) return;
  if (instrument.status !== 'pending' || instrument.capturableAmount === 0) return;
  const { operation: planned, guard } = planOperation(
    instrument,
    { kind: 'capture', amount: instrument.capturableAmount, currency: instrument.currency },
    {
      operationId: input.operationId,
      now,
      allowedStatuses: ['pending'],
      ...(input.pspIdempotencyKey !== undefined ? { pspIdempotencyKey: input.pspIdempotencyKey } : {}),
    },
  );
  const settled: InstrumentOperation = {
    ...planned,
    status: 'succeeded',
    settledAt: now.toISOString(),
    ...(input.pspOperationId !== undefined ? { pspOperationId: input.pspOperationId } : {}),
  };
  const oneWriteGuard = { ...guard, exactCapturable: planned.pspAmount, noPendingCaptures: true };
  if (deps.instruments.reserveAndSettleOperation !== undefined) {
    const change = combinedChange(planned.reservation, settlementChange(planned, 'succeeded'));
    await deps.instruments.reserveAndSettleOperation(instrument.id, settled, change, oneWriteGuard, now);
    return;
  }
  const reserved = await deps.instruments.reserveOperation(instrument.id, planned, oneWriteGuard, now);
  if (reserved.kind !== 'reserved') return;
  await deps.instruments.settleOperation(
    {
      instrumentId: instrument.id,
      operationId: planned.id,
      change: settlementChange(planned, 'succeeded'),
      patch: {
        status: 'succeeded',
        settledAt: now.toISOString(),
        ...(input.pspOperationId !== undefined ? { pspOperationId: input.pspOperationId } : {}),
      },
    },
    now,
  );
}
