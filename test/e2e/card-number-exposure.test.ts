/**
 * Card numbers never leave the vault, across the whole saved-card life cycle, over HTTP against
 * the running local stack (`npm start` as a child process with DEBUG logging, the real ASL,
 * DynamoDB Local, the sandbox PSP and the demo merchant). With one card number no other request
 * uses: the buyer vaults it (typed with spaces) and pays with the `pm_` on a checkout that saves
 * it on a new customer, saves it a second time the same way, the merchant vaults it with its key
 * and pays with that `pm_` (once on the sandbox PSP, once routed to the stripe connector), charges
 * a renewal off-session, detaches one saved card and deletes the customer (crypto-shredding the
 * other), and bad requests carry the number too. Then it
 * greps, for the number with and without spaces or dashes: every API answer (checkouts, their
 * events, `/v1/events`, customers, payment methods), every line the stack printed (stdout and
 * stderr, DEBUG handler logs included), every webhook body sent to a second endpoint of the demo
 * merchant (the same events the demo merchant receives), the demo merchant's own order records,
 * and every item of every DynamoDB table: none but the vault's holds card data, and the vault
 * holds it only as ciphertext.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { DynamoDBClient, ListTablesCommand, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_AWS } from '../../local/dynamodb-local';
import { freePort } from '../../local/net';
import { PaystepClient, type ApiAnswer } from '../../local/paystep-client';
import { fetchLedger, type LedgerOperation } from '../../local/sandbox-psp/client';
import { LOCAL_CARD_VAULT_TABLE_NAME } from '../../lib/table-schema';
import { moneyInvariantViolations } from '../support/money-invariants';
import { startStackProcess, type StackProcess } from './harness';

/** A valid Mastercard number no other request in this stack uses (the sandbox approves it). */
const PAN = '5200828282828210';
const PAN_TYPED = '5200 8282 8282 8210';
/** The number with any of space, dash or nothing between its digits. */
const PAN_ANYHOW = new RegExp(PAN.split('').join('[ -]?'));

interface CheckoutView {
  id: string;
  status: string;
  client_secret?: string;
  amount: number;
  failure_reason: string | null;
  payment: { captured_amount: number; attempts: { status: string; connector: string }[] } | null;
  events: { type: string; at: string }[];
}

let stack: StackProcess;
let api: PaystepClient;
let dynamo: DynamoDBClient;
let receiver: Server;
let receiverUrl: string;
const answers: string[] = [];
const webhookBodies: string[] = [];

async function call<T = Record<string, unknown>>(
  method: string,
  path: string,
  options: { token?: string; body?: unknown; idempotencyKey?: string } = {},
): Promise<ApiAnswer<T>> {
  const answer = await api.call<T>(method, path, options);
  answers.push(`${answer.status} ${JSON.stringify(Object.fromEntries(answer.headers))} ${answer.text}`);
  return answer;
}

async function createCheckout(extra: Record<string, unknown> = {}): Promise<CheckoutView> {
  const created = await call<CheckoutView>('POST', '/v1/checkouts', {
    token: stack.secretKey,
    body: {
      merchant_order_ref: `pan_${randomBytes(6).toString('hex')}`,
      amount: 2500,
      currency: 'USD',
      items: [{ sku: 'tshirt', name: 'Paystep T-shirt', quantity: 1 }],
      success_url: `${stack.merchantUrl}/thanks`,
      failure_url: `${stack.merchantUrl}/sorry`,
      metadata: { note: 'no card here' },
      ...extra,
    },
  });
  expect(created.status, created.text).toBe(201);
  return created.body;
}

function card(number: string, overrides: Record<string, unknown> = {}) {
  return { type: 'card', card: { number, exp_month: 12, exp_year: 2040, cvc: '123', ...overrides } };
}

async function vault(token: string, number: string, checkoutId?: string): Promise<string> {
  const answer = await call<{ id: string }>('POST', '/v1/payment_methods', {
    token,
    body: { ...card(number), ...(checkoutId !== undefined ? { checkout: checkoutId } : {}) },
  });
  expect(answer.status, answer.text).toBe(201);
  return answer.body.id;
}

