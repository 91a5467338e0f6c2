/**
 * At-least-once delivery with a real HTTP receiver and the real signer: a receiver that answers
 * 500 twice then 200 gets the event on attempt 3 with the same webhook-id each time and a
 * signature `standardwebhooks` verifies; a receiver down for the whole schedule dead-letters the
 * delivery and redelivery works once it is back; 410 disables the endpoint; Retry-After pushes
 * the next attempt; a rotation's overlap signs with both secrets; a dispatcher that crashed while
 * holding a lease loses nothing. The event store is the in-memory fake with the same lease rules.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { HttpWebhookSender } from '../../../lambdas/adapters/http-webhook-sender';
import { LOCAL_URL_POLICY } from '../../../lambdas/adapters/url-guard';
import type { Merchant } from '../../../lambdas/domain/model';
import type { RetrySchedule } from '../../../lambdas/domain/webhook-schedule';
import { ConflictError, NotFoundError } from '../../../lambdas/errors';
import {
  attemptDelivery,
  dispatchDueDeliveries,
  publishEvent,
  redeliverEvent,
  type DispatchDependencies,
} from '../../../lambdas/use-cases/webhook-delivery';
import { freePort } from '../../../local/net';
import { FakeCheckouts, fakeCipher, FakeEventStore, FakeWebhookEndpoints } from '../fakes';

const SECRET = `whsec_${Buffer.from('a'.repeat(32)).toString('base64')}`;
const OLD_SECRET = `whsec_${Buffer.from('b'.repeat(32)).toString('base64')}`;

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

let server: Server;
let baseUrl: string;
let received: Received[];
/** What the receiver answers next (status, headers); default 200. */
let script: { status: number; headers?: Record<string, string>; body?: string }[];

