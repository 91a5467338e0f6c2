/**
 * Pay with an Idempotency-Key recorded on the checkout (no idempotency record): the write that
 * starts the try carries the key's mark; a retry, a concurrent duplicate, or a retry after the
 * process stopped between that write and StartExecution answers the first answer again and starts
 * the same execution (same name, same input) at most once.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { payCheckout, payRequestMark, statusView, type PayDependencies } from '../../../lambdas/use-cases/pay-checkout';
import type { PaymentWorkflow, StartPaymentInput } from '../../../lambdas/ports/workflow';
import { aCheckout, FakeCheckouts } from '../fakes';

/** Step Functions as it treats names: the same name and input start one execution. */
class FakeWorkflow implements PaymentWorkflow {
  readonly starts: StartPaymentInput[] = [];
  readonly executions = new Map<string, string>();
  /** Fails the next `failures` calls before anything starts (a process that stops before StartExecution). */
  failures = 0;
  async startPayment(input: StartPaymentInput) {
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error('the process stopped before StartExecution');
    }
    this.starts.push(input);
    const alreadyStarted = this.executions.has(input.name);
    if (alreadyStarted && this.executions.get(input.name) !== JSON.stringify(input.input))
      throw new Error('ExecutionAlreadyExists');
    this.executions.set(input.name, JSON.stringify(input.input));
    return { executionArn: `arn:exec:${input.name}`, alreadyStarted };
  }
}

const MARK = payRequestMark('checkout:chk_1', 'pay-key-1');

let checkouts: FakeCheckouts;
let workflow: FakeWorkflow;
let deps: PayDependencies;

beforeEach(async () => {
  checkouts = new FakeCheckouts();
  workflow = new FakeWorkflow();
  deps = { checkouts, workflow, connector: 'sandbox' };
  await checkouts.createCheckout(aCheckout());
});

