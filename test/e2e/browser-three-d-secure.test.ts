/**
 * 3-D Secure in the hosted checkout, in Chromium against the running local stack: the page
 * follows `next_action` to the sandbox's challenge page, the buyer completes it with the keyboard
 * alone (or fails it), the bank sends the buyer back and the page shows the result; a
 * frictionless card never sees a challenge. The checkout's timeline shows each step in order.
 * Screenshots: test-output/screenshots/three-d-secure-challenge.png (the challenge page) and
 * three-d-secure-pending.png (the hosted page while the challenge is open).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PaystepClient } from '../../local/paystep-client';
import { launchChromium, saveScreenshot, watchPageErrors } from './browser-support';
import { startStackProcess, type StackProcess } from './harness';

const CHALLENGE = '4000002760003184';
const FRICTIONLESS = '4000000000003055';

let stack: StackProcess;
let browser: Browser;
let api: PaystepClient;
const contexts: BrowserContext[] = [];

interface CreatedCheckout {
  id: string;
  client_secret: string;
  checkout_url: string;
}

async function newBuyerPage(): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 390, height: 844 } });
  contexts.push(context);
  const page = await context.newPage();
  return { page, problems: watchPageErrors(page) };
}

async function createCheckout(): Promise<CreatedCheckout> {
  const created = await api.call<CreatedCheckout>('POST', '/v1/checkouts', {
    token: stack.secretKey,
    body: {
      merchant_order_ref: `3ds_page_${randomBytes(6).toString('hex')}`,
      amount: 2599,
      currency: 'EUR',
      items: [{ sku: 'tshirt', name: 'Paystep T-shirt', quantity: 1 }],
      success_url: `${stack.merchantUrl}/thanks`,
      failure_url: `${stack.merchantUrl}/sorry`,
    },
  });
  expect(created.status, created.text).toBe(201);
  return created.body;
}

async function payWithCard(page: Page, checkout: CreatedCheckout, number: string): Promise<void> {
  await page.goto(checkout.checkout_url);
  await page.getByLabel('Card number').fill(number);
  await page.getByLabel('Expiry date (MM/YY)').fill('12/34');
  await page.getByLabel('Security code (CVC)').fill('123');
  await page.getByRole('button', { name: 'Pay Now' }).click();
}

async function timelineOf(id: string): Promise<string[]> {
  const answer = await api.call<{ events: { type: string }[] }>('GET', `/v1/checkouts/${id}`, { token: stack.secretKey });
  return answer.body.events.map((event) => event.type);
}

beforeAll(async () => {
  browser = await launchChromium();
  stack = await startStackProcess();
  api = new PaystepClient(stack.apiUrl);
}, 120_000);

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await stack?.stop();
}, 30_000);

describe('3-D Secure in the hosted checkout (Chromium)', () => {
  it('challenge completed with the keyboard: the bank sends the buyer back and the page shows the success', async () => {
    // Prepare
    const { page, problems } = await newBuyerPage();
    const checkout = await createCheckout();
    await payWithCard(page, checkout, CHALLENGE);
    await page.waitForURL(/\/v1\/challenges\/auth_/, { timeout: 20_000 });
    await page.getByRole('heading', { name: '3-D Secure: confirm it is you' }).waitFor();
    await saveScreenshot(page, 'three-d-secure-challenge');
    const waiting = await newBuyerPage();
    await waiting.page.goto(`${stack.apiUrl}/checkout/${checkout.id}?three_ds=return#${checkout.client_secret}`);
    await waiting.page.locator('#view-pending').waitFor({ state: 'visible', timeout: 15_000 });
    await saveScreenshot(waiting.page, 'three-d-secure-pending');
    const pendingShown = await waiting.page.getByRole('heading', { name: 'Confirming your order…' }).isVisible();
    const statusWhileOpen = await api.status(checkout.id, checkout.client_secret);

    // Act
    await page.keyboard.press('Tab');
    const focused = await page.evaluate<string | null>('document.activeElement && document.activeElement.textContent');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/checkout\/chk_[^?]+\?three_ds=return/, { timeout: 15_000 });
    await page.getByRole('heading', { name: 'Payment successful' }).waitFor({ timeout: 30_000 });

    // Assess
    expect(statusWhileOpen.status).toBe('requires_action');
    expect(pendingShown).toBe(true);
    expect(focused).toBe('Complete authentication');
    const timeline = await timelineOf(checkout.id);
    const order = ['payment_started', 'requires_action', 'authorized', 'inventory_confirmed', 'captured', 'succeeded'];
    const positions = order.map((type) => timeline.indexOf(type));
    expect(positions.every((position) => position >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(problems).toEqual([]);
  }, 90_000);

  it('challenge failed: back on the hosted page, the payment failed with the bank-confirmation reason', async () => {
    // Prepare
    const { page } = await newBuyerPage();
    const checkout = await createCheckout();
    await payWithCard(page, checkout, CHALLENGE);
    await page.waitForURL(/\/v1\/challenges\/auth_/, { timeout: 20_000 });

    // Act
    await page.getByRole('button', { name: 'Fail authentication' }).click();
    await page.waitForURL(/\?three_ds=return/, { timeout: 15_000 });
    await page.getByRole('heading', { name: 'Payment failed' }).waitFor({ timeout: 30_000 });
    await saveScreenshot(page, 'three-d-secure-failed');

    // Assess
    expect(await page.locator('#view-result').getByText('Your bank could not confirm it was you', { exact: false }).count()).toBe(
      1,
    );
    const timeline = await timelineOf(checkout.id);
    expect(timeline).toContain('requires_action');
    expect(timeline).not.toContain('inventory_confirmed');
    expect(timeline).not.toContain('captured');
  }, 90_000);

  it('frictionless: the payment succeeds without ever showing a challenge', async () => {
    // Prepare
    const { page } = await newBuyerPage();
    const checkout = await createCheckout();
    const visited: string[] = [];
    page.on('framenavigated', (frame) => visited.push(frame.url()));

    // Act
    await payWithCard(page, checkout, FRICTIONLESS);
    await page.getByRole('heading', { name: 'Payment successful' }).waitFor({ timeout: 30_000 });

    // Assess
    expect(visited.some((url) => url.includes('/v1/challenges/'))).toBe(false);
    const timeline = await timelineOf(checkout.id);
    expect(timeline).not.toContain('requires_action');
    expect(timeline).toContain('captured');
  }, 90_000);
});
