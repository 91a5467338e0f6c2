/**
 * The card vault and customers over DynamoDB Local with the real handlers (route -> entry as
 * deployed) and the local key file: vaulting cards (shape, fingerprint, 422s with `param`,
 * client-secret auth, Idempotency-Key), merchant isolation (404), the CardVault port the pay path
 * will use (reveal, CVC destruction), saving on a customer, detach, and DELETE /v1/customers
 * crypto-shredding the saved cards, also under concurrency.
 */
import { GetItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cardBody, startVaultTestEnv, type VaultTestEnv } from './card-vault-kit';

type Wiring = typeof import('../../lambdas/shared/card-vault-wiring');
type UseCases = typeof import('../../lambdas/use-cases/card-vault');

let t: VaultTestEnv;
let wiring: Wiring;
let useCases: UseCases;
let customers: typeof import('../../lambdas/shared/customer-wiring').customerRepository;
let shop: { id: string; secretKey: string };
let otherShop: { id: string; secretKey: string };

const VISA = '4242424242424242';
const MASTERCARD = '5555555555554444';
const AMEX = '378282246310005';

beforeAll(async () => {
  t = await startVaultTestEnv();
  shop = await t.env.createMerchant('Vault shop');
  otherShop = await t.env.createMerchant('Other shop');
  wiring = await import('../../lambdas/shared/card-vault-wiring');
  useCases = await import('../../lambdas/use-cases/card-vault');
  customers = (await import('../../lambdas/shared/customer-wiring')).customerRepository;
});

afterAll(async () => {
  await t?.env.stop();
});

async function createPaymentMethod(token: string, number: string, extra: Record<string, unknown> = {}): Promise<string> {
  const response = await t.call('POST', '/v1/payment_methods', { token, body: { ...cardBody(number), ...extra } });
  if (response.status !== 201) throw new Error(`payment method creation failed: ${response.rawBody}`);
  return response.json.id as string;
}

async function createCustomer(token: string): Promise<string> {
  const response = await t.call('POST', '/v1/customers', { token, body: { email: 'ada@example.com', name: 'Ada' } });
  if (response.status !== 201) throw new Error(`customer creation failed: ${response.rawBody}`);
  return response.json.id as string;
}

async function vaultItem(paymentMethodId: string): Promise<Record<string, AttributeValue>> {
  const answer = await t.env.db.client.send(
    new GetItemCommand({
      TableName: t.env.db.cardVaultTableName,
      Key: { pk: { S: `PM#${paymentMethodId}` }, sk: { S: 'PM' } },
      ConsistentRead: true,
    }),
  );
  return answer.Item ?? {};
}

async function saveOnCustomer(paymentMethodId: string, customerId: string) {
  return await useCases.savePaymentMethodForCustomer(
    { customers, savedPaymentMethods: wiring.savedPaymentMethods },
    { merchantId: shop.id, paymentMethodId, customerId, now: new Date() },
  );
}

