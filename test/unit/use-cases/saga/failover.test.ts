/**
 * Failover inside AuthorizePayment (lambdas/use-cases/saga/failover.ts) with two scripted
 * connectors: each failover reason (unavailable, timeout settled "not authorized", soft declines),
 * hard declines and `failover: false` staying on the first connector, a timeout settled
 * "authorized" keeping its attempt (no second authorization), and crashes between attempts that
 * resume on the stored current attempt.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { CheckoutPayment } from '../../../../lambdas/domain/model';
import type { PaymentAttempt } from '../../../../lambdas/domain/payment-attempt';
import { SensitiveCard, type PaymentMethod } from '../../../../lambdas/domain/payment-method';
import type { RoutingConfig } from '../../../../lambdas/domain/routing';
import { PaymentDeclinedError, PspTimeoutError, PspUnavailableError, StoreUnavailableError } from '../../../../lambdas/errors';
import type {
  AuthorizeInput,
  AuthorizeOutput,
  PaymentGateway,
  PspAuthorizationView,
  PspOperationOutput,
} from '../../../../lambdas/ports/payments';
import { authorizePayment } from '../../../../lambdas/use-cases/saga/authorize-payment';
import type { SagaPorts } from '../../../../lambdas/use-cases/saga/shared';
import { aPayment } from '../../../support/payments';
import type { FakeCheckouts, FakeMerchants } from '../../fakes';
import { input, sagaWorld } from './saga-fixture';

/** What a scripted authorize call does: answer, throw, or authorize and then lose the answer (timeout). */
type Script = 'approve' | Error | 'authorize_then_time_out';

/** A PSP that replays by idempotency key and files every authorization under our reference, like both sandboxes. */
class ScriptedPsp implements PaymentGateway {
  readonly calls: { op: 'authorize' | 'find'; key?: string }[] = [];
  readonly script: Script[] = [];
  readonly books = new Map<string, PspAuthorizationView>();
  private readonly byKey = new Map<string, string>();

  constructor(readonly connector: string) {}

  /** The CVC each authorize call carried (a vaulted card's), in call order. */
  readonly cvcs: (string | undefined)[] = [];
  /** Whether each authorize call asked for 3-D Secure by rule. */
  readonly threeDsRequired: boolean[] = [];

  async authorize(request: AuthorizeInput): Promise<AuthorizeOutput> {
    this.calls.push({ op: 'authorize', key: request.idempotencyKey });
    if (request.source.type === 'card') this.cvcs.push(request.source.card.revealCvc());
    this.threeDsRequired.push(request.threeDSecure?.required === true);
    const replayed = this.byKey.get(request.idempotencyKey);
    if (replayed !== undefined) return { pspReference: replayed, authorizedAmount: request.amount };
    const step = this.script.shift() ?? 'approve';
    if (step instanceof Error) throw step;
    const id = `auth_${this.connector}_${this.books.size + 1}`;
    this.byKey.set(request.idempotencyKey, id);
    this.books.set(id, {
      id,
      state: 'authorized',
      pspStatus: 'authorized',
      amount: request.amount,
      currency: request.currency,
      reference: request.reference,
      capturedAmount: 0,
      refundedAmount: 0,
      capturableAmount: request.amount,
      refundableAmount: 0,
    });
    if (step === 'authorize_then_time_out') throw new PspTimeoutError('no answer within the timeout');
    return { pspReference: id, authorizedAmount: request.amount };
  }

  async findAuthorizations(reference: string): Promise<PspAuthorizationView[]> {
    this.calls.push({ op: 'find' });
    return [...this.books.values()].filter((view) => view.reference === reference);
  }

  async getAuthorization(pspReference: string): Promise<PspAuthorizationView> {
    const view = this.books.get(pspReference);
    if (view === undefined) throw new PspTimeoutError('unknown');
    return view;
  }

  async capture(): Promise<PspOperationOutput> {
    throw new Error('not used');
  }
  async voidAuthorization(): Promise<PspOperationOutput> {
    throw new Error('not used');
  }
  async refund(): Promise<PspOperationOutput> {
    throw new Error('not used');
  }
}

const FAILOVER: RoutingConfig = { rules: [], default: ['sandbox', 'stripe'], failover: true };

let checkouts: FakeCheckouts;
let merchants: FakeMerchants;
let deps: SagaPorts;
let sandbox: ScriptedPsp;
let stripe: ScriptedPsp;

async function stored(): Promise<CheckoutPayment> {
  const checkout = await checkouts.getCheckout('chk_1');
  if (checkout?.payment === undefined) throw new Error('chk_1 has no payment');
  return checkout.payment;
}

