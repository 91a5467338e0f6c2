/**
 * The payment attempt's status machine (DESIGN Part 2): which moves it allows, which statuses are
 * final, when a new attempt may start, and how a payment is read through its attempts (including
 * items written before attempts were stored).
 */
import { describe, expect, it } from 'vitest';
import { paymentBalances } from '../../../lambdas/domain/authorization-hold';
import {
  ATTEMPT_STATUSES,
  authorizationOf,
  canMoveAttempt,
  canStartAttempt,
  failUnansweredAttempt,
  holdsFunds,
  isTerminalAttempt,
  isVoided,
  newAttempt,
  paymentFromFlags,
  pendingAuthorizationOf,
  recordAttemptEvent,
  recordAttemptEvents,
  transitionAttempt,
  type AttemptStatus,
  type PaymentAttempt,
} from '../../../lambdas/domain/payment-attempt';

const AT = '2026-01-01T00:00:00.000Z';
const LATER = '2026-01-01T00:00:05.000Z';
const attempt = (overrides: Partial<PaymentAttempt> = {}): PaymentAttempt => ({
  ...newAttempt({ id: 'att_1', connector: 'sandbox', amount: 10050, currency: 'USD', at: AT }),
  ...overrides,
});
const payment = (attempts: PaymentAttempt[]) => ({ paymentToken: 'tok_1', attempts, capturedAmount: 0 });

const ALLOWED = new Set([
  'authorizing>requires_action',
  'authorizing>authorization_pending',
  'authorizing>authorized',
  'authorizing>failed',
  'authorizing>outcome_unknown',
  'authorizing>voided',
  'requires_action>authorization_pending',
  'requires_action>authorized',
  'requires_action>failed',
  'requires_action>outcome_unknown',
  'requires_action>voided',
  'authorization_pending>authorized',
  'authorization_pending>failed',
  'authorization_pending>outcome_unknown',
  'authorization_pending>voided',
  'outcome_unknown>authorization_pending',
  'outcome_unknown>authorized',
  'outcome_unknown>failed',
  'outcome_unknown>voided',
  'outcome_unknown>captured',
  'outcome_unknown>partially_captured',
  'authorized>captured',
  'authorized>partially_captured',
  'authorized>voided',
  'partially_captured>captured',
  'partially_captured>partially_captured',
  'partially_captured>voided',
]);

describe('the attempt status machine', () => {
  const pairs: [AttemptStatus, AttemptStatus][] = ATTEMPT_STATUSES.flatMap((from) =>
    ATTEMPT_STATUSES.map((to): [AttemptStatus, AttemptStatus] => [from, to]),
  );

  it.each(pairs)('%s -> %s is allowed only as the table says', (from, to) => {
    expect(canMoveAttempt(from, to)).toBe(ALLOWED.has(`${from}>${to}`));
  });

  it('has exactly three terminal statuses (captured, voided, failed), none with exits', () => {
    // Act
    const terminal = ATTEMPT_STATUSES.filter(isTerminalAttempt);
    // Assess
    expect([...terminal].sort()).toEqual(['captured', 'failed', 'voided']);
    for (const status of terminal) expect(ATTEMPT_STATUSES.some((to) => canMoveAttempt(status, to))).toBe(false);
  });

  it('counts only authorized and (partially) captured attempts as holding funds', () => {
    expect(ATTEMPT_STATUSES.filter(holdsFunds).sort()).toEqual(['authorized', 'captured', 'partially_captured']);
  });
});

describe('transitionAttempt', () => {
  it('records the reference and the authorized amount on authorization', () => {
    // Act
    const result = transitionAttempt(attempt(), { type: 'authorized', pspReference: 'auth_1', amount: 10050 }, LATER);
    // Assess
    expect(result).toEqual({
      kind: 'moved',
      attempt: { ...attempt(), status: 'authorized', pspReference: 'auth_1', authorizedAmount: 10050, updatedAt: LATER },
    });
  });

  it('is unchanged when the attempt already stands where the event leads (a re-run writes nothing)', () => {
    // Prepare
    const authorized = attempt({ status: 'authorized', pspReference: 'auth_1', authorizedAmount: 10050 });
    // Act / Assess
    expect(transitionAttempt(authorized, { type: 'authorized', pspReference: 'auth_1', amount: 10050 }, LATER)).toEqual({
      kind: 'unchanged',
      attempt: authorized,
    });
  });

  it('refuses a move the machine does not allow and says why', () => {
    // Prepare
    const voided = attempt({ status: 'voided', pspReference: 'auth_1', authorizedAmount: 10050 });
    // Act
    const result = transitionAttempt(voided, { type: 'captured', capturedTotal: 10050 }, LATER);
    // Assess
    expect(result).toEqual({ kind: 'refused', attempt: voided, reason: 'Attempt att_1 cannot move from voided to captured' });
  });

  it('tells a partial capture from a full one by the authorized amount', () => {
    // Prepare
    const authorized = attempt({ status: 'authorized', pspReference: 'auth_1', authorizedAmount: 10050 });
    // Act
    const partial = transitionAttempt(authorized, { type: 'captured', capturedTotal: 4000 }, LATER);
    const full = transitionAttempt(authorized, { type: 'captured', capturedTotal: 10050 }, LATER);
    // Assess
    expect(partial.attempt.status).toBe('partially_captured');
    expect(full.attempt.status).toBe('captured');
  });

  it('keeps the decline code of a declined attempt', () => {
    expect(transitionAttempt(attempt(), { type: 'declined', failureCode: 'insufficient_funds' }, LATER).attempt).toMatchObject({
      status: 'failed',
      failureCode: 'insufficient_funds',
    });
  });
});