describe('POST /v1/payment_methods', () => {
  it('vaults a card with the merchant key and answers the contract shape, never the number', async () => {
    // Act
    const response = await t.call('POST', '/v1/payment_methods', { token: shop.secretKey, body: cardBody(VISA) });
    // Assess
    expect(response.status).toBe(201);
    expect(response.json).toMatchObject({
      object: 'payment_method',
      type: 'card',
      card: { brand: 'visa', last4: '4242', exp_month: 12, exp_year: new Date().getUTCFullYear() + 3 },
      customer: null,
      status: 'active',
    });
    expect(response.json.id).toMatch(/^pm_[A-Za-z0-9_-]{20,}$/);
    expect(response.json.card.fingerprint).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(response.rawBody).not.toContain(VISA);
    expect(response.rawBody).not.toContain('"cvc"');
  });

  it('stores the number and CVC only as ciphertext under a wrapped per-payment-method data key', async () => {
    // Prepare
    const id = await createPaymentMethod(shop.secretKey, VISA);
    // Act
    const item = await vaultItem(id);
    // Assess
    expect(item.wrappedKey?.S).toMatch(/^local1:/);
    expect(item.numberCiphertext?.S).toMatch(/^v1:/);
    expect(item.cvcCiphertext?.S).toMatch(/^v1:/);
    expect(JSON.stringify(item)).not.toContain(VISA);
    expect(item.wrappedKey?.S).not.toBe((await vaultItem(await createPaymentMethod(shop.secretKey, VISA))).wrappedKey?.S);
  });

  it('gives the same fingerprint for the same number at one merchant, and a different one at another merchant or for another number', async () => {
    // Act
    const first = await t.call('POST', '/v1/payment_methods', { token: shop.secretKey, body: cardBody(MASTERCARD) });
    const again = await t.call('POST', '/v1/payment_methods', {
      token: shop.secretKey,
      body: cardBody('5555 5555 5555 4444', { exp_month: 1, cvc: '999' }),
    });
    const elsewhere = await t.call('POST', '/v1/payment_methods', { token: otherShop.secretKey, body: cardBody(MASTERCARD) });
    const otherCard = await t.call('POST', '/v1/payment_methods', { token: shop.secretKey, body: cardBody(VISA) });
    // Assess
    expect(again.json.card.fingerprint).toBe(first.json.card.fingerprint);
    expect(again.json.id).not.toBe(first.json.id);
    expect(elsewhere.json.card.fingerprint).not.toBe(first.json.card.fingerprint);
    expect(otherCard.json.card.fingerprint).not.toBe(first.json.card.fingerprint);
  });

  it("accepts the checkout's client secret with the checkout named in the body, for that checkout only", async () => {
    // Prepare
    const checkout = await t.createCheckout(shop.secretKey);
    const other = await t.createCheckout(shop.secretKey);
    // Act
    const created = await t.call('POST', '/v1/payment_methods', {
      token: checkout.clientSecret,
      body: { ...cardBody(VISA), checkout: checkout.id },
    });
    const unnamed = await t.call('POST', '/v1/payment_methods', { token: checkout.clientSecret, body: cardBody(VISA) });
    const wrongCheckout = await t.call('POST', '/v1/payment_methods', {
      token: checkout.clientSecret,
      body: { ...cardBody(VISA), checkout: other.id },
    });
    const readByClient = await t.call('GET', `/v1/payment_methods/${created.json.id}`, { token: checkout.clientSecret });
    // Assess
    expect(created.status).toBe(201);
    expect((await wiring.cardVault.getPaymentMethod(shop.id, created.json.id))?.checkoutId).toBe(checkout.id);
    expect(unnamed.status).toBe(401);
    expect(wrongCheckout.status).toBe(401);
    expect(readByClient.status).toBe(401);
  });

  it('refuses a client secret once its checkout is no longer open (409 checkout_not_open)', async () => {
    // Prepare
    const checkout = await t.createCheckout(shop.secretKey);
    expect((await t.call('POST', `/v1/checkouts/${checkout.id}/cancel`, { token: shop.secretKey })).status).toBe(200);
    // Act
    const response = await t.call('POST', '/v1/payment_methods', {
      token: checkout.clientSecret,
      body: { ...cardBody(VISA), checkout: checkout.id },
    });
    // Assess
    expect(response.status).toBe(409);
    expect(response.json.error.code).toBe('checkout_not_open');
  });

  it.each([
    ['a number failing Luhn', cardBody('4242424242424241'), 'invalid_number', 'card.number'],
    ['letters in the number', cardBody('4242-4242-4242-4242'), 'invalid_number', 'card.number'],
    ['a network Paystep does not accept', cardBody('9999999999999995'), 'unsupported_card_brand', 'card.number'],
    ['a Luhn-valid visa number of 14 digits', cardBody('42424242424242'), 'invalid_number', 'card.number'],
    ['month 13', cardBody(VISA, { exp_month: 13 }), 'invalid_expiry_month', 'card.exp_month'],
    ['a two-digit year', cardBody(VISA, { exp_year: 30 }), 'invalid_expiry_year', 'card.exp_year'],
    ['last year', cardBody(VISA, { exp_year: new Date().getUTCFullYear() - 1 }), 'expired_card', 'card.exp_year'],
    ['a three-digit CVC on amex', cardBody(AMEX, { cvc: '123' }), 'invalid_cvc', 'card.cvc'],
  ])('answers 422 with code and param for %s', async (_what, body, code, param) => {
    // Act
    const response = await t.call('POST', '/v1/payment_methods', { token: shop.secretKey, body });
    // Assess
    expect(response.status).toBe(422);
    expect(response.json.error).toMatchObject({ code, param });
  });

  it('answers 400 for wrong JSON types and unknown fields', async () => {
    // Act
    const numeric = await t.call('POST', '/v1/payment_methods', {
      token: shop.secretKey,
      body: { type: 'card', card: { number: 4242424242424242, exp_month: 1, exp_year: 2040 } },
    });
    const unknown = await t.call('POST', '/v1/payment_methods', {
      token: shop.secretKey,
      body: { ...cardBody(VISA), iban: 'x' },
    });
    // Assess
    expect(numeric.status).toBe(400);
    expect(numeric.json.error.param).toBe('card.number');
    expect(unknown.status).toBe(400);
    expect(unknown.json.error).toMatchObject({ code: 'unknown_parameter', param: 'iban' });
  });

  it('replays the first answer for a repeated Idempotency-Key (one payment method, not two)', async () => {
    // Prepare
    const headers = { 'idempotency-key': `pm-${Date.now()}` };
    // Act
    const first = await t.call('POST', '/v1/payment_methods', { token: shop.secretKey, body: cardBody(VISA), headers });
    const second = await t.call('POST', '/v1/payment_methods', { token: shop.secretKey, body: cardBody(MASTERCARD), headers });
    // Assess
    expect(second.rawBody).toBe(first.rawBody);
    expect(second.headers['idempotent-replayed']).toBe('true');
  });
});

