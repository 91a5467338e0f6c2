/**
 * Manual capture's pure rules: the expiry policy from env strings, the warning and expiry times,
 * when a checkout may succeed with its authorization held, the sweep's next step, and the payment
 * amounts overlaid from the instrument.
 */
import { describe, expect, it } from 'vitest';
import {
  authorizationDeadlines,
  DEFAULT_AUTHORIZATION_POLICY,
  isHeldForManualCapture,
  nextHoldStep,
  parseAuthorizationPolicy,
  paymentBalances,
  paymentWithInstrumentBalances,
} from '../../../lambdas/domain/authorization-hold';
import { newAuthorizedInstrument } from '../../../lambdas/domain/instrument-ledger';
import { isVoided, type FlaggedPayment } from '../../../lambdas/domain/payment-attempt';
import { aPayment } from '../../support/payments';
import { aCheckout } from '../fakes';

const heldFacts: FlaggedPayment = {
  paymentToken: 'tok_1',
  connector: 'fake',
  pspReference: 'auth_1',
  authorizedAmount: 10050,
  capturedAmount: 0,
  voided: false,
  inventoryConfirmation: 'confirmed',
  instrumentId: 'fi_1',
  authorizationExpiresAt: '2026-01-08T00:00:00.000Z',
};
const held = aPayment(heldFacts);

describe('parseAuthorizationPolicy', () => {
  it('defaults to 7 days with a 24 h warning when unset', () => {
    expect(parseAuthorizationPolicy(undefined, '')).toEqual({ validitySeconds: 604_800, warningSeconds: 86_400 });
    expect(DEFAULT_AUTHORIZATION_POLICY).toEqual({ validitySeconds: 604_800, warningSeconds: 86_400 });
  });

  it('takes compressed values and caps the warning at the validity', () => {
    expect(parseAuthorizationPolicy('20', '8')).toEqual({ validitySeconds: 20, warningSeconds: 8 });
    expect(parseAuthorizationPolicy('20', '90')).toEqual({ validitySeconds: 20, warningSeconds: 20 });
  });

  it.each(['0', '-5', '1.5', 'seven days'])('refuses %j at cold start', (raw) => {
    expect(() => parseAuthorizationPolicy(raw, undefined)).toThrow(/positive whole seconds/);
  });
});

describe('authorizationDeadlines', () => {
  it('warns `warning` before the expiry, which is `validity` after the authorization', () => {
    const deadlines = authorizationDeadlines('2026-01-01T00:00:00.000Z', DEFAULT_AUTHORIZATION_POLICY);
    expect(deadlines).toEqual({ warnAt: '2026-01-07T00:00:00.000Z', expiresAt: '2026-01-08T00:00:00.000Z' });
  });

  it('never warns before the authorization itself', () => {
    const deadlines = authorizationDeadlines('2026-01-01T00:00:00.000Z', { validitySeconds: 10, warningSeconds: 10 });
    expect(deadlines.warnAt).toBe('2026-01-01T00:00:00.000Z');
  });
});

describe('isHeldForManualCapture', () => {
  it('holds a confirmed, handed-over, unvoided manual authorization', () => {
    expect(isHeldForManualCapture(aCheckout({ captureMethod: 'manual', payment: held }))).toBe(true);
    expect(
      isHeldForManualCapture(aCheckout({ captureMethod: 'manual', payment: { ...held, inventoryConfirmation: 'not_required' } })),
    ).toBe(true);
  });

  it.each([
    ['automatic capture', { captureMethod: undefined, payment: held }],
    ['never confirmed', { captureMethod: 'manual' as const, payment: { ...held, inventoryConfirmation: 'pending' as const } }],
    ['rejected', { captureMethod: 'manual' as const, payment: { ...held, inventoryConfirmation: 'rejected' as const } }],
    ['voided', { captureMethod: 'manual' as const, payment: aPayment({ ...heldFacts, voided: true }) }],
    ['not handed over', { captureMethod: 'manual' as const, payment: { ...held, authorizationExpiresAt: undefined } }],
    ['never authorized', { captureMethod: 'manual' as const, payment: aPayment({ ...heldFacts, pspReference: undefined }) }],
  ])('does not hold when %s', (_why, overrides) => {
    expect(isHeldForManualCapture(aCheckout(overrides))).toBe(false);
  });
});

