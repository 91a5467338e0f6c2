import { describe, expect, it } from 'vitest';
import type { Merchant } from '../../../lambdas/domain/model';
import { routeForPaymentMethod } from '../../../lambdas/use-cases/payment-route';
import { aMerchant } from '../fakes';

const VISA = { card: { brand: 'visa', last4: '4242', expMonth: 12, expYear: 2040, fingerprint: 'fp' } } as const;
const ROUTING = {
  rules: [{ conditions: { currency: ['EUR'], cardBrand: ['visa' as const] }, connectors: ['stripe', 'sandbox'] }],
  default: ['sandbox', 'stripe'],
  failover: true,
};

function merchants(merchant: Merchant | undefined) {
  return { getMerchant: () => Promise.resolve(merchant) };
}

describe('routeForPaymentMethod', () => {
  it("routes a pm_ payment by the first rule the checkout and the card's brand match", async () => {
    // Act
    const route = await routeForPaymentMethod(
      { merchants: merchants(aMerchant({ routing: ROUTING })) },
      { merchantId: 'm_1', amount: 4200, currency: 'EUR' },
      VISA,
    );
    // Assess
    expect(route).toEqual(['stripe', 'sandbox']);
  });

  it("falls back to the merchant's default list when no rule matches", async () => {
    // Act
    const route = await routeForPaymentMethod(
      { merchants: merchants(aMerchant({ routing: ROUTING })) },
      { merchantId: 'm_1', amount: 4200, currency: 'USD' },
      VISA,
    );
    // Assess
    expect(route).toEqual(['sandbox', 'stripe']);
  });

  it('pays through sandbox alone for a merchant without routing rules', async () => {
    // Act
    const route = await routeForPaymentMethod(
      { merchants: merchants(aMerchant()) },
      { merchantId: 'm_1', amount: 4200, currency: 'EUR' },
      VISA,
    );
    // Assess
    expect(route).toEqual(['sandbox']);
  });

  it('routes by the issuing country the vault derived, and skips a card_country rule for a card of unknown country', async () => {
    // Prepare
    const routing = {
      rules: [{ conditions: { cardCountry: ['DE'] }, connectors: ['stripe'] }],
      default: ['sandbox'],
      failover: false,
    };
    const german = { card: { ...VISA.card, country: 'DE' } };
    // Act
    const routedGerman = await routeForPaymentMethod(
      { merchants: merchants(aMerchant({ routing })) },
      { merchantId: 'm_1', amount: 4200, currency: 'EUR' },
      german,
    );
    const routedUnknown = await routeForPaymentMethod(
      { merchants: merchants(aMerchant({ routing })) },
      { merchantId: 'm_1', amount: 4200, currency: 'EUR' },
      VISA,
    );
    // Assess
    expect(routedGerman).toEqual(['stripe']);
    expect(routedUnknown).toEqual(['sandbox']);
  });
});
