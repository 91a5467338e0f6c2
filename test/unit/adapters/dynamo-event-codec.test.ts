/**
 * The compact event item (lambdas/adapters/dynamo-event-codec.ts, eventItem in
 * dynamo-event-writer.ts) without a database: a checkout's result event with its first attempts to
 * one or two endpoints stays within 1 KB by DynamoDB's item-size rules (bench/capacity-units.ts),
 * every field reads back exactly (instants that are not canonical, an object that is not the
 * checkout, no checkout), and an item of the first compact layout reads the same.
 */
import { describe, expect, it } from 'vitest';
import { eventItem } from '../../../lambdas/adapters/dynamo-event-writer';
import { eventWithDeliveries, type DeliveryMap } from '../../../lambdas/adapters/dynamo-event-codec';
import { compactBody } from '../../../lambdas/shared/stored-body';
import { deriveEventId, renderEventBody, type StoredEvent } from '../../../lambdas/domain/webhook-events';
import type { WebhookDelivery } from '../../../lambdas/domain/webhook-delivery';
import { instrumentIdForCheckout } from '../../../lambdas/domain/instrument-ledger';
import { toCheckoutView } from '../../../lambdas/shared/views';
import { dynamoItemBytes } from '../../../bench/capacity-units';
import { aCheckout } from '../fakes';
import { aPayment } from '../../support/payments';

const MERCHANT = 'mer_Xq3YVd2n9c0b7LzRkT1wNg';
const CHECKOUT = 'chk_D6Argjj_KLa4nNv7c0eiPw';
const AT = '2026-12-01T13:20:11.123Z';

/** A result event as notify-merchant.ts builds it, with the API's checkout view of a bench-like checkout. */
function resultEvent(type: string): StoredEvent {
  const checkout = aCheckout({
    id: CHECKOUT,
    merchantId: MERCHANT,
    merchantOrderRef: 'bench-1764595211123-000123',
    amount: 2500,
    items: [{ sku: 'sku-mug', name: 'sku-mug', quantity: 1, unitAmount: 2500 }],
    successUrl: 'https://shop.example/thanks',
    failureUrl: 'https://shop.example/sorry',
    status: 'succeeded',
    createdAt: AT,
    updatedAt: AT,
    expiresAt: '2026-12-02T13:20:11.123Z',
    payment: {
      ...aPayment(
        {
          paymentToken: 'tok_3c94de2711e705c416efbbf4',
          connector: 'sandbox',
          pspReference: 'psp_auth_0123456789abcdef01',
          authorizedAmount: 2500,
          capturedAmount: 2500,
        },
        { id: CHECKOUT, amount: 2500, createdAt: AT },
      ),
      instrumentId: instrumentIdForCheckout(CHECKOUT),
    },
  });
  const object = toCheckoutView(checkout, { checkoutBaseUrl: 'https://pay.example.com', instrument: undefined });
  const id = deriveEventId(`${CHECKOUT}:${type}`);
  const created = Math.floor(Date.parse(AT) / 1000);
  return {
    id,
    merchantId: MERCHANT,
    type,
    created,
    createdAt: AT,
    objectId: CHECKOUT,
    checkoutId: CHECKOUT,
    timelineDerived: true,
    body: renderEventBody({ id, type, created, data: { object } }),
  };
}

/** A first attempt as sendOnce records it: delivered (204), or failed (503 with an excerpt) and due in 5 s. */
function firstAttempt(event: StoredEvent, endpointId: string, ok: boolean): WebhookDelivery {
  const at = '2026-12-01T13:20:11.140Z';
  return {
    eventId: event.id,
    endpointId,
    merchantId: event.merchantId,
    status: ok ? 'delivered' : 'pending',
    attempt: 1,
    nextAttemptAt: ok ? at : '2026-12-01T13:20:16.140Z',
    attempts: [
      ok
        ? { number: 1, at, ok: true, httpStatus: 204, latencyMs: 4 }
        : {
            number: 1,
            at,
            ok: false,
            httpStatus: 503,
            latencyMs: 12,
            error: 'HTTP 503',
            responseExcerpt: 'upstream unavailable',
          },
    ],
    updatedAt: at,
  };
}

function deliveryMap(deliveries: readonly WebhookDelivery[]): DeliveryMap {
  return Object.fromEntries(
    deliveries.map(({ endpointId, status, attempt, nextAttemptAt, attempts, updatedAt }) => [
      endpointId,
      { status, attempt, nextAttemptAt, attempts, updatedAt },
    ]),
  );
}

/** The item the store writes (keys, indexes, revision), as DynamoDB returns it (binary as Uint8Array). */
function stored(event: StoredEvent, deliveries: readonly WebhookDelivery[]): Record<string, unknown> {
  const item = eventItem(event, deliveryMap(deliveries), 0);
  return { ...item, bz: new Uint8Array(item.bz as Buffer) };
}

const sorted = (deliveries: readonly WebhookDelivery[]) =>
  [...deliveries].sort((a, b) => a.endpointId.localeCompare(b.endpointId));

