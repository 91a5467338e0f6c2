/**
 * The buyer's and the operator's pages in a real browser (Debian's headless Chromium driven by
 * playwright-core) against the running local stack (`npm start` as a child process): the demo
 * shop, Paystep's hosted checkout (the card goes to Paystep's vault, then pays as a `pm_`), the pending
 * page, the merchant's return pages and order list, and the operator dashboard. Each payment is
 * checked against the PSP's own ledger. Screenshots go to test-output/screenshots/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { fetchLedger, type LedgerOperation } from '../../local/sandbox-psp/client';
import { eventually } from '../../local/paystep-client';
import { moneyInvariantViolations } from '../support/money-invariants';
import { launchChromium, saveScreenshot, watchPageErrors } from './browser-support';
import { startStackProcess, type StackProcess } from './harness';

const CARD_OK = '4242 4242 4242 4242';
const CARD_DECLINED = '4000000000000002';

/** The demo catalogue with a merchant that takes 1.5 s to confirm the mug, so the pending page is visible. */
const CATALOGUE = [
  { sku: 'tshirt', name: 'Paystep T-shirt', unit_amount: 2500, currency: 'USD', stock: 10 },
  { sku: 'mug', name: 'Paystep mug', unit_amount: 1250, currency: 'USD', stock: 25, behavior: { delayMs: 1_500 } },
  { sku: 'sticker-pack', name: 'Sticker pack', unit_amount: 499, currency: 'USD', stock: 100 },
  { sku: 'limited-print', name: 'Limited print (1 left)', unit_amount: 15000, currency: 'USD', stock: 1 },
  { sku: 'tea-set', name: 'Jeju green tea set', unit_amount: 32000, currency: 'KRW', stock: 20 },
];

let stack: StackProcess;
let browser: Browser;
const contexts: BrowserContext[] = [];
const timings: Record<string, number> = {};
/** Readers of each page's console errors and CSP violations, checked by the last test. */
const afterChecks: (() => string[])[] = [];

interface MerchantCheckout {
  id: string;
  status: string;
  amount: number;
  failure_reason: string | null;
  failure_message: string | null;
  events: { type: string; at: string; data?: Record<string, unknown> }[];
}

async function checkoutAsMerchant(checkoutId: string): Promise<MerchantCheckout> {
  const response = await fetch(`${stack.apiUrl}/v1/checkouts/${checkoutId}`, {
    headers: { authorization: `Bearer ${stack.secretKey}` },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as MerchantCheckout;
}

async function expectMoneyInvariants(checkoutId: string): Promise<LedgerOperation[]> {
  const checkout = await checkoutAsMerchant(checkoutId);
  const ledger = await fetchLedger(stack.pspUrl, checkoutId);
  expect(moneyInvariantViolations({ ...checkout, confirmationRequired: true }, ledger)).toEqual([]);
  return ledger;
}

function ops(
  ledger: LedgerOperation[],
  type: LedgerOperation['type'],
  status: LedgerOperation['status'] = 'succeeded',
): LedgerOperation[] {
  return ledger.filter((op) => op.type === type && op.status === status);
}

/** A fresh browser context (own cookies and storage, like another buyer) with error capture. */
async function newBuyerPage(): Promise<{ page: Page; requests: Request[] }> {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1100, height: 900 } });
  contexts.push(context);
  const page = await context.newPage();
  const problems = watchPageErrors(page);
  const requests: Request[] = [];
  page.on('request', (request) => requests.push(request));
  afterChecks.push(() => problems);
  return { page, requests };
}

/** Shop -> Buy: ends on the hosted checkout with the order summary rendered. Returns the checkout id. */
async function buyFromShop(page: Page, sku: string): Promise<string> {
  await page.goto(`${stack.merchantUrl}/`);
  await page.locator(`[data-buy="${sku}"]`).click();
  await page.waitForURL(/\/checkout\/chk_[A-Za-z0-9_-]+#cs_/);
  await page.getByRole('button', { name: 'Pay Now' }).waitFor();
  const match = /\/checkout\/(chk_[A-Za-z0-9_-]+)/.exec(page.url());
  return match![1]!;
}

async function fillCard(page: Page, number: string): Promise<void> {
  await page.getByLabel('Card number').fill(number);
  await page.getByLabel('Expiry date (MM/YY)').fill('12/34');
  await page.getByLabel('Security code (CVC)').fill('123');
}

beforeAll(async () => {
  // The browser first: a missing Chromium must fail fast with its own message.
  browser = await launchChromium();
  const started = Date.now();
  stack = await startStackProcess();
  timings.stackStartMs = Date.now() - started;
  const response = await fetch(`${stack.merchantUrl}/admin/products`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(CATALOGUE),
  });
  expect(response.status).toBe(200);
});

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await stack?.stop();
  console.log(`browser e2e timings: ${JSON.stringify(timings)}`);
});

