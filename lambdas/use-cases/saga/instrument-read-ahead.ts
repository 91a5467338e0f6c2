/**
 * CapturePayment's read of the checkout's instrument, started early so that it runs beside other
 * calls (the checkout read, or the write of the merchant's inventory decision) instead of after
 * them. The saga's instrument id derives from the checkout id (instrumentIdForCheckout), so the
 * read can start before the checkout is read.
 *
 * The first `getInstrument` of that id answers with the read started early; every later one (and
 * any other id) reads again: a write that loses its condition on the early image re-reads, as
 * always. The early read is never older than the step's checkout read, so it is what a read right
 * after it would have seen; every state change still goes through a conditional write.
 */
import type { FinancialInstrument } from '../../domain/instrument-model';
import { instrumentIdForCheckout } from '../../domain/instrument-ledger';
import type { InstrumentRepository } from '../../ports/instruments';

export interface InstrumentReadAhead<R extends Pick<InstrumentRepository, 'getInstrument'>> {
  /** The repository to hand to the step: its first read of the instrument is the early one. */
  instruments: R;
  /** Starts the early read (once; later calls do nothing). */
  start(): void;
}

/** An instrument repository whose first read of `checkoutId`'s instrument may be started ahead (start()). */
export function instrumentReadAhead<R extends Pick<InstrumentRepository, 'getInstrument'>>(
  instruments: R,
  checkoutId: string,
): InstrumentReadAhead<R> {
  const instrumentId = instrumentIdForCheckout(checkoutId);
  let early: Promise<FinancialInstrument | undefined> | undefined;
  let used = false;
  const ahead = Object.create(instruments) as R;
  ahead.getInstrument = (id: string) => {
    if (id !== instrumentId || used) return instruments.getInstrument(id);
    used = true;
    return early ?? instruments.getInstrument(id);
  };
  return {
    instruments: ahead,
    start() {
      if (early !== undefined || used) return;
      early = instruments.getInstrument(instrumentId);
      // A step that ends before using it (a refused confirmation) leaves the error unobserved, not unhandled.
      early.catch(() => undefined);
    },
  };
}
