/**
 * Webhook endpoints, the event log and the delivery store on DynamoDB Local, with the handlers in
 * production mode (no PAYSTEP_MODE=local): the SSRF guard refuses unsafe URLs with 422
 * `unsafe_url` at configuration time, event filters are checked against the catalogue, a secret
 * rotation returns the new secret once, GET /v1/events shows deliveries with their attempt log,
 * redelivery re-queues (Idempotency-Key aware), and the store's claim/lease rules hold on the
 * real table (a crashed dispatcher's lease expires; a stale lease token cannot record).
 */
import { randomBytes } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../local/dynamodb-local';
import type { DynamoEventStore } from '../../lambdas/adapters/dynamo-event-store';
import { apiEvent, handlerEnv, type ApiCall, type Handler } from './api-test-kit';

let db: DynamoDbLocal;
let adminToken: string;
let handlers: Record<'merchants' | 'settings' | 'endpoints' | 'events', Handler>;
let store: DynamoEventStore;
let publish: typeof import('../../lambdas/use-cases/webhook-delivery').publishEvent;
let endpointRepository: typeof import('../../lambdas/shared/webhook-endpoint-wiring').webhookEndpointRepository;
let secretKey: string;
let merchantId: string;

const context = { functionName: 'test', awsRequestId: 'req', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;

async function call(method: string, path: string, options: ApiCall = {}) {
  const handler = path.startsWith('/v1/merchants')
    ? handlers.merchants
    : path.startsWith('/v1/settings')
      ? handlers.settings
      : path.startsWith('/v1/events')
        ? handlers.events
        : handlers.endpoints;
  const result = await handler(apiEvent(method, path, { token: secretKey, ...options }), context);
  return {
    status: result.statusCode ?? 0,
    headers: (result.headers ?? {}) as Record<string, string>,
    json: result.body ? JSON.parse(result.body) : undefined,
  };
}

beforeAll(async () => {
  db = await startDynamoDbLocal();
  adminToken = `admin_${randomBytes(16).toString('hex')}`;
  // Production mode: https only, and the SSRF guard refuses private and loopback addresses.
  const { ALLOW_HTTP_MERCHANT_URLS: _http, ALLOW_LOOPBACK_URLS: _loopback, ...env } = handlerEnv(db, adminToken);
  Object.assign(process.env, { ...env, PUBLIC_CHECKOUT_BASE_URL: 'https://pay.example', PAYSTEP_MODE: 'production' });
  delete process.env.ALLOW_HTTP_MERCHANT_URLS;
  delete process.env.ALLOW_LOOPBACK_URLS;
  handlers = {
    merchants: (await import('../../lambdas/api-merchants/handler')).handler as Handler,
    settings: (await import('../../lambdas/api-settings/handler')).handler as Handler,
    endpoints: (await import('../../lambdas/api-webhook-endpoints/handler')).handler as Handler,
    events: (await import('../../lambdas/api-events/handler')).handler as Handler,
  };
  const wiring = await import('../../lambdas/shared/event-wiring');
  store = wiring.eventStore as DynamoEventStore;
  endpointRepository = (await import('../../lambdas/shared/webhook-endpoint-wiring')).webhookEndpointRepository;
  publish = (await import('../../lambdas/use-cases/webhook-delivery')).publishEvent;
  const created = await handlers.merchants(
    apiEvent('POST', '/v1/merchants', { token: adminToken, body: { name: 'Prod shop' } }),
    context,
  );
  const body = JSON.parse(created.body ?? '{}') as { id: string; secret_key: string };
  merchantId = body.id;
  secretKey = body.secret_key;
}, 60_000);

afterAll(async () => {
  await db?.stop();
});

describe('SSRF guard at configuration time (production mode)', () => {
  it.each([
    ['https://10.0.0.1/hooks', 'private address'],
    ['https://169.254.169.254/latest/meta-data/', 'link-local'],
    ['https://[::1]/hooks', 'loopback address (::1)'],
    ['https://localhost/hooks', 'loopback host (localhost)'],
    ['https://[::ffff:127.0.0.1]/hooks', 'IPv4-mapped loopback'],
  ])('POST /v1/webhook_endpoints refuses %s with 422 unsafe_url', async (url, reason) => {
    // Act
    const response = await call('POST', '/v1/webhook_endpoints', { body: { url } });
    // Assess
    expect(response.status).toBe(422);
    expect(response.json.error).toMatchObject({ code: 'unsafe_url', param: 'url' });
    expect(response.json.error.message).toContain(reason);
  });

  it('refuses plain http in production (422 invalid_url from request validation)', async () => {
    const response = await call('POST', '/v1/webhook_endpoints', { body: { url: 'http://shop.example/hooks' } });
    expect(response.status).toBe(422);
    expect(response.json.error).toMatchObject({ code: 'invalid_url', param: 'url', message: 'url must be an https URL' });
  });

  it.each([['https://10.0.0.1/confirm'], ['https://169.254.169.254/'], ['https://[::1]/confirm'], ['https://localhost/confirm']])(
    'PUT /v1/settings refuses inventory_confirmation_url %s',
    async (url) => {
      const response = await call('PUT', '/v1/settings', { body: { inventory_confirmation_url: url } });
      expect(response.status).toBe(422);
      expect(response.json.error).toMatchObject({ code: 'unsafe_url', param: 'inventory_confirmation_url' });
    },
  );

  it('accepts a public https URL (a name that does not resolve offline is re-checked at call time)', async () => {
    const response = await call('PUT', '/v1/settings', { body: { inventory_confirmation_url: 'https://shop.example/confirm' } });
    expect(response.status).toBe(200);
  });
});

describe("a merchant's allowed_ports (production mode, issue 12 item 9)", () => {
  async function newMerchant(
    settings?: Record<string, unknown>,
  ): Promise<{ status: number; secretKey: string; body: Record<string, unknown> }> {
    const response = await call('POST', '/v1/merchants', {
      token: adminToken,
      body: { name: 'Ports shop', ...(settings ? { settings } : {}) },
    });
    return { status: response.status, secretKey: (response.json?.secret_key as string) ?? '', body: response.json };
  }

  it('refuses a URL on port 8443 with 422 unsafe_url while allowed_ports is empty', async () => {
    // Prepare
    const merchant = await newMerchant();
    // Act
    const settings = await call('PUT', '/v1/settings', {
      token: merchant.secretKey,
      body: { inventory_confirmation_url: 'https://shop.example:8443/confirm' },
    });
    const endpoint = await call('POST', '/v1/webhook_endpoints', {
      token: merchant.secretKey,
      body: { url: 'https://shop.example:8443/hooks' },
    });
    const read = await call('GET', '/v1/settings', { token: merchant.secretKey });
    // Assess
    expect(settings.status).toBe(422);
    expect(settings.json.error).toMatchObject({ code: 'unsafe_url', param: 'inventory_confirmation_url' });
    expect(settings.json.error.message).toContain('must use port 443 or 80 (not 8443');
    expect(endpoint.status).toBe(422);
    expect(endpoint.json.error).toMatchObject({ code: 'unsafe_url', param: 'url' });
    expect(read.json).toMatchObject({ allowed_ports: [], inventory_confirmation_url: null });
  });

  it('accepts port 8443 once allowed_ports has it, and refuses 8443 again after it is cleared', async () => {
    // Prepare
    const merchant = await newMerchant();
    // Act
    const allow = await call('PUT', '/v1/settings', { token: merchant.secretKey, body: { allowed_ports: [8443, 8443] } });
    const settings = await call('PUT', '/v1/settings', {
      token: merchant.secretKey,
      body: { inventory_confirmation_url: 'https://shop.example:8443/confirm' },
    });
    const endpoint = await call('POST', '/v1/webhook_endpoints', {
      token: merchant.secretKey,
      body: { url: 'https://shop.example:8443/hooks' },
    });
    const otherPort = await call('POST', '/v1/webhook_endpoints', {
      token: merchant.secretKey,
      body: { url: 'https://shop.example:9443/hooks' },
    });
    const clear = await call('PUT', '/v1/settings', { token: merchant.secretKey, body: { allowed_ports: [] } });
    const afterClear = await call('POST', '/v1/webhook_endpoints', {
      token: merchant.secretKey,
      body: { url: 'https://shop.example:8443/hooks2' },
    });
    // Assess
    expect(allow.status).toBe(200);
    expect(allow.json.allowed_ports).toEqual([8443]);
    expect(settings.status).toBe(200);
    expect(settings.json).toMatchObject({
      inventory_confirmation_url: 'https://shop.example:8443/confirm',
      allowed_ports: [8443],
    });
    expect(endpoint.status).toBe(201);
    expect(endpoint.json.url).toBe('https://shop.example:8443/hooks');
    expect(otherPort.status).toBe(422);
    expect(otherPort.json.error.code).toBe('unsafe_url');
    expect(clear.json.allowed_ports).toEqual([]);
    expect(afterClear.status).toBe(422);
  });

  it('accepts the port and the URL together at merchant creation, and checks the URL against those ports', async () => {
    // Act
    const withPort = await newMerchant({
      allowed_ports: [8443],
      inventory_confirmation_url: 'https://shop.example:8443/confirm',
    });
    const withoutPort = await newMerchant({ inventory_confirmation_url: 'https://shop.example:8443/confirm' });
    // Assess
    expect(withPort.status).toBe(201);
    expect(withPort.body.settings).toMatchObject({
      allowed_ports: [8443],
      inventory_confirmation_url: 'https://shop.example:8443/confirm',
    });
    expect(withoutPort.status).toBe(422);
    expect(withoutPort.body.error).toMatchObject({ code: 'unsafe_url', param: 'settings.inventory_confirmation_url' });
  });

  it.each([
    ['a system port', [22], 'allowed_ports.0', 'invalid_port', 'system port'],
    ['SMTP', [8443, 25], 'allowed_ports.1', 'invalid_port', 'system port'],
    ['Redis', [6379], 'allowed_ports.0', 'invalid_port', 'Redis'],
    ['a port above 65535', [70_000], 'allowed_ports.0', 'invalid_port', 'between 1 and 65535'],
    ['a fraction', [8443.5], 'allowed_ports.0', 'invalid_port', 'between 1 and 65535'],
    ['more than 10 ports', Array.from({ length: 11 }, (_, i) => 8000 + i), 'allowed_ports', 'invalid_parameter', '10'],
  ])('refuses %s in allowed_ports with 422 and the param', async (_name, ports, param, code, reason) => {
    // Prepare
    const merchant = await newMerchant();
    // Act
    const response = await call('PUT', '/v1/settings', { token: merchant.secretKey, body: { allowed_ports: ports } });
    // Assess
    expect(response.status).toBe(422);
    expect(response.json.error).toMatchObject({ code, param });
    expect(response.json.error.message).toContain(reason);
  });

  it('answers 400 for a port given as a string', async () => {
    const merchant = await newMerchant();
    const response = await call('PUT', '/v1/settings', { token: merchant.secretKey, body: { allowed_ports: ['8443'] } });
    expect(response.status).toBe(400);
    expect(response.json.error.param).toBe('allowed_ports.0');
  });
});

describe('webhook endpoints', () => {
  it('checks enabled_events against the catalogue', async () => {
    const response = await call('POST', '/v1/webhook_endpoints', {
      body: { url: 'https://shop.example/hooks', enabled_events: ['checkout.succeeded', 'order.shipped'] },
    });
    expect(response.status).toBe(422);
    expect(response.json.error.param).toBe('enabled_events.1');
    expect(response.json.error.message).toContain('payment.captured');
  });

  it('returns the whsec_ secret once, and a rotation returns a new one once with the old one kept until the overlap ends', async () => {
    // Prepare
    const created = await call('POST', '/v1/webhook_endpoints', {
      body: { url: 'https://shop.example/hooks', enabled_events: ['checkout.succeeded', 'payment.captured'] },
    });
    const id = created.json.id as string;
    // Act
    const listed = await call('GET', '/v1/webhook_endpoints');
    const rotated = await call('POST', `/v1/webhook_endpoints/${id}/rotate_secret`, {
      body: { expires_in_seconds: 3600 },
      headers: { 'idempotency-key': 'rot-1' },
    });
    const replay = await call('POST', `/v1/webhook_endpoints/${id}/rotate_secret`, {
      body: { expires_in_seconds: 3600 },
      headers: { 'idempotency-key': 'rot-1' },
    });
    const fetched = await call('GET', `/v1/webhook_endpoints/${id}`);
    const stored = await endpointRepository.getEndpoint(merchantId, id);
    // Assess
    expect(created.status).toBe(201);
    expect(created.json.secret).toMatch(/^whsec_/);
    expect(listed.json.data.find((e: { id: string }) => e.id === id).secret).toBeUndefined();
    expect(rotated.status).toBe(200);
    expect(rotated.json.secret).toMatch(/^whsec_/);
    expect(rotated.json.secret).not.toBe(created.json.secret);
    expect(replay.json.secret).toBe(rotated.json.secret);
    expect(fetched.json.secret).toBeUndefined();
    expect(Date.parse(fetched.json.previous_secret_expires_at)).toBeGreaterThan(Date.now() + 3_500_000);
    expect(stored!.previousSecretCiphertext).toBeDefined();
    expect(JSON.stringify(stored)).not.toContain(rotated.json.secret.slice(6));
  });

  it("answers 404 for another merchant's endpoint", async () => {
    const response = await call('POST', '/v1/webhook_endpoints/we_nope/rotate_secret', { body: {} });
    expect(response.status).toBe(404);
  });
});

describe('event log and delivery store', () => {
  it('lists events newest first with their deliveries, and redelivers with Idempotency-Key', async () => {
    // Prepare
    const endpoints = await endpointRepository.listEndpoints(merchantId);
    const first = await publish(
      { events: store, webhookEndpoints: endpointRepository },
      {
        merchantId,
        type: 'payment.captured',
        objectId: 'chk_a',
        data: { object: { id: 'chk_a' } },
        sourceKey: 'chk_a:payment.captured',
      },
    );
    const second = await publish(
      { events: store, webhookEndpoints: endpointRepository },
      {
        merchantId,
        type: 'checkout.succeeded',
        objectId: 'chk_a',
        data: { object: { id: 'chk_a' } },
        sourceKey: 'chk_a:checkout.succeeded',
      },
    );
    // Act
    const list = await call('GET', '/v1/events?limit=10');
    const filtered = await call('GET', '/v1/events?type=payment.captured');
    const one = await call('GET', `/v1/events/${second.eventId}`);
    const redeliver = await call('POST', `/v1/events/${second.eventId}/redeliver`, {
      body: {},
      headers: { 'idempotency-key': 'redo-1' },
    });
    const replay = await call('POST', `/v1/events/${second.eventId}/redeliver`, {
      body: {},
      headers: { 'idempotency-key': 'redo-1' },
    });
    const badType = await call('GET', '/v1/events?type=nope');
    // Assess
    expect(endpoints.length).toBeGreaterThan(0);
    expect(list.status).toBe(200);
    expect(list.json.data.map((e: { id: string }) => e.id)).toEqual([second.eventId, first.eventId]);
    expect(filtered.json.data.map((e: { id: string }) => e.id)).toEqual([first.eventId]);
    expect(one.json).toMatchObject({
      id: second.eventId,
      object: 'event',
      type: 'checkout.succeeded',
      data: { object: { id: 'chk_a' } },
    });
    expect(one.json.deliveries.map((d: { status: string; attempt: number }) => [d.status, d.attempt])).toEqual(
      endpoints
        .filter((e) => e.enabledEvents.includes('*') || e.enabledEvents.includes('checkout.succeeded'))
        .map(() => ['pending', 0]),
    );
    expect(redeliver.status).toBe(202);
    expect(replay.headers['Idempotent-Replayed'] ?? replay.headers['idempotent-replayed']).toBe('true');
    expect(badType.status).toBe(422);
  });

  it("claims with a lease: a second claim fails, a crashed claimant's lease expires, a stale token cannot record", async () => {
    // Prepare
    const endpoint = (await endpointRepository.listEndpoints(merchantId))[0]!;
    const { eventId } = await publish(
      { events: store, webhookEndpoints: endpointRepository },
      { merchantId, type: 'payment.captured', objectId: 'chk_b', data: {}, sourceKey: 'chk_b:payment.captured' },
    );
    const t0 = new Date(Date.now() + 1_000);
    // Act
    const dueBefore = await store.listDueDeliveries(t0, 100);
    const first = await store.claimDelivery(eventId, endpoint.id, t0, new Date(t0.getTime() + 60_000), 'crashed');
    const second = await store.claimDelivery(eventId, endpoint.id, t0, new Date(t0.getTime() + 60_000), 'other');
    const dueDuringLease = await store.listDueDeliveries(new Date(t0.getTime() + 30_000), 100);
    const afterLease = new Date(t0.getTime() + 61_000);
    const retaken = await store.claimDelivery(
      eventId,
      endpoint.id,
      afterLease,
      new Date(afterLease.getTime() + 60_000),
      'rescuer',
    );
    const stale = await store.completeAttempt(eventId, endpoint.id, 'crashed', {
      status: 'delivered',
      attempt: 1,
      nextAttemptAt: afterLease.toISOString(),
      now: afterLease.toISOString(),
    });
    const kept = await store.completeAttempt(eventId, endpoint.id, 'rescuer', {
      status: 'dead_lettered',
      attempt: 1,
      nextAttemptAt: afterLease.toISOString(),
      record: {
        number: 1,
        at: afterLease.toISOString(),
        ok: false,
        latencyMs: 12,
        httpStatus: 500,
        error: 'HTTP 500',
        responseExcerpt: 'boom',
      },
      now: afterLease.toISOString(),
    });
    const dueAfterDeadLetter = await store.listDueDeliveries(new Date(t0.getTime() + 10_000_000), 100);
    await store.requeueDelivery(eventId, endpoint.id, merchantId, afterLease);
    const requeued = await store.getDelivery(eventId, endpoint.id);
    // Assess
    const mine = (due: { eventId: string }[]) => due.filter((d) => d.eventId === eventId);
    expect(mine(dueBefore)).toHaveLength(1);
    expect(first).toMatchObject({ status: 'pending', attempt: 0 });
    expect(second).toBeUndefined();
    expect(mine(dueDuringLease)).toHaveLength(0);
    expect(retaken).toBeDefined();
    expect(stale).toBe(false);
    expect(kept).toBe(true);
    expect(mine(dueAfterDeadLetter)).toHaveLength(0);
    expect(requeued).toMatchObject({
      status: 'pending',
      attempt: 0,
      attempts: [{ number: 1, httpStatus: 500, responseExcerpt: 'boom' }],
    });
  });
});
