/**
 * POST /v1/checkouts/{id}/pay with an Idempotency-Key on the whole local stack (API, DynamoDB
 * Local, the ASL emulator, the sandbox PSP): the checkout's own write records the key, and every
 * retry or concurrent duplicate gets the first answer again, byte for byte, with one execution.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { tokenizeTestCard } from '../../local/sandbox-psp/client';
import { PaystepClient } from '../../local/paystep-client';
import { startStackProcess, type StackProcess } from './harness';

const CARD_OK = '4242424242424242';

let stack: StackProcess;
let api: PaystepClient;

async function newCheckout(): Promise<{ id: string; clientSecret: string }> {
  const created = await api.call<{ id: string; client_secret: string }>('POST', '/v1/checkouts', {
    token: stack.secretKey,
    body: {
      merchant_order_ref: `pay-key-${randomUUID()}`,
      amount: 1250,
      currency: 'USD',
      items: [{ sku: 'mug', name: 'Mug', quantity: 1, unit_amount: 1250 }],
      success_url: 'https://shop.example/thanks',
      failure_url: 'https://shop.example/sorry',
    },
  });
  expect(created.status).toBe(201);
  return { id: created.body.id, clientSecret: created.body.client_secret };
}

async function payWithKey(checkout: { id: string; clientSecret: string }, key: string, token: string) {
  const response = await fetch(`${stack.apiUrl}/v1/checkouts/${checkout.id}/pay`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${checkout.clientSecret}`,
      'content-type': 'application/json',
      'idempotency-key': key,
    },
    body: JSON.stringify({ payment_token: token }),
  });
  return { status: response.status, replayed: response.headers.get('idempotent-replayed'), text: await response.text() };
}

async function timeline(checkoutId: string): Promise<{ status: string; events: { type: string }[] }> {
  const answer = await api.call<{ status: string; events: { type: string }[] }>('GET', `/v1/checkouts/${checkoutId}`, {
    token: stack.secretKey,
  });
  expect(answer.status).toBe(200);
  return answer.body;
}

beforeAll(async () => {
  stack = await startStackProcess();
  api = new PaystepClient(stack.apiUrl);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

describe('pay with an Idempotency-Key', () => {
  it('answers a retry with another body the first 202 byte for byte, and pays once', async () => {
    // Prepare
    const checkout = await newCheckout();
    const key = `pay-${randomUUID()}`;
    const first = await payWithKey(checkout, key, await tokenizeTestCard(stack.pspUrl, CARD_OK));
    // Act
    const retry = await payWithKey(checkout, key, await tokenizeTestCard(stack.pspUrl, CARD_OK));
    const terminal = await api.waitForTerminal(checkout.id, checkout.clientSecret, 60_000);
    const afterwards = await payWithKey(checkout, key, 'tok_never_used');
    // Assess
    expect(first.status).toBe(202);
    expect(first.replayed).toBeNull();
    expect(retry).toEqual({ status: 202, replayed: 'true', text: first.text });
    expect(afterwards).toEqual({ status: 202, replayed: 'true', text: first.text });
    expect(terminal.status).toBe('succeeded');
    const { events } = await timeline(checkout.id);
    expect(events.filter((event) => event.type === 'payment_started')).toHaveLength(1);
    const executions = await stack.listExecutions();
    expect(executions.filter((execution) => execution.name === checkout.id)).toHaveLength(1);
  });

  it('answers 10 concurrent duplicates with one answer: one fresh, nine replays', async () => {
    // Prepare
    const checkout = await newCheckout();
    const key = `pay-${randomUUID()}`;
    const token = await tokenizeTestCard(stack.pspUrl, CARD_OK);
    // Act
    const answers = await Promise.all(Array.from({ length: 10 }, () => payWithKey(checkout, key, token)));
    const terminal = await api.waitForTerminal(checkout.id, checkout.clientSecret, 60_000);
    // Assess
    expect(answers.map((answer) => answer.status)).toEqual(Array(10).fill(202));
    expect(new Set(answers.map((answer) => answer.text)).size).toBe(1);
    expect(answers.filter((answer) => answer.replayed === null)).toHaveLength(1);
    expect(terminal.status).toBe('succeeded');
    const { events } = await timeline(checkout.id);
    expect(events.filter((event) => event.type === 'payment_started')).toHaveLength(1);
  });

  it('refuses a key first used on another route with 422, and replays a 409 it answered', async () => {
    // Prepare: the merchant creates with key K, then pays another checkout with K; a canceled checkout
    const key = `shared-${randomUUID()}`;
    const created = await api.call('POST', '/v1/checkouts', {
      token: stack.secretKey,
      idempotencyKey: key,
      body: {
        merchant_order_ref: `pay-key-${randomUUID()}`,
        amount: 1250,
        currency: 'USD',
        items: [{ sku: 'mug', name: 'Mug', quantity: 1, unit_amount: 1250 }],
        success_url: 'https://shop.example/thanks',
        failure_url: 'https://shop.example/sorry',
      },
    });
    const other = await newCheckout();
    const canceled = await newCheckout();
    expect((await api.call('POST', `/v1/checkouts/${canceled.id}/cancel`, { token: stack.secretKey })).status).toBe(200);
    const refusedKey = `refused-${randomUUID()}`;
    // Act
    const reused = await api.call('POST', `/v1/checkouts/${other.id}/pay`, {
      token: stack.secretKey,
      idempotencyKey: key,
      body: { payment_token: await tokenizeTestCard(stack.pspUrl, CARD_OK) },
    });
    const refused = await payWithKey(canceled, refusedKey, 'tok_1');
    const refusedAgain = await payWithKey(canceled, refusedKey, 'tok_2');
    // Assess
    expect(created.status).toBe(201);
    expect(reused.status).toBe(422);
    expect(reused.body).toMatchObject({ error: { code: 'idempotency_key_reused', param: 'Idempotency-Key' } });
    expect((await timeline(other.id)).status).toBe('open');
    expect(refused.status).toBe(409);
    expect(refusedAgain).toEqual({ status: 409, replayed: 'true', text: refused.text });
  });
});