function attemptsOf(payment: CheckoutPayment): Pick<PaymentAttempt, 'connector' | 'status' | 'failureCode'>[] {
  return payment.attempts.map(({ connector, status, failureCode }) => ({
    connector,
    status,
    ...(failureCode !== undefined ? { failureCode } : {}),
  }));
}

beforeEach(async () => {
  const world = await sagaWorld();
  ({ checkouts, merchants } = world);
  sandbox = new ScriptedPsp('sandbox');
  stripe = new ScriptedPsp('stripe');
  deps = { ...world.deps, gateway: sandbox, gateways: (id) => (id === 'stripe' ? stripe : sandbox) };
  await merchants.updateRouting('mer_1', FAILOVER);
  const checkout = (await checkouts.getCheckout('chk_1'))!;
  await checkouts.updatePayment(
    'chk_1',
    { ...aPayment({ paymentToken: 'tok_1', connector: 'sandbox' }), route: ['sandbox', 'stripe'] },
    checkout.version,
  );
});

describe('failover on a failover reason', () => {
  it('moves to the next connector when the first PSP is unavailable, as a new attempt with its own key', async () => {
    // Prepare
    sandbox.script.push(new PspUnavailableError('503'));
    // Act
    const result = await authorizePayment(deps, input);
    // Assess
    const payment = await stored();
    expect(result.pspReference).toBe('auth_stripe_1');
    expect(attemptsOf(payment)).toEqual([
      { connector: 'sandbox', status: 'failed', failureCode: 'psp_unavailable' },
      { connector: 'stripe', status: 'authorized' },
    ]);
    const second = payment.attempts[1]!;
    expect(second.id).toMatch(/^att_/);
    expect(second.id).not.toBe(payment.attempts[0]!.id);
    expect(sandbox.calls).toEqual([{ op: 'authorize', key: 'chk_1:authorize' }]);
    expect(stripe.calls).toEqual([{ op: 'authorize', key: `chk_1:${second.id}:authorize` }]);
    expect(checkouts.events.map((event) => [event.type, event.data?.['connector'], event.data?.['failover_reason']])).toEqual([
      ['payment_started', 'stripe', 'psp_unavailable'],
      ['authorized', undefined, undefined],
    ]);
  });

  it.each(['do_not_honor', 'processing_error', 'try_again_later'])(
    'moves to the next connector after the soft decline %s, both declines on the timeline',
    async (code) => {
      // Prepare
      sandbox.script.push(new PaymentDeclinedError(code));
      // Act
      const result = await authorizePayment(deps, input);
      // Assess
      expect(result.pspReference).toBe('auth_stripe_1');
      expect(attemptsOf(await stored())).toEqual([
        { connector: 'sandbox', status: 'failed', failureCode: code },
        { connector: 'stripe', status: 'authorized' },
      ]);
      expect(checkouts.events.map((event) => event.type)).toEqual(['authorization_declined', 'payment_started', 'authorized']);
    },
  );

  it('records a soft decline on each connector and throws the last one when every connector declines', async () => {
    // Prepare
    sandbox.script.push(new PaymentDeclinedError('do_not_honor'));
    stripe.script.push(new PaymentDeclinedError('try_again_later'));
    // Act
    const run = authorizePayment(deps, input);
    // Assess
    await expect(run).rejects.toThrow(/try_again_later/);
    expect(attemptsOf(await stored())).toEqual([
      { connector: 'sandbox', status: 'failed', failureCode: 'do_not_honor' },
      { connector: 'stripe', status: 'failed', failureCode: 'try_again_later' },
    ]);
    expect(checkouts.events.filter((event) => event.type === 'authorization_declined')).toHaveLength(2);
    expect((await stored()).tries).toBeUndefined(); // still the first try: failover does not use up max_payment_attempts
  });

  it('settles a timed-out attempt from its PSP before the next starts, and fails over when nothing was authorized', async () => {
    // Prepare
    sandbox.script.push(new PspTimeoutError('no answer'));
    // Act
    const result = await authorizePayment(deps, input);
    // Assess
    expect(result.pspReference).toBe('auth_stripe_1');
    expect(attemptsOf(await stored())).toEqual([
      { connector: 'sandbox', status: 'failed', failureCode: 'psp_timeout' },
      { connector: 'stripe', status: 'authorized' },
    ]);
    expect(sandbox.calls.map((call) => call.op)).toEqual(['authorize', 'find']);
  });

  it('keeps a timed-out attempt its PSP did authorize as the one, with no call to the next connector', async () => {
    // Prepare
    sandbox.script.push('authorize_then_time_out');
    // Act
    const result = await authorizePayment(deps, input);
    // Assess
    expect(result).toMatchObject({ pspReference: 'auth_sandbox_1', authorizedAmount: 10050 });
    expect(attemptsOf(await stored())).toEqual([{ connector: 'sandbox', status: 'authorized' }]);
    expect(stripe.calls).toEqual([]);
  });
});