describe('pay with an Idempotency-Key recorded on the checkout', () => {
  it('records the key in the write that moves the checkout to processing', async () => {
    // Act
    const answer = await payCheckout(deps, { checkoutId: 'chk_1', paymentToken: 'tok_1', requestMark: MARK });
    // Assess
    expect(answer.statusCode).toBe(202);
    expect(answer.idempotency).toBe('recorded');
    const stored = await checkouts.getCheckout('chk_1');
    expect(stored?.status).toBe('processing');
    expect(stored?.payRequests).toEqual([{ mark: MARK, tryNumber: 1 }]);
    expect(workflow.starts).toEqual([{ name: 'chk_1', input: { checkoutId: 'chk_1' } }]);
  });

  it('answers a retry with the same key (even with another token) byte for byte, after the saga finished too', async () => {
    // Prepare
    const first = await payCheckout(deps, { checkoutId: 'chk_1', paymentToken: 'tok_1', requestMark: MARK });
    const processing = await checkouts.getCheckout('chk_1');
    await checkouts.createCheckout({ ...processing!, status: 'succeeded' });
    // Act
    const again = await payCheckout(deps, { checkoutId: 'chk_1', paymentToken: 'tok_other', requestMark: MARK });
    // Assess
    expect(again.idempotency).toBe('replayed');
    expect(again.statusCode).toBe(first.statusCode);
    expect(JSON.stringify(again.body)).toBe(JSON.stringify(first.body));
    expect((await checkouts.getCheckout('chk_1'))?.payment?.paymentToken).toBe('tok_1');
    expect(workflow.starts).toHaveLength(1); // a finished try is not started again
  });

  it('starts the execution on a retry after the process stopped between the write and StartExecution', async () => {
    // Prepare: the first request's write lands, its StartExecution never happens
    workflow.failures = 1;
    await expect(payCheckout(deps, { checkoutId: 'chk_1', paymentToken: 'tok_1', requestMark: MARK })).rejects.toThrow(
      /before StartExecution/,
    );
    expect(workflow.executions.size).toBe(0);
    // Act
    const retry = await payCheckout(deps, { checkoutId: 'chk_1', paymentToken: 'tok_1', requestMark: MARK });
    const thirdTime = await payCheckout(deps, { checkoutId: 'chk_1', paymentToken: 'tok_1', requestMark: MARK });
    // Assess: the answer the first request would have given, one execution under the checkout's name
    expect(retry.statusCode).toBe(202);
    expect(retry.idempotency).toBe('replayed');
    expect(retry.body).toEqual(statusView({ ...(await checkouts.getCheckout('chk_1'))!, status: 'processing' }));
    expect(JSON.stringify(thirdTime.body)).toBe(JSON.stringify(retry.body));
    expect([...workflow.executions.keys()]).toEqual(['chk_1']);
    expect(checkouts.events.filter((event) => event.type === 'payment_started')).toHaveLength(1);
  });

  it('answers concurrent duplicates with one write and the same answer, the others as replays', async () => {
    // Act
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => payCheckout(deps, { checkoutId: 'chk_1', paymentToken: 'tok_1', requestMark: MARK })),
    );
    // Assess
    expect(answers.filter((answer) => answer.idempotency === 'recorded')).toHaveLength(1);
    expect(answers.filter((answer) => answer.idempotency === 'replayed')).toHaveLength(9);
    expect(new Set(answers.map((answer) => `${answer.statusCode} ${JSON.stringify(answer.body)}`)).size).toBe(1);
    expect(checkouts.events.filter((event) => event.type === 'payment_started')).toHaveLength(1);
    expect((await checkouts.getCheckout('chk_1'))?.payRequests).toHaveLength(1);
    expect(workflow.executions.size).toBe(1);
  });

  it("replays a reopened checkout's pay with the last error it answered, after a later write changed it", async () => {
    // Prepare: a checkout reopened after a declined first try
    const declined = { code: 'card_declined', message: 'The card was declined' };
    await checkouts.createCheckout(aCheckout({ maxPaymentAttempts: 3, lastPaymentError: declined }));
    const first = await payCheckout(deps, { checkoutId: 'chk_1', paymentToken: 'tok_1', requestMark: MARK });
    const processing = await checkouts.getCheckout('chk_1');
    await checkouts.createCheckout({
      ...processing!,
      status: 'open',
      lastPaymentError: { code: 'insufficient_funds', message: 'Not enough money' },
    });
    // Act
    const again = await payCheckout(deps, { checkoutId: 'chk_1', paymentToken: 'tok_1', requestMark: MARK });
    // Assess
    expect(first.body.last_payment_error).toEqual(declined);
    expect(again.idempotency).toBe('replayed');
    expect(JSON.stringify(again.body)).toBe(JSON.stringify(first.body));
    expect((await checkouts.getCheckout('chk_1'))?.status).toBe('open'); // the replay started no new try
  });

  it('runs a pay with another key as a new request on a checkout that records a different one', async () => {
    // Prepare
    await payCheckout(deps, { checkoutId: 'chk_1', paymentToken: 'tok_1', requestMark: MARK });
    // Act
    const other = await payCheckout(deps, {
      checkoutId: 'chk_1',
      paymentToken: 'tok_1',
      requestMark: payRequestMark('checkout:chk_1', 'pay-key-2'),
    });
    // Assess: the processing answer, not recorded by a write of its own (the API layer stores it)
    expect(other.statusCode).toBe(202);
    expect(other.idempotency).toBeUndefined();
    expect((await checkouts.getCheckout('chk_1'))?.payRequests).toHaveLength(1);
  });

  it('uses the checkout the caller read instead of reading it again', async () => {
    // Prepare
    const loaded = await checkouts.getCheckout('chk_1');
    let reads = 0;
    const counting = Object.create(checkouts) as FakeCheckouts;
    counting.getCheckout = async (id: string) => {
      reads += 1;
      return await checkouts.getCheckout(id);
    };
    // Act
    const answer = await payCheckout({ ...deps, checkouts: counting }, { checkoutId: 'chk_1', paymentToken: 'tok_1', loaded });
    // Assess
    expect(answer.statusCode).toBe(202);
    expect(reads).toBe(0);
  });

  it('gives different marks to the same key in another scope', () => {
    expect(payRequestMark('checkout:chk_1', 'k')).not.toBe(payRequestMark('merchant:m_1', 'k'));
    expect(payRequestMark('checkout:chk_1', 'k')).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});
