/**
 * Pay under double clicks and races: one status change, the same answer for everyone, the same
 * execution name every time; terminal and non-payable checkouts answered without starting anything.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { executionNameFor, getCheckoutStatus, payCheckout, type PayDependencies } from '../../../lambdas/use-cases/pay-checkout';
import { ConflictError, NotFoundError } from '../../../lambdas/errors';
import type { PaymentWorkflow, StartPaymentInput } from '../../../lambdas/ports/workflow';
import { aCheckout, FakeCheckouts } from '../fakes';

class FakeWorkflow implements PaymentWorkflow {
  readonly starts: StartPaymentInput[] = [];
  private readonly names = new Set<string>();
  async startPayment(input: StartPaymentInput) {
    this.starts.push(input);
    const alreadyStarted = this.names.has(input.name);
    this.names.add(input.name);
    return { executionArn: `arn:exec:${input.name}`, alreadyStarted };
  }
}

let checkouts: FakeCheckouts;
let workflow: FakeWorkflow;
let deps: PayDependencies;

beforeEach(async () => {
  checkouts = new FakeCheckouts();
  workflow = new FakeWorkflow();
  deps = { checkouts, workflow, connector: 'sandbox' };
  await checkouts.createCheckout(aCheckout());
});

describe('payCheckout', () => {
  it('moves open -> processing with the token and starts the execution named after the checkout', async () => {
    const answer = await payCheckout(deps, { checkoutId: 'chk_1', paymentToken: 'tok_1' });
    expect(answer).toEqual({
      statusCode: 202,
      body: {
        id: 'chk_1',
        object: 'checkout_status',
        status: 'processing',
        failure_reason: null,
        failure_message: null,
        last_payment_error: null,
        redirect_url: null,
        next_action: null,
      },
    });
    const payment = (await checkouts.getCheckout('chk_1'))?.payment;
    expect(payment).toMatchObject({ paymentToken: 'tok_1' });
    expect(payment).not.toHaveProperty('capturedAmount'); // no money on the checkout: its instrument is the ledger
    expect(payment?.attempts).toEqual([
      {
        id: expect.stringMatching(/^att_/),
        connector: 'sandbox',
        status: 'authorizing',
        amount: 10050,
        currency: 'USD',
        createdAt: expect.any(String),
      },
    ]);
    expect(workflow.starts).toEqual([{ name: 'chk_1', input: { checkoutId: 'chk_1' } }]);
  });

  it('answers 20 concurrent pays identically with one status change and one execution name', async () => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => payCheckout(deps, { checkoutId: 'chk_1', paymentToken: 'tok_1' })),
    );
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(checkouts.events.filter((e) => e.type === 'payment_started')).toHaveLength(1);
    expect(new Set(workflow.starts.map((s) => s.name))).toEqual(new Set(['chk_1']));
  });

  it('answers a terminal checkout with its redirect and starts nothing', async () => {
    await checkouts.createCheckout(
      aCheckout({ status: 'failed', failureReason: 'inventory_rejected', failureMessage: 'Sold out' }),
    );
    const answer = await payCheckout(deps, { checkoutId: 'chk_1', paymentToken: 'tok_2' });
    expect(answer.statusCode).toBe(200);
    expect(answer.body.redirect_url).toBe('https://merchant.example/ko?checkout_id=chk_1&failure_reason=inventory_rejected');
    expect(workflow.starts).toHaveLength(0);
  });

  it('refuses a canceled checkout with checkout_not_payable', async () => {
    await checkouts.createCheckout(aCheckout({ status: 'canceled' }));
    await expect(payCheckout(deps, { checkoutId: 'chk_1', paymentToken: 'tok_1' })).rejects.toMatchObject({
      code: 'checkout_not_payable',
      status: 409,
    });
    await expect(payCheckout(deps, { checkoutId: 'chk_1', paymentToken: 'tok_1' })).rejects.toBeInstanceOf(ConflictError);
  });

  it('expires an open checkout past its expiry instead of paying it', async () => {
    await checkouts.createCheckout(aCheckout({ expiresAt: '2020-01-01T00:00:00.000Z' }));
    await expect(payCheckout(deps, { checkoutId: 'chk_1', paymentToken: 'tok_1' })).rejects.toMatchObject({
      code: 'checkout_not_payable',
    });
    expect((await checkouts.getCheckout('chk_1'))?.status).toBe('expired');
    expect(workflow.starts).toHaveLength(0);
  });

  it('is a 404 for an unknown checkout', async () => {
    await expect(payCheckout(deps, { checkoutId: 'chk_nope', paymentToken: 'tok_1' })).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('getCheckoutStatus', () => {
  it('gives the success redirect once succeeded', async () => {
    await checkouts.createCheckout(aCheckout({ status: 'succeeded' }));
    expect(await getCheckoutStatus(deps, 'chk_1')).toMatchObject({
      status: 'succeeded',
      redirect_url: 'https://merchant.example/ok?checkout_id=chk_1',
    });
  });
});

describe('executionNameFor', () => {
  it('keeps checkout ids and replaces characters Step Functions refuses', () => {
    expect(executionNameFor('chk_AbC-123')).toBe('chk_AbC-123');
    expect(executionNameFor('chk:a/b')).toBe('chk_a_b');
  });

  it('names later tries after the checkout and the try number', () => {
    expect(executionNameFor('chk_AbC-123', 1)).toBe('chk_AbC-123');
    expect(executionNameFor('chk_AbC-123', 3)).toBe('chk_AbC-123-t3');
  });
});

describe('payCheckout after a declined try (max_payment_attempts)', () => {
  const declined = () =>
    aCheckout({
      status: 'open',
      maxPaymentAttempts: 3,
      lastPaymentError: {
        code: 'insufficient_funds',
        message: 'The payment was declined (insufficient_funds). Try another card.',
      },
      payment: {
        paymentToken: 'tok_bad',
        attempts: [
          {
            id: 'att_1',
            connector: 'sandbox',
            status: 'failed',
            failureCode: 'insufficient_funds',
            amount: 10050,
            currency: 'USD',
            createdAt: '2026-01-01T00:00:00.000Z',
          },
        ],
      },
    });

  it('starts the next try: a new current attempt after the failed one, its own execution name', async () => {
    // Prepare
    await checkouts.createCheckout(declined());
    // Act
    const answer = await payCheckout(deps, { checkoutId: 'chk_1', paymentToken: 'tok_good' });
    // Assess
    expect(answer.statusCode).toBe(202);
    const payment = (await checkouts.getCheckout('chk_1'))?.payment;
    expect(payment).toMatchObject({ paymentToken: 'tok_good', tries: 2 });
    expect(payment?.attempts.map((a) => [a.id === 'att_1' ? 'att_1' : 'new', a.status])).toEqual([
      ['att_1', 'failed'],
      ['new', 'authorizing'],
    ]);
    expect(workflow.starts).toEqual([{ name: 'chk_1-t2', input: { checkoutId: 'chk_1' } }]);
  });

  it('answers duplicate pays during the try with one status change and one execution name', async () => {
    // Prepare
    await checkouts.createCheckout(declined());
    // Act
    await Promise.all(Array.from({ length: 10 }, () => payCheckout(deps, { checkoutId: 'chk_1', paymentToken: 'tok_good' })));
    // Assess
    expect(checkouts.events.filter((e) => e.type === 'payment_started')).toHaveLength(1);
    expect(new Set(workflow.starts.map((s) => s.name))).toEqual(new Set(['chk_1-t2']));
    expect((await checkouts.getCheckout('chk_1'))?.payment?.attempts).toHaveLength(2);
  });
});
