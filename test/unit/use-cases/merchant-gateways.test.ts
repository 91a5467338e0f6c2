/**
 * Gateways per (connector, merchant): a merchant with a stored connector account is served on its
 * own (decrypted) credentials, built once per account version and cached for the warm container;
 * one without falls back to the platform's gateway only where PAYSTEP_PLATFORM_CONNECTORS enables
 * the connector; a replaced key is picked up after the refresh interval.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { PspRejectedError } from '../../../lambdas/errors';
import type { PaymentGateway } from '../../../lambdas/ports/payments';
import { gatewayFor, merchantScopedGateways } from '../../../lambdas/use-cases/connector-gateways';
import { readMerchantCredentials } from '../../../lambdas/use-cases/connector-credentials';
import { aMerchant, fakeCipher, FakeGateway, FakeMerchants } from '../fakes';

/** A fake gateway for `connector` that remembers which key it was built with. */
function keyedGateway(connector: string, key: string): FakeGateway & { key: string } {
  const gateway = Object.assign(new FakeGateway(), { key });
  Object.defineProperty(gateway, 'connector', { value: connector });
  return gateway;
}

const authorizeInput = {
  reference: 'chk_1',
  source: { type: 'token', token: 'pm_1' } as const,
  amount: 1000,
  currency: 'EUR',
  idempotencyKey: 'chk_1:authorize',
};

let merchants: FakeMerchants;
let platformStripe: ReturnType<typeof keyedGateway>;
let platformSandbox: ReturnType<typeof keyedGateway>;
let built: ReturnType<typeof keyedGateway>[];
let decrypted: number;
let clock: number;

async function storeAccount(merchantId: string, apiKey: string, createdAt: string): Promise<void> {
  const ciphertext = await fakeCipher.encrypt(JSON.stringify({ api_key: apiKey }));
  await merchants.updateConnectorAccounts(merchantId, [{ connector: 'stripe', credentialsCiphertext: ciphertext, createdAt }]);
}

function scoped(platformConnectors: string[]) {
  const byId: Record<string, PaymentGateway> = { sandbox: platformSandbox, stripe: platformStripe };
  return merchantScopedGateways(
    {
      gateway: platformSandbox,
      gateways: (id) => {
        const gateway = byId[id];
        if (gateway === undefined) throw new Error(`Unknown connector ${id}`);
        return gateway;
      },
    },
    {
      credentialsOf: async (merchantId, connector) => {
        decrypted += 1;
        return await readMerchantCredentials({ merchants, cipher: fakeCipher }, merchantId, connector);
      },
      platformConnectors,
      build: async (connector, credentials) => {
        if (connector !== 'stripe') return undefined;
        const gateway = keyedGateway('stripe', credentials['api_key']!);
        built.push(gateway);
        return gateway;
      },
      refreshMs: 60_000,
      now: () => clock,
    },
  );
}

beforeEach(async () => {
  merchants = new FakeMerchants();
  await merchants.createMerchant(aMerchant({ id: 'mer_own' }));
  await merchants.createMerchant(aMerchant({ id: 'mer_none' }));
  await storeAccount('mer_own', 'sk_test_merchant_one', '2026-11-30T10:00:00.000Z');
  platformStripe = keyedGateway('stripe', 'sk_test_platform');
  platformSandbox = keyedGateway('sandbox', '');
  built = [];
  decrypted = 0;
  clock = 0;
});

