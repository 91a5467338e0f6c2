/**
 * The compact event item on DynamoDB Local (lambdas/adapters/dynamo-event-codec.ts): the webhook
 * body is stored deflated in a binary attribute and read back byte for byte; the deliveries are
 * stored with short names and read back the same; an event of the previous embedded layout (a
 * plain body, deliveries with full names) answers GET /v1/events and the checkout timeline exactly
 * as the same event stored compact, is claimed and completed by the dispatcher (then stored
 * compact), an event of the first compact layout (the event's fields under full names, ISO instants)
 * answers the same as the current one, and a batch put of an event already stored replaces it
 * (listed once).
 */
import { createDocumentClient, type DynamoDBDocumentClient, GetCommand, PutCommand } from '../../lambdas/adapters/dynamo-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_AWS, startDynamoDbLocal, type DynamoDbLocal } from '../../local/dynamodb-local';
import { DynamoEventStore } from '../../lambdas/adapters/dynamo-event-store';
import { shardOf } from '../../lambdas/adapters/dynamo-event-items';
import { eventKey, merchantEventsGsiPk, webhookDueGsiPk } from '../../lambdas/adapters/dynamo-keys';
import { DEFAULT_RETRY_SCHEDULE } from '../../lambdas/domain/webhook-schedule';
import { deriveEventId, renderEventBody, type StoredEvent } from '../../lambdas/domain/webhook-events';
import type { WebhookDelivery } from '../../lambdas/domain/webhook-delivery';
import { webhookTimelineRows } from '../../lambdas/domain/webhook-result-events';
import { toCheckoutView, toEventLogView } from '../../lambdas/shared/views';
import { compactBody } from '../../lambdas/shared/stored-body';
import { dispatchDueDeliveries } from '../../lambdas/use-cases/webhook-delivery';
import { dynamoItemBytes } from '../../bench/capacity-units';
import { aCheckout, FakeCheckouts, fakeCipher, FakeWebhookEndpoints, FakeWebhookSender } from '../unit/fakes';
import { aPayment } from '../support/payments';

let db: DynamoDbLocal;
let client: DynamoDBDocumentClient;
let store: DynamoEventStore;
let eventNumber = 0;

beforeAll(async () => {
  db = await startDynamoDbLocal();
  client = createDocumentClient({ ...LOCAL_AWS, endpoint: db.endpoint });
  store = new DynamoEventStore(client, db.tableName);
}, 60_000);

afterAll(async () => {
  await db?.stop();
});

/** A checkout result event with the API's real checkout view as its body. */
function resultEvent(merchantId = 'mer_layout'): StoredEvent {
  eventNumber += 1;
  const checkoutId = `chk_layout_${eventNumber}_0123456789ABCDEF`;
  const id = deriveEventId(`${checkoutId}:checkout.succeeded`);
  const createdAt = '2026-03-01T12:00:00.000Z';
  const created = Math.floor(Date.parse(createdAt) / 1000);
  const checkout = aCheckout({
    id: checkoutId,
    merchantId,
    status: 'succeeded',
    updatedAt: createdAt,
    payment: aPayment({
      paymentToken: 'tok_1',
      connector: 'sandbox',
      pspReference: 'psp_auth_0123456789abcdef',
      authorizedAmount: 10050,
      capturedAmount: 10050,
    }),
  });
  const object = toCheckoutView(checkout, { checkoutBaseUrl: 'https://pay.example.com', instrument: undefined });
  return {
    id,
    merchantId,
    type: 'checkout.succeeded',
    created,
    createdAt,
    objectId: checkoutId,
    checkoutId,
    timelineDerived: true,
    body: renderEventBody({ id, type: 'checkout.succeeded', created, data: { object } }),
  };
}

/** Two deliveries as after a notify: one delivered, one pending after a 503 with a response excerpt. */
function firstAttempts(event: StoredEvent): WebhookDelivery[] {
  return [
    {
      eventId: event.id,
      endpointId: 'we_ok',
      merchantId: event.merchantId,
      status: 'delivered',
      attempt: 1,
      nextAttemptAt: '2026-03-01T12:00:00.010Z',
      attempts: [{ number: 1, at: '2026-03-01T12:00:00.010Z', ok: true, httpStatus: 204, latencyMs: 4 }],
      updatedAt: '2026-03-01T12:00:00.010Z',
    },
    {
      eventId: event.id,
      endpointId: 'we_down',
      merchantId: event.merchantId,
      status: 'pending',
      attempt: 1,
      nextAttemptAt: '2026-03-01T12:00:05.000Z',
      attempts: [
        {
          number: 1,
          at: '2026-03-01T12:00:00.020Z',
          ok: false,
          httpStatus: 503,
          latencyMs: 12,
          error: 'HTTP 503',
          responseExcerpt: 'upstream unavailable',
        },
      ],
      updatedAt: '2026-03-01T12:00:00.020Z',
    },
  ];
}

