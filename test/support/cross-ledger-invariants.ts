/**
 * The money invariant across connectors (DESIGN Part 2, "Routing and failover"), checked against
 * every PSP's own ledger: per checkout at most one capture over all PSPs, and every authorization
 * other than the captured one voided, so none is left open on either PSP. Each PSP ledger row
 * names its authorization (`authorization_id`: the sandbox PSP's auth_, the Stripe sandbox's pi_),
 * so a capture or void is matched to the authorization it moved, on the same PSP.
 */
import type { LedgerOperation } from '../../local/sandbox-psp/client';

/** A ledger row with the PSP it came from. */
export type ConnectorLedgerOperation = LedgerOperation & { connector: string };

export interface CrossLedgerCheckout {
  id: string;
  amount: number;
  status: string;
}

/** The breaches for one checkout as sentences (empty when it holds); `ops` from every PSP's ledger. */
export function crossLedgerViolations(checkout: CrossLedgerCheckout, ops: readonly ConnectorLedgerOperation[]): string[] {
  const violations: string[] = [];
  const ok = ops.filter((op) => op.reference === checkout.id && op.status === 'succeeded');
  const captures = ok.filter((op) => op.type === 'capture');
  const capturedAuthorizations = new Set(captures.map((op) => `${op.connector}/${op.authorization_id}`));
  const voided = new Set(ok.filter((op) => op.type === 'void').map((op) => `${op.connector}/${op.authorization_id}`));
  if (capturedAuthorizations.size > 1 || captures.length > 1) {
    violations.push(`${checkout.id}: captured ${captures.length} times on ${[...capturedAuthorizations].join(', ')}`);
  }
  const terminal = ['succeeded', 'failed', 'expired', 'canceled'].includes(checkout.status);
  for (const authorization of ok.filter((op) => op.type === 'authorize')) {
    const key = `${authorization.connector}/${authorization.authorization_id}`;
    if (capturedAuthorizations.has(key) && voided.has(key)) violations.push(`${checkout.id}: ${key} both captured and voided`);
    if (terminal && !capturedAuthorizations.has(key) && !voided.has(key)) {
      violations.push(`${checkout.id}: authorization ${key} left open (neither captured nor voided)`);
    }
  }
  const captured = captures.reduce((sum, op) => sum + op.amount, 0);
  if (captured > checkout.amount) violations.push(`${checkout.id}: captured ${captured} > amount ${checkout.amount}`);
  if (checkout.status === 'succeeded' && captured !== checkout.amount) {
    violations.push(`${checkout.id}: succeeded with ${captured} captured of ${checkout.amount}`);
  }
  if (checkout.status === 'failed' && captured !== 0) violations.push(`${checkout.id}: failed but ${captured} captured`);
  return violations;
}
