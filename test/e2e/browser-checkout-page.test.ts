/**
 * The hosted checkout page's buyer-facing edges in Chromium against the running local stack:
 * a success that moves on to the merchant only until the buyer presses "Stay on this page"
 * (WCAG 2.2.1), a canceled checkout titled as canceled that never redirects by itself, buyer words
 * for a wrong link, and the expiry date checked (MM/YY, not in the past) in the page before the
 * card leaves it for the card vault. Screenshots go to test-output/screenshots/.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { PaystepClient } from '../../local/paystep-client';
import { launchChromium, saveScreenshot, watchPageErrors } from './browser-support';
import { startStackProcess, type StackProcess } from './harness';

let stack: StackProcess;
let browser: Browser;
let api: PaystepClient;
const contexts: BrowserContext[] = [];
const afterChecks: (() => string[])[] = [];

interface CreatedCheckout {
  id: string;
  client_secret: string;
  checkout_url: string;
}

async function newBuyerPage(): Promise<{ page: Page; requests: Request[] }> {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 390, height: 844 } });
  contexts.push(context);
  const page = await context.newPage();
  const problems = watchPageErrors(page);
  afterChecks.push(() => problems);
  const requests: Request[] = [];
  page.on('request', (request) => requests.push(request));
  return { page, requests };
}

/** A checkout created by the merchant over the API (one t-shirt, the demo merchant's URLs). */
async function createCheckout(): Promise<CreatedCheckout> {
  const created = await api.call<CreatedCheckout>('POST', '/v1/checkouts', {
    token: stack.secretKey,
    idempotencyKey: `page-${randomBytes(8).toString('hex')}`,
    body: {
      merchant_order_ref: `page_${randomBytes(6).toString('hex')}`,
      amount: 2500,
      currency: 'USD',
      items: [{ sku: 'tshirt', name: 'Paystep T-shirt', quantity: 1 }],
      success_url: `${stack.merchantUrl}/thanks`,
      failure_url: `${stack.merchantUrl}/sorry`,
    },
  });
  expect(created.status, created.text).toBe(201);
  return created.body;
}

async function fillCard(page: Page, expiry: string): Promise<void> {
  await page.getByLabel('Card number').fill('4242 4242 4242 4242');
  await page.getByLabel('Expiry date (MM/YY)').fill(expiry);
  await page.getByLabel('Security code (CVC)').fill('123');
}

/** Every request that could carry the card out of the page: to the vault, or to any PSP. */
function cardLeavingCalls(requests: Request[]): Request[] {
  return requests.filter(
    (r) => r.method() === 'POST' && (r.url() === `${stack.apiUrl}/v1/payment_methods` || r.url().startsWith(stack.pspUrl)),
  );
}

beforeAll(async () => {
  browser = await launchChromium();
  stack = await startStackProcess();
  api = new PaystepClient(stack.apiUrl);
});

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await stack?.stop();
});

