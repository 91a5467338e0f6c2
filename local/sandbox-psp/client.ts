/**
 * Small typed calls to the sandbox PSP's non-payment endpoints, for tests, e2e suites and demo
 * scripts: tokenize a test card the way the checkout page does, and read the ledger that proves
 * the money invariants. Payment operations go through lambdas/connectors/sandbox/gateway.ts.
 */
import type { AuthorizationView, LedgerOperation } from './ledger';

export interface TestCardInput {
  number: string;
  exp_month?: number;
  exp_year?: number;
  cvc?: string;
}

/** Tokenizes a card (defaults: expiry December of next year, CVC 123 / 1234 for Amex); returns `tok_...`. */
export async function tokenizeTestCard(
  baseUrl: string,
  card: TestCardInput | string,
  fetchImpl: (
    url: string,
    init: { method: string; headers: Record<string, string>; body: string },
  ) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }> = fetch,
): Promise<string> {
  const input = typeof card === 'string' ? { number: card } : card;
  const isAmex = /^3[47]/.test(input.number);
  const response = await fetchImpl(`${baseUrl}/v1/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      number: input.number,
      exp_month: input.exp_month ?? 12,
      exp_year: input.exp_year ?? new Date().getUTCFullYear() + 1,
      cvc: input.cvc ?? (isAmex ? '1234' : '123'),
    }),
  });
  const body = (await response.json()) as { id?: string; error?: { code: string; message: string } };
  if (!response.ok || body.id === undefined) {
    throw new Error(`tokenize failed: ${response.status} ${body.error?.code ?? ''} ${body.error?.message ?? ''}`.trim());
  }
  return body.id;
}

/** The PSP's ledger rows, all or for one reference (Paystep passes the checkout id as reference). */
export async function fetchLedger(baseUrl: string, reference?: string): Promise<LedgerOperation[]> {
  const query = reference === undefined ? '' : `?reference=${encodeURIComponent(reference)}`;
  const response = await fetch(`${baseUrl}/v1/ledger${query}`);
  if (!response.ok) throw new Error(`ledger read failed: ${response.status}`);
  return ((await response.json()) as { operations: LedgerOperation[] }).operations;
}

/** One authorization's amounts and status, or undefined when the PSP does not know it. */
export async function fetchAuthorization(baseUrl: string, authorizationId: string): Promise<AuthorizationView | undefined> {
  const response = await fetch(`${baseUrl}/v1/authorizations/${encodeURIComponent(authorizationId)}`);
  if (response.status === 404) return undefined;
  if (!response.ok) throw new Error(`authorization read failed: ${response.status}`);
  return (await response.json()) as AuthorizationView;
}

export type { AuthorizationView, LedgerOperation };

/** Outage modes both local sandboxes accept on `PUT /v1/test/outage` (DESIGN Part 2). */
export type OutageMode = 'none' | 'unavailable' | 'timeout';

/** Switches a sandbox's outage (the sandbox PSP and the Stripe sandbox speak the same test route). */
export async function setOutage(baseUrl: string, mode: OutageMode): Promise<void> {
  const response = await fetch(`${baseUrl}/v1/test/outage`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ mode }),
  });
  if (!response.ok) throw new Error(`outage ${mode} at ${baseUrl}: HTTP ${response.status}`);
}
