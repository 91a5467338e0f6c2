/**
 * Paying with the card vault over HTTP against the running local stack (`npm start` as a child
 * process, real ASL, DynamoDB Local, sandbox PSP and demo merchant): a buyer pays with a `pm_`
 * made by the checkout's client secret, a merchant pays with one it vaulted; the sandbox PSP
 * receives the card on its wire protocol (its authorization shows the last4 and card-on-file
 * flags), the CVC is gone after the first authorization, the money invariants hold on the PSP's
 * ledger, and the card number is in no answer and no line the stack printed. Bad input: unknown,
 * foreign or another checkout's `pm_`, both or neither of token and `pm_`, `off_session` with a
 * client secret.
 */
import { randomBytes } from 'node:crypto';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PaystepClient, type ApiAnswer } from '../../local/paystep-client';
import { LOCAL_AWS } from '../../local/dynamodb-local';
import { fetchLedger } from '../../local/sandbox-psp/client';
import { LOCAL_CARD_VAULT_TABLE_NAME } from '../../lib/table-schema';
import { moneyInvariantViolations } from '../support/money-invariants';
import { startStackProcess, type StackProcess } from './harness';

/** A valid Visa number no other suite uses (the sandbox approves unknown valid numbers), so any hit is ours. */
const PAN = '4000056655665556';
const DECLINED = '4000000000000002';

interface CheckoutView {
  id: string;
  status: string;
  amount: number;
  client_secret?: string;
  failure_reason: string | null;
  payment: {
    captured_amount: number;
    attempts: { psp_reference: string | null; status: string; failure_code: string | null }[];
  } | null;
  events: { type: string; at: string; data: Record<string, unknown> }[];
}

interface ErrorBody {
  error: { code: string; param?: string };
}

let stack: StackProcess;
let api: PaystepClient;
let dynamo: DynamoDBClient;
const answers: string[] = [];

async function call<T = Record<string, unknown>>(
  method: string,
  path: string,
  options: { token?: string; body?: unknown } = {},
): Promise<ApiAnswer<T>> {
  const answer = await api.call<T>(method, path, options);
  answers.push(answer.text);
  return answer;
}

/** An open checkout for one t-shirt (the demo merchant confirms stock). */
async function createCheckout(secretKey = stack.secretKey, extra: Record<string, unknown> = {}): Promise<CheckoutView> {
  const created = await call<CheckoutView>('POST', '/v1/checkouts', {
    token: secretKey,
    body: {
      merchant_order_ref: `vault_${randomBytes(6).toString('hex')}`,
      amount: 2500,
      currency: 'USD',
      items: [{ sku: 'tshirt', name: 'Paystep T-shirt', quantity: 1 }],
      success_url: `${stack.merchantUrl}/thanks`,
      failure_url: `${stack.merchantUrl}/sorry`,
      ...extra,
    },
  });
  expect(created.status, created.text).toBe(201);
  return created.body;
}

/** Vaults `number` with `token` (a client secret names its checkout). */
async function vaultCard(token: string, number = PAN, checkoutId?: string): Promise<string> {
  const answer = await call<{ id: string }>('POST', '/v1/payment_methods', {
    token,
    body: {
      type: 'card',
      card: { number, exp_month: 12, exp_year: 2040, cvc: '123' },
      ...(checkoutId !== undefined ? { checkout: checkoutId } : {}),
    },
  });
  expect(answer.status, answer.text).toBe(201);
  return answer.body.id;
}

async function checkoutOf(id: string): Promise<CheckoutView> {
  const answer = await call<CheckoutView>('GET', `/v1/checkouts/${id}`, { token: stack.secretKey });
  expect(answer.status, answer.text).toBe(200);
  return answer.body;
}