describe('GET /v1/payment_methods/{id}', () => {
  it("answers the merchant's own payment method and 404 for another merchant's or a malformed id", async () => {
    // Prepare
    const id = await createPaymentMethod(shop.secretKey, VISA);
    // Act
    const own = await t.call('GET', `/v1/payment_methods/${id}`, { token: shop.secretKey });
    const foreign = await t.call('GET', `/v1/payment_methods/${id}`, { token: otherShop.secretKey });
    const malformed = await t.call('GET', `/v1/payment_methods/pm_${'x'.repeat(3000)}`, { token: shop.secretKey });
    // Assess
    expect(own.status).toBe(200);
    expect(own.json).toMatchObject({ id, card: { last4: '4242' }, customer: null });
    expect(foreign.status).toBe(404);
    expect(malformed.status).toBe(404);
  });
});

describe('the CardVault port (what the connector call will use)', () => {
  it('reveals the card for one authorization, redacted in every serialisation, and records the reveal', async () => {
    // Prepare
    const id = await createPaymentMethod(shop.secretKey, '4000 0566 5566 5556');
    // Act
    const { card, paymentMethod } = await wiring.cardVault.revealForAuthorization({
      merchantId: shop.id,
      paymentMethodId: id,
      purpose: 'att_test',
      now: new Date(),
    });
    // Assess
    expect(card.revealNumber()).toBe('4000056655665556');
    expect(card.revealCvc()).toBe('123');
    expect(paymentMethod.card.last4).toBe('5556');
    expect(JSON.stringify({ card })).not.toContain('4000056655665556');
    expect(`${card}`).toBe('[card redacted]');
    expect((await vaultItem(id)).lastRevealPurpose?.S).toBe('att_test');
  });

  it("refuses another merchant's payment method as not found", async () => {
    // Prepare
    const id = await createPaymentMethod(shop.secretKey, VISA);
    // Act
    const reveal = wiring.cardVault.revealForAuthorization({
      merchantId: otherShop.id,
      paymentMethodId: id,
      purpose: 'att_x',
      now: new Date(),
    });
    // Assess
    await expect(reveal).rejects.toMatchObject({ name: 'NotFoundError' });
    await expect(wiring.cardVault.destroyCvc(otherShop.id, id, new Date())).rejects.toMatchObject({ name: 'NotFoundError' });
  });

  it('destroys the CVC after the first authorization, idempotently, and keeps the card usable without it', async () => {
    // Prepare
    const id = await createPaymentMethod(shop.secretKey, VISA);
    // Act
    await wiring.cardVault.destroyCvc(shop.id, id, new Date());
    await wiring.cardVault.destroyCvc(shop.id, id, new Date());
    const { card } = await wiring.cardVault.revealForAuthorization({
      merchantId: shop.id,
      paymentMethodId: id,
      purpose: 'att_mit',
      now: new Date(),
    });
    // Assess
    expect(card.revealCvc()).toBeUndefined();
    expect(card.revealNumber()).toBe(VISA);
    expect((await vaultItem(id)).cvcCiphertext).toBeUndefined();
    expect((await wiring.cardVault.getPaymentMethod(shop.id, id))?.cvcAvailable).toBe(false);
  });
});