async function waitForTerminal(id: string): Promise<CheckoutView> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const answer = await call<CheckoutView>('GET', `/v1/checkouts/${id}`, { token: stack.secretKey });
    if (answer.body.status === 'succeeded' || answer.body.status === 'failed') return answer.body;
    if (Date.now() > deadline) throw new Error(`checkout ${id} still ${answer.body.status}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** A customer's checkout paid by the buyer with a pm_ vaulted by the client secret; the card is saved. */
async function buyAndSave(customer: string): Promise<{ checkout: CheckoutView; paymentMethod: string }> {
  const checkout = await createCheckout({ customer, save_payment_method: true });
  const paymentMethod = await vault(checkout.client_secret!, PAN_TYPED, checkout.id);
  const paid = await call('POST', `/v1/checkouts/${checkout.id}/pay`, {
    token: checkout.client_secret!,
    body: { payment_method: paymentMethod },
  });
  expect(paid.status, paid.text).toBe(202);
  await call('GET', `/v1/checkouts/${checkout.id}/status`, { token: checkout.client_secret! });
  return { checkout: await waitForTerminal(checkout.id), paymentMethod };
}

async function scanTable(tableName: string): Promise<Record<string, AttributeValue>[]> {
  const items: Record<string, AttributeValue>[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamo.send(
      new ScanCommand({ TableName: tableName, ConsistentRead: true, ...(startKey ? { ExclusiveStartKey: startKey } : {}) }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  return items;
}

/** The Stripe-protocol sandbox's books for one checkout (the sandbox PSP's ledger shape). */
async function stripeLedger(reference: string): Promise<LedgerOperation[]> {
  const response = await fetch(`${stack.stripeSandboxUrl}/v1/test/ledger?reference=${encodeURIComponent(reference)}`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { operations: LedgerOperation[] }).operations;
}

function leaks(texts: readonly string[]): string[] {
  return texts.filter((text) => PAN_ANYHOW.test(text));
}

beforeAll(async () => {
  const port = await freePort();
  receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      webhookBodies.push(`${JSON.stringify(request.headers)} ${body}`);
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(port, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${port}/hooks`;
  stack = await startStackProcess({ POWERTOOLS_LOG_LEVEL: 'DEBUG' });
  api = new PaystepClient(stack.apiUrl);
  dynamo = new DynamoDBClient({ ...LOCAL_AWS, endpoint: stack.dynamoDbEndpoint });
}, 120_000);

afterAll(async () => {
  dynamo?.destroy();
  await stack?.stop();
  receiver?.closeAllConnections();
  await new Promise((resolve) => receiver?.close(resolve));
}, 30_000);

