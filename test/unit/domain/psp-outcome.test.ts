import { describe, expect, it } from 'vitest';
import { parsePspCallback, signPspCallback, verifyPspSignature } from '../../../lambdas/connectors/sandbox/callbacks';
import { stateFromPspStatus } from '../../../lambdas/connectors/sandbox/status';
import { isForwardTransition, type PspAuthorizationState } from '../../../lambdas/domain/psp-outcome';

const SECRET = 'pspcb_unit_secret';
const NOW = new Date('2026-01-01T12:00:00Z');
const T = Math.floor(NOW.getTime() / 1000);

describe('authorization state transitions (monotonic)', () => {
  it.each<[PspAuthorizationState | undefined, PspAuthorizationState, boolean]>([
    [undefined, 'pending', true],
    ['pending', 'authorized', true],
    ['authorized', 'pending', false],
    ['authorized', 'captured', true],
    ['authorized', 'voided', true],
    ['voided', 'authorized', false],
    ['voided', 'captured', false],
    ['captured', 'voided', false],
    ['captured', 'disputed', true],
    ['authorized', 'disputed', false],
    ['declined', 'authorized', false],
    ['authorized', 'declined', false],
  ])('%s -> %s is forward: %s', (from, to, expected) => {
    // Act / Assess
    expect(isForwardTransition(from, to)).toBe(expected);
  });

  it('maps PSP status strings onto states', () => {
    expect(['pending', 'authorized', 'partially_captured', 'captured', 'refunded', 'voided'].map(stateFromPspStatus)).toEqual([
      'pending',
      'authorized',
      'authorized',
      'captured',
      'captured',
      'voided',
    ]);
    expect(stateFromPspStatus('weird')).toBeUndefined();
  });
});

describe('callback signatures', () => {
  const body = '{"id":"pevt_1"}';

  it('accepts the right secret within the tolerance, also as the previous secret of a rotation', () => {
    // Prepare
    const header = signPspCallback(SECRET, T - 60, body);
    // Act / Assess
    expect(verifyPspSignature(header, body, [SECRET], NOW)).toEqual({ ok: true, timestamp: T - 60 });
    expect(verifyPspSignature(header, body, ['new_secret', SECRET], NOW).ok).toBe(true);
  });

  it('refuses a missing, malformed, stale, tampered or wrongly keyed signature, saying which', () => {
    // Prepare
    const good = signPspCallback(SECRET, T, body);
    // Act / Assess
    expect(verifyPspSignature(undefined, body, [SECRET], NOW)).toEqual({ ok: false, reason: 'missing' });
    expect(verifyPspSignature('v1=zz', body, [SECRET], NOW)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyPspSignature(signPspCallback(SECRET, T - 301, body), body, [SECRET], NOW)).toEqual({
      ok: false,
      reason: 'stale',
    });
    expect(verifyPspSignature(good, `${body} `, [SECRET], NOW)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyPspSignature(good, body, ['other'], NOW)).toEqual({ ok: false, reason: 'mismatch' });
  });
});

describe('parsePspCallback', () => {
  it('parses a sandbox callback and rejects one with a bad type or amount', () => {
    // Prepare
    const callback = {
      id: 'pevt_1',
      type: 'dispute.created',
      created: NOW.toISOString(),
      sequence: 4,
      data: {
        authorization_id: 'auth_1',
        reference: 'chk_1',
        amount: 1000,
        currency: 'USD',
        dispute_id: 'op_1',
        reason: 'fraudulent',
      },
    };
    // Act / Assess
    expect(parsePspCallback(callback)).toEqual({
      id: 'pevt_1',
      type: 'dispute.created',
      created: NOW.toISOString(),
      sequence: 4,
      authorizationId: 'auth_1',
      reference: 'chk_1',
      amount: 1000,
      currency: 'USD',
      disputeId: 'op_1',
      reason: 'fraudulent',
    });
    expect(parsePspCallback({ ...callback, type: 'charge.refunded' })).toBeUndefined();
    expect(parsePspCallback({ ...callback, data: { ...callback.data, amount: 10.5 } })).toBeUndefined();
  });
});