describe('hosted checkout in Chromium', () => {
  it('buys with 4242 4242 4242 4242: shop, checkout, pending page, success; one capture at the PSP; the order is sold', async () => {
    // Prepare
    const { page, requests } = await newBuyerPage();
    await page.goto(`${stack.merchantUrl}/`);
    await page.getByText('25 in stock').waitFor();
    await saveScreenshot(page, '1-shop');

    // Act: Buy, then pay on the hosted page
    const checkoutId = await buyFromShop(page, 'mug');
    const total = await page.getByTestId('total').textContent();
    await fillCard(page, CARD_OK);
    await saveScreenshot(page, '2-hosted-checkout');
    const payButton = page.getByRole('button', { name: 'Pay Now' });
    const paidAt = Date.now();
    await payButton.click();
    const disabledAfterClick = await page.locator('#pay-button').isDisabled();
    await page
      .locator('#pay-button')
      .click({ force: true, timeout: 1_000 })
      .catch(() => undefined);
    await page.getByRole('heading', { name: 'Confirming your order…' }).waitFor();
    await saveScreenshot(page, '3-pending');
    await page.getByRole('heading', { name: 'Payment successful' }).waitFor({ timeout: 30_000 });
    timings.payToResultMs = Date.now() - paidAt;
    await saveScreenshot(page, '4-result-success');
    await page.waitForURL(/\/thanks\?/, { timeout: 15_000 });
    await page.getByRole('heading', { name: 'Thank you!' }).waitFor();
    timings.payToMerchantPageMs = Date.now() - paidAt;
    await page.locator('#order-state[data-state="sold"]').waitFor({ timeout: 15_000 });
    await saveScreenshot(page, '5-merchant-thanks');

    // Assess: the page, the pay call, the PSP ledger, the merchant's order
    expect(total).toBe('$12.50');
    expect(disabledAfterClick).toBe(true);
    const payCalls = requests.filter((r) => r.method() === 'POST' && r.url().endsWith(`/v1/checkouts/${checkoutId}/pay`));
    expect(payCalls).toHaveLength(1);
    const vaultCalls = requests.filter((r) => r.method() === 'POST' && r.url() === `${stack.apiUrl}/v1/payment_methods`);
    expect(vaultCalls).toHaveLength(1);
    expect(JSON.parse(vaultCalls[0]!.postData()!)).toMatchObject({ card: { number: '4242424242424242' }, checkout: checkoutId });
    for (const request of requests.filter((r) => r !== vaultCalls[0]))
      expect(request.postData() ?? '').not.toContain('4242424242424242');
    expect(JSON.parse(payCalls[0]!.postData()!)).toEqual({ payment_method: expect.stringMatching(/^pm_/) });
    expect(requests.filter((r) => r.url().startsWith(stack.pspUrl))).toEqual([]);
    const ledger = await expectMoneyInvariants(checkoutId);
    expect(ops(ledger, 'capture')).toHaveLength(1);
    expect(ops(ledger, 'capture')[0]).toMatchObject({ amount: 1250, currency: 'USD', reference: checkoutId });
    expect(ops(ledger, 'void')).toHaveLength(0);
    await page.goto(`${stack.merchantUrl}/orders`);
    await page.locator(`tr:has-text("${checkoutId}") [data-state="sold"]`).waitFor();
    await saveScreenshot(page, '6-merchant-orders');
  });

  it('sells the last unit once when two buyers pay at the same moment; the other sees the out-of-stock reason', async () => {
    // Prepare: two buyers on the hosted checkout of the last limited print
    const buyers = await Promise.all([newBuyerPage(), newBuyerPage()]);
    const ids = await Promise.all(buyers.map(({ page }) => buyFromShop(page, 'limited-print')));
    await Promise.all(buyers.map(({ page }) => fillCard(page, CARD_OK)));

    // Act: both press Pay Now together
    await Promise.all(buyers.map(({ page }) => page.getByRole('button', { name: 'Pay Now' }).click()));
    const outcomes = await Promise.all(
      buyers.map(async ({ page }) => {
        const heading = page.getByRole('heading', { name: /^Payment (successful|failed)$/ });
        await heading.waitFor({ timeout: 30_000 });
        return (await heading.textContent()) as string;
      }),
    );

    // Assess: one success, one failure with the merchant's reason, on Paystep's page and the merchant's
    expect([...outcomes].sort()).toEqual(['Payment failed', 'Payment successful']);
    const loser = outcomes.indexOf('Payment failed');
    const winner = 1 - loser;
    const loserPage = buyers[loser]!.page;
    expect(await loserPage.getByTestId('failure-reason').textContent()).toBe('Insufficient inventory for limited-print');
    await saveScreenshot(loserPage, '7-result-out-of-stock');
    await loserPage.getByRole('link', { name: /^Return to / }).click();
    await loserPage.waitForURL(/\/sorry\?/, { timeout: 15_000 });
    const merchantReason = await loserPage.getByTestId('failure-reason').textContent();
    expect(merchantReason).toContain('Insufficient inventory for limited-print');
    await saveScreenshot(loserPage, '8-merchant-sorry-out-of-stock');
    await buyers[winner]!.page.waitForURL(/\/thanks\?/, { timeout: 15_000 });

    const winnerLedger = await expectMoneyInvariants(ids[winner]!);
    const loserLedger = await expectMoneyInvariants(ids[loser]!);
    expect(ops(winnerLedger, 'capture')).toHaveLength(1);
    expect(ops(loserLedger, 'capture')).toHaveLength(0);
    expect(ops(loserLedger, 'void')).toHaveLength(1);
    const loserCheckout = await checkoutAsMerchant(ids[loser]!);
    expect(loserCheckout).toMatchObject({ status: 'failed', failure_reason: 'inventory_rejected' });
    const products = await eventually(
      async () =>
        (
          (await (await fetch(`${stack.merchantUrl}/products`)).json()) as {
            products: { sku: string; stock: number; blocked: number; sold: number }[];
          }
        ).products,
      (list) => list.find((p) => p.sku === 'limited-print')?.sold === 1,
    );
    expect(products.find((p) => p.sku === 'limited-print')).toMatchObject({ stock: 0, blocked: 0, sold: 1 });
  });

  it('shows a declined card (entered with the keyboard only), asks for another card until the tries are used up, and never captures', async () => {
    // Prepare: the shop's checkouts allow 3 cards (max_payment_attempts 3)
    const { page } = await newBuyerPage();
    const checkoutId = await buyFromShop(page, 'tshirt');

    // Act: keyboard only, from the focused heading: Tab to each field, Enter submits
    await page.keyboard.press('Tab');
    await page.keyboard.type(CARD_DECLINED);
    await page.keyboard.press('Tab');
    await page.keyboard.type('1234');
    await page.keyboard.press('Tab');
    await page.keyboard.type('123');
    await page.keyboard.press('Enter');
    // The first decline reopens the checkout: the page shows the error and asks for another card,
    // with the focus back in the (emptied) card number field for the keyboard user.
    const retryError = page.getByTestId('payment-error');
    await retryError.waitFor({ timeout: 30_000 });
    const retryText = (await retryError.textContent()) ?? '';
    const focused = await page.evaluate<string | undefined>('document.activeElement ? document.activeElement.id : undefined');
    const emptied = await page.getByLabel('Card number').inputValue();
    await saveScreenshot(page, '9-retry-after-decline');
    for (let tryNumber = 2; tryNumber <= 3; tryNumber += 1) {
      await page.keyboard.type(CARD_DECLINED);
      await page.keyboard.press('Tab');
      await page.keyboard.type('1234');
      await page.keyboard.press('Tab');
      await page.keyboard.type('123');
      await page.keyboard.press('Enter');
      if (tryNumber < 3) await page.getByLabel('Card number').and(page.locator(':focus')).waitFor({ timeout: 30_000 });
    }
    await page.getByRole('heading', { name: 'Payment failed' }).waitFor({ timeout: 30_000 });

    // Assess
    expect(retryText).toMatch(/declin/i);
    expect(retryText).toMatch(/another card/i);
    expect(focused).toBe('card-number');
    expect(emptied).toBe('');
    const reason = (await page.getByTestId('failure-reason').textContent()) ?? '';
    expect(reason).toMatch(/declin/i);
    expect(await page.locator('#status').textContent()).toMatch(/Payment failed/);
    await saveScreenshot(page, '9-result-declined');
    await page.getByRole('link', { name: /^Return to / }).click();
    await page.waitForURL(/\/sorry\?/, { timeout: 15_000 });
    expect(await page.getByTestId('failure-reason').textContent()).toMatch(/declin/i);
    const checkout = await checkoutAsMerchant(checkoutId);
    expect(checkout).toMatchObject({ status: 'failed', failure_reason: 'payment_declined' });
    const ledger = await expectMoneyInvariants(checkoutId);
    expect(ops(ledger, 'authorize', 'failed')).toHaveLength(3);
    expect(ops(ledger, 'capture')).toHaveLength(0);
  });

  it('pays with another card after a decline on the same checkout', async () => {
    // Prepare
    const { page } = await newBuyerPage();
    const checkoutId = await buyFromShop(page, 'tshirt');

    // Act: a declined card, then a good one on the page that asks for another card
    await fillCard(page, CARD_DECLINED);
    await page.getByRole('button', { name: 'Pay Now' }).click();
    await page.getByTestId('payment-error').waitFor({ timeout: 30_000 });
    await fillCard(page, CARD_OK);
    await page.getByRole('button', { name: 'Pay Now' }).click();
    await page.getByRole('heading', { name: 'Payment successful' }).waitFor({ timeout: 30_000 });

    // Assess
    const checkout = await checkoutAsMerchant(checkoutId);
    expect(checkout).toMatchObject({ status: 'succeeded' });
    const ledger = await expectMoneyInvariants(checkoutId);
    expect(ops(ledger, 'authorize', 'failed')).toHaveLength(1);
    expect(ops(ledger, 'capture')).toHaveLength(1);
  });

  it('serves the checkout page with a strict CSP that allows only the API (no PSP), and a clear page without the client secret', async () => {
    // Prepare
    const { page } = await newBuyerPage();
    const response = await fetch(`${stack.apiUrl}/checkout/chk_doesnotmatter`);
    const csp = response.headers.get('content-security-policy') ?? '';

    // Act
    await page.goto(`${stack.apiUrl}/checkout/chk_doesnotmatter`);
    await page.getByRole('heading', { name: 'This payment link is incomplete' }).waitFor();

    // Assess
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self';");
    expect(csp).not.toContain(stack.pspUrl);
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'(;|$)/);
    expect(csp).toContain("form-action 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect((await fetch(`${stack.apiUrl}/checkout/not-an-id`)).status).toBe(404);
  });

  it('shows the operator dashboard: checkouts with status and a step timeline with latencies', async () => {
    // Prepare: the first test's successful mug checkout
    const { page } = await newBuyerPage();
    const list = (await (
      await fetch(`${stack.apiUrl}/v1/checkouts?limit=50`, { headers: { authorization: `Bearer ${stack.secretKey}` } })
    ).json()) as {
      data: { id: string; status: string; amount: number }[];
    };
    const succeeded = list.data.find((c) => c.status === 'succeeded' && c.amount === 1250)!;

    await page.setViewportSize({ width: 1440, height: 900 });

    // Act
    await page.goto(`${stack.apiUrl}/dashboard`);
    await page.getByLabel('Merchant secret key').fill(stack.secretKey);
    await page.getByRole('button', { name: 'Show checkouts' }).click();
    await page.getByRole('button', { name: `Show timeline of ${succeeded.id}` }).click();
    await page.getByRole('heading', { name: `Timeline of ${succeeded.id}` }).waitFor();
    await page.locator('[data-event="webhook_delivered"]').first().waitFor({ timeout: 15_000 });
    await saveScreenshot(page, '10-dashboard');

    // Assess
    const rows = await page.locator('#rows tr').count();
    expect(rows).toBe(list.data.length);
    const steps = await page.locator('#timeline li').evaluateAll((items) => items.map((li) => li.getAttribute('data-event')));
    expect(steps).toEqual(
      expect.arrayContaining(['created', 'authorized', 'inventory_confirmed', 'captured', 'succeeded', 'webhook_delivered']),
    );
    expect(steps.indexOf('authorized')).toBeLessThan(steps.indexOf('inventory_confirmed'));
    expect(steps.indexOf('inventory_confirmed')).toBeLessThan(steps.indexOf('captured'));
    const confirmed = await page.locator('[data-event="inventory_confirmed"] .latency').textContent();
    expect(confirmed).toMatch(/^answered in \d+ ms$/);
    expect(Number(/\d+/.exec(confirmed!)![0])).toBeGreaterThanOrEqual(1_500);
  });

  it('reported no console errors or CSP violations on any page', () => {
    // Assess
    const problems = afterChecks.flatMap((read) => read());
    expect(problems).toEqual([]);
  });
});