describe('no failover', () => {
  it.each(['insufficient_funds', 'stolen_card', 'expired_card', 'incorrect_cvc', 'card_declined'])(
    'stops at the first connector on the hard (or unknown) decline %s',
    async (code) => {
      // Prepare
      sandbox.script.push(new PaymentDeclinedError(code));
      // Act
      const run = authorizePayment(deps, input);
      // Assess
      await expect(run).rejects.toBeInstanceOf(PaymentDeclinedError);
      expect(attemptsOf(await stored())).toEqual([{ connector: 'sandbox', status: 'failed', failureCode: code }]);
      expect(stripe.calls).toEqual([]);
    },
  );

  it('leaves an unavailable PSP to the state machine when the routing has failover off', async () => {
    // Prepare
    await merchants.updateRouting('mer_1', { ...FAILOVER, failover: false });
    sandbox.script.push(new PspUnavailableError('503'));
    // Act
    const run = authorizePayment(deps, input);
    // Assess
    await expect(run).rejects.toBeInstanceOf(PspUnavailableError);
    expect(attemptsOf(await stored())).toEqual([{ connector: 'sandbox', status: 'authorizing' }]);
    expect(stripe.calls).toEqual([]);
  });

  it('retries the last connector of the route with the same key instead of failing it over', async () => {
    // Prepare
    sandbox.script.push(new PspUnavailableError('503'));
    stripe.script.push(new PspUnavailableError('503'));
    // Act
    await expect(authorizePayment(deps, input)).rejects.toBeInstanceOf(PspUnavailableError);
    const retried = await authorizePayment(deps, input);
    // Assess
    expect(retried.pspReference).toBe('auth_stripe_1');
    expect(new Set(stripe.calls.map((call) => call.key)).size).toBe(1);
    expect(stripe.calls).toHaveLength(2);
    expect(attemptsOf(await stored()).map((attempt) => attempt.status)).toEqual(['failed', 'authorized']);
  });

  it('does not settle a timed-out last attempt by status query: the same-key retry does (single-connector behaviour)', async () => {
    // Prepare
    await checkouts.updatePayment(
      'chk_1',
      { ...(await stored()), route: ['sandbox'] },
      (await checkouts.getCheckout('chk_1'))!.version,
    );
    sandbox.script.push(new PspTimeoutError('no answer'));
    // Act
    await expect(authorizePayment(deps, input)).rejects.toBeInstanceOf(PspTimeoutError);
    // Assess
    expect(attemptsOf(await stored())).toEqual([{ connector: 'sandbox', status: 'outcome_unknown' }]);
    expect(sandbox.calls.map((call) => call.op)).toEqual(['authorize']);
  });
});

