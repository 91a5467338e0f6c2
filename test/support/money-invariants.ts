/**
 * The money invariants of docs/design.md, checked against the sandbox PSP's own ledger and the
 * checkout's timeline: never captured without confirmation, never captured twice, no
 * authorization left neither captured nor voided, captured total <= amount (and = amount exactly
 * when succeeded). Returns the violations as sentences so e2e tests and the chaos run share it.
 *
 * Manual capture (`captureMethod: 'manual'`): a succeeded checkout may hold a live authorization
 * with less (or nothing) captured, and the merchant may capture it in several parts and have the
 * remainder voided at expiry; but the hold still needs the inventory confirmation (and the
 * `authorization_held` hand-over), and the captured total stays <= amount.
 */
import type { LedgerOperation } from '../../local/sandbox-psp/client';

export interface CheckoutForInvariants {
  id: string;
  amount: number;
  status: string;
  /** Timeline rows as GET /v1/checkouts/{id} returns them. */
  events: { type: string; at: string }[];
  /** Whether the merchant had inventory confirmation enabled when the payment ran. */
  confirmationRequired: boolean;
  /** `manual`: the saga held the authorization for the merchant instead of capturing. Default automatic. */
  captureMethod?: 'automatic' | 'manual';
}

export function moneyInvariantViolations(checkout: CheckoutForInvariants, ledger: LedgerOperation[]): string[] {
  const violations: string[] = [];
  const ok = ledger.filter((op) => op.reference === checkout.id && op.status === 'succeeded');
  const authorizations = ok.filter((op) => op.type === 'authorize');
  const captures = ok.filter((op) => op.type === 'capture');
  const voids = ok.filter((op) => op.type === 'void');
  const captured = captures.reduce((sum, op) => sum + op.amount, 0);

  const manual = checkout.captureMethod === 'manual';
  const heldForMerchant = manual && checkout.status === 'succeeded';

  if (authorizations.length > 1) violations.push(`${checkout.id}: ${authorizations.length} authorizations`);
  if (captures.length > 1 && !manual) violations.push(`${checkout.id}: captured ${captures.length} times`);
  if (captured > checkout.amount) violations.push(`${checkout.id}: captured ${captured} > amount ${checkout.amount}`);
  if (
    authorizations.length === 1 &&
    captures.length === 0 &&
    voids.length === 0 &&
    isTerminal(checkout.status) &&
    !heldForMerchant
  ) {
    violations.push(`${checkout.id}: authorization left neither captured nor voided`);
  }
  if (captures.length > 0 && voids.length > 0 && !manual) violations.push(`${checkout.id}: both captured and voided`);
  if (checkout.status === 'succeeded' && captured !== checkout.amount && !manual) {
    violations.push(`${checkout.id}: succeeded with ${captured} captured of ${checkout.amount}`);
  }
  if (heldForMerchant && authorizations.length === 1) {
    if (!checkout.events.some((event) => event.type === 'authorization_held')) {
      violations.push(`${checkout.id}: manual capture succeeded without handing the authorization over`);
    }
    if (checkout.confirmationRequired && !checkout.events.some((event) => event.type === 'inventory_confirmed')) {
      violations.push(`${checkout.id}: authorization held for manual capture without an inventory confirmation`);
    }
  }
  if (checkout.status === 'failed' && captured !== 0) violations.push(`${checkout.id}: failed but ${captured} captured`);
  if (captures.length > 0 && checkout.confirmationRequired) {
    const confirmed = checkout.events.find((event) => event.type === 'inventory_confirmed');
    const capturedAt = captures[0]!.created;
    if (!confirmed) violations.push(`${checkout.id}: captured without an inventory confirmation`);
    else if (Date.parse(confirmed.at) > Date.parse(capturedAt)) {
      violations.push(`${checkout.id}: captured at ${capturedAt} before the confirmation at ${confirmed.at}`);
    }
  }
  return violations;
}

function isTerminal(status: string): boolean {
  return status === 'succeeded' || status === 'failed' || status === 'expired' || status === 'canceled';
}
