/**
 * The local operations console (`/dashboard`) in Chromium against the running local stack: search
 * by order reference and customer email, the status filter, the three Chart.js charts (screenshot
 * under test-output/screenshots/), and each action (capture, void, refund, redeliver a webhook)
 * through its confirmation dialog with an Idempotency-Key, proved by the API's instrument balances,
 * the event log and the sandbox PSP's own ledger; the operator view per connector (admin token) with
 * the counts the payments made. Also: the page fits a 390 px wide screen.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { eventually, PaystepClient } from '../../local/paystep-client';
import { fetchLedger, tokenizeTestCard } from '../../local/sandbox-psp/client';
import { launchChromium, saveScreenshot, watchPageErrors } from './browser-support';
import { startStackProcess, type StackProcess } from './harness';

const CARD_OK = '4242424242424242';
const CARD_DECLINED = '4000000000000002';

interface CheckoutView {
  id: string;
  status: string;
  merchant_order_ref: string;
  client_secret?: string;
  payment: { instrument_id: string | null; captured_amount: number; capturable_amount: number } | null;
}

interface InstrumentView {
  id: string;
  status: string;
  capturable_amount: number;
  refundable_amount: number;
}

interface EventView {
  id: string;
  type: string;
  data: { object?: { id?: string } };
  deliveries: { status: string; attempts: unknown[] }[];
}

let stack: StackProcess;
let browser: Browser;
let api: PaystepClient;
const contexts: BrowserContext[] = [];
const afterChecks: (() => string[])[] = [];
const runId = randomBytes(3).toString('hex');
let toCapture: CheckoutView;
let toVoid: CheckoutView;
let toRefund: CheckoutView;
let declined: CheckoutView;
let stillOpen: CheckoutView;

/** Creates a checkout over the API and, with a card, pays it and waits for the end of its saga. */
async function checkout(options: {
  ref: string;
  amount: number;
  manual?: boolean;
  email?: string;
  card?: string;
}): Promise<CheckoutView> {
  const created = await api.call<CheckoutView>('POST', '/v1/checkouts', {
    token: stack.secretKey,
    idempotencyKey: `console-test-${options.ref}`,
    body: {
      merchant_order_ref: options.ref,
      amount: options.amount,
      currency: 'USD',
      items: [{ sku: 'tshirt', name: 'Paystep T-shirt', quantity: 1 }],
      ...(options.email !== undefined ? { customer: { email: options.email } } : {}),
      success_url: `${stack.merchantUrl}/thanks`,
      failure_url: `${stack.merchantUrl}/sorry`,
      ...(options.manual === true ? { capture_method: 'manual' } : {}),
    },
  });
  expect(created.status, created.text).toBe(201);
  if (options.card !== undefined) {
    const token = await tokenizeTestCard(stack.pspUrl, options.card);
    expect((await api.pay(created.body.id, created.body.client_secret!, token)).status).toBe(202);
    await api.waitForTerminal(created.body.id, created.body.client_secret!, 60_000);
  }
  return await checkoutOf(created.body.id);
}

async function checkoutOf(id: string): Promise<CheckoutView> {
  const answer = await api.call<CheckoutView>('GET', `/v1/checkouts/${id}`, { token: stack.secretKey });
  expect(answer.status, answer.text).toBe(200);
  return answer.body;
}

async function instrumentOf(view: CheckoutView): Promise<InstrumentView> {
  const answer = await api.call<InstrumentView>('GET', `/v1/financial_instruments/${view.payment!.instrument_id}`, {
    token: stack.secretKey,
  });
  expect(answer.status, answer.text).toBe(200);
  return answer.body;
}

/** A console page with the key entered and the list and charts loaded. */
async function openConsole(width = 1440): Promise<{ page: Page; requests: Request[] }> {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width, height: 900 } });
  contexts.push(context);
  const page = await context.newPage();
  const problems = watchPageErrors(page);
  afterChecks.push(() => problems);
  const requests: Request[] = [];
  page.on('request', (request) => requests.push(request));
  await page.goto(`${stack.apiUrl}/dashboard`);
  await page.getByLabel('Merchant secret key').fill(stack.secretKey);
  await page.getByRole('button', { name: 'Show checkouts' }).click();
  await page.locator('#charts[data-ready="true"]').waitFor({ timeout: 30_000 });
  return { page, requests };
}