beforeAll(async () => {
  const port = await freePort();
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      const next = script.shift() ?? { status: 200 };
      res.writeHead(next.status, next.headers).end(next.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/**
 * Verifies with the standardwebhooks library as a merchant would, at the moment the message was
 * sent (the test clock is simulated; the library checks the timestamp against "now" ±5 min).
 */
function verifyAsMerchant(secret: string, request: Received): unknown {
  vi.useFakeTimers({ toFake: ['Date'] });
  try {
    vi.setSystemTime(Number(request.headers['webhook-timestamp']) * 1000);
    return new Webhook(secret).verify(request.body, request.headers as Record<string, string>);
  } finally {
    vi.useRealTimers();
  }
}

let clock: Date;
let events: FakeEventStore;
let endpoints: FakeWebhookEndpoints;
let checkouts: FakeCheckouts;
let deps: DispatchDependencies;
const schedule: RetrySchedule = { delaysMs: [0, 5_000, 300_000], jitterRatio: 0.1, maxRetryAfterMs: 600_000 };

function advance(ms: number): void {
  clock = new Date(clock.getTime() + ms);
}

beforeEach(async () => {
  received = [];
  script = [];
  clock = new Date('2026-03-01T12:00:00.000Z');
  events = new FakeEventStore();
  endpoints = new FakeWebhookEndpoints();
  checkouts = new FakeCheckouts();
  deps = {
    events,
    webhookEndpoints: endpoints,
    webhookSender: new HttpWebhookSender(2_000, LOCAL_URL_POLICY),
    cipher: fakeCipher,
    checkouts,
    schedule,
    leaseMs: 60_000,
    now: () => clock,
    random: () => 0.5,
  };
  await endpoints.createEndpoint({
    id: 'we_1',
    merchantId: 'mer_1',
    url: `${baseUrl}/hooks`,
    enabledEvents: ['checkout.succeeded', 'checkout.failed'],
    secretCiphertext: `enc(${SECRET})`,
    status: 'enabled',
    createdAt: '2026-01-01T00:00:00.000Z',
  });
});

async function publishSucceeded() {
  return await publishEvent(deps, {
    merchantId: 'mer_1',
    type: 'checkout.succeeded',
    objectId: 'chk_1',
    checkoutId: 'chk_1',
    data: { object: { id: 'chk_1', status: 'succeeded' } },
    sourceKey: 'chk_1:checkout.succeeded',
  });
}

describe('publishEvent', () => {
  it('stores the event with one pending delivery per subscribed, enabled endpoint, once', async () => {
    // Prepare
    await endpoints.createEndpoint({ ...endpoints.rows[0]!, id: 'we_refunds', enabledEvents: ['payment.refunded'] });
    await endpoints.createEndpoint({ ...endpoints.rows[0]!, id: 'we_off', enabledEvents: ['*'], status: 'disabled' });
    // Act
    const first = await publishSucceeded();
    const again = await publishSucceeded();
    // Assess
    expect(first).toMatchObject({ created: true, deliveries: 1 });
    expect(again).toEqual({ eventId: first.eventId, created: false, deliveries: 0 });
    const stored = await events.getEvent(first.eventId);
    expect(stored!.deliveries.map((d) => [d.endpointId, d.status, d.attempt])).toEqual([['we_1', 'pending', 0]]);
    expect(JSON.parse(stored!.event.body)).toEqual({
      type: 'checkout.succeeded',
      id: first.eventId,
      created: stored!.event.created,
      data: { object: { id: 'chk_1', status: 'succeeded' } },
    });
  });
});

describe('delivery with retries', () => {
  it('delivers on attempt 3 after two 500s, with the same webhook-id each time and a signature standardwebhooks verifies', async () => {
    // Prepare
    script = [{ status: 500, body: 'boom' }, { status: 500 }, { status: 200, body: 'thanks' }];
    const { eventId } = await publishSucceeded();
    // Act: attempt 1 now, then the dispatcher at each due time
    await dispatchDueDeliveries(deps);
    advance(4_000);
    const tooEarly = await dispatchDueDeliveries(deps);
    advance(1_600);
    await dispatchDueDeliveries(deps);
    advance(330_000);
    await dispatchDueDeliveries(deps);
    // Assess
    expect(tooEarly.due).toBe(0);
    expect(received).toHaveLength(3);
    expect(received.map((r) => r.headers['webhook-id'])).toEqual([eventId, eventId, eventId]);
    for (const request of received) {
      const verified = verifyAsMerchant(SECRET, request);
      expect(verified).toMatchObject({ id: eventId, type: 'checkout.succeeded' });
    }
    const stored = await events.getEvent(eventId);
    const delivery = stored!.deliveries[0]!;
    expect(delivery).toMatchObject({ status: 'delivered', attempt: 3 });
    expect(delivery.attempts.map((a) => [a.number, a.ok, a.httpStatus])).toEqual([
      [1, false, 500],
      [2, false, 500],
      [3, true, 200],
    ]);
    expect(delivery.attempts[0]).toMatchObject({ error: 'HTTP 500', responseExcerpt: 'boom' });
    expect(delivery.attempts[2]!.latencyMs).toBeGreaterThanOrEqual(0);
    expect(checkouts.events.map((e) => e.type)).toEqual(['webhook_failed', 'webhook_failed', 'webhook_delivered']);
  });

  it('dead-letters after the last attempt while the receiver is down, and redelivery works once it is back', async () => {
    // Prepare
    script = [{ status: 503 }, { status: 503 }, { status: 503 }];
    const { eventId } = await publishSucceeded();
    // Act
    for (const wait of [0, 6_000, 400_000, 10_000_000]) {
      advance(wait);
      await dispatchDueDeliveries(deps);
    }
    const dead = (await events.getEvent(eventId))!.deliveries[0]!;
    const requeued = await redeliverEvent(deps, { merchantId: 'mer_1', eventId });
    await dispatchDueDeliveries(deps);
    // Assess
    expect(dead).toMatchObject({ status: 'dead_lettered', attempt: 3 });
    expect(requeued.deliveries[0]).toMatchObject({ status: 'pending', attempt: 0 });
    const after = (await events.getEvent(eventId))!.deliveries[0]!;
    expect(after).toMatchObject({ status: 'delivered', attempt: 1 });
    expect(after.attempts.map((a) => a.number)).toEqual([1, 2, 3, 4]);
    expect(new Set(received.map((r) => r.headers['webhook-id']))).toEqual(new Set([eventId]));
    expect(checkouts.events.at(-2)!.data).toMatchObject({ dead_lettered: true });
  });

  it('disables the endpoint on 410 Gone and stops delivering to it', async () => {
    // Prepare
    script = [{ status: 410 }];
    const { eventId } = await publishSucceeded();
    // Act
    await dispatchDueDeliveries(deps);
    const second = await publishEvent(deps, {
      merchantId: 'mer_1',
      type: 'checkout.failed',
      objectId: 'chk_2',
      data: {},
      sourceKey: 'chk_2:checkout.failed',
    });
    // Assess
    expect((await events.getEvent(eventId))!.deliveries[0]).toMatchObject({ status: 'disabled' });
    expect(endpoints.rows[0]).toMatchObject({ status: 'disabled', disabledReason: 'the receiver answered 410 Gone' });
    expect(second.deliveries).toBe(0);
    await expect(redeliverEvent(deps, { merchantId: 'mer_1', eventId })).rejects.toBeInstanceOf(ConflictError);
  });

  it('honours Retry-After (bounded) and treats a redirect as a failure it never follows', async () => {
    // Prepare
    script = [
      { status: 429, headers: { 'retry-after': '120' } },
      { status: 301, headers: { location: `${baseUrl}/elsewhere` } },
    ];
    const { eventId } = await publishSucceeded();
    // Act
    await dispatchDueDeliveries(deps);
    const afterFirst = (await events.getEvent(eventId))!.deliveries[0]!;
    advance(120_000);
    await dispatchDueDeliveries(deps);
    // Assess
    expect(afterFirst.nextAttemptAt).toBe(new Date(Date.parse('2026-03-01T12:00:00.000Z') + 120_000).toISOString());
    const after = (await events.getEvent(eventId))!.deliveries[0]!;
    expect(after.attempts[1]).toMatchObject({ ok: false, httpStatus: 301, error: 'redirect (301) not followed' });
    expect(received.map((r) => r.headers.host)).toHaveLength(2);
  });

  it('signs with both secrets during a rotation overlap, and with the new one only afterwards', async () => {
    // Prepare
    endpoints.rows[0]!.previousSecretCiphertext = `enc(${OLD_SECRET})`;
    endpoints.rows[0]!.previousSecretExpiresAt = new Date(clock.getTime() + 60_000).toISOString();
    await publishSucceeded();
    await publishEvent(deps, {
      merchantId: 'mer_1',
      type: 'checkout.failed',
      objectId: 'chk_2',
      data: {},
      sourceKey: 'chk_2:checkout.failed',
    });
    // Act
    await attemptDelivery(deps, {
      eventId: (await events.listEvents('mer_1', { limit: 10 })).events.find((e) => e.event.type === 'checkout.succeeded')!.event
        .id,
      endpointId: 'we_1',
    });
    advance(61_000);
    await dispatchDueDeliveries(deps);
    // Assess
    const [during, after] = received;
    expect(String(during!.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verifyAsMerchant(SECRET, during!)).toMatchObject({ type: 'checkout.succeeded' });
    expect(verifyAsMerchant(OLD_SECRET, during!)).toMatchObject({ type: 'checkout.succeeded' });
    expect(String(after!.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(verifyAsMerchant(SECRET, after!)).toMatchObject({ type: 'checkout.failed' });
    expect(() => verifyAsMerchant(OLD_SECRET, after!)).toThrow('No matching signature found');
  });
});

describe("the merchant's allowed_ports at delivery time", () => {
  // http and loopback allowed so the test reaches its own receiver; the port rule is production's.
  const portStrict = { allowHttp: true, allowLoopback: true, allowAnyPort: false };
  const port = (): number => Number(new URL(baseUrl).port);

  it('refuses to send to an endpoint on a port the merchant did not allow, and records why', async () => {
    // Prepare
    const merchants = { getMerchant: vi.fn(async () => ({ settings: { inventoryConfirmationEnabled: false } }) as Merchant) };
    deps = { ...deps, webhookSender: new HttpWebhookSender(2_000, portStrict), merchants };
    const { eventId } = await publishSucceeded();
    // Act
    await attemptDelivery(deps, { eventId, endpointId: 'we_1' });
    // Assess
    expect(received).toHaveLength(0);
    const attempt = (await events.getEvent(eventId))!.deliveries[0]!.attempts[0]!;
    expect(attempt.ok).toBe(false);
    expect(attempt.error).toContain(`must use port 443 or 80 (not ${port()}`);
    expect(merchants.getMerchant).toHaveBeenCalledWith('mer_1');
  });

  it("delivers to an endpoint on a port in the merchant's allowed_ports", async () => {
    // Prepare
    const merchants = {
      getMerchant: vi.fn(async () => ({ settings: { inventoryConfirmationEnabled: false, allowedPorts: [port()] } }) as Merchant),
    };
    deps = { ...deps, webhookSender: new HttpWebhookSender(2_000, portStrict), merchants };
    const { eventId } = await publishSucceeded();
    // Act
    await attemptDelivery(deps, { eventId, endpointId: 'we_1' });
    // Assess
    expect(received).toHaveLength(1);
    expect((await events.getEvent(eventId))!.deliveries[0]).toMatchObject({ status: 'delivered' });
  });
});

describe('crash safety and concurrency', () => {
  it('a dispatcher that crashed holding a lease delays the attempt until the lease ends; nothing is lost', async () => {
    // Prepare: a claim whose owner died before recording anything
    const { eventId } = await publishSucceeded();
    const claimed = await events.claimDelivery(eventId, 'we_1', clock, new Date(clock.getTime() + 60_000), 'dead-dispatcher');
    // Act
    const duringLease = await dispatchDueDeliveries(deps);
    advance(60_000);
    const afterLease = await dispatchDueDeliveries(deps);
    // Assess
    expect(claimed).toBeDefined();
    expect(duringLease.attempted).toBe(0);
    expect(afterLease).toMatchObject({ attempted: 1, delivered: 1 });
    expect(received).toHaveLength(1);
    expect(
      await events.completeAttempt(eventId, 'we_1', 'dead-dispatcher', {
        status: 'pending',
        attempt: 1,
        nextAttemptAt: clock.toISOString(),
        now: clock.toISOString(),
      }),
    ).toBe(false);
  });

  it('two dispatchers racing for one due delivery send it once', async () => {
    // Prepare
    await publishSucceeded();
    // Act
    const [a, b] = await Promise.all([dispatchDueDeliveries(deps), dispatchDueDeliveries(deps)]);
    // Assess
    expect(a.attempted + b.attempted).toBe(1);
    expect(received).toHaveLength(1);
  });
});

describe('redeliverEvent', () => {
  it('is scoped to the merchant and to enabled endpoints', async () => {
    const { eventId } = await publishSucceeded();
    await expect(redeliverEvent(deps, { merchantId: 'mer_other', eventId })).rejects.toBeInstanceOf(NotFoundError);
    await expect(redeliverEvent(deps, { merchantId: 'mer_1', eventId, endpointId: 'we_nope' })).rejects.toMatchObject({
      param: 'endpoint_id',
    });
    const result = await redeliverEvent(deps, { merchantId: 'mer_1', eventId, endpointId: 'we_1' });
    expect(result.deliveries.map((d) => d.status)).toEqual(['pending']);
  });
});
