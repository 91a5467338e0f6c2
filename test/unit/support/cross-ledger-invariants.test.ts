/**
 * The cross-connector money invariant (test/support/cross-ledger-invariants.ts) on hand-made
 * ledgers of two PSPs: one capture over both, every other authorization voided on its own PSP.
 */
import { describe, expect, it } from 'vitest';
import { crossLedgerViolations, type ConnectorLedgerOperation } from '../../support/cross-ledger-invariants';

function op(
  connector: string,
  type: ConnectorLedgerOperation['type'],
  authorizationId: string,
  status: ConnectorLedgerOperation['status'] = 'succeeded',
): ConnectorLedgerOperation {
  return {
    connector,
    id: `op_${connector}_${type}_${authorizationId}`,
    type,
    amount: 1000,
    currency: 'USD',
    status,
    reference: 'chk_1',
    idempotency_key: `chk_1:${type}`,
    authorization_id: status === 'succeeded' ? authorizationId : null,
    failure_code: status === 'succeeded' ? null : 'do_not_honor',
    created: '2026-01-01T00:00:00.000Z',
  };
}

const checkout = (status: string) => ({ id: 'chk_1', amount: 1000, status });

describe('crossLedgerViolations', () => {
  it('accepts a soft decline at one PSP followed by a capture at the other', () => {
    // Prepare
    const ops = [
      op('sandbox', 'authorize', 'auth_1', 'failed'),
      op('stripe', 'authorize', 'pi_1'),
      op('stripe', 'capture', 'pi_1'),
    ];
    // Act
    const violations = crossLedgerViolations(checkout('succeeded'), ops);
    // Assess
    expect(violations).toEqual([]);
  });

  it('accepts an authorization voided at one PSP and the payment captured at the other', () => {
    // Prepare
    const ops = [
      op('sandbox', 'authorize', 'auth_1'),
      op('sandbox', 'void', 'auth_1'),
      op('stripe', 'authorize', 'pi_1'),
      op('stripe', 'capture', 'pi_1'),
    ];
    // Act
    const violations = crossLedgerViolations(checkout('succeeded'), ops);
    // Assess
    expect(violations).toEqual([]);
  });

  it('reports a capture on each PSP as a double capture', () => {
    // Prepare
    const ops = [
      op('sandbox', 'authorize', 'auth_1'),
      op('sandbox', 'capture', 'auth_1'),
      op('stripe', 'authorize', 'pi_1'),
      op('stripe', 'capture', 'pi_1'),
    ];
    // Act
    const violations = crossLedgerViolations({ id: 'chk_1', amount: 2000, status: 'succeeded' }, ops);
    // Assess
    expect(violations).toEqual(['chk_1: captured 2 times on sandbox/auth_1, stripe/pi_1']);
  });

  it('reports an authorization left open on the other PSP once the checkout is terminal', () => {
    // Prepare: a void at stripe does not release the sandbox authorization
    const ops = [op('sandbox', 'authorize', 'auth_1'), op('stripe', 'authorize', 'pi_1'), op('stripe', 'void', 'pi_1')];
    // Act
    const terminal = crossLedgerViolations(checkout('failed'), ops);
    const inFlight = crossLedgerViolations(checkout('processing'), ops);
    // Assess
    expect(terminal).toEqual(['chk_1: authorization sandbox/auth_1 left open (neither captured nor voided)']);
    expect(inFlight).toEqual([]);
  });
});