describe('the card number across vault, saved-card and off-session payments', () => {
  it('is in no API answer, log line, event, webhook, merchant record or table but as vault ciphertext', async () => {
    // Prepare: a second webhook endpoint of the demo merchant (every event type) records the bodies.
    const endpoint = await call('POST', '/v1/webhook_endpoints', { token: stack.secretKey, body: { url: receiverUrl } });
    expect(endpoint.status, endpoint.text).toBe(201);
    const created = await call<{ id: string }>('POST', '/v1/customers', {
      token: stack.secretKey,
      body: { email: 'pan@example.com', name: 'Card Holder', metadata: { note: 'no card here' } },
    });
    expect(created.status, created.text).toBe(201);
    const customer = created.body.id;

    // Act: the buyer vaults the card (spaces, client secret) and pays, twice, each saved on the customer ...
    const first = await buyAndSave(customer);
    const second = await buyAndSave(customer);
    // ... bad vault requests that carry the number (expired, short CVC, unknown field, number as a JSON number, cut JSON)
    const open = await createCheckout();
    await call('POST', '/v1/payment_methods', {
      token: open.client_secret!,
      body: { ...card(PAN, { exp_year: 2001 }), checkout: open.id },
    });
    await call('POST', '/v1/payment_methods', { token: stack.secretKey, body: card(PAN_TYPED, { cvc: '12' }) });
    await call('POST', '/v1/payment_methods', { token: stack.secretKey, body: { ...card(PAN), note: PAN } });
    await call('POST', '/v1/payment_methods', { token: stack.secretKey, body: { type: 'card', card: { number: Number(PAN) } } });
    await call('POST', '/v1/payment_methods', { token: stack.secretKey, body: `{"type":"card","card":{"number":"${PAN}"` });
    await call('POST', '/v1/payment_methods', { token: 'sk_test_wrong', body: card(PAN) });
    // ... the merchant vaults it with its key (Idempotency-Key replayed) and pays a checkout with that pm_
    const merchantPaymentMethod = (
      await call<{ id: string }>('POST', '/v1/payment_methods', {
        token: stack.secretKey,
        idempotencyKey: `pan-${randomBytes(4).toString('hex')}`,
        body: card(PAN),
      })
    ).body.id;
    const byMerchant = await createCheckout();
    await call('POST', `/v1/checkouts/${byMerchant.id}/pay`, {
      token: stack.secretKey,
      body: { payment_method: merchantPaymentMethod },
    });
    const byMerchantDone = await waitForTerminal(byMerchant.id);
    // ... a EUR payment routed to the stripe connector (its SDK, the Stripe-protocol sandbox and its webhooks)
    const routed = await call('PUT', '/v1/routing', {
      token: stack.secretKey,
      body: { rules: [{ conditions: { currency: ['EUR'] }, connectors: ['stripe'] }], default: ['sandbox'], failover: false },
    });
    const onStripe = await createCheckout({ currency: 'EUR' });
    await call('POST', `/v1/checkouts/${onStripe.id}/pay`, {
      token: stack.secretKey,
      body: { payment_method: await vault(stack.secretKey, PAN) },
    });
    const onStripeDone = await waitForTerminal(onStripe.id);
    // ... an off-session renewal with the first saved card
    const renewal = await createCheckout({ customer });
    const renewed = await call('POST', `/v1/checkouts/${renewal.id}/pay`, {
      token: stack.secretKey,
      body: { payment_method: first.paymentMethod, off_session: true },
    });
    const renewalDone = await waitForTerminal(renewal.id);
    // ... every read, then detach the first card and delete the customer (shreds the second)
    const listed = await call<{ data: { id: string }[] }>('GET', `/v1/customers/${customer}/payment_methods`, {
      token: stack.secretKey,
    });
    for (const id of [first.paymentMethod, second.paymentMethod, merchantPaymentMethod])
      await call('GET', `/v1/payment_methods/${id}`, { token: stack.secretKey });
    await call('GET', `/v1/customers/${customer}`, { token: stack.secretKey });
    const detached = await call('POST', `/v1/payment_methods/${first.paymentMethod}/detach`, { token: stack.secretKey });
    const deleted = await call('DELETE', `/v1/customers/${customer}`, { token: stack.secretKey });
    await call('GET', `/v1/payment_methods/${second.paymentMethod}`, { token: stack.secretKey });
    await call('GET', `/v1/customers/${customer}`, { token: stack.secretKey });
    const paid = [first.checkout.id, second.checkout.id, byMerchant.id, onStripe.id, renewal.id];
    // ... wait until the result webhook of each checkout reached the recording endpoint
    const deadline = Date.now() + 60_000;
    while (paid.some((id) => !webhookBodies.some((body) => body.includes('checkout.succeeded') && body.includes(id)))) {
      if (Date.now() > deadline) throw new Error(`webhooks missing; received ${webhookBodies.length}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    for (const id of paid) await call('GET', `/v1/checkouts/${id}`, { token: stack.secretKey });
    let cursor: string | null = null;
    do {
      const page: ApiAnswer<{ data: unknown[]; next_cursor: string | null }> = await call(
        'GET',
        `/v1/events?limit=100${cursor ? `&cursor=${cursor}` : ''}`,
        {
          token: stack.secretKey,
        },
      );
      expect(page.status, page.text).toBe(200);
      cursor = page.body.next_cursor;
    } while (cursor !== null);
    const merchantOrders = await (await fetch(`${stack.merchantUrl}/orders`)).text();
    const tables = (await dynamo.send(new ListTablesCommand({}))).TableNames ?? [];
    const vaultItems = (await scanTable(LOCAL_CARD_VAULT_TABLE_NAME)).map((item) => JSON.stringify(item));
    const otherItems: string[] = [];
    for (const table of tables.filter((name) => name !== LOCAL_CARD_VAULT_TABLE_NAME))
      otherItems.push(...(await scanTable(table)).map((item) => `${table} ${JSON.stringify(item)}`));
    const printed = [stack.stdout(), stack.stderr()];

    // Assess: the run did what it claims ...
    expect([
      first.checkout.status,
      second.checkout.status,
      byMerchantDone.status,
      onStripeDone.status,
      renewalDone.status,
    ]).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded']);
    expect(routed.status, routed.text).toBe(200);
    expect(onStripeDone.payment?.attempts.map((attempt) => attempt.connector)).toEqual(['stripe']);
    expect(renewed.status, renewed.text).toBe(202);
    expect(listed.body.data.map((pm) => pm.id).sort()).toEqual([first.paymentMethod, second.paymentMethod].sort());
    expect(detached.status, detached.text).toBe(200);
    expect(deleted.status, deleted.text).toBe(200);
    for (const id of paid) {
      const checkout = await waitForTerminal(id);
      const ledger = id === onStripe.id ? await stripeLedger(id) : await fetchLedger(stack.pspUrl, id);
      expect(
        ledger.filter((row) => row.type === 'capture' && row.status === 'succeeded'),
        id,
      ).toHaveLength(1);
      expect(moneyInvariantViolations({ ...checkout, confirmationRequired: true }, ledger), id).toEqual([]);
    }
    expect(merchantOrders).toContain(renewal.id);
    expect(tables).toContain(LOCAL_CARD_VAULT_TABLE_NAME);
    expect(tables.length).toBeGreaterThan(1);
    expect(vaultItems.filter((item) => item.includes('numberCiphertext')).length).toBeGreaterThanOrEqual(1);
    expect(vaultItems.some((item) => item.includes('"shredded"'))).toBe(true);
    expect(otherItems.some((item) => item.includes('EVENT'))).toBe(true);
    // (DEBUG lowers the stack's WARN default: the handlers' INFO lines are printed and captured.)
    expect(printed[0]).toMatch(/"level":"INFO"/);
    expect(webhookBodies.length).toBeGreaterThanOrEqual(paid.length);
    expect(answers.length).toBeGreaterThan(30);
    // ... and the number, with or without spaces or dashes, is nowhere.
    expect(leaks(answers)).toEqual([]);
    expect(leaks(printed)).toEqual([]);
    expect(leaks(webhookBodies)).toEqual([]);
    expect(leaks([merchantOrders])).toEqual([]);
    expect(leaks(otherItems)).toEqual([]);
    expect(leaks(vaultItems)).toEqual([]);
  }, 240_000);
});