/** The keys every layout shares: the item's, the merchant listing's (gsi2) and, while a delivery is pending, the due index's (gsi1). */
function eventItemKeys(event: StoredEvent, deliveries: readonly WebhookDelivery[]): Record<string, string> {
  const due = deliveries
    .filter((delivery) => delivery.status === 'pending')
    .map((delivery) => delivery.nextAttemptAt)
    .sort()[0];
  return {
    ...eventKey(event.id),
    entity: 'event',
    gsi2pk: merchantEventsGsiPk(event.merchantId),
    gsi2sk: `${event.createdAt}#${event.id}`,
    ...(due !== undefined ? { gsi1pk: webhookDueGsiPk(shardOf(event.id, '')), gsi1sk: `${due}#${event.id}` } : {}),
  };
}

/** Writes the event as the previous embedded layout did (plain body, full-name deliveries, the id repeated). */
async function putPreviousEmbeddedLayout(event: StoredEvent, deliveries: readonly WebhookDelivery[]): Promise<void> {
  const map = Object.fromEntries(
    deliveries.map((delivery) => [
      delivery.endpointId,
      {
        status: delivery.status,
        attempt: delivery.attempt,
        nextAttemptAt: delivery.nextAttemptAt,
        attempts: delivery.attempts,
        updatedAt: delivery.updatedAt,
      },
    ]),
  );
  await client.send(
    new PutCommand({
      TableName: db.tableName,
      Item: {
        ...eventItemKeys(event, deliveries),
        ...event,
        deliveries: map,
        revision: 0,
      },
    }),
  );
}

/** Writes the event as the first compact layout did (the event's fields under full names, ISO instants in `dl`). */
async function putFirstCompactLayout(event: StoredEvent, deliveries: readonly WebhookDelivery[]): Promise<void> {
  const dl = Object.fromEntries(
    deliveries.map((delivery) => [
      delivery.endpointId,
      {
        s: { pending: 'p', delivered: 'd', dead_lettered: 'x', disabled: 'o' }[delivery.status],
        n: delivery.attempt,
        t: delivery.nextAttemptAt,
        ...(delivery.updatedAt !== delivery.nextAttemptAt ? { u: delivery.updatedAt } : {}),
        a: delivery.attempts.map((record) => ({
          n: record.number,
          t: record.at,
          ok: record.ok,
          ms: record.latencyMs,
          ...(record.httpStatus !== undefined ? { h: record.httpStatus } : {}),
          ...(record.error !== undefined ? { e: record.error } : {}),
          ...(record.responseExcerpt !== undefined ? { x: record.responseExcerpt } : {}),
        })),
      },
    ]),
  );
  const { id: _id, body, ...fields } = event;
  await client.send(
    new PutCommand({
      TableName: db.tableName,
      Item: {
        ...eventItemKeys(event, deliveries),
        ...fields,
        bz: Buffer.from(compactBody(body).body, 'base64'),
        dl,
        revision: 0,
      },
    }),
  );
}

async function rawItem(eventId: string): Promise<Record<string, unknown>> {
  const { Item } = await client.send(new GetCommand({ TableName: db.tableName, Key: eventKey(eventId), ConsistentRead: true }));
  return Item!;
}

/** What the API and the checkout's timeline show of the event (GET /v1/events/{id}, webhook rows, the listing). */
async function answers(event: StoredEvent) {
  const found = await store.getEvent(event.id, event.merchantId);
  const listed = await store.listEvents(event.merchantId, { limit: 10 });
  return {
    view: JSON.stringify(toEventLogView(found!)),
    timeline: JSON.stringify(webhookTimelineRows(await store.getEvents([event.id]))),
    listing: JSON.stringify(listed.events.map(toEventLogView)),
    body: found!.event.body,
  };
}

