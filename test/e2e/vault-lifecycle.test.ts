/**
 * Issue 15's vault and customer bullets over HTTP against the running local stack (`npm start` as
 * a child process, the real ASL, DynamoDB Local, the sandbox PSP and the demo merchant), each
 * proven from outside: the vault's card checks (422 with `param`), fingerprints per card number
 * and merchant, the customer routes and their 404s for another merchant's ids, a detached or
 * deleted payment method that can never pay again, another customer's payment method refused on
 * every pay path, an off-session payment with a card that would challenge (3-D Secure) failing
 * `authentication_required` with nothing authorized, and deletes and detaches racing off-session
 * pays: a pay either went to the PSP before the card was shredded or it fails, and the PSP's
 * ledger never keeps an authorization or a capture the checkout does not own (a shred during an
 * outstanding authorization included). The vault table's items are read in DynamoDB Local.
 */
import { randomBytes } from 'node:crypto';
import { DynamoDBClient, GetItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_AWS } from '../../local/dynamodb-local';
import { PaystepClient, type ApiAnswer } from '../../local/paystep-client';
import { fetchLedger, type LedgerOperation } from '../../local/sandbox-psp/client';
import { LOCAL_CARD_VAULT_TABLE_NAME } from '../../lib/table-schema';
import { moneyInvariantViolations } from '../support/money-invariants';
import { startStackProcess, type StackProcess } from './harness';

const VISA = '4242424242424242';
const MASTERCARD = '5555555555554444';
const CHALLENGE = '4000002760003184';
/** Authorized at once, the answer held past Paystep's PSP timeout (4 s here); a same-key retry replays it. */
const HANG_AUTHORIZE = '4000000000000333';

interface AttemptView {
  id: string;
  status: string;
  failure_code: string | null;
}

interface CheckoutView {
  id: string;
  status: string;
  amount: number;
  client_secret?: string;
  failure_reason: string | null;
  next_action: { redirect_to_url: { url: string } } | null;
  payment: { captured_amount: number; attempts: AttemptView[] } | null;
  events: { type: string; at: string; data?: Record<string, unknown> }[];
}

interface ErrorBody {
  error: { code: string; param?: string };
}

let stack: StackProcess;
let api: PaystepClient;
let dynamo: DynamoDBClient;
let otherKey: string;

const call = <T = Record<string, unknown>>(
  method: string,
  path: string,
  options: { token?: string; body?: unknown } = {},
): Promise<ApiAnswer<T>> => api.call<T>(method, path, options);

function card(number: string, overrides: Record<string, unknown> = {}) {
  return { type: 'card', card: { number, exp_month: 12, exp_year: 2040, cvc: '123', ...overrides } };
}

async function vault(token: string, number: string, checkoutId?: string): Promise<{ id: string; fingerprint: string }> {
  const answer = await call<{ id: string; card: { fingerprint: string } }>('POST', '/v1/payment_methods', {
    token,
    body: { ...card(number), ...(checkoutId !== undefined ? { checkout: checkoutId } : {}) },
  });
  expect(answer.status, answer.text).toBe(201);
  return { id: answer.body.id, fingerprint: answer.body.card.fingerprint };
}

async function createCustomer(secretKey = stack.secretKey): Promise<string> {
  const created = await call<{ id: string }>('POST', '/v1/customers', {
    token: secretKey,
    body: { email: 'vault@example.com', name: 'Vault Buyer', metadata: { plan: 'monthly' } },
  });
  expect(created.status, created.text).toBe(201);
  return created.body.id;
}

async function createCheckout(extra: Record<string, unknown> = {}, secretKey = stack.secretKey): Promise<CheckoutView> {
  const created = await call<CheckoutView>('POST', '/v1/checkouts', {
    token: secretKey,
    body: {
      merchant_order_ref: `life_${randomBytes(6).toString('hex')}`,
      amount: 2500,
      currency: 'USD',
      items: [{ sku: 'sticker-pack', name: 'Sticker pack', quantity: 1 }],
      success_url: `${stack.merchantUrl}/thanks`,
      failure_url: `${stack.merchantUrl}/sorry`,
      ...extra,
    },
  });
  expect(created.status, created.text).toBe(201);
  return created.body;
}