describe('customers and saved payment methods', () => {
  it('creates and reads a customer; another merchant gets 404', async () => {
    // Act
    const created = await t.call('POST', '/v1/customers', {
      token: shop.secretKey,
      body: { email: 'ada@example.com', name: 'Ada', metadata: { crm: '42' } },
    });
    const read = await t.call('GET', `/v1/customers/${created.json.id}`, { token: shop.secretKey });
    const foreign = await t.call('GET', `/v1/customers/${created.json.id}`, { token: otherShop.secretKey });
    const foreignList = await t.call('GET', `/v1/customers/${created.json.id}/payment_methods`, { token: otherShop.secretKey });
    // Assess
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ object: 'customer', email: 'ada@example.com', name: 'Ada', metadata: { crm: '42' } });
    expect(created.json.id).toMatch(/^cus_/);
    expect(read.json).toEqual(created.json);
    expect(foreign.status).toBe(404);
    expect(foreignList.status).toBe(404);
  });

  it('answers 422 with param for a bad email and too much metadata', async () => {
    // Act
    const email = await t.call('POST', '/v1/customers', { token: shop.secretKey, body: { email: 'not-an-email' } });
    const metadata = await t.call('POST', '/v1/customers', {
      token: shop.secretKey,
      body: { metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) },
    });
    // Assess
    expect(email.status).toBe(422);
    expect(email.json.error.param).toBe('email');
    expect(metadata.status).toBe(422);
    expect(metadata.json.error.param).toBe('metadata');
  });

  it('saves a payment method on a customer (internal attach, idempotent) and lists it', async () => {
    // Prepare
    const customerId = await createCustomer(shop.secretKey);
    const id = await createPaymentMethod(shop.secretKey, VISA);
    // Act
    await saveOnCustomer(id, customerId);
    const again = await saveOnCustomer(id, customerId);
    const list = await t.call('GET', `/v1/customers/${customerId}/payment_methods`, { token: shop.secretKey });
    const read = await t.call('GET', `/v1/payment_methods/${id}`, { token: shop.secretKey });
    // Assess
    expect(again.customerId).toBe(customerId);
    expect(list.json).toMatchObject({ object: 'list', data: [{ id, customer: customerId }] });
    expect(read.json.customer).toBe(customerId);
  });

  it("refuses to save a payment method on another merchant's customer or on a second customer", async () => {
    // Prepare
    const foreignCustomer = await createCustomer(otherShop.secretKey);
    const first = await createCustomer(shop.secretKey);
    const second = await createCustomer(shop.secretKey);
    const id = await createPaymentMethod(shop.secretKey, VISA);
    await saveOnCustomer(id, first);
    // Act
    const foreign = saveOnCustomer(await createPaymentMethod(shop.secretKey, VISA), foreignCustomer);
    const twice = saveOnCustomer(id, second);
    // Assess
    await expect(foreign).rejects.toMatchObject({ name: 'NotFoundError', param: 'customer' });
    await expect(twice).rejects.toMatchObject({ code: 'payment_method_customer_mismatch' });
  });

  it('detaches a saved payment method: gone from the list, card data destroyed, unusable through the port', async () => {
    // Prepare
    const customerId = await createCustomer(shop.secretKey);
    const id = await createPaymentMethod(shop.secretKey, VISA);
    await saveOnCustomer(id, customerId);
    // Act
    const detached = await t.call('POST', `/v1/payment_methods/${id}/detach`, { token: shop.secretKey });
    const again = await t.call('POST', `/v1/payment_methods/${id}/detach`, { token: shop.secretKey });
    const list = await t.call('GET', `/v1/customers/${customerId}/payment_methods`, { token: shop.secretKey });
    const reveal = wiring.cardVault.revealForAuthorization({
      merchantId: shop.id,
      paymentMethodId: id,
      purpose: 'att_late',
      now: new Date(),
    });
    // Assess
    expect(detached.status).toBe(200);
    expect(detached.json).toMatchObject({ id, status: 'detached', customer: null });
    expect(again.json).toEqual(detached.json);
    expect(list.json.data).toEqual([]);
    await expect(reveal).rejects.toMatchObject({ name: 'PaymentMethodUnusableError', code: 'payment_method_detached' });
    const item = await vaultItem(id);
    expect([item.wrappedKey, item.numberCiphertext, item.cvcCiphertext]).toEqual([undefined, undefined, undefined]);
  });

  it('answers 422 payment_method_not_attached when detaching a one-off payment method, 404 for a foreign one', async () => {
    // Prepare
    const id = await createPaymentMethod(shop.secretKey, VISA);
    // Act
    const oneOff = await t.call('POST', `/v1/payment_methods/${id}/detach`, { token: shop.secretKey });
    const foreign = await t.call('POST', `/v1/payment_methods/${id}/detach`, { token: otherShop.secretKey });
    // Assess
    expect(oneOff.status).toBe(422);
    expect(oneOff.json.error.code).toBe('payment_method_not_attached');
    expect(foreign.status).toBe(404);
  });

  it("DELETE /v1/customers/{id} crypto-shreds the customer's saved cards; repeating it is harmless", async () => {
    // Prepare
    const customerId = await createCustomer(shop.secretKey);
    const ids = [await createPaymentMethod(shop.secretKey, VISA), await createPaymentMethod(shop.secretKey, MASTERCARD)];
    for (const id of ids) await saveOnCustomer(id, customerId);
    const unrelated = await createPaymentMethod(shop.secretKey, VISA);
    // Act
    const deleted = await t.call('DELETE', `/v1/customers/${customerId}`, { token: shop.secretKey });
    const again = await t.call('DELETE', `/v1/customers/${customerId}`, { token: shop.secretKey });
    const read = await t.call('GET', `/v1/customers/${customerId}`, { token: shop.secretKey });
    // Assess
    expect(deleted.status).toBe(200);
    expect(deleted.json).toEqual({ id: customerId, object: 'customer', deleted: true });
    expect(again.json).toEqual(deleted.json);
    expect(read.json).toEqual(deleted.json);
    for (const id of ids) {
      const item = await vaultItem(id);
      expect(item.status?.S).toBe('shredded');
      expect([item.wrappedKey, item.numberCiphertext, item.cvcCiphertext]).toEqual([undefined, undefined, undefined]);
      await expect(
        wiring.cardVault.revealForAuthorization({
          merchantId: shop.id,
          paymentMethodId: id,
          purpose: 'att_after',
          now: new Date(),
        }),
      ).rejects.toMatchObject({
        code: 'payment_method_deleted',
      });
    }
    expect((await vaultItem(unrelated)).wrappedKey?.S).toMatch(/^local1:/);
    await expect(saveOnCustomer(unrelated, customerId)).rejects.toMatchObject({ name: 'NotFoundError' });
  });

  it("answers 404 for deleting another merchant's customer and leaves its cards alone", async () => {
    // Prepare
    const customerId = await createCustomer(shop.secretKey);
    const id = await createPaymentMethod(shop.secretKey, VISA);
    await saveOnCustomer(id, customerId);
    // Act
    const response = await t.call('DELETE', `/v1/customers/${customerId}`, { token: otherShop.secretKey });
    // Assess
    expect(response.status).toBe(404);
    expect((await vaultItem(id)).status?.S).toBe('active');
  });

  it('leaves no readable card on a deleted customer when deletes, attaches and reveals race', async () => {
    // Prepare
    const customerId = await createCustomer(shop.secretKey);
    const saved = await Promise.all(Array.from({ length: 4 }, () => createPaymentMethod(shop.secretKey, VISA)));
    for (const id of saved) await saveOnCustomer(id, customerId);
    const late = await Promise.all(Array.from({ length: 3 }, () => createPaymentMethod(shop.secretKey, MASTERCARD)));
    // Act
    const outcomes = await Promise.allSettled([
      t.call('DELETE', `/v1/customers/${customerId}`, { token: shop.secretKey }),
      t.call('DELETE', `/v1/customers/${customerId}`, { token: shop.secretKey }),
      ...late.map((id) => saveOnCustomer(id, customerId)),
      ...saved.map((id) =>
        wiring.cardVault.revealForAuthorization({
          merchantId: shop.id,
          paymentMethodId: id,
          purpose: 'att_race',
          now: new Date(),
        }),
      ),
    ]);
    // Assess: both deletes answered, and afterwards every card that ended up on the customer is shredded.
    const [firstDelete, secondDelete] = outcomes;
    expect(firstDelete).toMatchObject({ status: 'fulfilled', value: { status: 200 } });
    expect(secondDelete).toMatchObject({ status: 'fulfilled', value: { status: 200 } });
    for (const outcome of outcomes.slice(2 + late.length)) {
      if (outcome.status === 'rejected') expect(outcome.reason).toMatchObject({ code: 'payment_method_deleted' });
    }
    for (const id of [...saved, ...late]) {
      const item = await vaultItem(id);
      if (item.customerId?.S === customerId) {
        expect(item.status?.S, id).toBe('shredded');
        expect(item.wrappedKey, id).toBeUndefined();
      }
    }
    expect((await t.call('GET', `/v1/customers/${customerId}/payment_methods`, { token: shop.secretKey })).json.data).toEqual([]);
  });
});