describe('nextHoldStep', () => {
  const hold = { stage: 'held' as const, warnAt: '2026-01-07T00:00:00.000Z', expiresAt: '2026-01-08T00:00:00.000Z' };

  it('waits, warns, then expires', () => {
    expect(nextHoldStep(hold, new Date('2026-01-06T23:59:59.999Z'))).toBe('wait');
    expect(nextHoldStep(hold, new Date('2026-01-07T00:00:00.000Z'))).toBe('warn');
    expect(nextHoldStep({ ...hold, stage: 'warned' }, new Date('2026-01-07T12:00:00.000Z'))).toBe('wait');
    expect(nextHoldStep({ ...hold, stage: 'warned' }, new Date('2026-01-08T00:00:00.000Z'))).toBe('expire');
  });

  it('expires a hold never warned (the sweep was down), and does nothing once done', () => {
    expect(nextHoldStep(hold, new Date('2026-01-09T00:00:00.000Z'))).toBe('expire');
    expect(nextHoldStep({ ...hold, stage: 'done' }, new Date('2026-01-09T00:00:00.000Z'))).toBe('none');
  });
});

describe('paymentWithInstrumentBalances', () => {
  it('takes captured, capturable and voided from the instrument the merchant operates', () => {
    // Prepare: 10050 authorized, 4000 captured by the merchant
    const instrument = newAuthorizedInstrument({
      id: 'fi_1',
      merchantId: 'mer_1',
      type: 'authorized',
      amount: 10050,
      currency: 'USD',
      connector: 'fake',
      pspReference: 'auth_1',
      pspPaymentReference: 'chk_1',
      now: new Date('2026-01-01T00:00:00.000Z'),
    });
    instrument.capturableAmount = 6050;
    instrument.refundableAmount = 4000;
    instrument.operations['iop_1'] = {
      id: 'iop_1',
      kind: 'capture',
      pspAction: 'capture',
      pspAmount: 4000,
      pspIdempotencyKey: 'fi_1:iop_1',
      status: 'succeeded',
      reservation: { capturableDelta: -4000, refundableDelta: 0, pendingCapturesDelta: 1 },
      onSuccess: { capturableDelta: 0, refundableDelta: 4000, pendingCapturesDelta: 0 },
      createdAt: '2026-01-02T00:00:00.000Z',
    };
    // Act
    const payment = paymentWithInstrumentBalances(held, instrument);
    // Assess
    expect(paymentBalances(payment, instrument)).toEqual({ capturedAmount: 4000, capturableAmount: 6050 });
    expect(isVoided(payment)).toBe(false);
    expect(paymentBalances(payment, instrument).capturableAmount).toBe(6050);
    const voidedInstrument = { ...instrument, status: 'voided' as const, capturableAmount: 0 };
    const revoked = paymentWithInstrumentBalances(held, voidedInstrument);
    expect(paymentBalances(revoked, voidedInstrument)).toMatchObject({ capturableAmount: 0 });
    expect(isVoided(revoked)).toBe(true);
  });

  it('derives capturable from the saga record without an instrument', () => {
    const capturable = (facts: FlaggedPayment) => paymentBalances(aPayment(facts), undefined).capturableAmount;
    expect(capturable(heldFacts)).toBe(10050);
    expect(capturable({ ...heldFacts, capturedAmount: 10050 })).toBe(0);
    expect(capturable({ ...heldFacts, voided: true })).toBe(0);
    expect(capturable({ ...heldFacts, pspReference: undefined })).toBe(0);
  });
});
