/**
 * Saved cards and renewals in a real browser (Chromium through playwright-core) against the running
 * local stack (`npm start` as a child process): a new customer buys in the demo shop with an email,
 * ticks "Save my card for next time" on Paystep's hosted page, and pays (the card goes to Paystep's
 * vault, the pay call names the `pm_`); then the merchant presses "Charge renewal" on its orders
 * page, which pays a new checkout off-session with the saved card and the secret key, and the orders
 * page shows the first order and the renewal, both sold. Both payments are checked against the
 * PSP's own ledger. Screenshots go to test-output/screenshots/, with the card fields masked.
 *
 * It runs once the API offers what it drives (read from the same OpenAPI document the API serves):
 * `customer` and `save_payment_method` on checkouts, `off_session` and `save_payment_method` on pay.
 * Until then the suite is skipped, and vitest reports it as skipped.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { fetchLedger, type LedgerOperation } from '../../local/sandbox-psp/client';
import { eventually } from '../../local/paystep-client';
import { buildOpenApiDocument } from '../../lambdas/shared/openapi';
import { moneyInvariantViolations } from '../support/money-invariants';
import { launchChromium, saveScreenshot, watchPageErrors } from './browser-support';
import { startStackProcess, type StackProcess } from './harness';

const CARD = '4242424242424242';

/** Whether the API saves cards on customers with the buyer's consent and pays off-session. */
function offersSavedCardsAndRenewals(): boolean {
  const paths = (buildOpenApiDocument() as { paths: Record<string, { post?: unknown }> }).paths;
  const pay = JSON.stringify(paths['/v1/checkouts/{id}/pay']?.post ?? {});
  const create = JSON.stringify(paths['/v1/checkouts']?.post ?? {});
  return pay.includes('"off_session"') && pay.includes('"save_payment_method"') && create.includes('"save_payment_method"');
}
const READY = offersSavedCardsAndRenewals();

let stack: StackProcess;
let browser: Browser;
const contexts: BrowserContext[] = [];
const afterChecks: (() => string[])[] = [];

interface MerchantCheckout {
  id: string;
  status: string;
  amount: number;
  failure_reason: string | null;
  failure_message: string | null;
  events: { type: string; at: string; data?: Record<string, unknown> }[];
}

async function asMerchant<T>(path: string): Promise<T> {
  const response = await fetch(`${stack.apiUrl}${path}`, { headers: { authorization: `Bearer ${stack.secretKey}` } });
  expect(response.status, path).toBe(200);
  return (await response.json()) as T;
}

async function ledgerOf(checkoutId: string): Promise<LedgerOperation[]> {
  const checkout = await asMerchant<MerchantCheckout>(`/v1/checkouts/${checkoutId}`);
  const ledger = await fetchLedger(stack.pspUrl, checkoutId);
  expect(moneyInvariantViolations({ ...checkout, confirmationRequired: true }, ledger)).toEqual([]);
  return ledger.filter((op) => op.status === 'succeeded');
}

async function newPage(): Promise<{ page: Page; requests: Request[] }> {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1100, height: 900 } });
  contexts.push(context);
  const page = await context.newPage();
  const problems = watchPageErrors(page);
  afterChecks.push(() => problems);
  const requests: Request[] = [];
  page.on('request', (request) => requests.push(request));
  return { page, requests };
}

beforeAll(async () => {
  if (!READY) return;
  browser = await launchChromium();
  stack = await startStackProcess();
});

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await stack?.stop();
});