async function waitForTerminal(id: string): Promise<CheckoutView> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const checkout = await checkoutOf(id);
    if (checkout.status === 'succeeded' || checkout.status === 'failed') return checkout;
    if (Date.now() > deadline) throw new Error(`checkout ${id} still ${checkout.status}`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

/** The sandbox PSP's own view of an authorization (card last4, card-on-file flags). */
async function pspAuthorization(pspReference: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${stack.pspUrl}/v1/authorizations/${pspReference}`);
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

/** The vault table's item of a payment method (attribute names only matter here). */
async function vaultItem(paymentMethodId: string): Promise<Record<string, unknown>> {
  const answer = await dynamo.send(
    new GetItemCommand({
      TableName: LOCAL_CARD_VAULT_TABLE_NAME,
      Key: { pk: { S: `PM#${paymentMethodId}` }, sk: { S: 'PM' } },
      ConsistentRead: true,
    }),
  );
  return answer.Item ?? {};
}

async function assertInvariants(checkout: CheckoutView): Promise<void> {
  const ledger = await fetchLedger(stack.pspUrl, checkout.id);
  expect(moneyInvariantViolations({ ...checkout, confirmationRequired: true }, ledger)).toEqual([]);
}

beforeAll(async () => {
  stack = await startStackProcess();
  api = new PaystepClient(stack.apiUrl);
  dynamo = new DynamoDBClient({ ...LOCAL_AWS, endpoint: stack.dynamoDbEndpoint });
});

afterAll(async () => {
  dynamo?.destroy();
  await stack?.stop();
});