async function selectCheckout(page: Page, id: string): Promise<void> {
  await page.getByLabel('Order reference or customer email').fill(id);
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.getByRole('button', { name: `Show timeline of ${id}` }).click();
  await page.getByRole('heading', { name: `Timeline of ${id}` }).waitFor();
  await page.locator('#actions > *').first().waitFor();
}

function postsTo(requests: Request[], pathEnd: string): Request[] {
  return requests.filter((r) => r.method() === 'POST' && new URL(r.url()).pathname.endsWith(pathEnd));
}

beforeAll(async () => {
  browser = await launchChromium();
  stack = await startStackProcess();
  api = new PaystepClient(stack.apiUrl);
  [toCapture, toVoid, toRefund, declined, stillOpen] = await Promise.all([
    checkout({ ref: `ops-capture-${runId}`, amount: 4000, manual: true, card: CARD_OK }),
    checkout({ ref: `ops-void-${runId}`, amount: 3000, manual: true, card: CARD_OK }),
    checkout({ ref: `ops-refund-${runId}`, amount: 2500, email: `refund-${runId}@example.com`, card: CARD_OK }),
    checkout({ ref: `ops-declined-${runId}`, amount: 1999, card: CARD_DECLINED }),
    checkout({ ref: `ops-open-${runId}`, amount: 1250, email: `open-${runId}@example.com` }),
  ]);
}, 180_000);

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await stack?.stop();
});

