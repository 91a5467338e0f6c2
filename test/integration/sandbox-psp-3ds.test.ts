/**
 * 3-D Secure at the sandbox PSP over real HTTP (DESIGN Part 2 "3-D Secure (SCA)"): the three
 * test cards, the challenge page with Complete and Fail, `POST <url>` answering 302 to the
 * return_url, the signed callback reporting the outcome, liability-shift data, off-session and
 * a routing rule's `three_ds: required`, all read through the sandbox connector (the domain's view).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SandboxPspGateway } from '../../lambdas/connectors/sandbox/gateway';
import { SensitiveCard } from '../../lambdas/domain/payment-method';
import { PaymentDeclinedError } from '../../lambdas/errors';
import { parsePspCallback, verifyPspSignature } from '../../lambdas/connectors/sandbox/callbacks';
import { fetchLedger, tokenizeTestCard } from '../../local/sandbox-psp/client';
import { startSandboxPsp, type SandboxPsp } from '../../local/sandbox-psp/server';

const CHALLENGE = '4000002760003184';
const CHALLENGE_THEN_DECLINE = '4000008260003178';
const FRICTIONLESS = '4000000000003055';
const APPROVE = '4242424242424242';
const SECRET = 'psp_cb_secret_3ds';
const RETURN_URL = 'http://127.0.0.1:9/checkout/chk_x?three_ds=return';

let psp: SandboxPsp;
let gateway: SandboxPspGateway;
let receiver: Server;
const received: { type: string; reference: string; reason?: string; signed: boolean }[] = [];
let counter = 0;
const nextReference = (): string => `chk_3ds_${Date.now()}_${(counter += 1)}`;

beforeAll(async () => {
  receiver = createServer((request, response) => {
    let raw = '';
    request.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
    request.on('end', () => {
      const header = request.headers['psp-signature'];
      const signed = verifyPspSignature(typeof header === 'string' ? header : undefined, raw, [SECRET], new Date()).ok;
      const callback = parsePspCallback(JSON.parse(raw));
      if (callback !== undefined) {
        received.push({
          type: callback.type,
          reference: callback.reference,
          signed,
          ...(callback.reason !== undefined ? { reason: callback.reason } : {}),
        });
      }
      response.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const port = (receiver.address() as AddressInfo).port;
  psp = await startSandboxPsp({ callbacks: { url: `http://127.0.0.1:${port}/callbacks`, secret: SECRET } });
  gateway = new SandboxPspGateway({ baseUrl: psp.url, timeoutMs: 3000 });
});

afterAll(async () => {
  await psp.stop();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

async function authorizeWith(number: string, reference: string, extra: { offSession?: boolean; required?: boolean } = {}) {
  const token = await tokenizeTestCard(psp.url, number);
  return gateway.authorize({
    reference,
    source: { type: 'token', token },
    amount: 2599,
    currency: 'EUR',
    idempotencyKey: `${reference}:authorize`,
    threeDSecure: { returnUrl: RETURN_URL, ...extra },
  });
}

async function answerChallenge(url: string, outcome: string): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `outcome=${outcome}`,
  });
}

async function callbacksFor(reference: string, count: number): Promise<typeof received> {
  for (let tries = 0; tries < 50; tries += 1) {
    const rows = received.filter((row) => row.reference === reference);
    if (rows.length >= count) return rows;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return received.filter((row) => row.reference === reference);
}

describe('challenge card 4000002760003184', () => {
  it('asks for a redirect to the challenge page carrying the return URL, with nothing authorized yet', async () => {
    // Prepare
    const reference = nextReference();
    // Act
    const answer = await authorizeWith(CHALLENGE, reference);
    // Assess
    expect(answer.authorizedAmount).toBe(0);
    expect(answer.nextAction).toEqual({
      type: 'redirect_to_url',
      redirectToUrl: { url: `${psp.url}/v1/challenges/${answer.pspReference}`, returnUrl: RETURN_URL },
    });
    const view = await gateway.getAuthorization(answer.pspReference);
    expect(view).toMatchObject({ state: 'pending', pspStatus: 'requires_action', capturableAmount: 0 });
    expect(await fetchLedger(psp.url, reference)).toEqual([]);
  });

  it('serves a challenge page with labelled Complete and Fail buttons and never the card number', async () => {
    // Prepare
    const answer = await authorizeWith(CHALLENGE, nextReference());
    // Act
    const page = await fetch(answer.nextAction?.redirectToUrl.url ?? '');
    const html = await page.text();
    // Assess
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(html).toContain('<html lang="en">');
    expect(html).toMatch(/<button type="submit" name="outcome" value="complete"[^>]*>Complete authentication<\/button>/);
    expect(html).toMatch(/<button type="submit" name="outcome" value="fail"[^>]*>Fail authentication<\/button>/);
    expect(html).toContain('EUR 25.99');
    expect(html).toContain('3184');
    expect(html).not.toContain(CHALLENGE);
  });

  it('completed: 302 to the return URL, authorized with liability shift, authorization.succeeded sent signed', async () => {
    // Prepare
    const reference = nextReference();
    const answer = await authorizeWith(CHALLENGE, reference);
    // Act
    const response = await answerChallenge(answer.nextAction?.redirectToUrl.url ?? '', 'complete');
    // Assess
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe(RETURN_URL);
    const view = await gateway.getAuthorization(answer.pspReference);
    expect(view).toMatchObject({ state: 'authorized', capturableAmount: 2599 });
    expect(view.authentication).toEqual({ flow: 'challenge', authenticated: true, liabilityShift: true, eci: '05' });
    expect(await callbacksFor(reference, 1)).toEqual([{ type: 'authorization.succeeded', reference, signed: true }]);
    expect((await fetchLedger(psp.url, reference)).map((row) => [row.type, row.status, row.amount])).toEqual([
      ['authorize', 'succeeded', 2599],
    ]);
  });

  it('failed: 302 to the return URL, authentication_failed, authorization.failed with that reason, nothing capturable', async () => {
    // Prepare
    const reference = nextReference();
    const answer = await authorizeWith(CHALLENGE, reference);
    // Act
    const response = await answerChallenge(answer.nextAction?.redirectToUrl.url ?? '', 'fail');
    // Assess
    expect(response.status).toBe(302);
    const view = await gateway.getAuthorization(answer.pspReference);
    expect(view).toMatchObject({ state: 'declined', failureCode: 'authentication_failed', capturableAmount: 0 });
    expect(view.authentication).toMatchObject({ flow: 'challenge', authenticated: false, liabilityShift: false });
    expect(await callbacksFor(reference, 1)).toEqual([
      { type: 'authorization.failed', reference, reason: 'authentication_failed', signed: true },
    ]);
  });

  it('a second answer (or one after the challenge was canceled) redirects and changes nothing', async () => {
    // Prepare
    const reference = nextReference();
    const answer = await authorizeWith(CHALLENGE, reference);
    const url = answer.nextAction?.redirectToUrl.url ?? '';
    await answerChallenge(url, 'complete');
    const canceledReference = nextReference();
    const canceled = await authorizeWith(CHALLENGE, canceledReference);
    await gateway.voidAuthorization({
      reference: canceledReference,
      pspReference: canceled.pspReference,
      idempotencyKey: `${canceled.pspReference}:void`,
    });
    // Act
    const again = await answerChallenge(url, 'fail');
    const late = await answerChallenge(canceled.nextAction?.redirectToUrl.url ?? '', 'complete');
    // Assess
    expect(again.status).toBe(302);
    expect(late.status).toBe(302);
    expect((await gateway.getAuthorization(answer.pspReference)).state).toBe('authorized');
    expect((await gateway.getAuthorization(canceled.pspReference)).state).toBe('voided');
    expect(await callbacksFor(reference, 2)).toHaveLength(1);
  });

  it('refuses a form without a valid outcome with 400 and keeps the challenge open', async () => {
    // Prepare
    const answer = await authorizeWith(CHALLENGE, nextReference());
    // Act
    const response = await answerChallenge(answer.nextAction?.redirectToUrl.url ?? '', 'maybe');
    // Assess
    expect(response.status).toBe(400);
    expect((await gateway.getAuthorization(answer.pspReference)).pspStatus).toBe('requires_action');
  });

  it('off-session: declined authentication_required without a challenge', async () => {
    // Act
    const attempt = authorizeWith(CHALLENGE, nextReference(), { offSession: true });
    // Assess
    await expect(attempt).rejects.toThrow(PaymentDeclinedError);
    await expect(authorizeWith(CHALLENGE, nextReference(), { offSession: true })).rejects.toThrow('authentication_required');
  });
});

describe('challenge-then-decline card 4000008260003178', () => {
  it('challenges, then declines insufficient_funds once the buyer completes', async () => {
    // Prepare
    const reference = nextReference();
    const answer = await authorizeWith(CHALLENGE_THEN_DECLINE, reference);
    // Act
    await answerChallenge(answer.nextAction?.redirectToUrl.url ?? '', 'complete');
    // Assess
    const view = await gateway.getAuthorization(answer.pspReference);
    expect(view).toMatchObject({ state: 'declined', failureCode: 'insufficient_funds', capturableAmount: 0 });
    expect((await callbacksFor(reference, 1))[0]).toMatchObject({ type: 'authorization.failed', reason: 'insufficient_funds' });
  });
});

describe('frictionless card 4000000000003055', () => {
  it('authorizes at once with frictionless liability shift', async () => {
    // Act
    const answer = await authorizeWith(FRICTIONLESS, nextReference());
    // Assess
    expect(answer.nextAction).toBeUndefined();
    expect(answer.authorizedAmount).toBe(2599);
    expect(answer.authentication).toEqual({ flow: 'frictionless', authenticated: true, liabilityShift: true, eci: '05' });
  });

  it('challenges anyway when a routing rule requires 3-D Secure', async () => {
    // Act
    const answer = await authorizeWith(APPROVE, nextReference(), { required: true });
    // Assess
    expect(answer.nextAction?.type).toBe('redirect_to_url');
    expect(answer.authorizedAmount).toBe(0);
  });
});

describe('a vaulted challenge card (card data with card-on-file flags)', () => {
  const vaulted = (): SensitiveCard => new SensitiveCard('pm_sandbox_3ds', CHALLENGE, 12, 2049, '123');

  it('customer-initiated: asks for the challenge and still issues a network transaction id', async () => {
    // Prepare
    const reference = nextReference();
    // Act
    const answer = await gateway.authorize({
      reference,
      source: { type: 'card', card: vaulted(), cardOnFile: { initiator: 'customer', stored: true } },
      amount: 2599,
      currency: 'EUR',
      idempotencyKey: `${reference}:authorize`,
      threeDSecure: { returnUrl: RETURN_URL },
    });
    // Assess
    expect(answer.authorizedAmount).toBe(0);
    expect(answer.nextAction?.redirectToUrl).toEqual({
      url: `${psp.url}/v1/challenges/${answer.pspReference}`,
      returnUrl: RETURN_URL,
    });
    expect(answer.networkTransactionId).toMatch(/^ntid_/);
  });

  it('off-session: declined authentication_required, no challenge opened', async () => {
    // Prepare
    const reference = nextReference();
    // Act
    const attempt = gateway.authorize({
      reference,
      source: { type: 'card', card: vaulted(), cardOnFile: { initiator: 'customer', stored: true } },
      amount: 2599,
      currency: 'EUR',
      idempotencyKey: `${reference}:authorize`,
      threeDSecure: { offSession: true },
    });
    // Assess
    await expect(attempt).rejects.toThrow('authentication_required');
    expect((await fetchLedger(psp.url, reference)).map((row) => [row.type, row.status])).toEqual([['authorize', 'failed']]);
  });
});