describe('compact event item', () => {
  it.each(['payment.captured', 'checkout.succeeded'])(
    'a %s result event with first attempts to one or two endpoints is at most 1 KB, a failed attempt included',
    (type) => {
      // Prepare
      const event = resultEvent(type);
      const endpoints = ['we_4hQ2cK9LmXv0RtYp7sNbWg', 'we_Zr8uJd3VqE6oTn1aLc5xFw'];
      // Act
      const sizes = {
        one: dynamoItemBytes(eventItem(event, deliveryMap([firstAttempt(event, endpoints[0]!, true)]), 0)),
        two: dynamoItemBytes(eventItem(event, deliveryMap(endpoints.map((endpoint) => firstAttempt(event, endpoint, true))), 0)),
        twoOneFailed: dynamoItemBytes(
          eventItem(event, deliveryMap([firstAttempt(event, endpoints[0]!, true), firstAttempt(event, endpoints[1]!, false)]), 0),
        ),
      };
      // Assess
      expect(Buffer.byteLength(event.body)).toBeGreaterThan(1300);
      expect(sizes.one).toBeLessThanOrEqual(1024);
      expect(sizes.two).toBeLessThanOrEqual(1024);
      expect(sizes.twoOneFailed).toBeLessThanOrEqual(1024);
    },
  );

  it('does not repeat what the keys hold: merchant, createdAt, created, the id, the checkout when it is the object', () => {
    // Prepare
    const event = resultEvent('checkout.succeeded');
    // Act
    const item = stored(event, [firstAttempt(event, 'we_ok', true)]);
    // Assess
    for (const name of ['id', 'merchantId', 'createdAt', 'created', 'objectId', 'checkoutId', 'type', 'timelineDerived', 'body'])
      expect(item).not.toHaveProperty(name);
    expect(item).toMatchObject({ ty: 'checkout.succeeded', oc: CHECKOUT, td: true });
    expect(eventWithDeliveries(item)).toEqual({ event, deliveries: [firstAttempt(event, 'we_ok', true)] });
  });

  it('reads back every field exactly: instants that are not canonical, created apart from createdAt, an object that is not the checkout, no checkout', () => {
    // Prepare
    const base = resultEvent('payment.refunded');
    const events: StoredEvent[] = [
      { ...base, createdAt: '2026-12-01T13:20:11Z', created: 1_700_000_000, objectId: 'fi_1', checkoutId: CHECKOUT },
      { ...base, merchantId: 'mer_with#hash', objectId: 'fi_2', checkoutId: undefined, timelineDerived: undefined },
      { ...base, objectId: undefined, checkoutId: undefined, timelineDerived: undefined },
    ].map((event) => JSON.parse(JSON.stringify(event)) as StoredEvent);
    const deliveries = (event: StoredEvent): WebhookDelivery[] => [
      {
        ...firstAttempt(event, 'we_a', false),
        nextAttemptAt: '2026-12-01T13:20:16.14Z',
        updatedAt: '2026-12-01T13:20:12.000Z',
        attempts: [
          { number: 1, at: '2026-12-01T13:20:11.140Z', ok: false, latencyMs: 9, error: 'timeout' },
          { number: 2, at: '2026-12-01T13:20:12.000Z', ok: false, httpStatus: 500, latencyMs: 3 },
        ],
      },
      { ...firstAttempt(event, 'we_b', true), attempts: [{ number: 1, at: 'not an instant', ok: true, latencyMs: 1 }] },
    ];
    for (const event of events) {
      // Act
      const found = eventWithDeliveries(stored(event, deliveries(event)));
      // Assess
      expect(found.event).toEqual(event);
      expect(found.deliveries).toEqual(sorted(deliveries(event)));
    }
  });

  it('reads an item of the first compact layout (full names, ISO instants) as the same event and deliveries', () => {
    // Prepare: the item as the first compact layout wrote it
    const event = resultEvent('checkout.succeeded');
    const deliveries = [firstAttempt(event, 'we_ok', true), firstAttempt(event, 'we_down', false)];
    const item = {
      pk: `EVENT#${event.id}`,
      sk: 'EVENT',
      entity: 'event',
      gsi2pk: `MERCHANT#${event.merchantId}#EVENTS`,
      gsi2sk: `${event.createdAt}#${event.id}`,
      merchantId: event.merchantId,
      type: event.type,
      created: event.created,
      createdAt: event.createdAt,
      objectId: event.objectId,
      checkoutId: event.checkoutId,
      timelineDerived: true,
      bz: new Uint8Array(Buffer.from(compactBody(event.body).body, 'base64')),
      dl: {
        we_ok: {
          s: 'd',
          n: 1,
          t: '2026-12-01T13:20:11.140Z',
          a: [{ n: 1, t: '2026-12-01T13:20:11.140Z', ok: true, ms: 4, h: 204 }],
        },
        we_down: {
          s: 'p',
          n: 1,
          t: '2026-12-01T13:20:16.140Z',
          u: '2026-12-01T13:20:11.140Z',
          a: [{ n: 1, t: '2026-12-01T13:20:11.140Z', ok: false, ms: 12, h: 503, e: 'HTTP 503', x: 'upstream unavailable' }],
        },
      },
      revision: 0,
    };
    // Act
    const found = eventWithDeliveries(item);
    // Assess
    expect(found.event).toEqual(event);
    expect(found.deliveries).toEqual(sorted(deliveries));
    expect(eventWithDeliveries(stored(event, deliveries))).toEqual(found);
  });
});