async function checkoutOf(id: string): Promise<CheckoutView> {
  const answer = await call<CheckoutView>('GET', `/v1/checkouts/${id}`, { token: stack.secretKey });
  expect(answer.status, answer.text).toBe(200);
  return answer.body;
}

async function waitFor(id: string, done: (checkout: CheckoutView) => boolean, timeoutMs = 90_000): Promise<CheckoutView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const checkout = await checkoutOf(id);
    if (done(checkout)) return checkout;
    if (Date.now() > deadline) throw new Error(`checkout ${id} still ${checkout.status}`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

const terminal = (id: string) => waitFor(id, (checkout) => checkout.status === 'succeeded' || checkout.status === 'failed');

/** A new customer whose card (`number`) was saved by a first purchase the buyer paid with the client secret. */
async function customerWithSavedCard(number = VISA): Promise<{ customer: string; paymentMethod: string }> {
  const customer = await createCustomer();
  const first = await createCheckout({ customer, save_payment_method: true });
  const { id: paymentMethod } = await vault(first.client_secret!, number, first.id);
  const paid = await call('POST', `/v1/checkouts/${first.id}/pay`, {
    token: first.client_secret!,
    body: { payment_method: paymentMethod },
  });
  expect(paid.status, paid.text).toBe(202);
  expect((await terminal(first.id)).status).toBe('succeeded');
  return { customer, paymentMethod };
}

const payOffSession = (checkoutId: string, paymentMethod: string) =>
  call<ErrorBody>('POST', `/v1/checkouts/${checkoutId}/pay`, {
    token: stack.secretKey,
    body: { payment_method: paymentMethod, off_session: true },
  });

async function vaultItem(paymentMethodId: string): Promise<Record<string, AttributeValue>> {
  const answer = await dynamo.send(
    new GetItemCommand({
      TableName: LOCAL_CARD_VAULT_TABLE_NAME,
      Key: { pk: { S: `PM#${paymentMethodId}` }, sk: { S: 'PM' } },
      ConsistentRead: true,
    }),
  );
  return answer.Item ?? {};
}

const revealCount = async (paymentMethodId: string): Promise<number> =>
  Number((await vaultItem(paymentMethodId)).revealCount?.N ?? 0);

async function ledgerChecked(checkout: CheckoutView): Promise<LedgerOperation[]> {
  const ledger = await fetchLedger(stack.pspUrl, checkout.id);
  expect(moneyInvariantViolations({ ...checkout, confirmationRequired: true }, ledger), checkout.id).toEqual([]);
  return ledger;
}

const succeeded = (ledger: LedgerOperation[], type: LedgerOperation['type']) =>
  ledger.filter((row) => row.type === type && row.status === 'succeeded');

beforeAll(async () => {
  stack = await startStackProcess({ PSP_TIMEOUT_MS: '4000', PAYSTEP_PSP_HANG_MS: '6000' });
  api = new PaystepClient(stack.apiUrl);
  dynamo = new DynamoDBClient({ ...LOCAL_AWS, endpoint: stack.dynamoDbEndpoint });
  const other = await call<{ secret_key: string }>('POST', '/v1/merchants', {
    token: stack.adminToken,
    body: { name: 'Another vault shop' },
  });
  expect(other.status, other.text).toBe(201);
  otherKey = other.body.secret_key;
}, 120_000);

afterAll(async () => {
  dynamo?.destroy();
  await stack?.stop();
}, 30_000);

describe('POST /v1/payment_methods over HTTP', () => {
  it('answers 422 with the code and param of each bad card: Luhn, length, brand, expiry, month, year, CVC', async () => {
    // Prepare
    const cases: [Record<string, unknown>, string, string][] = [
      [card('4242424242424241'), 'invalid_number', 'card.number'],
      [card('424242424242'), 'invalid_number', 'card.number'],
      [card('9999999999999995'), 'unsupported_card_brand', 'card.number'],
      [card(VISA, { exp_year: 2001 }), 'expired_card', 'card.exp_year'],
      [card(VISA, { exp_month: 13 }), 'invalid_expiry_month', 'card.exp_month'],
      [card(VISA, { exp_year: 99 }), 'invalid_expiry_year', 'card.exp_year'],
      [card(VISA, { cvc: '12' }), 'invalid_cvc', 'card.cvc'],
      [card('378282246310005', { cvc: '123' }), 'invalid_cvc', 'card.cvc'],
    ];
    // Act
    const answers = await Promise.all(
      cases.map(([body]) => call<ErrorBody>('POST', '/v1/payment_methods', { token: stack.secretKey, body })),
    );
    // Assess
    expect(answers.map((answer) => [answer.status, answer.body.error?.code, answer.body.error?.param])).toEqual(
      cases.map(([, code, param]) => [422, code, param]),
    );
  });

  it('gives one fingerprint per card number and merchant: the same card again matches, another merchant or card differs', async () => {
    // Act
    const first = await vault(stack.secretKey, VISA);
    const typedAgain = await vault(stack.secretKey, '4242 4242 4242 4242');
    const checkout = await createCheckout();
    const byBuyer = await vault(checkout.client_secret!, VISA, checkout.id);
    const atAnotherMerchant = await vault(otherKey, VISA);
    const anotherCard = await vault(stack.secretKey, MASTERCARD);
    // Assess
    expect(first.fingerprint).toMatch(/\S{16,}/);
    expect(new Set([first.id, typedAgain.id, byBuyer.id]).size).toBe(3);
    expect(typedAgain.fingerprint).toBe(first.fingerprint);
    expect(byBuyer.fingerprint).toBe(first.fingerprint);
    expect(atAnotherMerchant.fingerprint).not.toBe(first.fingerprint);
    expect(anotherCard.fingerprint).not.toBe(first.fingerprint);
  });
});

describe('customers over HTTP', () => {
  it('creates, reads, lists, detaches and deletes; a deleted customer reads as deleted and its card is shredded', async () => {
    // Prepare
    const { customer, paymentMethod } = await customerWithSavedCard();
    const second = await customerWithSavedCard();
    // Act
    const read = await call<Record<string, unknown>>('GET', `/v1/customers/${customer}`, { token: stack.secretKey });
    const listed = await call<{ data: { id: string }[] }>('GET', `/v1/customers/${customer}/payment_methods`, {
      token: stack.secretKey,
    });
    const detached = await call<{ id: string; customer: string | null; status: string }>(
      'POST',
      `/v1/payment_methods/${paymentMethod}/detach`,
      { token: stack.secretKey },
    );
    const listedAfterDetach = await call<{ data: unknown[] }>('GET', `/v1/customers/${customer}/payment_methods`, {
      token: stack.secretKey,
    });
    const deleted = await call('DELETE', `/v1/customers/${second.customer}`, { token: stack.secretKey });
    const deletedAgain = await call('DELETE', `/v1/customers/${second.customer}`, { token: stack.secretKey });
    const readDeleted = await call<Record<string, unknown>>('GET', `/v1/customers/${second.customer}`, {
      token: stack.secretKey,
    });
    // Assess
    expect(read.status, read.text).toBe(200);
    expect(read.body).toMatchObject({
      id: customer,
      object: 'customer',
      email: 'vault@example.com',
      metadata: { plan: 'monthly' },
    });
    expect(listed.body.data.map((pm) => pm.id)).toEqual([paymentMethod]);
    expect(detached.status, detached.text).toBe(200);
    expect(detached.body).toMatchObject({ id: paymentMethod, customer: null, status: 'detached' });
    expect(listedAfterDetach.body.data).toEqual([]);
    expect(Object.keys(await vaultItem(paymentMethod))).not.toContain('wrappedKey');
    expect([deleted.status, deletedAgain.status]).toEqual([200, 200]);
    expect(readDeleted.body).toMatchObject({ id: second.customer, deleted: true });
    const shredded = await vaultItem(second.paymentMethod);
    expect(shredded.status?.S).toBe('shredded');
    expect(Object.keys(shredded)).not.toContain('wrappedKey');
    expect(Object.keys(shredded)).not.toContain('numberCiphertext');
  });

  it("answers 404 for another merchant's customer and payment method on every route, and changes nothing", async () => {
    // Prepare
    const theirs = await createCustomer(otherKey);
    const theirCard = await vault(otherKey, VISA);
    // Act
    const answers = await Promise.all([
      call<ErrorBody>('GET', `/v1/customers/${theirs}`, { token: stack.secretKey }),
      call<ErrorBody>('GET', `/v1/customers/${theirs}/payment_methods`, { token: stack.secretKey }),
      call<ErrorBody>('DELETE', `/v1/customers/${theirs}`, { token: stack.secretKey }),
      call<ErrorBody>('GET', `/v1/payment_methods/${theirCard.id}`, { token: stack.secretKey }),
      call<ErrorBody>('POST', `/v1/payment_methods/${theirCard.id}/detach`, { token: stack.secretKey }),
      call<ErrorBody>('POST', '/v1/checkouts', {
        token: stack.secretKey,
        body: {
          merchant_order_ref: `life_${randomBytes(6).toString('hex')}`,
          amount: 2500,
          currency: 'USD',
          items: [{ sku: 'tshirt', quantity: 1 }],
          customer: theirs,
        },
      }),
    ]);
    // Assess
    expect(answers.map((answer) => answer.status)).toEqual([404, 404, 404, 404, 404, 404]);
    expect(answers.every((answer) => typeof answer.body.error?.code === 'string')).toBe(true);
    expect(
      (await call<{ deleted?: boolean }>('GET', `/v1/customers/${theirs}`, { token: otherKey })).body.deleted,
    ).toBeUndefined();
    expect((await vaultItem(theirCard.id)).status?.S).toBe('active');
  });
});

describe('a detached or deleted payment method cannot pay', () => {
  it("is refused on-session by the merchant key and by a new checkout's client secret, off-session too, and nothing reaches the PSP", async () => {
    // Prepare
    const detached = await customerWithSavedCard();
    const deleted = await customerWithSavedCard();
    const forDetached = await createCheckout({ customer: detached.customer });
    const forDeleted = await createCheckout({ customer: deleted.customer });
    expect((await call('POST', `/v1/payment_methods/${detached.paymentMethod}/detach`, { token: stack.secretKey })).status).toBe(
      200,
    );
    expect((await call('DELETE', `/v1/customers/${deleted.customer}`, { token: stack.secretKey })).status).toBe(200);
    const pay = (checkout: CheckoutView, paymentMethod: string, token: string, offSession = false) =>
      call<ErrorBody>('POST', `/v1/checkouts/${checkout.id}/pay`, {
        token,
        body: { payment_method: paymentMethod, ...(offSession ? { off_session: true } : {}) },
      });
    // Act
    const answers = [
      await pay(forDetached, detached.paymentMethod, stack.secretKey),
      await pay(forDetached, detached.paymentMethod, forDetached.client_secret!),
      await pay(forDetached, detached.paymentMethod, stack.secretKey, true),
      await pay(forDeleted, deleted.paymentMethod, stack.secretKey),
      await pay(forDeleted, deleted.paymentMethod, forDeleted.client_secret!),
      await pay(forDeleted, deleted.paymentMethod, stack.secretKey, true),
    ];
    // Assess
    expect(answers.map((answer) => [answer.status, answer.body.error?.code, answer.body.error?.param])).toEqual([
      [422, 'payment_method_detached', 'payment_method'],
      [422, 'payment_method_detached', 'payment_method'],
      [422, 'payment_method_detached', 'payment_method'],
      [422, 'payment_method_deleted', 'payment_method'],
      [422, 'payment_method_deleted', 'payment_method'],
      [422, 'payment_method_deleted', 'payment_method'],
    ]);
    for (const checkout of [forDetached, forDeleted]) {
      expect((await checkoutOf(checkout.id)).status).toBe('open');
      expect(await fetchLedger(stack.pspUrl, checkout.id)).toEqual([]);
    }
  });
});

describe("another customer's payment method", () => {
  it('is refused with 422 payment_method_customer_mismatch on every pay path, leaving the checkout open and the PSP untouched', async () => {
    // Prepare
    const mine = await customerWithSavedCard();
    const theirs = await customerWithSavedCard();
    const checkout = await createCheckout({ customer: mine.customer });
    const pay = (token: string, offSession: boolean) =>
      call<ErrorBody>('POST', `/v1/checkouts/${checkout.id}/pay`, {
        token,
        body: { payment_method: theirs.paymentMethod, ...(offSession ? { off_session: true } : {}) },
      });
    // Act
    const answers = [
      await pay(checkout.client_secret!, false),
      await pay(stack.secretKey, false),
      await pay(stack.secretKey, true),
    ];
    // Assess
    expect(answers.map((answer) => [answer.status, answer.body.error?.code, answer.body.error?.param])).toEqual([
      [422, 'payment_method_customer_mismatch', 'payment_method'],
      [422, 'payment_method_customer_mismatch', 'payment_method'],
      [422, 'payment_method_customer_mismatch', 'payment_method'],
    ]);
    expect((await checkoutOf(checkout.id)).status).toBe('open');
    expect(await fetchLedger(stack.pspUrl, checkout.id)).toEqual([]);
  });
});

describe('off-session and 3-D Secure on the sandbox connector', () => {
  it('fails an off-session payment with a card that would challenge as authentication_required: no challenge, nothing authorized, stock never asked', async () => {
    // Prepare: the buyer's first purchase completes the challenge, and the card is saved.
    const customer = await createCustomer();
    const first = await createCheckout({ customer, save_payment_method: true });
    const { id: paymentMethod } = await vault(first.client_secret!, CHALLENGE, first.id);
    await call('POST', `/v1/checkouts/${first.id}/pay`, { token: first.client_secret!, body: { payment_method: paymentMethod } });
    const challenged = await waitFor(first.id, (checkout) => checkout.status !== 'processing', 30_000);
    expect(challenged.status).toBe('requires_action');
    const completed = await fetch(challenged.next_action!.redirect_to_url.url, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'outcome=complete',
    });
    expect(completed.status).toBe(302);
    expect((await terminal(first.id)).status).toBe('succeeded');
    const renewal = await createCheckout({ customer });
    // Act
    const paid = await payOffSession(renewal.id, paymentMethod);
    const done = await terminal(renewal.id);
    // Assess
    expect(paid.status, paid.text).toBe(202);
    expect(done).toMatchObject({ status: 'failed', failure_reason: 'authentication_required', next_action: null });
    expect(done.payment?.attempts).toMatchObject([{ status: 'failed', failure_code: 'authentication_required' }]);
    const types = done.events.map((event) => event.type);
    expect(types).not.toContain('requires_action');
    expect(types).not.toContain('authorized');
    expect(types).not.toContain('inventory_confirmed');
    const ledger = await ledgerChecked(done);
    expect(ledger.filter((row) => row.type === 'authorize').map((row) => row.status)).toEqual(['failed']);
    expect(succeeded(ledger, 'capture')).toEqual([]);
  });
});