describe('checkPaymentMethodForPayment (the pay path gate)', () => {
  it("lets a one-off payment method pay only its own checkout and a saved one only its customer's checkouts", async () => {
    // Prepare
    const checkout = await t.createCheckout(shop.secretKey);
    const oneOff = (
      await t.call('POST', '/v1/payment_methods', {
        token: checkout.clientSecret,
        body: { ...cardBody(VISA), checkout: checkout.id },
      })
    ).json.id as string;
    const customerId = await createCustomer(shop.secretKey);
    const saved = await createPaymentMethod(shop.secretKey, VISA);
    await saveOnCustomer(saved, customerId);
    const gate = (
      paymentMethodId: string,
      use: { checkoutId: string; customerId?: string; offSession: boolean },
      merchantId = shop.id,
    ) =>
      useCases.checkPaymentMethodForPayment(
        { vault: wiring.cardVault },
        { merchantId, paymentMethodId, ...use, now: new Date() },
      );
    // Act + Assess
    await expect(gate(oneOff, { checkoutId: checkout.id, offSession: false })).resolves.toMatchObject({ id: oneOff });
    await expect(gate(oneOff, { checkoutId: 'chk_other', offSession: false })).rejects.toMatchObject({
      code: 'payment_method_checkout_mismatch',
    });
    await expect(gate(oneOff, { checkoutId: checkout.id, offSession: true })).rejects.toMatchObject({
      code: 'payment_method_not_saved',
    });
    await expect(gate(saved, { checkoutId: 'chk_any', customerId, offSession: true })).resolves.toMatchObject({ id: saved });
    await expect(gate(saved, { checkoutId: 'chk_any', customerId: 'cus_someone_else', offSession: false })).rejects.toMatchObject(
      { code: 'payment_method_customer_mismatch' },
    );
    await expect(gate(saved, { checkoutId: 'chk_any', customerId, offSession: false }, otherShop.id)).rejects.toMatchObject({
      name: 'NotFoundError',
      param: 'payment_method',
    });
  });
});