describe('the payment read through its attempts', () => {
  it('starts a new attempt only when every earlier one failed or was voided', () => {
    expect(canStartAttempt([])).toBe(true);
    expect(canStartAttempt([attempt({ status: 'failed' }), attempt({ id: 'att_2', status: 'voided' })])).toBe(true);
    expect(canStartAttempt([attempt({ status: 'outcome_unknown' })])).toBe(false);
    expect(canStartAttempt([attempt({ status: 'authorized' })])).toBe(false);
  });

  it('knows the pending authorization until it is authorized, then the authorization', () => {
    // Prepare
    const pending = recordAttemptEvent(
      payment([attempt()]),
      { type: 'authorization_pending', pspReference: 'auth_1' },
      LATER,
    ).payment;
    // Act
    const authorized = recordAttemptEvent(pending, { type: 'authorized', pspReference: 'auth_1', amount: 10050 }, LATER).payment;
    // Assess
    expect(pendingAuthorizationOf(pending)).toBe('auth_1');
    expect(authorizationOf(pending)).toBeUndefined();
    expect(pendingAuthorizationOf(authorized)).toBeUndefined();
    expect(authorizationOf(authorized)).toEqual({ pspReference: 'auth_1', amount: 10050 });
  });

  it('settles a lost answer the PSP later reports captured, through authorized', () => {
    // Act
    const { payment: settled, transition } = recordAttemptEvents(
      payment([attempt({ status: 'outcome_unknown' })]),
      [
        { type: 'authorized', pspReference: 'auth_1', amount: 10050 },
        { type: 'captured', capturedTotal: 10050 },
      ],
      LATER,
    );
    // Assess
    expect(transition.kind).toBe('moved');
    expect(settled.attempts[0]).toMatchObject({ status: 'captured', pspReference: 'auth_1', authorizedAmount: 10050 });
  });

  it('fails an attempt the PSP never answered when the payment fails, and leaves a voided one voided', () => {
    // Act
    const unanswered = failUnansweredAttempt(payment([attempt()]), 'psp_error', LATER);
    const voided = payment([attempt({ status: 'voided', pspReference: 'auth_1', authorizedAmount: 10050 })]);
    // Assess
    expect(unanswered.attempts[0]).toMatchObject({ status: 'failed', failureCode: 'psp_error' });
    expect(failUnansweredAttempt(voided, 'inventory_rejected', LATER)).toBe(voided);
    expect(isVoided(voided)).toBe(true);
  });

  it.each([
    [
      { paymentToken: 't', connector: 'sandbox', authorizedAmount: 0, capturedAmount: 0, voided: false },
      'authorizing',
      undefined,
    ],
    [
      {
        paymentToken: 't',
        connector: 'sandbox',
        authorizedAmount: 0,
        capturedAmount: 0,
        voided: false,
        pendingPspReference: 'auth_p',
      },
      'authorization_pending',
      'auth_p',
    ],
    [
      {
        paymentToken: 't',
        connector: 'sandbox',
        pspReference: 'auth_1',
        authorizedAmount: 10050,
        capturedAmount: 0,
        voided: false,
      },
      'authorized',
      'auth_1',
    ],
    [
      {
        paymentToken: 't',
        connector: 'sandbox',
        pspReference: 'auth_1',
        authorizedAmount: 10050,
        capturedAmount: 10050,
        voided: false,
      },
      'captured',
      'auth_1',
    ],
    [
      {
        paymentToken: 't',
        connector: 'sandbox',
        pspReference: 'auth_1',
        authorizedAmount: 10050,
        capturedAmount: 0,
        voided: true,
      },
      'voided',
      'auth_1',
    ],
  ] as const)('reads an item stored with flags (%o) as one %s attempt', (flags, status, pspReference) => {
    // Act
    const read = paymentFromFlags({ id: 'chk_1', amount: 10050, currency: 'USD', createdAt: AT, status: 'processing' }, flags);
    // Assess
    expect(read.attempts).toHaveLength(1);
    expect(read.attempts[0]).toMatchObject({ connector: 'sandbox', status, amount: 10050, currency: 'USD', createdAt: AT });
    expect(read.attempts[0]?.pspReference).toBe(pspReference);
    expect(read).not.toHaveProperty('voided');
    expect(read).not.toHaveProperty('capturedAmount'); // no instrument: the captured attempt carries the amount
    expect(paymentBalances(read, undefined).capturedAmount).toBe(flags.capturedAmount);
  });
});