describe('hosted checkout result page and card checks in Chromium', () => {
  it('after a success, "Stay on this page" stops the return to the merchant; the buyer leaves by the link', async () => {
    // Prepare
    const { page } = await newBuyerPage();
    const checkout = await createCheckout();
    await page.goto(checkout.checkout_url);
    await fillCard(page, '12/34');

    // Act
    await page.getByRole('button', { name: 'Pay Now' }).click();
    await page.getByRole('heading', { name: 'Payment successful' }).waitFor({ timeout: 30_000 });
    const countdown = await page.locator('#redirect-note').textContent();
    await page.getByRole('button', { name: 'Stay on this page' }).click();
    await page.waitForTimeout(6_500);
    const urlAfterWaiting = page.url();
    const note = await page.locator('#redirect-note').textContent();
    await saveScreenshot(page, 'checkout-result-stayed');
    await page.getByRole('link', { name: /^Return to / }).click();
    await page.waitForURL(/\/thanks\?/, { timeout: 15_000 });

    // Assess
    expect(countdown).toMatch(/^Returning you to .+ in 5 seconds\.$/);
    expect(urlAfterWaiting).toBe(checkout.checkout_url);
    expect(note).toMatch(/You are staying on this page/);
    expect(await page.getByRole('button', { name: 'Stay on this page' }).count()).toBe(0);
  });

  it('titles a canceled checkout "Checkout canceled", not a failed payment, and never leaves the page by itself', async () => {
    // Prepare
    const { page } = await newBuyerPage();
    const checkout = await createCheckout();
    const canceled = await api.call('POST', `/v1/checkouts/${checkout.id}/cancel`, {
      token: stack.secretKey,
      idempotencyKey: `cancel-${checkout.id}`,
    });
    expect(canceled.status, canceled.text).toBe(200);

    // Act
    await page.goto(checkout.checkout_url);
    await page.getByRole('heading', { name: 'Checkout canceled' }).waitFor({ timeout: 15_000 });
    await page.waitForTimeout(6_500);
    await saveScreenshot(page, 'checkout-result-canceled');

    // Assess
    expect(page.url()).toBe(checkout.checkout_url);
    expect(await page.title()).toBe('Checkout canceled - Paystep');
    expect(await page.getByText('Payment failed').count()).toBe(0);
    expect(await page.getByText('you have not been charged', { exact: false }).count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Stay on this page' }).isVisible()).toBe(false);
    expect(await page.getByRole('link', { name: /^Return to / }).getAttribute('href')).toMatch(/\/sorry\?/);
  });

  it('says in buyer words that a wrong link (unknown checkout or wrong secret) does not work', async () => {
    // Prepare
    const checkout = await createCheckout();
    const wrongSecret = `${stack.apiUrl}/checkout/${checkout.id}#cs_${'x'.repeat(24)}`;
    const unknownCheckout = `${stack.apiUrl}/checkout/chk_${'Z'.repeat(22)}#${checkout.client_secret}`;
    const texts: string[] = [];

    // Act
    for (const url of [wrongSecret, unknownCheckout]) {
      const { page } = await newBuyerPage();
      await page.goto(url);
      await page.getByRole('heading', { name: 'This payment link doesn’t work' }).waitFor({ timeout: 15_000 });
      texts.push((await page.locator('#view-error').textContent()) ?? '');
      if (texts.length === 1) await saveScreenshot(page, 'checkout-wrong-link');
    }

    // Assess: what to do next, no API jargon
    for (const text of texts) {
      expect(text).toContain('start the checkout again');
      expect(text).toContain('You have not been charged');
      expect(text).not.toMatch(/client secret|unauthori[sz]ed|resource|not_found|401|404/i);
    }
  });

  it('checks the expiry date in the page (MM/YY, not in the past) before the card is sent anywhere, and types the slash', async () => {
    // Prepare
    const { page, requests } = await newBuyerPage();
    const checkout = await createCheckout();
    await page.goto(checkout.checkout_url);
    const now = new Date();
    const lastMonth = new Date(now.getFullYear(), now.getMonth() - 1, 1);
    const past = `${String(lastMonth.getMonth() + 1).padStart(2, '0')}/${String(lastMonth.getFullYear() % 100).padStart(2, '0')}`;
    const expiry = page.getByLabel('Expiry date (MM/YY)');

    // Act: a past month, then a month 13, then digits only typed by the buyer
    await fillCard(page, past);
    await page.getByRole('button', { name: 'Pay Now' }).click();
    const pastError = await page.locator('#card-expiry-error').textContent();
    const focusedAfterPast = await page.locator('#card-expiry:focus').count();
    await saveScreenshot(page, 'checkout-expired-card');
    await expiry.fill('13/30');
    await page.getByRole('button', { name: 'Pay Now' }).click();
    const formatError = await page.locator('#card-expiry-error').textContent();
    await expiry.fill('');
    await expiry.pressSequentially('1234');
    const typed = await expiry.inputValue();
    await expiry.fill('');
    await expiry.pressSequentially('7');
    const singleDigit = await expiry.inputValue();

    // Assess
    expect(pastError).toBe('This card has expired. Check the expiry date or use another card.');
    expect(focusedAfterPast).toBe(1);
    expect(await expiry.getAttribute('aria-invalid')).toBe('true');
    expect(formatError).toBe('Enter the expiry date as MM/YY, for example 08/29.');
    expect(typed).toBe('12/34');
    expect(singleDigit).toBe('07/');
    expect(cardLeavingCalls(requests)).toHaveLength(0);
    expect(requests.filter((r) => r.url().endsWith(`/v1/checkouts/${checkout.id}/pay`))).toHaveLength(0);
  });

  it('reported no console errors or CSP violations on any page', () => {
    // Assess: the wrong-link pages log the API's 401/404 answers as failed loads, nothing else
    const problems = afterChecks.flatMap((read) => read()).filter((problem) => !/status of 40[14]/.test(problem));
    expect(problems).toEqual([]);
  });
});