describe('compact event items on DynamoDB Local', () => {
  it('stores the body deflated and the deliveries compact under 1 KB, and reads both back exactly', async () => {
    // Prepare
    const event = resultEvent();
    const deliveries = firstAttempts(event);
    // Act
    await store.createEvents([{ event, deliveries }]);
    const item = await rawItem(event.id);
    const found = await store.getEvent(event.id);
    // Assess
    expect(item.bz).toBeInstanceOf(Uint8Array);
    expect(item).not.toHaveProperty('body');
    expect(item).not.toHaveProperty('deliveries');
    expect(Buffer.byteLength(event.body)).toBeGreaterThan(1024);
    expect(dynamoItemBytes(item)).toBeLessThan(1024);
    expect(found!.event).toEqual(event);
    expect(Buffer.from(found!.event.body).equals(Buffer.from(event.body))).toBe(true);
    expect(found!.deliveries).toEqual([...deliveries].sort((a, b) => a.endpointId.localeCompare(b.endpointId)));
  });

  it('an event of the previous embedded layout answers the API and the timeline byte for byte as the compact one', async () => {
    // Prepare: the same event in each layout, one after the other, under its one id
    const event = resultEvent('mer_both_layouts');
    const deliveries = firstAttempts(event);
    await putPreviousEmbeddedLayout(event, deliveries);
    const previous = await answers(event);
    const previousDue = await store.listDueDeliveries(new Date('2026-03-01T12:00:06.000Z'), 100);
    // Act
    await store.putEvents([{ event, deliveries }]);
    const compact = await answers(event);
    const compactDue = await store.listDueDeliveries(new Date('2026-03-01T12:00:06.000Z'), 100);
    // Assess
    expect((await rawItem(event.id)).dl).toBeDefined();
    expect(compact).toEqual(previous);
    expect(JSON.parse(previous.listing)).toHaveLength(1);
    expect(JSON.parse(previous.timeline)).toHaveLength(2);
    expect(compactDue.filter((due) => due.eventId === event.id)).toEqual([{ eventId: event.id, endpointId: 'we_down' }]);
    expect(previousDue.filter((due) => due.eventId === event.id)).toEqual([{ eventId: event.id, endpointId: 'we_down' }]);
  });

  it('an event of the first compact layout answers the API, the timeline and the due list as the current one, and is written in the current one at its next change', async () => {
    // Prepare: the same event in each layout, one after the other, under its one id
    const event = resultEvent('mer_first_compact');
    const deliveries = firstAttempts(event);
    await putFirstCompactLayout(event, deliveries);
    const first = await answers(event);
    const firstDue = await store.listDueDeliveries(new Date('2026-03-01T12:00:06.000Z'), 100);
    const firstBytes = dynamoItemBytes(await rawItem(event.id));
    // Act
    await store.putEvents([{ event, deliveries }]);
    const current = await answers(event);
    const currentDue = await store.listDueDeliveries(new Date('2026-03-01T12:00:06.000Z'), 100);
    const item = await rawItem(event.id);
    // Assess
    expect(current).toEqual(first);
    expect(JSON.parse(first.timeline)).toHaveLength(2);
    expect(currentDue.filter((due) => due.eventId === event.id)).toEqual([{ eventId: event.id, endpointId: 'we_down' }]);
    expect(firstDue.filter((due) => due.eventId === event.id)).toEqual([{ eventId: event.id, endpointId: 'we_down' }]);
    expect(item).not.toHaveProperty('merchantId');
    expect(item).toMatchObject({ oc: event.checkoutId, td: true });
    expect(dynamoItemBytes(item)).toBeLessThan(firstBytes - 150);
  });

  it('the dispatcher retries a pending delivery of the previous embedded layout with the same webhook-id and body, then stores the event compact', async () => {
    // Prepare
    const event = resultEvent('mer_retry_previous');
    await putPreviousEmbeddedLayout(event, firstAttempts(event));
    const endpoints = new FakeWebhookEndpoints();
    for (const id of ['we_ok', 'we_down'])
      await endpoints.createEndpoint({
        id,
        merchantId: event.merchantId,
        url: `https://merchant.example/${id}`,
        enabledEvents: ['*'],
        secretCiphertext: 'enc(whsec_layout)',
        status: 'enabled',
        createdAt: '2026-01-01T00:00:00.000Z',
      });
    const sender = new FakeWebhookSender();
    // Act
    const pass = await dispatchDueDeliveries({
      events: store,
      webhookEndpoints: endpoints,
      webhookSender: sender,
      cipher: fakeCipher,
      checkouts: new FakeCheckouts(),
      schedule: DEFAULT_RETRY_SCHEDULE,
      now: () => new Date('2026-03-01T12:00:06.000Z'),
    });
    // Assess
    const mine = sender.sent.filter((sent) => sent.message.id === event.id);
    expect(pass.delivered).toBeGreaterThanOrEqual(1);
    expect(mine.map((sent) => [sent.url, sent.message.body])).toEqual([['https://merchant.example/we_down', event.body]]);
    const item = await rawItem(event.id);
    expect(item).toMatchObject({ revision: 2 });
    expect(item).not.toHaveProperty('deliveries');
    expect(item).not.toHaveProperty('gsi1pk');
    const found = await store.getEvent(event.id);
    expect(found!.event).toEqual(event);
    expect(found!.deliveries.find((delivery) => delivery.endpointId === 'we_down')).toMatchObject({
      status: 'delivered',
      attempt: 2,
      attempts: [
        expect.objectContaining({ number: 1, ok: false, responseExcerpt: 'upstream unavailable' }),
        expect.objectContaining({ number: 2, ok: true }),
      ],
    });
  });

  it('two deliveries of one event claimed together both complete: the second completion finds the item changed and reads it again', async () => {
    // Prepare
    const event = resultEvent('mer_two_claims');
    const [, pending] = firstAttempts(event);
    await store.createEvents([{ event, deliveries: [pending!, { ...pending!, endpointId: 'we_other' }] }]);
    const now = new Date('2026-03-01T12:00:06.000Z');
    const lease = new Date('2026-03-01T12:01:06.000Z');
    const first = await store.claimDelivery(event.id, 'we_down', now, lease, 'lease-a');
    const second = await store.claimDelivery(event.id, 'we_other', now, lease, 'lease-b');
    const outcome = (number: number) => ({
      status: 'delivered' as const,
      attempt: 2,
      nextAttemptAt: '2026-03-01T12:00:06.010Z',
      record: { number, at: '2026-03-01T12:00:06.010Z', ok: true, httpStatus: 204, latencyMs: 3 },
      now: '2026-03-01T12:00:06.010Z',
    });
    // Act
    const keptFirst = await store.completeAttempt(event.id, 'we_down', 'lease-a', outcome(2));
    const keptSecond = await store.completeAttempt(event.id, 'we_other', 'lease-b', outcome(2));
    // Assess
    expect([first?.endpointId, second?.endpointId]).toEqual(['we_down', 'we_other']);
    expect([keptFirst, keptSecond]).toEqual([true, true]);
    const found = await store.getEvent(event.id);
    expect(found!.deliveries.map((delivery) => [delivery.endpointId, delivery.status, delivery.attempts.length])).toEqual([
      ['we_down', 'delivered', 2],
      ['we_other', 'delivered', 2],
    ]);
    expect(await rawItem(event.id)).toMatchObject({ revision: 4 });
  });

  it('a completion with a lease that was lost records nothing', async () => {
    // Prepare
    const event = resultEvent('mer_lost_lease');
    const [, pending] = firstAttempts(event);
    await store.createEvents([{ event, deliveries: [pending!] }]);
    await store.claimDelivery(
      event.id,
      'we_down',
      new Date('2026-03-01T12:00:06.000Z'),
      new Date('2026-03-01T12:00:07.000Z'),
      'lease-old',
    );
    await store.claimDelivery(
      event.id,
      'we_down',
      new Date('2026-03-01T12:00:08.000Z'),
      new Date('2026-03-01T12:01:08.000Z'),
      'lease-new',
    );
    // Act
    const kept = await store.completeAttempt(event.id, 'we_down', 'lease-old', {
      status: 'delivered',
      attempt: 2,
      nextAttemptAt: '2026-03-01T12:00:09.000Z',
      record: { number: 2, at: '2026-03-01T12:00:09.000Z', ok: true, httpStatus: 204, latencyMs: 3 },
      now: '2026-03-01T12:00:09.000Z',
    });
    // Assess
    expect(kept).toBe(false);
    expect((await store.getDelivery(event.id, 'we_down'))!).toMatchObject({ status: 'pending', attempt: 1 });
  });

  it('a batch put of an event already stored replaces it: one item, listed once, the later first attempts kept', async () => {
    // Prepare: a concurrent re-run stored the event first, with a failed first attempt
    const event = resultEvent('mer_overwrite');
    const [delivered, failed] = firstAttempts(event);
    await store.createEvents([{ event, deliveries: [{ ...failed!, endpointId: 'we_ok' }] }]);
    // Act
    await store.putEvents([{ event, deliveries: [delivered!] }]);
    const listed = await store.listEvents(event.merchantId, { limit: 10 });
    // Assess
    expect(listed.events.map((entry) => entry.event.id)).toEqual([event.id]);
    expect(listed.events[0]!.deliveries).toEqual([delivered]);
    expect(await store.listDueDeliveries(new Date('2026-03-02T00:00:00.000Z'), 100)).not.toContainEqual(
      expect.objectContaining({ eventId: event.id }),
    );
  });
});