describe.runIf(READY)('saved card and off-session renewal in Chromium', () => {
  it('a new customer saves the card at checkout; the merchant charges a renewal off-session; the orders page shows both', async () => {
    // Prepare: a new buyer in the shop with an email
    const email = `ada-${randomBytes(4).toString('hex')}@example.com`;
    const { page, requests } = await newPage();
    await page.goto(`${stack.merchantUrl}/`);
    await page.getByLabel('Your email (optional)').fill(email);

    // Act 1: Buy, tick "Save my card", pay on the hosted page
    await page.locator('[data-buy="mug"]').click();
    await page.waitForURL(/\/checkout\/chk_[A-Za-z0-9_-]+#cs_/);
    const firstId = /\/checkout\/(chk_[A-Za-z0-9_-]+)/.exec(page.url())![1]!;
    const saveCard = page.getByLabel('Save my card for next time');
    await saveCard.waitFor();
    const tickedAtFirst = await saveCard.isChecked();
    await saveCard.check();
    await page.getByLabel('Card number').fill(CARD);
    await page.getByLabel('Expiry date (MM/YY)').fill('12/34');
    await page.getByLabel('Security code (CVC)').fill('123');
    await saveScreenshot(page, 'renewal-1-hosted-checkout-save-card');
    await page.getByRole('button', { name: 'Pay Now' }).click();
    await page.getByRole('heading', { name: 'Payment successful' }).waitFor({ timeout: 30_000 });
    await page.waitForURL(/\/thanks\?/, { timeout: 15_000 });
    await page.locator('#order-state[data-state="sold"]').waitFor({ timeout: 15_000 });

    // Assess 1: the card went to the vault only; the pay call named the pm_ and the buyer's consent
    const vaultCalls = requests.filter((r) => r.method() === 'POST' && r.url() === `${stack.apiUrl}/v1/payment_methods`);
    expect(vaultCalls).toHaveLength(1);
    for (const request of requests.filter((r) => r !== vaultCalls[0])) expect(request.postData() ?? '').not.toContain(CARD);
    const payCall = requests.find((r) => r.method() === 'POST' && r.url().endsWith(`/v1/checkouts/${firstId}/pay`));
    const paymentMethod = (JSON.parse(payCall!.postData()!) as { payment_method: string }).payment_method;
    expect(JSON.parse(payCall!.postData()!)).toEqual({
      payment_method: expect.stringMatching(/^pm_/),
      save_payment_method: true,
    });
    expect(tickedAtFirst).toBe(false);
    const order = (
      (await (await fetch(`${stack.merchantUrl}/orders?order_ref=${firstId}`)).json()) as {
        orders: { merchant_order_ref: string; customer_id: string }[];
      }
    ).orders[0]!;
    const saved = await eventually(
      async () =>
        (
          await asMerchant<{ data: { id: string; card: { last4: string } }[] }>(
            `/v1/customers/${order.customer_id}/payment_methods`,
          )
        ).data,
      (cards) => cards.length > 0,
      10_000,
    );
    expect(saved).toEqual([expect.objectContaining({ id: paymentMethod, card: expect.objectContaining({ last4: '4242' }) })]);

    // Act 2: the merchant charges a renewal from its orders page
    const { page: merchantPage } = await newPage();
    await merchantPage.goto(`${stack.merchantUrl}/orders`);
    await merchantPage.getByRole('button', { name: `Charge renewal of ${order.merchant_order_ref}` }).click();
    await merchantPage.waitForURL(`${stack.merchantUrl}/orders`);
    const renewalRow = merchantPage.locator('tr[data-kind="renewal"]', { hasText: `Renewal of ${order.merchant_order_ref}` });
    await renewalRow.locator('[data-state="sold"]').waitFor({ timeout: 30_000 });
    await saveScreenshot(merchantPage, 'renewal-2-merchant-orders');

    // Assess 2: a second checkout of the customer, paid off-session, captured once after the
    // merchant confirmed stock; the orders page lists the first order and the renewal, both sold
    const renewalId = (await renewalRow.locator('td.mono').nth(1).textContent())!;
    expect(renewalId).toMatch(/^chk_/);
    expect(renewalId).not.toBe(firstId);
    const renewal = await asMerchant<MerchantCheckout>(`/v1/checkouts/${renewalId}`);
    expect(renewal).toMatchObject({ status: 'succeeded', amount: 1250 });
    expect(renewal.events.map((event) => event.type)).toEqual(expect.arrayContaining(['inventory_confirmed', 'captured']));
    const firstLedger = await ledgerOf(firstId);
    const renewalLedger = await ledgerOf(renewalId);
    expect(firstLedger.filter((op) => op.type === 'capture')).toHaveLength(1);
    expect(renewalLedger.filter((op) => op.type === 'capture')).toEqual([
      expect.objectContaining({ amount: 1250, currency: 'USD', reference: renewalId }),
    ]);
    const firstRow = merchantPage.locator(`tr[data-order="${order.merchant_order_ref}"]`);
    expect(await firstRow.getAttribute('data-kind')).toBe('order');
    expect(await firstRow.locator('[data-state]').getAttribute('data-state')).toBe('sold');
    expect(await firstRow.textContent()).toContain(email);
    expect(await renewalRow.textContent()).toContain(email);
    expect(await merchantPage.locator('body').innerText()).not.toContain('4242 4242');
  });

  it('reported no console errors or CSP violations on any page', () => {
    // Assess
    expect(afterChecks.flatMap((read) => read())).toEqual([]);
  });
});