describe('a crash between attempts', () => {
  it('resumes at the recorded soft decline without asking the first PSP again, starting one next attempt', async () => {
    // Prepare: the failover write is lost once (the Lambda died after recording the decline)
    sandbox.script.push(new PaymentDeclinedError('do_not_honor'));
    const write = checkouts.updatePayment.bind(checkouts);
    let crashed = false;
    checkouts.updatePayment = async (id, payment, version, event) => {
      if (event?.type === 'payment_started' && !crashed) {
        crashed = true;
        throw new StoreUnavailableError('crash');
      }
      return write(id, payment, version, event);
    };
    await expect(authorizePayment(deps, input)).rejects.toBeInstanceOf(StoreUnavailableError);
    // Act
    const result = await authorizePayment(deps, input);
    // Assess
    expect(result.pspReference).toBe('auth_stripe_1');
    expect(sandbox.calls).toHaveLength(1);
    expect(stripe.calls).toHaveLength(1);
    expect(attemptsOf(await stored()).map((attempt) => attempt.connector)).toEqual(['sandbox', 'stripe']);
  });

  it('replays the next connector with the same key after a crash that lost its answer: one authorization there', async () => {
    // Prepare: sandbox unavailable; stripe authorizes but the step dies before recording it
    sandbox.script.push(new PspUnavailableError('503'));
    const write = checkouts.updatePayment.bind(checkouts);
    let crashed = false;
    checkouts.updatePayment = async (id, payment, version, event) => {
      if (event?.type === 'authorized' && !crashed) {
        crashed = true;
        throw new StoreUnavailableError('crash');
      }
      return write(id, payment, version, event);
    };
    await expect(authorizePayment(deps, input)).rejects.toBeInstanceOf(StoreUnavailableError);
    // Act
    const result = await authorizePayment(deps, input);
    // Assess
    expect(result.pspReference).toBe('auth_stripe_1');
    expect(stripe.books.size).toBe(1);
    expect(stripe.calls.map((call) => call.key)).toEqual([stripe.calls[0]!.key, stripe.calls[0]!.key]);
    expect(sandbox.calls).toHaveLength(1);
    expect((await stored()).attempts).toHaveLength(2);
  });

  it('settles an outcome_unknown attempt left by a crash before starting the next, and keeps it when authorized', async () => {
    // Prepare: the first run timed out at sandbox (which did authorize) and died before settling
    sandbox.script.push('authorize_then_time_out');
    const find = sandbox.findAuthorizations.bind(sandbox);
    sandbox.findAuthorizations = async () => {
      sandbox.findAuthorizations = find;
      throw new StoreUnavailableError('crash');
    };
    await expect(authorizePayment(deps, input)).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(attemptsOf(await stored())).toEqual([{ connector: 'sandbox', status: 'outcome_unknown' }]);
    // Act
    const result = await authorizePayment(deps, input);
    // Assess
    expect(result.pspReference).toBe('auth_sandbox_1');
    expect(attemptsOf(await stored())).toEqual([{ connector: 'sandbox', status: 'authorized' }]);
    expect(sandbox.books.size).toBe(1);
    expect(stripe.calls).toEqual([]);
  });

  it('uses try-scoped keys for a failover attempt of a later try', async () => {
    // Prepare
    await checkouts.updatePayment('chk_1', { ...(await stored()), tries: 2 }, (await checkouts.getCheckout('chk_1'))!.version);
    sandbox.script.push(new PspUnavailableError('503'));
    // Act
    await authorizePayment(deps, input);
    // Assess
    const second = (await stored()).attempts[1]!;
    expect(sandbox.calls[0]?.key).toBe('chk_1:t2:authorize');
    expect(stripe.calls[0]?.key).toBe(`chk_1:t2:${second.id}:authorize`);
  });
});

describe('the payment method CVC across failover', () => {
  it('keeps the CVC through a soft decline that fails over, and destroys it after the next connector answered', async () => {
    // Prepare: a vaulted card (pm_) whose CVC the vault drops on destroyCvc
    let cvc: string | undefined = '123';
    const paymentMethod = {
      id: 'pm_1',
      merchantId: 'mer_1',
      type: 'card',
      status: 'active',
      cvcAvailable: true,
      createdAt: '2026-01-01T00:00:00.000Z',
      card: { brand: 'visa', last4: '4242', expMonth: 12, expYear: 2040, fingerprint: 'fp' },
    } satisfies PaymentMethod;
    deps = {
      ...deps,
      vault: {
        revealForAuthorization: async () => ({
          paymentMethod,
          card: new SensitiveCard('pm_1', '4242424242424242', 12, 2040, cvc),
        }),
        destroyCvc: async () => {
          cvc = undefined;
        },
      },
    } as SagaPorts;
    const { paymentToken: _token, ...withoutToken } = await stored();
    await checkouts.updatePayment(
      'chk_1',
      { ...withoutToken, paymentMethodId: 'pm_1' },
      (await checkouts.getCheckout('chk_1'))!.version,
    );
    sandbox.script.push(new PaymentDeclinedError('do_not_honor'));
    // Act
    await authorizePayment(deps, input);
    // Assess
    expect(sandbox.cvcs).toEqual(['123']);
    expect(stripe.cvcs).toEqual(['123']);
    expect(cvc).toBeUndefined();
  });
});

describe('a routing rule that requires 3-D Secure', () => {
  it('asks every attempt of the payment for 3-D Secure, the failover attempt too', async () => {
    // Prepare
    await checkouts.updatePayment(
      'chk_1',
      { ...(await stored()), threeDsRequired: true },
      (await checkouts.getCheckout('chk_1'))!.version,
    );
    sandbox.script.push(new PspUnavailableError('503'));
    // Act
    await authorizePayment(deps, input);
    // Assess
    expect(sandbox.threeDsRequired).toEqual([true]);
    expect(stripe.threeDsRequired).toEqual([true]);
  });

  it('does not ask for it when the route came from a rule without three_ds', async () => {
    // Act
    await authorizePayment(deps, input);
    // Assess
    expect(sandbox.threeDsRequired).toEqual([false]);
  });
});
