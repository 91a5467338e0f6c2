/**
 * The connector registry and the per-connector gateway choice: every connector is listed once,
 * each PSP call goes to the gateway of the attempt's (or instrument's) connector, and a connector
 * without settings in a function fails on use, never silently on another PSP.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CONNECTOR_IDS, DEFAULT_CONNECTOR_ID } from '../../../lambdas/connectors/connector-ids';
import { CONNECTORS, gatewaysFromEnv } from '../../../lambdas/connectors/registry';
import { gatewayFor } from '../../../lambdas/use-cases/connector-gateways';
import { authorizePayment } from '../../../lambdas/use-cases/saga/authorize-payment';
import { capturePayment } from '../../../lambdas/use-cases/saga/capture-payment';
import { runConfirmPhase as confirmInventory } from '../use-cases/saga/saga-fixture';
import type { SagaPorts } from '../../../lambdas/use-cases/saga/shared';
import { voidAuthorization } from '../../../lambdas/use-cases/saga/void-authorization';
import { aPayment } from '../../support/payments';
import {
  aCheckout,
  aMerchant,
  fakeCipher,
  FakeCheckouts,
  FakeConfirmer,
  FakeGateway,
  FakeMerchants,
  FakeAuthorizationHolds,
  FakeInstruments,
} from '../fakes';

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

describe('the connector registry', () => {
  it('lists sandbox and stripe, the ids the pay API and routing know, with sandbox the default', () => {
    // Assess
    expect(Object.keys(CONNECTORS)).toEqual(['sandbox', 'stripe']);
    expect([...CONNECTOR_IDS]).toEqual(Object.keys(CONNECTORS));
    expect(DEFAULT_CONNECTOR_ID).toBe('sandbox');
  });

  it('builds the stripe gateway from STRIPE_API_KEY and STRIPE_API_URL, and the sandbox one from SANDBOX_PSP_URL', async () => {
    // Prepare
    process.env.SANDBOX_PSP_URL = 'http://127.0.0.1:1';
    process.env.STRIPE_API_KEY = 'sk_test_unit';
    process.env.STRIPE_API_URL = 'http://127.0.0.1:2';
    // Act
    const { gateway, gateways } = await gatewaysFromEnv();
    // Assess
    expect(gateway.connector).toBe('sandbox');
    expect(gateways('stripe').connector).toBe('stripe');
    expect(gateways('sandbox')).toBe(gateway);
    expect(() => gateways('adyen')).toThrow('Unknown connector adyen');
    expect(() => gateways('__proto__')).toThrow('Unknown connector __proto__');
  });

  it('answers a gateway that fails on use for a connector the function has no settings for', async () => {
    // Prepare
    delete process.env.STRIPE_API_KEY;
    process.env.SANDBOX_PSP_URL = 'http://127.0.0.1:1';
    // Act
    const { gateways } = await gatewaysFromEnv();
    // Assess
    await expect(gateways('stripe').getAuthorization('pi_1')).rejects.toThrow('Connector stripe is not configured');
    // Nothing to look up where nothing was called (the lazy gateway finds nothing, never calls Stripe).
    expect(await gateways('stripe').findAuthorizations?.('chk_1')).toEqual([]);
  });
});

describe('gatewayFor', () => {
  it("picks the named connector's gateway, and the default one when none is named", () => {
    // Prepare
    const sandbox = new FakeGateway();
    const stripe = new FakeGateway();
    const gateways = (id: string) => (id === 'stripe' ? stripe : sandbox);
    // Assess
    expect(gatewayFor({ gateway: sandbox, gateways }, 'stripe')).toBe(stripe);
    expect(gatewayFor({ gateway: sandbox, gateways }, undefined)).toBe(sandbox);
  });
});

describe("the saga calls the attempt's connector", () => {
  async function setup() {
    const checkouts = new FakeCheckouts();
    const merchants = new FakeMerchants();
    const instruments = new FakeInstruments();
    const sandbox = new FakeGateway();
    const stripe = new FakeGateway();
    const deps: SagaPorts = {
      checkouts,
      merchants,
      gateway: sandbox,
      gateways: (id) => (id === 'stripe' ? stripe : sandbox),
      confirmer: new FakeConfirmer(),
      cipher: fakeCipher,
      instruments,
      authorizationHolds: new FakeAuthorizationHolds(instruments),
      renderCheckout: (c) => ({ id: c.id }),
    };
    await merchants.createMerchant(aMerchant());
    await checkouts.createCheckout(
      aCheckout({ status: 'processing', payment: aPayment({ paymentToken: 'pm_1', connector: 'stripe' }) }),
    );
    return { deps, sandbox, stripe, checkouts, instruments };
  }
  const input = { checkoutId: 'chk_1' };

  it('authorizes a stripe attempt at stripe and opens its instrument on stripe', async () => {
    // Prepare
    const { deps, sandbox, stripe, checkouts, instruments } = await setup();
    // Act
    await authorizePayment(deps, input);
    // Assess
    expect(stripe.calls.map((call) => call.op)).toEqual(['authorize']);
    expect(sandbox.calls).toEqual([]);
    const payment = (await checkouts.getCheckout('chk_1'))?.payment;
    expect(payment?.attempts[0]).toMatchObject({ connector: 'stripe', status: 'authorized', pspReference: 'auth_chk_1' });
    expect((await instruments.getInstrument(payment!.instrumentId!))?.connector).toBe('stripe');
  });

  it('captures at the connector that holds the authorization', async () => {
    // Prepare
    const { deps, sandbox, stripe } = await setup();
    await authorizePayment(deps, input);
    await confirmInventory(deps, input);
    // Act
    await capturePayment(deps, input);
    // Assess
    expect(stripe.calls.map((call) => call.op)).toEqual(['authorize', 'capture']);
    expect(sandbox.calls).toEqual([]);
  });

  it('voids at the connector that holds the authorization', async () => {
    // Prepare
    const { deps, sandbox, stripe } = await setup();
    await authorizePayment(deps, input);
    // Act
    await voidAuthorization(deps, input);
    // Assess
    expect(stripe.calls.map((call) => call.op)).toEqual(['authorize', 'void']);
    expect(sandbox.calls).toEqual([]);
  });
});