describe('merchantScopedGateways', () => {
  it("calls the PSP on the merchant's own key, building its gateway once for the warm container", async () => {
    // Prepare
    const { gateways } = scoped(['sandbox', 'stripe']);
    // Act
    await gateways('stripe', 'mer_own').authorize(authorizeInput);
    await gateways('stripe', 'mer_own').capture({ ...authorizeInput, pspReference: 'pi_1' });
    // Assess
    expect(built.map((gateway) => gateway.key)).toEqual(['sk_test_merchant_one']);
    expect(built[0]!.calls.map((call) => call.op)).toEqual(['authorize', 'capture']);
    expect(platformStripe.calls).toEqual([]);
    expect(decrypted).toBe(1);
  });

  it("falls back to the platform's gateway for a merchant without an account where the platform enables the connector", async () => {
    // Act
    const gateway = scoped(['sandbox', 'stripe']).gateways('stripe', 'mer_none');
    await gateway.authorize(authorizeInput);
    // Assess
    expect(gateway.connector).toBe('stripe');
    expect(platformStripe.calls.map((call) => call.op)).toEqual(['authorize']);
    expect(built).toEqual([]);
  });

  it('refuses the call (PspRejectedError, nothing sent) for a merchant without an account where the platform does not enable the connector', async () => {
    // Act
    const attempt = scoped(['sandbox']).gateways('stripe', 'mer_none').authorize(authorizeInput);
    // Assess
    await expect(attempt).rejects.toBeInstanceOf(PspRejectedError);
    expect(platformStripe.calls).toEqual([]);
  });

  it("uses a merchant's own key even where the platform does not enable the connector", async () => {
    // Act
    await scoped(['sandbox']).gateways('stripe', 'mer_own').authorize(authorizeInput);
    // Assess
    expect(built.map((gateway) => [gateway.key, gateway.calls.length])).toEqual([['sk_test_merchant_one', 1]]);
  });

  it('keeps the platform gateway for connectors that take no merchant credentials (sandbox) and calls without a merchant', async () => {
    // Prepare
    const { gateways } = scoped(['sandbox', 'stripe']);
    // Act
    await gateways('sandbox', 'mer_own').authorize(authorizeInput);
    await gateways('stripe').authorize(authorizeInput);
    // Assess
    expect(platformSandbox.calls).toHaveLength(1);
    expect(platformStripe.calls).toHaveLength(1);
    expect(built).toEqual([]);
  });

  it('picks up a replaced key after the refresh interval, and not before', async () => {
    // Prepare
    const { gateways } = scoped(['sandbox']);
    await gateways('stripe', 'mer_own').authorize(authorizeInput);
    await storeAccount('mer_own', 'sk_test_merchant_two', '2026-11-30T11:00:00.000Z');
    // Act
    clock = 59_000;
    await gateways('stripe', 'mer_own').authorize(authorizeInput);
    clock = 61_000;
    await gateways('stripe', 'mer_own').authorize(authorizeInput);
    // Assess
    expect(built.map((gateway) => [gateway.key, gateway.calls.length])).toEqual([
      ['sk_test_merchant_one', 2],
      ['sk_test_merchant_two', 1],
    ]);
  });

  it('throws for a connector the registry does not list, as the platform gateways do', () => {
    expect(() => scoped(['sandbox']).gateways('paypal', 'mer_own')).toThrow(/Unknown connector/);
  });
});

describe('gatewayFor with a merchant', () => {
  it("routes to the merchant's gateway, and to the default one when no connector is named", async () => {
    // Prepare
    const { gateway, gateways } = scoped(['sandbox']);
    // Act
    await gatewayFor({ gateway, gateways }, 'stripe', 'mer_own').authorize(authorizeInput);
    const unnamed = gatewayFor({ gateway, gateways }, undefined, 'mer_own');
    // Assess
    expect(built).toHaveLength(1);
    expect(unnamed).toBe(gateway);
  });
});

describe('readMerchantCredentials', () => {
  it('decrypts the stored account of the connector, versioned by its creation time; undefined without one', async () => {
    expect(await readMerchantCredentials({ merchants, cipher: fakeCipher }, 'mer_own', 'stripe')).toEqual({
      version: '2026-11-30T10:00:00.000Z',
      values: { api_key: 'sk_test_merchant_one' },
    });
    expect(await readMerchantCredentials({ merchants, cipher: fakeCipher }, 'mer_none', 'stripe')).toBeUndefined();
    expect(await readMerchantCredentials({ merchants, cipher: fakeCipher }, 'mer_gone', 'stripe')).toBeUndefined();
  });
});
