import { describe, expect, it } from 'vitest';
import type { Checkout, CheckoutEvent } from '../../../lambdas/domain/model';
import type { FinancialInstrument } from '../../../lambdas/domain/instrument-model';
import type { CheckoutRepository } from '../../../lambdas/ports/checkouts';
import type { InstrumentRepository } from '../../../lambdas/ports/instruments';
import { loadCheckoutDetails } from '../../../lambdas/use-cases/checkouts/checkout-details';
import { aCheckout } from '../fakes';
import { aPayment } from '../../support/payments';

/** Read stubs that record when each read starts and answer only when the test releases it. */
function gatedReads(instrument: FinancialInstrument | undefined) {
  const started: string[] = [];
  const gates: Record<string, () => void> = {};
  const gate = <T>(name: string, value: T) => {
    started.push(name);
    return new Promise<T>((resolve) => (gates[name] = () => resolve(value)));
  };
  const checkouts = {
    listEvents: (checkoutId: string) =>
      gate<CheckoutEvent[]>('timeline', [{ checkoutId, type: 'created', at: '2026-01-01T00:00:00.000Z' }]),
  } as unknown as CheckoutRepository;
  const instruments = { getInstrument: () => gate('instrument', instrument) } as unknown as InstrumentRepository;
  const webhookRowsOf: Checkout[] = [];
  const webhookRows = (checkout: Checkout) => {
    webhookRowsOf.push(checkout);
    return gate<CheckoutEvent[]>('webhookRows', []);
  };
  return { deps: { checkouts, instruments, webhookRows }, started, gates, webhookRowsOf };
}

const instrument = { id: 'fi_1', status: 'active', operations: {} } as unknown as FinancialInstrument;

describe('loadCheckoutDetails', () => {
  it('reads the ledger, the timeline and the webhook rows at the same time', async () => {
    // Prepare
    const checkout = aCheckout({
      status: 'succeeded',
      payment: aPayment({ instrumentId: 'fi_1', authorizedAmount: 10050 }, { status: 'succeeded' }),
    });
    const { deps, started, gates } = gatedReads(instrument);
    // Act
    const details = loadCheckoutDetails(deps, checkout, new Date('2026-01-01T00:01:00.000Z'));
    await new Promise((resolve) => setImmediate(resolve));
    const startedTogether = [...started];
    Object.values(gates).forEach((release) => release());
    const result = await details;
    // Assess
    expect(startedTogether.sort()).toEqual(['instrument', 'timeline', 'webhookRows']);
    expect(result.instrument).toBe(instrument);
    expect(result.checkout).toBe(checkout);
    expect(result.events.map((event) => event.type)).toEqual(['created']);
  });

  it('derives a held manual-capture checkout’s webhook rows from the ledgered checkout, after the instrument', async () => {
    // Prepare
    const checkout = aCheckout({
      status: 'succeeded',
      captureMethod: 'manual',
      payment: aPayment(
        { instrumentId: 'fi_1', authorizedAmount: 10050, authorizationExpiresAt: '2026-01-08T00:00:00.000Z' },
        { status: 'succeeded' },
      ),
    });
    const voided = { ...instrument, status: 'voided' } as FinancialInstrument;
    const { deps, started, gates, webhookRowsOf } = gatedReads(voided);
    // Act
    const details = loadCheckoutDetails(deps, checkout, new Date('2026-01-01T00:01:00.000Z'));
    await new Promise((resolve) => setImmediate(resolve));
    const startedFirst = [...started];
    gates['instrument']!();
    await new Promise((resolve) => setImmediate(resolve));
    Object.values(gates).forEach((release) => release());
    const result = await details;
    // Assess
    expect(startedFirst).toEqual(['instrument']);
    expect(webhookRowsOf).toEqual([result.checkout]);
    expect(result.checkout).not.toBe(checkout);
  });
});
