/**
 * Stripe webhooks for the `stripe` connector: the `Stripe-Signature` header verified with the
 * official SDK's `webhooks.constructEvent` (HMAC-SHA256 over `<t>.<raw body>`, with a timestamp
 * tolerance against replays) against every accepted `whsec_` secret (two during a rotation), then
 * the event mapped to the domain's callback: PaymentIntent events report the authorization's state
 * (`metadata.reference` is our checkout id), `charge.dispute.created` a chargeback. A dispute names
 * only its PaymentIntent, so its reference is looked up (`lookupReference`, the gateway's status
 * query). Events the saga does not need (refunds, ...) are `ignored`: answer 2xx, do nothing.
 */
import Stripe from 'stripe';
import type { PspAuthorizationState } from '../../domain/psp-outcome';
import { stateFromIntentStatus } from './status';

/** The header Stripe signs with. */
export const STRIPE_SIGNATURE_HEADER = 'stripe-signature';

/** Seconds a signature's timestamp may lag our clock (Stripe's default). */
export const DEFAULT_STRIPE_TOLERANCE_SECONDS = 300;

/** One verified event in the domain's words (the shape of the connector seam's PspCallback). */
export interface StripeCallback {
  /** The event id (`evt_...`): the dedupe key. */
  id: string;
  /** Stripe's event type, kept for the timeline. */
  type: string;
  state: PspAuthorizationState;
  /** ISO 8601. */
  created: string;
  /** The PaymentIntent id (the connector's pspReference). */
  authorizationId: string;
  reference: string;
  amount: number;
  /** Uppercase ISO 4217. */
  currency: string;
  disputeId?: string;
  reason?: string;
}

export type StripeWebhookReading =
  | { kind: 'callback'; callback: StripeCallback }
  | { kind: 'bad_signature'; reason: 'missing' | 'malformed' | 'stale' | 'mismatch' }
  | { kind: 'invalid_json' }
  | { kind: 'invalid_callback' }
  | { kind: 'ignored'; type: string };

export interface StripeWebhookInput {
  /** The exact bytes Stripe signed. */
  rawBody: string;
  /** Header names lower-cased. */
  headers: Readonly<Record<string, string>>;
  now: Date;
  toleranceSeconds?: number;
}

/** The state each PaymentIntent event reports (the event's PaymentIntent status decides the rest). */
const INTENT_EVENTS: Readonly<Record<string, true>> = {
  'payment_intent.processing': true,
  'payment_intent.amount_capturable_updated': true,
  'payment_intent.payment_failed': true,
  'payment_intent.succeeded': true,
  'payment_intent.canceled': true,
};

export class StripeWebhookReader {
  constructor(
    private readonly client: Stripe,
    private readonly secrets: readonly string[],
    private readonly lookupReference: (paymentIntentId: string) => Promise<string | undefined>,
  ) {}

  /** Verifies, parses and maps one delivery. */
  async read(input: StripeWebhookInput): Promise<StripeWebhookReading> {
    const verified = this.verify(input);
    if ('kind' in verified) return verified;
    return await this.toCallback(verified.event);
  }

  private verify(input: StripeWebhookInput): { event: Stripe.Event } | StripeWebhookReading {
    const header = input.headers[STRIPE_SIGNATURE_HEADER];
    if (header === undefined || header.trim() === '') return { kind: 'bad_signature', reason: 'missing' };
    let reason: 'malformed' | 'stale' | 'mismatch' = 'mismatch';
    for (const secret of this.secrets) {
      try {
        const event = this.client.webhooks.constructEvent(
          input.rawBody,
          header,
          secret,
          input.toleranceSeconds ?? DEFAULT_STRIPE_TOLERANCE_SECONDS,
          undefined,
          input.now.getTime(),
        );
        return { event };
      } catch (error) {
        if (error instanceof Stripe.errors.StripeSignatureVerificationError) {
          if (/tolerance/i.test(error.message)) reason = 'stale';
          else if (/Unable to extract|expected scheme/i.test(error.message)) reason = 'malformed';
          continue;
        }
        // A verified signature over a body that is not JSON.
        if (error instanceof SyntaxError) return { kind: 'invalid_json' };
        throw error;
      }
    }
    return { kind: 'bad_signature', reason };
  }

  private async toCallback(event: Stripe.Event): Promise<StripeWebhookReading> {
    if (typeof event.id !== 'string' || !/^[A-Za-z0-9_]{1,128}$/.test(event.id) || typeof event.created !== 'number')
      return { kind: 'invalid_callback' };
    const created = new Date(event.created * 1000).toISOString();
    if (event.type === 'charge.dispute.created') {
      const dispute = event.data.object;
      const intentId = typeof dispute.payment_intent === 'string' ? dispute.payment_intent : dispute.payment_intent?.id;
      if (intentId === undefined || !Number.isSafeInteger(dispute.amount)) return { kind: 'invalid_callback' };
      const reference = await this.lookupReference(intentId);
      if (reference === undefined || reference === '') return { kind: 'invalid_callback' };
      return {
        kind: 'callback',
        callback: {
          id: event.id,
          type: event.type,
          state: 'disputed',
          created,
          authorizationId: intentId,
          reference,
          amount: dispute.amount,
          currency: dispute.currency.toUpperCase(),
          disputeId: dispute.id.slice(0, 128),
          reason: String(dispute.reason).slice(0, 200),
        },
      };
    }
    if (INTENT_EVENTS[event.type] !== true) return { kind: 'ignored', type: event.type.slice(0, 100) };
    const intent = event.data.object as Stripe.PaymentIntent;
    const reference = intent.metadata?.['reference'];
    const state = stateFromIntentStatus(intent.status, intent.amount_received);
    if (
      typeof intent.id !== 'string' ||
      intent.id.length > 128 ||
      reference === undefined ||
      reference === '' ||
      reference.length > 255 ||
      state === undefined ||
      !Number.isSafeInteger(intent.amount) ||
      typeof intent.currency !== 'string' ||
      !/^[a-z]{3}$/i.test(intent.currency)
    ) {
      return { kind: 'invalid_callback' };
    }
    const amount =
      state === 'captured' ? intent.amount_received : state === 'authorized' ? intent.amount_capturable : intent.amount;
    return {
      kind: 'callback',
      callback: {
        id: event.id,
        type: event.type,
        state,
        created,
        authorizationId: intent.id,
        reference,
        amount,
        currency: intent.currency.toUpperCase(),
      },
    };
  }
}
