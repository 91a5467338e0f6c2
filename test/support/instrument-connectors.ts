/**
 * The PSP side of the seed-table tests (test/support/instrument-scenarios.ts) on each connector:
 * how a test gets a payment token, an authorization made directly at the PSP (what a merchant or
 * NewStore passes as an `authorized` / `captured` identifier), and the PSP's own ledger. `sandbox`
 * is the sandbox PSP; `stripe` the Stripe-protocol sandbox, reached through the official SDK (the
 * connector's own gateway) and its `GET /v1/test/ledger?reference=`.
 */
import { randomBytes } from 'node:crypto';
import { SandboxPspGateway } from '../../lambdas/connectors/sandbox/gateway';
import { StripeGateway } from '../../lambdas/connectors/stripe/gateway';
import { SensitiveCard } from '../../lambdas/domain/payment-method';
import type { PaymentGateway, PaymentSource } from '../../lambdas/ports/payments';
import { fetchLedger, tokenizeTestCard, type LedgerOperation } from '../../local/sandbox-psp/client';
import type { SandboxPsp } from '../../local/sandbox-psp/server';
import type { StripeSandbox } from '../../local/stripe-sandbox/server';

export type InstrumentConnector = 'sandbox' | 'stripe';

/** The connectors the seed tables run on. */
export const INSTRUMENT_CONNECTORS: readonly InstrumentConnector[] = ['sandbox', 'stripe'];

/** Routing that sends every new instrument of a merchant to `connector` (PUT /v1/routing body). */
export const routingTo = (connector: InstrumentConnector) => ({ rules: [], default: [connector], failover: false });

export interface InstrumentPsp {
  readonly connector: InstrumentConnector;
  /** A payment token the connector authorizes: the sandbox's `tok_...`, a Stripe PaymentMethod `pm_...`. */
  token(card: string): Promise<string>;
  /** An authorization made directly at the PSP under a merchant reference (`:setup-` keys), optionally captured. */
  payment(amount: number, captured: boolean, card?: string): Promise<{ reference: string; pspReference: string }>;
  /** The PSP's own ledger rows filed under `reference`. */
  ledger(reference: string): Promise<LedgerOperation[]>;
}

const CARD_OK = '4242424242424242';

async function setupPayment(
  gateway: PaymentGateway,
  source: PaymentSource,
  amount: number,
  captured: boolean,
): Promise<{ reference: string; pspReference: string }> {
  const reference = `ord_${randomBytes(6).toString('hex')}`;
  const authorization = await gateway.authorize({
    reference,
    source,
    amount,
    currency: 'USD',
    idempotencyKey: `${reference}:setup-authorize`,
  });
  if (captured)
    await gateway.capture({
      reference,
      pspReference: authorization.pspReference,
      amount,
      currency: 'USD',
      idempotencyKey: `${reference}:setup-capture`,
    });
  return { reference, pspReference: authorization.pspReference };
}

export function sandboxInstrumentPsp(psp: SandboxPsp): InstrumentPsp {
  const gateway = new SandboxPspGateway({ baseUrl: psp.url });
  return {
    connector: 'sandbox',
    token: (card) => tokenizeTestCard(psp.url, card),
    payment: async (amount, captured, card = CARD_OK) =>
      setupPayment(gateway, { type: 'token', token: await tokenizeTestCard(psp.url, card) }, amount, captured),
    ledger: (reference) => fetchLedger(psp.url, reference),
  };
}

export function stripeInstrumentPsp(stripe: StripeSandbox, apiKey = stripe.apiKey): InstrumentPsp {
  const gateway = new StripeGateway({ apiKey, baseUrl: stripe.url });
  const card = (number: string): SensitiveCard => new SensitiveCard('pm_vault_test', number, 12, 2049, '123');
  return {
    connector: 'stripe',
    token: (number) => gateway.createPaymentMethod(card(number), `pm_${randomBytes(8).toString('hex')}`),
    payment: (amount, captured, number = CARD_OK) =>
      setupPayment(
        gateway,
        { type: 'card', card: card(number), cardOnFile: { initiator: 'customer', stored: false } },
        amount,
        captured,
      ),
    ledger: async (reference) => {
      const response = await fetch(`${stripe.url}/v1/test/ledger?reference=${encodeURIComponent(reference)}`);
      if (!response.ok) throw new Error(`Stripe sandbox ledger read failed: ${response.status}`);
      return ((await response.json()) as { operations: LedgerOperation[] }).operations;
    },
  };
}

/** Succeeded PSP movements Paystep made (setup rows excluded), summed by type. */
export function pspTotals(rows: LedgerOperation[]): { capture: number; refund: number; void: number } {
  const totals = { capture: 0, refund: 0, void: 0 };
  for (const row of rows) {
    if (row.status !== 'succeeded' || row.idempotency_key.includes(':setup-') || row.type === 'authorize') continue;
    if (row.type === 'capture' || row.type === 'refund' || row.type === 'void') totals[row.type] += row.amount;
  }
  return totals;
}