describe('deletes and detaches racing off-session pays', () => {
  it('never charges a shredded card: each pay either reached the PSP before the shred and succeeded, or failed leaving nothing held', async () => {
    // Prepare: eight customers with a saved card, a renewal checkout each
    const delays = [0, 150, 400, 700, 1000, 1500, 2200, 3000];
    const rounds = await Promise.all(
      delays.map(async (delayMs, index) => {
        const saved = await customerWithSavedCard();
        const renewal = await createCheckout({ customer: saved.customer });
        return { ...saved, renewal, delayMs, remove: index % 2 === 0 ? ('delete' as const) : ('detach' as const) };
      }),
    );
    const revealsBefore = await Promise.all(rounds.map((round) => revealCount(round.paymentMethod)));
    // Act: the pay and the removal race, the removal started 0-3000 ms after the pay
    const raced = await Promise.all(
      rounds.map(async (round) => {
        const paying = payOffSession(round.renewal.id, round.paymentMethod);
        await new Promise((resolve) => setTimeout(resolve, round.delayMs));
        const removing =
          round.remove === 'delete'
            ? call('DELETE', `/v1/customers/${round.customer}`, { token: stack.secretKey })
            : call('POST', `/v1/payment_methods/${round.paymentMethod}/detach`, { token: stack.secretKey });
        return { pay: await paying, removal: await removing };
      }),
    );
    // Assess
    const outcomes: string[] = [];
    for (const [index, round] of rounds.entries()) {
      const { pay, removal } = raced[index]!;
      const refusal = round.remove === 'delete' ? 'payment_method_deleted' : 'payment_method_detached';
      expect(removal.status, removal.text).toBe(200);
      const item = await vaultItem(round.paymentMethod);
      expect(item.status?.S).toBe(round.remove === 'delete' ? 'shredded' : 'detached');
      expect(Object.keys(item)).not.toContain('wrappedKey');
      const reveals = (await revealCount(round.paymentMethod)) - revealsBefore[index]!;
      if (pay.status === 422) {
        expect(pay.body.error).toMatchObject({ code: refusal, param: 'payment_method' });
        expect((await checkoutOf(round.renewal.id)).status).toBe('open');
        expect(await fetchLedger(stack.pspUrl, round.renewal.id)).toEqual([]);
        expect(reveals).toBe(0);
        outcomes.push('refused at pay');
        continue;
      }
      expect(pay.status, pay.text).toBe(202);
      const done = await terminal(round.renewal.id);
      const ledger = await ledgerChecked(done);
      if (done.status === 'succeeded') {
        // The card was revealed for this payment while it was still active (a conditional write), before the shred.
        expect(reveals).toBeGreaterThanOrEqual(1);
        expect(item.lastRevealPurpose?.S).toBe(done.payment!.attempts[0]!.id);
        expect(succeeded(ledger, 'capture')).toHaveLength(1);
        outcomes.push('succeeded');
      } else {
        expect(done).toMatchObject({ status: 'failed', failure_reason: 'payment_declined' });
        expect(done.payment?.attempts.at(-1)).toMatchObject({ status: 'failed', failure_code: refusal });
        expect(reveals).toBe(0);
        expect(ledger).toEqual([]);
        outcomes.push('refused at reveal');
      }
    }
    expect(outcomes).toHaveLength(rounds.length);
    console.info(`race outcomes: ${outcomes.join(', ')}`);
  }, 240_000);

  it('voids what the PSP authorized when the card is shredded while the authorization answer is still outstanding', async () => {
    // Prepare: a saved card whose authorizations answer after Paystep's 4 s PSP timeout
    const { customer, paymentMethod } = await customerWithSavedCard(HANG_AUTHORIZE);
    const renewal = await createCheckout({ customer });
    const before = await revealCount(paymentMethod);
    // Act: pay off-session; once the card was revealed (the PSP call is out), delete the customer
    const paid = await payOffSession(renewal.id, paymentMethod);
    const deadline = Date.now() + 20_000;
    while ((await revealCount(paymentMethod)) === before) {
      if (Date.now() > deadline) throw new Error('the card was never revealed');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const deleted = await call('DELETE', `/v1/customers/${customer}`, { token: stack.secretKey });
    const done = await terminal(renewal.id);
    // Assess: the PSP authorized before the shred; the retry cannot reveal the card again, so the
    // checkout fails and the authorization the PSP holds is voided (never left open, never captured).
    expect(paid.status, paid.text).toBe(202);
    expect(deleted.status, deleted.text).toBe(200);
    expect((await vaultItem(paymentMethod)).status?.S).toBe('shredded');
    expect(done).toMatchObject({ status: 'failed', failure_reason: 'psp_error' });
    const ledger = await ledgerChecked(done);
    expect(succeeded(ledger, 'authorize')).toHaveLength(1);
    expect(succeeded(ledger, 'void')).toHaveLength(1);
    expect(succeeded(ledger, 'capture')).toEqual([]);
  }, 120_000);
});