describe('operations console in Chromium', () => {
  it('finds checkouts by order reference and by customer email, and filters them by status', async () => {
    // Prepare
    const { page } = await openConsole();
    const rowIds = async (): Promise<string[]> =>
      await page.locator('#rows tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-checkout') ?? ''));

    // Act
    await page.getByLabel('Order reference or customer email').fill(`ops-void-${runId}`);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const byRef = await rowIds();
    await page.getByLabel('Order reference or customer email').fill(`REFUND-${runId}@example.com`);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const byEmail = await rowIds();
    await page.getByLabel('Order reference or customer email').fill(runId);
    await page.getByLabel('Status', { exact: true }).selectOption('failed');
    const failedOnly = await rowIds();
    await page.getByLabel('Status', { exact: true }).selectOption('open');
    const openOnly = await rowIds();
    await page.getByLabel('Status', { exact: true }).selectOption('');
    const everyOne = await rowIds();

    // Assess
    expect(byRef).toEqual([toVoid.id]);
    expect(byEmail).toEqual([toRefund.id]);
    expect(failedOnly).toEqual([declined.id]);
    expect(openOnly).toEqual([stillOpen.id]);
    expect([...everyOne].sort()).toEqual([toCapture.id, toVoid.id, toRefund.id, declined.id, stillOpen.id].sort());
  });

  it('draws checkouts per status over time, authorization rate per connector and Pay Now -> terminal latency with Chart.js', async () => {
    // Prepare
    const { page, requests } = await openConsole();

    // Act
    await saveScreenshot(page, 'dashboard-charts');
    const statusSummary = await page.locator('#chart-status-summary').textContent();
    const authSummary = await page.locator('#chart-auth-summary').textContent();
    const latencySummary = (await page.locator('#chart-latency-summary').textContent()) ?? '';
    const drawn = await page
      .locator('canvas')
      .evaluateAll((canvases) =>
        canvases.map(
          (canvas) =>
            (canvas as unknown as { width: number; height: number }).width > 0 &&
            (canvas as unknown as { height: number }).height > 0,
        ),
      );
    const chartJsIsThere = await page.evaluate(
      'typeof window.Chart === "function" && Object.keys(window.Chart.instances).length',
    );

    // Assess: 5 checkouts, 4 payments of which 3 authorized, 4 pay -> terminal latencies
    expect(statusSummary).toBe('open 1, succeeded 3, failed 1');
    expect(authSummary).toBe('sandbox: 3 of 4 authorized (75%)');
    const match = /^p50 (\d+) ms, p90 (\d+) ms, p99 (\d+) ms over 4 payments$/.exec(latencySummary);
    expect(match, latencySummary).not.toBeNull();
    const [p50, p90, p99] = match!.slice(1).map(Number);
    expect(p50).toBeGreaterThan(0);
    expect(p50!).toBeLessThanOrEqual(p90!);
    expect(p90!).toBeLessThanOrEqual(p99!);
    expect(drawn).toEqual([true, true, true]);
    expect(chartJsIsThere).toBe(3);
    expect(requests.some((r) => r.url() === `${stack.apiUrl}/dashboard/vendor/chart.umd.min.js`)).toBe(true);
    expect(requests.every((r) => r.url().startsWith(stack.apiUrl))).toBe(true);
  });

  it('shows attempts, authorization rate and failovers per connector over the last hour with the admin token', async () => {
    // Prepare
    const { page } = await openConsole();
    const cells = async (connector: string): Promise<Record<string, string>> =>
      Object.fromEntries(
        await page
          .locator(`#connector-rows tr[data-connector="${connector}"] td`)
          .evaluateAll((tds) => tds.map((td) => [td.getAttribute('data-field') ?? '', td.textContent ?? ''])),
      );

    // Act
    await page.getByLabel('Platform admin token').fill(stack.adminToken);
    await page.getByRole('button', { name: 'Show connectors' }).click();
    await page.locator('#operator-panel[data-ready="true"]').waitFor({ timeout: 15_000 });
    await saveScreenshot(page, 'dashboard-connectors');
    const sandbox = await cells('sandbox');
    const api = await fetch(`${stack.apiUrl}/v1/operator/connectors`, {
      headers: { authorization: `Bearer ${stack.adminToken}` },
    });

    // Assess: the 4 payments of this stack went to sandbox, 3 authorized, 1 declined, no failover
    expect(await page.locator('#operator-error').isHidden()).toBe(true);
    expect(sandbox).toEqual({
      attempts: '4',
      authorized: '3',
      failed: '1',
      authorization_rate: '75.00 %',
      failovers_out: '0',
      failovers_in: '0',
    });
    expect(api.status).toBe(200);
    const row = ((await api.json()) as { data: { connector: string; authorization_rate_bps: number }[] }).data.find(
      (r) => r.connector === 'sandbox',
    );
    expect(row?.authorization_rate_bps).toBe(7500);
  });

  it('captures part of a manual payment after confirmation, with an Idempotency-Key; Cancel changes nothing', async () => {
    // Prepare
    const { page, requests } = await openConsole();
    await selectCheckout(page, toCapture.id);

    // Act: open and cancel once, then capture 15.00 of 40.00
    await page.getByRole('button', { name: 'Capture…' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    const postsAfterCancel = postsTo(requests, '/_capture').length;
    await page.getByRole('button', { name: 'Capture…' }).click();
    const prefilled = await page.getByLabel('Amount (USD)').inputValue();
    await page.getByLabel('Amount (USD)').fill('15.00');
    await page.getByRole('dialog').getByRole('button', { name: 'Capture' }).click();
    await page.getByText('Capture payment: done.').first().waitFor({ timeout: 15_000 });

    // Assess
    expect(postsAfterCancel).toBe(0);
    expect(prefilled).toBe('40.00');
    const posts = postsTo(requests, '/_capture');
    expect(posts).toHaveLength(1);
    expect(posts[0]!.headers()['idempotency-key']).toMatch(/^console-capture-[0-9a-f-]{36}$/);
    expect(JSON.parse(posts[0]!.postData()!)).toEqual({ amount: 1500, currency: 'USD' });
    expect(await instrumentOf(toCapture)).toMatchObject({ capturable_amount: 2500, refundable_amount: 1500 });
    const captures = (await fetchLedger(stack.pspUrl, toCapture.id)).filter(
      (op) => op.type === 'capture' && op.status === 'succeeded',
    );
    expect(captures.map((op) => op.amount)).toEqual([1500]);
  });

  it('voids a manual authorization after confirmation', async () => {
    // Prepare
    const { page, requests } = await openConsole();
    await selectCheckout(page, toVoid.id);

    // Act
    await page.getByRole('button', { name: 'Void…' }).click();
    const dialogText = await page.locator('#confirm-text').textContent();
    await page.getByRole('dialog').getByRole('button', { name: 'Void' }).click();
    await page.getByText('Void authorization: done.').first().waitFor({ timeout: 15_000 });

    // Assess
    expect(dialogText).toContain('$30.00');
    const posts = postsTo(requests, '/_revoke');
    expect(posts).toHaveLength(1);
    expect(posts[0]!.headers()['idempotency-key']).toMatch(/^console-void-/);
    expect(await instrumentOf(toVoid)).toMatchObject({ capturable_amount: 0, refundable_amount: 0 });
    const ledger = await fetchLedger(stack.pspUrl, toVoid.id);
    expect(ledger.filter((op) => op.type === 'void' && op.status === 'succeeded').map((op) => op.amount)).toEqual([3000]);
    expect(ledger.filter((op) => op.type === 'capture')).toEqual([]);
  });

  it('refunds part of a captured payment after confirmation and refuses more than is refundable in the dialog', async () => {
    // Prepare
    const { page, requests } = await openConsole();
    await selectCheckout(page, toRefund.id);

    // Act: 30.00 of 25.00 first (refused in the page), then 10.00
    await page.getByRole('button', { name: 'Refund…' }).click();
    await page.getByLabel('Amount (USD)').fill('30.00');
    await page.getByRole('dialog').getByRole('button', { name: 'Refund' }).click();
    const tooMuch = await page.locator('#confirm-error').textContent();
    await page.getByLabel('Amount (USD)').fill('10.00');
    await page.getByRole('dialog').getByRole('button', { name: 'Refund' }).click();
    await page.getByText('Refund payment: done.').first().waitFor({ timeout: 15_000 });

    // Assess
    expect(tooMuch).toBe('Enter an amount between 0.01 and 25.00.');
    const posts = postsTo(requests, '/_refund');
    expect(posts).toHaveLength(1);
    expect(JSON.parse(posts[0]!.postData()!)).toEqual({ amount: 1000, currency: 'USD' });
    expect(posts[0]!.headers()['idempotency-key']).toMatch(/^console-refund-/);
    expect(await instrumentOf(toRefund)).toMatchObject({ refundable_amount: 1500 });
    const refunds = (await fetchLedger(stack.pspUrl, toRefund.id)).filter(
      (op) => op.type === 'refund' && op.status === 'succeeded',
    );
    expect(refunds.map((op) => op.amount)).toEqual([1000]);
  });

  it('redelivers a webhook after confirmation: the event gets another delivery attempt', async () => {
    // Prepare: the checkout.succeeded event of the refunded checkout, delivered once already
    const events = async (): Promise<EventView[]> =>
      (await api.call<{ data: EventView[] }>('GET', '/v1/events?limit=100', { token: stack.secretKey })).body.data.filter(
        (e) => e.data.object?.id === toRefund.id,
      );
    const before = (
      await eventually(events, (list) =>
        list.some(
          (e) =>
            e.type === 'checkout.succeeded' && e.deliveries.length > 0 && e.deliveries.every((d) => d.status === 'delivered'),
        ),
      )
    ).find((e) => e.type === 'checkout.succeeded')!;
    expect(before.deliveries.map((d) => d.status)).toEqual(['delivered']);
    const attemptsBefore = before.deliveries.reduce((n, d) => n + d.attempts.length, 0);
    const { page, requests } = await openConsole();
    await selectCheckout(page, toRefund.id);

    // Act
    await page.getByRole('button', { name: 'Redeliver checkout.succeeded' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Redeliver' }).click();
    await page.getByText('Redeliver webhook: done.').first().waitFor({ timeout: 15_000 });

    // Assess
    const posts = postsTo(requests, `/v1/events/${before.id}/redeliver`);
    expect(posts).toHaveLength(1);
    expect(posts[0]!.headers()['idempotency-key']).toMatch(/^console-redeliver-/);
    const after = await eventually(
      async () => (await events()).find((e) => e.id === before.id)!,
      (event) =>
        event.deliveries.reduce((n, d) => n + d.attempts.length, 0) > attemptsBefore &&
        event.deliveries.every((d) => d.status === 'delivered'),
    );
    expect(after.deliveries.reduce((n, d) => n + d.attempts.length, 0)).toBe(attemptsBefore + 1);
    expect(after.deliveries.map((d) => d.status)).toEqual(['delivered']);
  });

  it('fits a 390 px wide screen without sideways scrolling of the page', async () => {
    // Prepare
    const { page } = await openConsole(390);

    // Act
    await selectCheckout(page, toRefund.id);
    const widths = await page.evaluate(
      '({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth })',
    );
    await saveScreenshot(page, 'dashboard-390px');

    // Assess
    expect(widths).toEqual({ scroll: 390, client: 390 });
  });

  it('reported no console errors or CSP violations on any page', () => {
    // Assess
    expect(afterChecks.flatMap((read) => read())).toEqual([]);
  });
});
