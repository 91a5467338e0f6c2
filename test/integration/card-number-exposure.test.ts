/**
 * Card numbers never leave the vault's ciphertext. With DEBUG logging on and every write to
 * stdout/stderr captured, this drives the API with one known card number (typed with spaces and
 * without) through every card and customer route, bad requests included, reveals it through the
 * port and logs the revealed card on purpose; then it greps every API answer, every captured log
 * line and every item of both DynamoDB tables (main table: checkouts, events, idempotency
 * records; vault table: everything, ciphertext included) for the number, with and without spaces.
 */
import { format } from 'node:util';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cardBody, startVaultTestEnv, type VaultTestEnv } from './card-vault-kit';
import type { ApiCall, ApiResponse } from './api-test-kit';

/** A valid Visa test number that no other test uses, so a hit can only come from this run. */
const PAN = '4000056655665556';
const PAN_TYPED = '4000 0566 5566 5556';

let t: VaultTestEnv;
const answers: string[] = [];
const logs: string[] = [];
const restore: (() => void)[] = [];

function capture(stream: NodeJS.WriteStream): void {
  const original = stream.write.bind(stream);
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    logs.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return (original as (...args: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof stream.write;
  restore.push(() => {
    stream.write = original as typeof stream.write;
  });
}

async function call(method: string, path: string, options: ApiCall): Promise<ApiResponse> {
  const response = await t.call(method, path, options);
  answers.push(`${response.status} ${JSON.stringify(response.headers)} ${response.rawBody}`);
  return response;
}

async function scanAll(tableName: string): Promise<string[]> {
  const items: string[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await t.env.db.client.send(
      new ScanCommand({
        TableName: tableName,
        ConsistentRead: true,
        ...(startKey ? { ExclusiveStartKey: startKey as never } : {}),
      }),
    );
    items.push(...(page.Items ?? []).map((item) => JSON.stringify(item)));
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  return items;
}

function leaks(texts: readonly string[]): string[] {
  return texts.filter((text) => text.includes(PAN) || text.includes(PAN_TYPED));
}

/** The console too (vitest reroutes it around process.stdout), formatted as Node would print it. */
function captureConsole(): void {
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const original = console[method];
    console[method] = (...args: unknown[]) => {
      logs.push(format(...args));
      original(...args);
    };
    restore.push(() => {
      console[method] = original;
    });
  }
}

beforeAll(async () => {
  t = await startVaultTestEnv({ POWERTOOLS_LOG_LEVEL: 'DEBUG' });
  capture(process.stdout);
  capture(process.stderr);
  captureConsole();
});

afterAll(async () => {
  for (const undo of restore) undo();
  await t?.env.stop();
});

describe('card numbers in answers, logs and storage', () => {
  it('appear nowhere but as vault ciphertext after every card and customer route ran with them', async () => {
    // Prepare
    const shop = await t.env.createMerchant('Exposure shop');
    const merchant = { token: shop.secretKey };
    const checkout = await t.createCheckout(shop.secretKey);
    const customer = (
      await call('POST', '/v1/customers', { ...merchant, body: { email: 'pan@example.com', metadata: { note: 'no card here' } } })
    ).json.id as string;

    // Act: vault the card both ways (typed with spaces by the browser, plain by the merchant), with and without Idempotency-Key
    const byBrowser = await call('POST', '/v1/payment_methods', {
      token: checkout.clientSecret,
      body: { ...cardBody(PAN_TYPED), checkout: checkout.id },
    });
    const headers = { 'idempotency-key': 'exposure-1' };
    const byMerchant = await call('POST', '/v1/payment_methods', { ...merchant, headers, body: cardBody(PAN) });
    await call('POST', '/v1/payment_methods', { ...merchant, headers, body: cardBody(PAN) });
    // ... bad requests that carry the number
    await call('POST', '/v1/payment_methods', { ...merchant, body: cardBody(PAN, { exp_year: 2001 }) });
    await call('POST', '/v1/payment_methods', { ...merchant, body: cardBody(PAN, { cvc: '12' }) });
    await call('POST', '/v1/payment_methods', { ...merchant, body: { ...cardBody(PAN), note: PAN } });
    await call('POST', '/v1/payment_methods', {
      ...merchant,
      body: { type: 'card', card: { number: Number(PAN), exp_month: 1, exp_year: 2040 } },
    });
    await call('POST', '/v1/payment_methods', { ...merchant, rawBody: `{"type":"card","card":{"number":"${PAN}"` });
    await call('POST', '/v1/payment_methods', { token: 'sk_test_wrong', body: cardBody(PAN) });
    await call('POST', '/v1/payment_methods', {
      token: checkout.clientSecret,
      body: { ...cardBody(PAN), checkout: 'chk_missing' },
    });
    // ... every read and lifecycle route
    const id = byMerchant.json.id as string;
    await call('GET', `/v1/payment_methods/${id}`, merchant);
    await call('GET', `/v1/payment_methods/${byBrowser.json.id as string}`, merchant);
    const wiring = await import('../../lambdas/shared/card-vault-wiring');
    await wiring.savedPaymentMethods.attachToCustomer(shop.id, id, customer, new Date());
    await call('GET', `/v1/customers/${customer}/payment_methods`, merchant);
    await call('GET', `/v1/customers/${customer}`, merchant);
    // ... the port: reveal, then log the revealed card on purpose (redacted), destroy the CVC
    const { card } = await wiring.cardVault.revealForAuthorization({
      merchantId: shop.id,
      paymentMethodId: byBrowser.json.id as string,
      purpose: 'att_exposure',
      now: new Date(),
    });
    const { observability } = await import('../../lambdas/shared/observability');
    observability.logger.error('revealed card (must be redacted)', { card, nested: { card } });
    console.error('revealed card', card, `${card}`, JSON.stringify({ card }));
    await wiring.cardVault.destroyCvc(shop.id, byBrowser.json.id as string, new Date());
    await call('POST', `/v1/payment_methods/${id}/detach`, merchant);
    await call('DELETE', `/v1/customers/${customer}`, merchant);
    const vaultItems = await scanAll(t.env.db.cardVaultTableName);
    const mainItems = await scanAll(t.env.db.tableName);

    // Assess: the run did what it claims (cards vaulted, the reveal worked, logs were captured) ...
    expect(byBrowser.status).toBe(201);
    expect(byMerchant.status).toBe(201);
    expect(card.revealNumber()).toBe(PAN);
    expect(logs.join('')).toContain('revealed card (must be redacted)');
    expect(logs.join('')).toContain('revealed card [card redacted]');
    expect(vaultItems.some((item) => item.includes('numberCiphertext'))).toBe(true);
    expect(mainItems.some((item) => item.includes('IDEMP#'))).toBe(true);
    expect(answers.length).toBeGreaterThanOrEqual(15);
    // ... and the number is nowhere.
    expect(leaks(answers)).toEqual([]);
    expect(leaks(logs)).toEqual([]);
    expect(leaks(mainItems)).toEqual([]);
    expect(leaks(vaultItems)).toEqual([]);
  });
});