describe('paying with a vaulted payment method', () => {
  it("pays with a pm_ the buyer vaulted with the checkout's client secret: the PSP gets the card, the CVC is then destroyed", async () => {
    // Prepare
    const checkout = await createCheckout();
    const paymentMethod = await vaultCard(checkout.client_secret!, PAN, checkout.id);
    expect(Object.keys(await vaultItem(paymentMethod))).toContain('cvcCiphertext');
    // Act
    const paid = await call('POST', `/v1/checkouts/${checkout.id}/pay`, {
      token: checkout.client_secret!,
      body: { payment_method: paymentMethod },
    });
    const done = await waitForTerminal(checkout.id);
    // Assess
    expect(paid.status, paid.text).toBe(202);
    expect(done.status).toBe('succeeded');
    expect(done.payment?.captured_amount).toBe(2500);
    expect(done.events.find((event) => event.type === 'payment_started')?.data).toMatchObject({ payment_method: paymentMethod });
    const authorization = await pspAuthorization(done.payment!.attempts[0]!.psp_reference!);
    expect(authorization).toMatchObject({
      reference: checkout.id,
      card: { last4: '5556' },
      card_on_file: { initiator: 'customer', stored: false },
    });
    expect(Object.keys(await vaultItem(paymentMethod))).not.toContain('cvcCiphertext');
    await assertInvariants(done);
  });

  it('pays with a pm_ the merchant vaulted with its secret key, paying itself with that key', async () => {
    // Prepare
    const checkout = await createCheckout();
    const paymentMethod = await vaultCard(stack.secretKey);
    // Act
    const paid = await call('POST', `/v1/checkouts/${checkout.id}/pay`, {
      token: stack.secretKey,
      body: { payment_method: paymentMethod },
    });
    const done = await waitForTerminal(checkout.id);
    // Assess
    expect(paid.status, paid.text).toBe(202);
    expect(done.status).toBe('succeeded');
    await assertInvariants(done);
  });

  it('fails a declined vaulted card as payment_declined, nothing captured, and still destroys its CVC', async () => {
    // Prepare
    const checkout = await createCheckout();
    const paymentMethod = await vaultCard(checkout.client_secret!, DECLINED, checkout.id);
    // Act
    const paid = await call('POST', `/v1/checkouts/${checkout.id}/pay`, {
      token: checkout.client_secret!,
      body: { payment_method: paymentMethod },
    });
    const done = await waitForTerminal(checkout.id);
    // Assess
    expect(paid.status, paid.text).toBe(202);
    expect(done).toMatchObject({ status: 'failed', failure_reason: 'payment_declined' });
    expect(done.payment?.attempts.at(-1)).toMatchObject({ status: 'failed', failure_code: 'card_declined' });
    expect(Object.keys(await vaultItem(paymentMethod))).not.toContain('cvcCiphertext');
    await assertInvariants(done);
  });

  it('keeps payment_token working beside payment_method', async () => {
    // Prepare
    const checkout = await createCheckout();
    const token = (await (
      await fetch(`${stack.pspUrl}/v1/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ number: '4242424242424242', exp_month: 12, exp_year: 2040, cvc: '123' }),
      })
    ).json()) as { id: string };
    // Act
    const paid = await call('POST', `/v1/checkouts/${checkout.id}/pay`, {
      token: checkout.client_secret!,
      body: { payment_token: token.id },
    });
    // Assess
    expect(paid.status, paid.text).toBe(202);
    expect((await waitForTerminal(checkout.id)).status).toBe('succeeded');
  });
});

describe('bad payment methods on pay', () => {
  it('answers 404 for an unknown pm_ and for another merchant’s, and leaves the checkout open', async () => {
    // Prepare
    const checkout = await createCheckout();
    const other = await call<{ secret_key: string }>('POST', '/v1/merchants', {
      token: stack.adminToken,
      body: { name: 'Another shop' },
    });
    expect(other.status, other.text).toBe(201);
    const foreign = await vaultCard(other.body.secret_key);
    // Act
    const unknown = await call<ErrorBody>('POST', `/v1/checkouts/${checkout.id}/pay`, {
      token: checkout.client_secret!,
      body: { payment_method: 'pm_doesnotexist123' },
    });
    const ofAnother = await call<ErrorBody>('POST', `/v1/checkouts/${checkout.id}/pay`, {
      token: stack.secretKey,
      body: { payment_method: foreign },
    });
    // Assess
    expect(unknown.status, unknown.text).toBe(404);
    expect(unknown.body.error.param).toBe('payment_method');
    expect(ofAnother.status, ofAnother.text).toBe(404);
    expect(ofAnother.body.error.param).toBe('payment_method');
    expect((await checkoutOf(checkout.id)).status).toBe('open');
  });

  it('refuses a pm_ vaulted for another checkout with 422 payment_method_checkout_mismatch', async () => {
    // Prepare
    const first = await createCheckout();
    const second = await createCheckout();
    const paymentMethod = await vaultCard(first.client_secret!, PAN, first.id);
    // Act
    const answer = await call<ErrorBody>('POST', `/v1/checkouts/${second.id}/pay`, {
      token: second.client_secret!,
      body: { payment_method: paymentMethod },
    });
    // Assess
    expect(answer.status, answer.text).toBe(422);
    expect(answer.body.error).toMatchObject({ code: 'payment_method_checkout_mismatch', param: 'payment_method' });
    expect((await checkoutOf(second.id)).status).toBe('open');
  });

  it('refuses off_session with a client secret (403), and both or neither of payment_token and payment_method (400)', async () => {
    // Prepare
    const checkout = await createCheckout();
    const paymentMethod = await vaultCard(checkout.client_secret!, PAN, checkout.id);
    const pay = (body: unknown) =>
      call<ErrorBody>('POST', `/v1/checkouts/${checkout.id}/pay`, { token: checkout.client_secret!, body });
    // Act
    const offSession = await pay({ payment_method: paymentMethod, off_session: true });
    const both = await pay({ payment_method: paymentMethod, payment_token: 'tok_abc' });
    const neither = await pay({});
    // Assess
    expect(offSession.status, offSession.text).toBe(403);
    expect(offSession.body.error).toMatchObject({ code: 'off_session_not_allowed', param: 'off_session' });
    expect(both.status, both.text).toBe(400);
    expect(neither.status, neither.text).toBe(400);
    expect((await checkoutOf(checkout.id)).status).toBe('open');
  });
});

describe('saving the payment method on a customer at checkout (save_payment_method)', () => {
  /** A fresh customer of `secretKey`'s merchant. */
  async function createCustomer(secretKey = stack.secretKey): Promise<string> {
    const created = await call<{ id: string }>('POST', '/v1/customers', {
      token: secretKey,
      body: { email: 'renewals@example.com', name: 'Ada Lovelace' },
    });
    expect(created.status, created.text).toBe(201);
    return created.body.id;
  }

  it("saves the pm_ that paid on the checkout's customer once the checkout succeeds, then lists it under the customer", async () => {
    // Prepare
    const customer = await createCustomer();
    const checkout = await createCheckout(stack.secretKey, { customer, save_payment_method: true });
    const paymentMethod = await vaultCard(checkout.client_secret!, PAN, checkout.id);
    const before = await call<{ data: { id: string }[] }>('GET', `/v1/customers/${customer}/payment_methods`, {
      token: stack.secretKey,
    });
    // Act
    const paid = await call('POST', `/v1/checkouts/${checkout.id}/pay`, {
      token: checkout.client_secret!,
      body: { payment_method: paymentMethod },
    });
    const done = await waitForTerminal(checkout.id);
    const after = await call<{ data: { id: string; customer: string | null; status: string }[] }>(
      'GET',
      `/v1/customers/${customer}/payment_methods`,
      { token: stack.secretKey },
    );
    // Assess
    expect(checkout).toMatchObject({ customer, save_payment_method: true });
    expect(before.body.data).toEqual([]);
    expect(paid.status, paid.text).toBe(202);
    expect(done.status).toBe('succeeded');
    expect(after.status, after.text).toBe(200);
    expect(after.body.data).toMatchObject([{ id: paymentMethod, customer, status: 'active' }]);
    await assertInvariants(done);
  });

  it('does not save the pm_ of a declined checkout', async () => {
    // Prepare
    const customer = await createCustomer();
    const checkout = await createCheckout(stack.secretKey, { customer, save_payment_method: true });
    const paymentMethod = await vaultCard(checkout.client_secret!, DECLINED, checkout.id);
    // Act
    await call('POST', `/v1/checkouts/${checkout.id}/pay`, {
      token: checkout.client_secret!,
      body: { payment_method: paymentMethod },
    });
    const done = await waitForTerminal(checkout.id);
    const listed = await call<{ data: unknown[] }>('GET', `/v1/customers/${customer}/payment_methods`, {
      token: stack.secretKey,
    });
    // Assess
    expect(done.status).toBe('failed');
    expect(listed.body.data).toEqual([]);
  });

  it("answers 404 (param customer) for an unknown, another merchant's or a deleted cus_, and 422 for save_payment_method without one", async () => {
    // Prepare
    const other = await call<{ secret_key: string }>('POST', '/v1/merchants', {
      token: stack.adminToken,
      body: { name: 'Another shop with customers' },
    });
    expect(other.status, other.text).toBe(201);
    const foreign = await createCustomer(other.body.secret_key);
    const deleted = await createCustomer();
    expect((await call('DELETE', `/v1/customers/${deleted}`, { token: stack.secretKey })).status).toBe(200);
    const create = (extra: Record<string, unknown>) =>
      call<ErrorBody>('POST', '/v1/checkouts', {
        token: stack.secretKey,
        body: {
          merchant_order_ref: `vault_${randomBytes(6).toString('hex')}`,
          amount: 2500,
          currency: 'USD',
          items: [{ sku: 'tshirt', quantity: 1 }],
          success_url: `${stack.merchantUrl}/thanks`,
          failure_url: `${stack.merchantUrl}/sorry`,
          ...extra,
        },
      });
    // Act
    const unknown = await create({ customer: 'cus_doesnotexist123', save_payment_method: true });
    const ofAnother = await create({ customer: foreign });
    const ofDeleted = await create({ customer: deleted, save_payment_method: true });
    const withoutCustomer = await create({ save_payment_method: true });
    const withBuyerDetailsOnly = await create({ customer: { email: 'ada@example.com' }, save_payment_method: true });
    // Assess
    for (const answer of [unknown, ofAnother, ofDeleted]) {
      expect(answer.status, answer.text).toBe(404);
      expect(answer.body.error.param).toBe('customer');
    }
    for (const answer of [withoutCustomer, withBuyerDetailsOnly]) {
      expect(answer.status, answer.text).toBe(422);
      expect(answer.body.error.param).toBe('save_payment_method');
    }
  });

  it('keeps the customer object form (buyer email and name) working, with nothing to save', async () => {
    // Act
    const checkout = await createCheckout(stack.secretKey, { customer: { email: 'ada@example.com', name: 'Ada' } });
    // Assess
    expect(checkout).toMatchObject({ customer: { email: 'ada@example.com', name: 'Ada' }, save_payment_method: false });
  });
});

describe('off-session renewals with a saved payment method', () => {
  async function customerWithSavedCard(): Promise<{ customer: string; paymentMethod: string }> {
    const created = await call<{ id: string }>('POST', '/v1/customers', {
      token: stack.secretKey,
      body: { name: 'Renewing buyer' },
    });
    expect(created.status, created.text).toBe(201);
    const customer = created.body.id;
    const first = await createCheckout(stack.secretKey, { customer, save_payment_method: true });
    const paymentMethod = await vaultCard(first.client_secret!, PAN, first.id);
    await call('POST', `/v1/checkouts/${first.id}/pay`, { token: first.client_secret!, body: { payment_method: paymentMethod } });
    expect((await waitForTerminal(first.id)).status).toBe('succeeded');
    return { customer, paymentMethod };
  }

  const payOffSession = (checkoutId: string, paymentMethod: string) =>
    call<ErrorBody>('POST', `/v1/checkouts/${checkoutId}/pay`, {
      token: stack.secretKey,
      body: { payment_method: paymentMethod, off_session: true },
    });

  it('charges a renewal off-session; the sandbox PSP sees a merchant-initiated card-on-file payment quoting the first network transaction id', async () => {
    // Prepare
    const { customer, paymentMethod } = await customerWithSavedCard();
    const stored = await vaultItem(paymentMethod);
    const renewal = await createCheckout(stack.secretKey, { customer });
    // Act
    const paid = await payOffSession(renewal.id, paymentMethod);
    const done = await waitForTerminal(renewal.id);
    // Assess
    expect(stored['networkTransactionId']).toMatchObject({ S: expect.stringMatching(/^ntid_/) });
    expect(paid.status, paid.text).toBe(202);
    expect(done.status).toBe('succeeded');
    expect(done.payment?.captured_amount).toBe(2500);
    expect(await pspAuthorization(done.payment!.attempts[0]!.psp_reference!)).toMatchObject({
      card_on_file: {
        initiator: 'merchant',
        stored: true,
        network_transaction_id: (stored['networkTransactionId'] as { S: string }).S,
      },
    });
    await assertInvariants(done);
  });

  it("refuses a pm_ saved on another customer, one never saved, a detached one and a deleted customer's, leaving the checkout open", async () => {
    // Prepare
    const mine = await customerWithSavedCard();
    const theirs = await customerWithSavedCard();
    const detached = await customerWithSavedCard();
    const deleted = await customerWithSavedCard();
    expect((await call('POST', `/v1/payment_methods/${detached.paymentMethod}/detach`, { token: stack.secretKey })).status).toBe(
      200,
    );
    expect((await call('DELETE', `/v1/customers/${deleted.customer}`, { token: stack.secretKey })).status).toBe(200);
    const notSaved = await vaultCard(stack.secretKey);
    const forMine = await createCheckout(stack.secretKey, { customer: mine.customer });
    const forDetached = await createCheckout(stack.secretKey, { customer: detached.customer });
    // Act
    const ofAnother = await payOffSession(forMine.id, theirs.paymentMethod);
    const unsaved = await payOffSession(forMine.id, notSaved);
    const wasDetached = await payOffSession(forDetached.id, detached.paymentMethod);
    const ofDeleted = await payOffSession(forMine.id, deleted.paymentMethod);
    // Assess
    expect([ofAnother, unsaved, wasDetached, ofDeleted].map((answer) => [answer.status, answer.body.error?.code])).toEqual([
      [422, 'payment_method_customer_mismatch'],
      [422, 'payment_method_not_saved'],
      [422, 'payment_method_detached'],
      [422, 'payment_method_deleted'],
    ]);
    expect((await checkoutOf(forMine.id)).status).toBe('open');
    expect((await checkoutOf(forDetached.id)).status).toBe('open');
  });
});

describe('the card number', () => {
  it('is in no API answer and no line the stack printed', () => {
    // Assess (after every payment above sent the number to the PSP)
    expect(answers.length).toBeGreaterThan(20);
    expect(answers.filter((text) => text.includes(PAN))).toEqual([]);
    expect(stack.stderr().includes(PAN)).toBe(false);
    expect(stack.lines.join('\n').includes(PAN)).toBe(false);
  });
});
