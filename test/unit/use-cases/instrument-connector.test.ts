/**
 * A merchant's new financial instrument goes to the connector its routing rules pick (amount and
 * currency; no card facts), its later operations follow the instrument's connector, and the
 * merchant's captures are non-final (the rest stays capturable: Stripe's multicapture) while the
 * saga's capture is final.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import {
  createInstrument,
  openCheckoutInstrument,
  operateInstrument,
  runSagaOperation,
  type InstrumentDependencies,
} from '../../../lambdas/use-cases/financial-instruments';
import { routeForInstrument } from '../../../lambdas/use-cases/instrument-route';
import type { RoutingConfig } from '../../../lambdas/domain/routing';
import type { CaptureInput } from '../../../lambdas/ports/payments';
import { aMerchant, FakeGateway, FakeInstruments, FakeMerchants } from '../fakes';

/** A fake gateway answering for `connector`, recording the `final` flag of each capture. */
function gatewayFor(connector: string): FakeGateway & { finals: (boolean | undefined)[] } {
  const gateway = Object.assign(new FakeGateway(), { finals: [] as (boolean | undefined)[] });
  Object.defineProperty(gateway, 'connector', { value: connector });
  const capture = gateway.capture.bind(gateway);
  gateway.capture = async (input: CaptureInput) => {
    gateway.finals.push(input.final);
    return await capture(input);
  };
  return gateway;
}

const EUR_TO_STRIPE: RoutingConfig = {
  rules: [{ conditions: { currency: ['EUR'] }, connectors: ['stripe', 'sandbox'] }],
  default: ['sandbox'],
  failover: true,
};

let merchants: FakeMerchants;
let sandbox: ReturnType<typeof gatewayFor>;
let stripe: ReturnType<typeof gatewayFor>;
let deps: InstrumentDependencies;

beforeEach(async () => {
  merchants = new FakeMerchants();
  await merchants.createMerchant(aMerchant({ id: 'mer_routed', routing: EUR_TO_STRIPE }));
  await merchants.createMerchant(aMerchant({ id: 'mer_plain' }));
  sandbox = gatewayFor('sandbox');
  stripe = gatewayFor('stripe');
  const byId: Record<string, FakeGateway> = { sandbox, stripe };
  deps = { instruments: new FakeInstruments(), gateway: sandbox, gateways: (id) => byId[id]!, merchants };
});

describe('routeForInstrument', () => {
  it.each([
    ['mer_routed', 'EUR', 'stripe'],
    ['mer_routed', 'USD', 'sandbox'],
    ['mer_plain', 'EUR', 'sandbox'],
    ['mer_unknown', 'EUR', 'sandbox'],
  ])('%s in %s -> %s', async (merchantId, currency, connector) => {
    expect(await routeForInstrument({ merchants }, { merchantId, amount: 1000, currency })).toBe(connector);
  });

  it('never matches a rule with a card condition (an instrument carries no card facts)', async () => {
    // Prepare
    await merchants.createMerchant(
      aMerchant({
        id: 'mer_visa',
        routing: {
          rules: [{ conditions: { cardBrand: ['visa'] }, connectors: ['stripe'] }],
          default: ['sandbox'],
          failover: false,
        },
      }),
    );
    // Act + Assess
    expect(await routeForInstrument({ merchants }, { merchantId: 'mer_visa', amount: 1000, currency: 'USD' })).toBe('sandbox');
  });
});

describe('createInstrument on the routed connector', () => {
  it('authorizes a token at the connector the routing picks and sends every later operation there', async () => {
    // Act
    const instrument = await createInstrument(deps, 'mer_routed', {
      type: 'token',
      amount: 10000,
      currency: 'EUR',
      paymentToken: 'pm_stripe_1',
    });
    await operateInstrument(deps, 'mer_routed', instrument.id, { kind: 'capture', amount: 5000, currency: 'EUR' });
    await operateInstrument(deps, 'mer_routed', instrument.id, { kind: 'revoke' });
    // Assess
    expect(instrument.connector).toBe('stripe');
    expect(stripe.calls.map((call) => call.op)).toEqual(['authorize', 'capture', 'void']);
    expect(sandbox.calls).toEqual([]);
  });

  it('reads an `authorized` identifier at the routed connector', async () => {
    // Prepare
    stripe.authorizations.set('pi_1', {
      id: 'pi_1',
      state: 'authorized',
      pspStatus: 'requires_capture',
      amount: 4000,
      currency: 'EUR',
      reference: 'ord_1',
      capturedAmount: 0,
      refundedAmount: 0,
      capturableAmount: 4000,
      refundableAmount: 0,
    });
    // Act
    const instrument = await createInstrument(deps, 'mer_routed', {
      type: 'authorized',
      amount: 4000,
      currency: 'EUR',
      pspReference: 'pi_1',
    });
    // Assess
    expect(instrument).toMatchObject({ connector: 'stripe', pspReference: 'pi_1', capturableAmount: 4000 });
  });

  it('keeps the default connector where no merchant routing is wired', async () => {
    // Prepare
    const { merchants: _ignored, ...unrouted } = deps;
    // Act
    const instrument = await createInstrument(unrouted, 'mer_routed', {
      type: 'token',
      amount: 100,
      currency: 'EUR',
      paymentToken: 'tok_1',
    });
    // Assess
    expect(instrument.connector).toBe('sandbox');
  });
});

describe('capture finality', () => {
  it("makes the merchant's captures non-final and the saga's capture final", async () => {
    // Prepare
    const merchantInstrument = await createInstrument(deps, 'mer_routed', {
      type: 'token',
      amount: 10000,
      currency: 'EUR',
      paymentToken: 'pm_stripe_2',
    });
    const sagaInstrument = await openCheckoutInstrument(deps, {
      checkoutId: 'chk_final',
      merchantId: 'mer_routed',
      pspReference: 'pi_saga',
      authorizedAmount: 3000,
      currency: 'EUR',
      connector: 'stripe',
    });
    // Act
    await operateInstrument(deps, 'mer_routed', merchantInstrument.id, { kind: 'capture', amount: 5000, currency: 'EUR' });
    await operateInstrument(deps, 'mer_routed', merchantInstrument.id, { kind: 'capture', amount: 5000, currency: 'EUR' });
    await runSagaOperation(deps, {
      instrumentId: sagaInstrument.id,
      step: 'capture',
      amount: 3000,
      pspIdempotencyKey: 'chk_final:capture',
    });
    // Assess
    expect(stripe.finals).toEqual([false, false, true]);
  });
});
